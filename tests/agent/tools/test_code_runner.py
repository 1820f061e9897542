"""The code tool: limits, a scrubbed environment, and kernel-enforced isolation.

Every isolation property is tested with all layers and with each layer that
should be enough on its own, so no layer hides another's hole.
"""
from __future__ import annotations

import os
import signal
import socket
import threading
import time
from functools import lru_cache

import pytest

from llmos.agent.tools.code_runner import (ALL_LAYERS, CodeLimits, SandboxUnavailable,
                                           run_code, run_python)

NETWORK_ALONE = [ALL_LAYERS, ("netns", "landlock"), ("seccomp", "landlock")]
FILES_ALONE = [ALL_LAYERS, ("netns", "landlock"), ("netns", "mounts")]
LIFETIME = [ALL_LAYERS, ("landlock", "seccomp")]  # with and without a PID namespace


@lru_cache(maxsize=None)
def _unsupported(layers: tuple) -> str:
    try:
        run_code("pass", layers=layers, timeout_s=30)
    except SandboxUnavailable as e:
        return str(e)
    return ""


def need(layers: tuple) -> None:
    if why := _unsupported(layers):
        pytest.skip(f"this machine cannot give the layers {layers}: {why}")


def names(layer_sets):
    return ["+".join(s) if s != ALL_LAYERS else "all" for s in layer_sets]


def test_runs_code_in_a_scratch_directory_with_a_scrubbed_environment(monkeypatch, tmp_path):
    need(ALL_LAYERS)
    monkeypatch.setenv("LLMOS_TEST_SECRET", "hunter22")
    r = run_code("import os, sys\nprint(os.getcwd())\nprint(sorted(os.environ))\n"
                 "print(input()[::-1])\nopen('out.txt', 'w').write('hi')\nsys.exit(3)",
                 stdin="olleh", scratch_dir=tmp_path)
    cwd, env, echoed = r.stdout.splitlines()
    assert r.exit_code == 3 and not r.ok and not r.timed_out
    assert cwd == str(tmp_path.resolve()) and echoed == "hello"
    assert "LLMOS_TEST_SECRET" not in env and "hunter22" not in r.stdout
    assert r.files == ["out.txt"] and (tmp_path / "out.txt").read_text() == "hi"
    assert {"netns", "pidns", "landlock-fs", "seccomp-net", "readonly-mounts"} <= set(r.layers)


def test_exceptions_come_back_as_a_traceback_and_exit_code_1():
    need(ALL_LAYERS)
    r = run_code("raise ValueError('boom')")
    assert r.exit_code == 1 and r.stderr.strip().endswith("ValueError: boom")
    assert "exit code 1" in str(r) and "ValueError: boom" in str(r)


class _Listener:
    """A TCP and a UDP server on the host's 127.0.0.1 that record anything reaching them."""

    def __init__(self):
        self.tcp = socket.socket()
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen()
        self.tcp.settimeout(0.2)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.udp.settimeout(0.2)
        self.hits: list[str] = []
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop:
            for sock, kind in ((self.tcp, "tcp"), (self.udp, "udp")):
                try:
                    if kind == "tcp":
                        sock.accept()
                    else:
                        sock.recvfrom(100)
                    self.hits.append(kind)
                except (socket.timeout, OSError):
                    pass

    def close(self):
        self._stop = True
        self._thread.join()
        # anything that got through but was not picked up yet still waits in the kernel's
        # queues (an accepted-to-be connection, a datagram): read them without blocking
        for sock, kind in ((self.tcp, "tcp"), (self.udp, "udp")):
            sock.setblocking(False)
            while True:
                try:
                    sock.accept() if kind == "tcp" else sock.recvfrom(100)
                except OSError:
                    break
                self.hits.append(kind)
        self.tcp.close()
        self.udp.close()


