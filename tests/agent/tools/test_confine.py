"""Each kernel layer on its own, applied to a throwaway child process (they cannot be undone)."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from llmos.agent.tools import confine


def in_child(body: str) -> str:
    """Run `body` in a fresh interpreter that has imported `confine`; return its stdout."""
    code = "import os, socket\nfrom llmos.agent.tools import confine\n" + textwrap.dedent(body)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_seccomp_leaves_socket_only_unix():
    out = in_child("""
        confine.no_new_privs()
        confine.apply_seccomp_network_filter()
        socket.socket(socket.AF_UNIX).close()
        print("unix ok")
        for family in (socket.AF_INET, socket.AF_INET6, socket.AF_NETLINK, socket.AF_PACKET):
            try:
                socket.socket(family, socket.SOCK_RAW if family == socket.AF_PACKET else socket.SOCK_DGRAM)
                print("OPENED", family)
            except PermissionError:
                print("denied")
    """)
    assert out.split() == ["unix", "ok", "denied", "denied", "denied", "denied"]


@pytest.mark.skipif(confine.landlock_abi() == 0, reason="this kernel has no Landlock")
def test_landlock_allows_the_scratch_directory_only(tmp_path):
    scratch, outside = tmp_path / "scratch", tmp_path / "outside"
    scratch.mkdir()
    outside.mkdir()
    (outside / "readable.txt").write_text("no")
    out = in_child(f"""
        import sys, sysconfig
        confine.no_new_privs()
        roots = [sys.prefix, sys.base_prefix, *sysconfig.get_paths().values(), "/usr", "/lib"]
        print(confine.apply_landlock(roots, [{str(scratch)!r}], ["/dev/null"], confine.landlock_abi()))
        open({str(scratch / "in.txt")!r}, "w").write("yes")
        for attempt in (lambda: open({str(outside / "out.txt")!r}, "w"),
                        lambda: open({str(outside / "readable.txt")!r}).read()):
            try:
                attempt(); print("ALLOWED")
            except PermissionError:
                print("denied")
        open(os.devnull, "w").write("fine")
    """)
    assert "landlock-fs" in out and out.count("denied") == 2 and "ALLOWED" not in out
    assert (scratch / "in.txt").read_text() == "yes" and not (outside / "out.txt").exists()


def test_audit_hook_is_a_second_line(tmp_path):
    out = in_child(f"""
        confine.install_audit_hook({str(tmp_path)!r})
        for attempt in (lambda: socket.socket(socket.AF_INET), lambda: open("/tmp/llmos-audit-x", "w")):
            try:
                attempt(); print("ALLOWED")
            except PermissionError as e:
                print("denied:", e)
        open({str(tmp_path / "ok.txt")!r}, "w").write("ok")
        socket.socket(socket.AF_UNIX).close()
    """)
    assert out.count("denied:") == 2 and "network access is disabled" in out
    assert (tmp_path / "ok.txt").exists()


@pytest.mark.parametrize("path", ["/", "/proc", "/dev"])
def test_kept_flags_repeat_what_the_mount_has(path):
    """A remount in a user namespace must repeat the locked flags, or the kernel says EPERM."""
    has, kept = os.statvfs(path).f_flag, confine._kept_flags(path)
    for st, ms in [(confine.ST_NOSUID, confine.MS_NOSUID), (confine.ST_NODEV, confine.MS_NODEV),
                   (confine.ST_NOEXEC, confine.MS_NOEXEC), (confine.ST_RELATIME, confine.MS_RELATIME)]:
        assert bool(has & st) == bool(kept & ms)
    assert not kept & confine.MS_RDONLY
