"""The code tool: run Python in a separate, confined process and hand back what it printed.

    result = run_code("print(sum(range(10)))")
    result.stdout        # '45\\n'
    str(result)          # what the agent's model reads

The process gets a scratch directory as its working directory (and HOME and
TMPDIR), an environment with nothing of ours in it, and limits on wall time,
CPU time, memory, file size, processes and output. The kernel enforces the
rest (see `sandbox.py`): no network (a network namespace of its own and a
seccomp filter on `socket()`), no writes outside the scratch directory
(Landlock, and read-only mounts in a mount namespace of its own), no reads of
the person's files (only system and Python directories are visible), and no
process outliving the run (a PID namespace, killed whole on a timeout).

If this machine cannot deny the network, or cannot confine writes, the tool
refuses to run anything (`SandboxUnavailable`) rather than run unconfined.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


SANDBOX = Path(__file__).with_name("sandbox.py")
REFUSED = 121  # the sandbox's exit status when it will not run the code (sandbox.REFUSED)
ALL_LAYERS = ("netns", "mounts", "pidns", "landlock", "seccomp", "audit")
# Readable inside the sandbox besides Python's own directories: what programs need to start.
SYSTEM_READ_PATHS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/proc",
                     "/dev", "/etc/ld.so.cache", "/etc/localtime", "/etc/passwd", "/etc/group",
                     "/etc/nsswitch.conf"]
DEVICE_PATHS = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"]


class SandboxUnavailable(RuntimeError):
    """This machine cannot confine the code (network or writes); nothing was run."""


@dataclass
class CodeLimits:
    """How long, how big and how loud one run may be."""

    timeout_s: float = 10.0        # wall clock; the whole process tree is killed after it
    cpu_s: int = 10                # CPU seconds (RLIMIT_CPU)
    memory_mb: int = 512           # address space (RLIMIT_AS)
    file_mb: int = 64              # largest file it may write (RLIMIT_FSIZE)
    max_processes: int = 64        # processes and threads inside the sandbox (RLIMIT_NPROC)
    max_output_bytes: int = 20_000  # kept of stdout and of stderr each; the rest is dropped

    def __post_init__(self):
        for name in ("timeout_s", "cpu_s", "memory_mb", "file_mb", "max_processes", "max_output_bytes"):
            if getattr(self, name) <= 0:
                raise ValueError(f"CodeLimits.{name} must be positive, not {getattr(self, name)}")
        if self.memory_mb < 64:
            raise ValueError(f"CodeLimits.memory_mb={self.memory_mb} is too small for Python "
                             "to start; give at least 64")


@dataclass
class CodeResult:
    stdout: str
    stderr: str
    exit_code: int | None          # None when killed on the timeout
    timed_out: bool
    truncated: bool                # output past max_output_bytes was dropped
    duration_s: float
    layers: list[str] = field(default_factory=list)   # the confinement in force
    files: list[str] = field(default_factory=list)    # what the scratch directory held after

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    def __str__(self) -> str:
        if self.timed_out:
            head = f"killed after the {self.duration_s:.1f} s time limit"
        elif self.exit_code is not None and self.exit_code < 0:
            head = f"killed by signal {signal.Signals(-self.exit_code).name}"
        else:
            head = f"exit code {self.exit_code}"
        parts = [f"{head} ({self.duration_s:.2f} s)"]
        if self.stdout:
            parts.append("stdout:\n" + self.stdout)
        if self.stderr:
            parts.append("stderr:\n" + self.stderr)
        if self.truncated:
            parts.append("(output truncated)")
        if self.files:
            parts.append("files: " + ", ".join(self.files))
        return "\n".join(parts)


def _read_capped(stream, limit: int, out: list, flags: dict) -> None:
    """Keep the first `limit` bytes; drain (and drop) the rest so the process never blocks."""
    kept = bytearray()
    while chunk := stream.read(65536):
        room = limit - len(kept)
        if room > 0:
            kept += chunk[:room]
        if len(chunk) > max(room, 0):
            flags["truncated"] = True
    out.append(kept.decode("utf-8", errors="replace"))


def _read_paths() -> list[str]:
    paths = set(SYSTEM_READ_PATHS) | {sys.prefix, sys.base_prefix, sys.exec_prefix}
    paths |= {p for p in sysconfig.get_paths().values() if p}
    paths.add(os.path.realpath(sys.executable))
    paths.add(str(SANDBOX.parent))  # the code process is exec'd from sandbox.py
    return sorted(paths)


def _scrubbed_env(scratch: str) -> dict[str, str]:
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": scratch, "TMPDIR": scratch,
            "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8",
            "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1"}


def run_code(code: str, timeout_s: float = 10.0, memory_mb: int = 512,
             max_output_bytes: int = 20_000, stdin: str = "",
             limits: CodeLimits | None = None, scratch_dir: str | Path | None = None,
             layers: tuple[str, ...] = ALL_LAYERS) -> CodeResult:
    """Run Python code in a sandboxed process and return its output.

    The code runs as a script (`__name__ == "__main__"`) with an empty scratch
    directory as its working directory; it has no network and cannot write
    anywhere else. Print what you want to see: only stdout and stderr come back.

    Args:
        code: the Python source to run.
        timeout_s: wall-clock seconds before the run (with every process it started) is killed.
        memory_mb: the address-space limit in MiB.
        max_output_bytes: bytes of stdout (and of stderr) kept; the rest is dropped.
        stdin: text given to the code on standard input.
        limits: all limits at once (overrides the three above).
        scratch_dir: an existing directory to use and keep (default: a fresh one, removed after).
        layers: the isolation layers to apply (default: all); the run is refused unless the
            network is denied and writes are confined by at least one layer each.
    """
    if not isinstance(code, str) or not code.strip():
        raise ValueError("run_code needs Python source: `code` is empty")
    if unknown := set(layers) - set(ALL_LAYERS):
        raise ValueError(f"unknown sandbox layers {sorted(unknown)}; choose from {ALL_LAYERS}")
    limits = limits or CodeLimits(timeout_s=timeout_s, memory_mb=memory_mb,
                                  max_output_bytes=max_output_bytes,
                                  cpu_s=max(1, int(timeout_s) + 1))
    keep = scratch_dir is not None
    if keep:
        scratch = os.path.realpath(scratch_dir)
        if not os.path.isdir(scratch):
            raise ValueError(f"scratch_dir {scratch_dir} is not an existing directory")
    else:
        scratch = os.path.realpath(tempfile.mkdtemp(prefix="llmos-code-"))
    try:
        return _run(code, stdin, limits, scratch, layers)
    finally:
        if not keep:
            shutil.rmtree(scratch, ignore_errors=True)


def _run(code: str, stdin: str, limits: CodeLimits, scratch: str, layers) -> CodeResult:
    code_path = os.path.join(scratch, "main.py")
    with open(code_path, "w", encoding="utf-8") as f:
        f.write(code)
    status_r, status_w = os.pipe()
    cfg = {"scratch": scratch, "code_path": code_path, "layers": list(layers),
           "status_fd": status_w, "host_netns": os.readlink("/proc/self/ns/net"),
           "read_paths": _read_paths(), "device_paths": DEVICE_PATHS,
           "memory_mb": limits.memory_mb, "cpu_s": limits.cpu_s, "file_mb": limits.file_mb,
           "max_processes": limits.max_processes}
    start = time.perf_counter()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-B", "-X", "utf8", str(SANDBOX), json.dumps(cfg)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=scratch, env=_scrubbed_env(scratch), pass_fds=(status_w,),
            start_new_session=True)  # its own process group: one kill reaches it all
    finally:
        os.close(status_w)
    outs: dict[str, list] = {"stdout": [], "stderr": []}
    flags = {"truncated": False}
    readers = [threading.Thread(target=_read_capped, daemon=True,
                                args=(getattr(proc, name), limits.max_output_bytes, outs[name], flags))
               for name in outs]
    for t in readers:
        t.start()
    _feed(proc, stdin)
    timed_out = False
    try:
        proc.wait(timeout=limits.timeout_s)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc)
    for t in readers:
        t.join(timeout=5)
    with os.fdopen(status_r) as f:
        records = [json.loads(line) for line in f.read().splitlines() if line.strip()]
    duration = time.perf_counter() - start
    status = records[0] if records else {}
    ended = records[1] if len(records) > 1 else {}
    if proc.returncode == REFUSED and status.get("refused"):
        raise SandboxUnavailable("; ".join(status["refused"]) + f" (layers in force: "
                                 f"{status.get('layers')}; unavailable: {status.get('unavailable')})")
    if not status and not timed_out:
        err = "".join(outs["stderr"])[-2000:]
        raise SandboxUnavailable(f"the sandbox did not start (exit {proc.returncode}): {err}")
    exit_code = None if timed_out else ended.get("exit", -ended.get("signal", signal.SIGKILL))
    files = sorted(p for p in os.listdir(scratch) if p != "main.py")
    return CodeResult("".join(outs["stdout"]), "".join(outs["stderr"]), exit_code, timed_out,
                      flags["truncated"], round(duration, 3), status.get("layers", []), files)


def _feed(proc: subprocess.Popen, stdin: str) -> None:
    try:
        if stdin:
            proc.stdin.write(stdin.encode())
        proc.stdin.close()
    except (BrokenPipeError, OSError):
        pass  # the code exited without reading its input


def _kill_group(proc: subprocess.Popen, grace_s: float = 1.0) -> None:
    """Stop the sandbox: SIGTERM (its supervisor kills everything under it), then SIGKILL.

    With a PID namespace, the launcher's death alone takes every process inside
    with it; the supervisor's own sweep covers machines without one.
    """
    for sig, wait in [(signal.SIGTERM, grace_s), (signal.SIGKILL, None)]:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def run_python(code: str, timeout_s: float = 10.0, stdin: str = "") -> str:
    """Run a Python script in a sandbox (no network, no files outside a scratch directory).

    Use it to compute, parse or check something. Only what the script prints
    comes back, with its exit code; it is killed after `timeout_s` seconds and
    may use 512 MiB of memory.

    Args:
        code: the complete Python script to run.
        timeout_s: seconds before the script is stopped (at most 60).
        stdin: text the script reads on standard input.
    """
    try:
        return str(run_code(code, timeout_s=min(max(timeout_s, 0.1), 60.0), stdin=stdin))
    except SandboxUnavailable as e:
        return f"the code tool cannot run here: {e}"


def sandbox_support() -> dict:
    """Which layers this machine gives (runs a trivial program); `{"error": ...}` when it cannot."""
    try:
        r = run_code("pass", timeout_s=20)
    except SandboxUnavailable as e:
        return {"layers": [], "error": str(e)}
    return {"layers": r.layers}