@pytest.mark.parametrize("layers", NETWORK_ALONE, ids=names(NETWORK_ALONE))
def test_cannot_reach_a_server_on_the_hosts_loopback(layers):
    need(layers)
    srv = _Listener()
    tcp, udp = srv.tcp.getsockname()[1], srv.udp.getsockname()[1]
    code = f"""
import _socket, socket, subprocess, sys
def attempt(what, fn):
    try:
        fn(); print(what, "CONNECTED")
    except OSError as e:
        print(what, "blocked", type(e).__name__)
attempt("stdlib", lambda: socket.create_connection(("127.0.0.1", {tcp}), timeout=2))
attempt("raw", lambda: _socket.socket(2, 1).connect(("127.0.0.1", {tcp})))
attempt("udp", lambda: _socket.socket(2, 2).sendto(b"x", ("127.0.0.1", {udp})))
attempt("ipv6", lambda: _socket.socket(10, 1).connect(("::1", {tcp})))
child = subprocess.run([sys.executable, "-c", "import _socket; _socket.socket(2, 1).connect(('127.0.0.1', {tcp}))"],
                       capture_output=True, text=True)
print("child", "blocked" if child.returncode else "CONNECTED")
"""
    try:
        r = run_code(code, layers=layers, timeout_s=20)
    finally:
        srv.close()
    assert "CONNECTED" not in r.stdout, r.stdout
    assert r.stdout.count("blocked") == 5, (r.stdout, r.stderr)
    assert srv.hits == []


@pytest.mark.parametrize("layers", [("landlock",), ("mounts", "pidns"), ("netns", "pidns")],
                         ids=["no-network-denial", "no-network-denial-2", "no-write-confinement"])
def test_refuses_to_run_when_a_guarantee_cannot_be_given(layers, tmp_path):
    with pytest.raises(SandboxUnavailable, match="cannot be denied|cannot be prevented"):
        run_code("open('ran.txt', 'w').write('ran')", layers=layers, scratch_dir=tmp_path)
    assert not (tmp_path / "ran.txt").exists()


@pytest.mark.parametrize("layers", FILES_ALONE, ids=names(FILES_ALONE))
def test_cannot_write_outside_the_scratch_directory(layers, tmp_path):
    need(layers)
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "escape.txt"
    code = f"""
import os, subprocess
target = {str(target)!r}
def attempt(what, fn):
    try:
        fn(); print(what, "WROTE")
    except OSError as e:
        print(what, "blocked", e.errno)
attempt("open", lambda: open(target, "w").write("x"))
attempt("os.open", lambda: os.close(os.open(target, os.O_WRONLY | os.O_CREAT)))
attempt("mkdir", lambda: os.mkdir(target + ".d"))
os.symlink(target, "link")
attempt("symlink", lambda: open("link", "w").write("x"))
open("mine.txt", "w").write("x")
attempt("rename", lambda: os.rename("mine.txt", target))
sh = subprocess.run(["sh", "-c", f"echo x > {{target}}"], capture_output=True)
print("shell", "blocked" if sh.returncode else "WROTE")
"""
    r = run_code(code, layers=layers)
    assert "WROTE" not in r.stdout, r.stdout
    assert r.stdout.count("blocked") == 6, (r.stdout, r.stderr)
    assert list(outside.iterdir()) == []


def test_cannot_read_the_persons_files(tmp_path):
    need(ALL_LAYERS)
    private = tmp_path / "diary.txt"
    private.write_text("dear diary")
    r = run_code(f"print(open({str(private)!r}).read())")
    assert "dear diary" not in r.stdout and "PermissionError" in r.stderr


def _alive(marker: str) -> list[str]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    found.append(pid)
        except OSError:
            pass
    return found


def gone_soon(marker: str, within_s: float = 10.0) -> None:
    """The killed processes leave /proc once the kernel has torn them down, which takes a
    moment on a busy machine; they would live for 99 s or more if they were not killed."""
    deadline = time.monotonic() + within_s
    while _alive(marker):
        assert time.monotonic() < deadline, f"still running: {_alive(marker)}"
        time.sleep(0.05)


@pytest.mark.parametrize("layers", LIFETIME, ids=["pidns", "no-pidns"])
def test_cannot_outlive_its_time_limit(layers):
    need(layers)
    marker = f"99.{os.getpid()}{int(time.time() * 1000) % 100000}"
    code = f"""
import os, signal, subprocess, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
if os.fork() == 0:            # a daemon: new session, double fork, ignores SIGTERM
    os.setsid()
    if os.fork() == 0:
        os.execv("/bin/sleep", ["/bin/sleep", "{marker}"])
    os._exit(0)
print("spinning", flush=True)
while True:
    pass
"""
    start = time.monotonic()
    # the limit counts from the sandbox's launch, so leave a loaded machine time to reach the print
    r = run_code(code, layers=layers, timeout_s=3)
    assert r.timed_out and r.exit_code is None and "time limit" in str(r)
    assert r.stdout == "spinning\n"       # the daemon was started before the limit struck
    assert time.monotonic() - start < 12  # 3 s limit + 1 s grace, on a loaded machine
    gone_soon(marker)


@pytest.mark.parametrize("layers", LIFETIME, ids=["pidns", "no-pidns"])
def test_background_processes_die_with_the_code(layers):
    need(layers)
    marker = f"98.{os.getpid()}{int(time.time() * 1000) % 100000}"
    code = f"""
import subprocess
subprocess.Popen(["/bin/sleep", "{marker}"], start_new_session=True)
print("left a daemon behind")
"""
    r = run_code(code, layers=layers)
    assert r.ok and r.stdout == "left a daemon behind\n"
    gone_soon(marker)


def test_memory_limit():
    need(ALL_LAYERS)
    r = run_code("b = bytearray(1024 ** 3)\nprint('allocated')", memory_mb=256)
    assert r.exit_code == 1 and "MemoryError" in r.stderr and "allocated" not in r.stdout
    assert run_code("b = bytearray(50 * 1024 ** 2)\nprint('allocated')", memory_mb=256).ok


def test_cpu_limit_kills_with_sigxcpu():
    need(ALL_LAYERS)
    r = run_code("while True: pass", limits=CodeLimits(timeout_s=60, cpu_s=1))
    assert not r.timed_out and r.exit_code == -signal.SIGXCPU and "SIGXCPU" in str(r)


def test_output_is_truncated_and_the_process_never_blocks():
    need(ALL_LAYERS)
    r = run_code("import sys\nprint('x' * 2_000_000)\nprint('e' * 100_000, file=sys.stderr)\n"
                 "print('finished', file=sys.stderr)", max_output_bytes=1000)
    assert r.ok and r.truncated and "(output truncated)" in str(r)
    assert r.stdout == "x" * 1000 and r.stderr == "e" * 1000


def test_fork_bomb_is_contained():
    need(ALL_LAYERS)
    r = run_code("import os\nwhile True:\n    os.fork()", timeout_s=3)
    assert not r.ok and (r.timed_out or r.exit_code != 0)
    # nothing of it is left holding the process limit: the next run starts and finishes
    after = run_code("print('still here')", timeout_s=30)
    assert after.ok and after.stdout == "still here\n"


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="code` is empty"):
        run_code("   ")
    with pytest.raises(ValueError, match="unknown sandbox layers"):
        run_code("pass", layers=("chroot",))
    with pytest.raises(ValueError, match="memory_mb=16 is too small"):
        CodeLimits(memory_mb=16)
    with pytest.raises(ValueError, match="timeout_s must be positive"):
        CodeLimits(timeout_s=0)
    with pytest.raises(ValueError, match="not an existing directory"):
        run_code("pass", scratch_dir="/nonexistent/dir")


def test_run_python_is_the_model_facing_form(monkeypatch):
    need(ALL_LAYERS)
    assert run_python("print(6 * 7)").startswith("exit code 0") and "42" in run_python("print(6 * 7)")
    assert "time limit" in run_python("while True: pass", timeout_s=0.5)

    def refuse(*a, **k):
        raise SandboxUnavailable("no layers")
    monkeypatch.setattr("llmos.agent.tools.code_runner.run_code", refuse)
    assert run_python("print(1)") == "the code tool cannot run here: no layers"
