"""The kernel's confinement layers, one function each (standard library and ctypes only).

Namespaces (user, network, mount, PID) by unshare(2); every mount made
read-only but the scratch directory; Landlock rulesets for files, TCP and
scopes; a seccomp filter that leaves `socket()` only AF_UNIX; and a Python
audit hook as a second line. `sandbox.py` stacks them; the reasons each is
there are in its docstring.

This module is imported inside the sandbox before anything else is
importable, so it uses nothing outside the standard library.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
import resource
import struct
import sys

libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
libc.syscall.restype = ctypes.c_long

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x20000, 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 1024, 2048, 1 << 21
ST_RDONLY, ST_NOSUID, ST_NODEV, ST_NOEXEC, ST_NOATIME, ST_NODIRATIME, ST_RELATIME = \
    1, 2, 4, 8, 1024, 2048, 4096
PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP = 1, 36, 38, 22


def _errno_error(what: str) -> OSError:
    err = ctypes.get_errno()
    return OSError(err, f"{what}: {os.strerror(err)}")


# ----------------------------------------------------------------------------- namespaces

def enter_namespaces(flags: int) -> None:
    """unshare(2) into new namespaces, mapping our own uid/gid to root inside (as `unshare -r`)."""
    uid, gid = os.geteuid(), os.getegid()
    if libc.unshare(flags) != 0:
        raise _errno_error("unshare")
    if flags & CLONE_NEWUSER:
        with open("/proc/self/setgroups", "w") as f:
            f.write("deny")
        with open("/proc/self/uid_map", "w") as f:
            f.write(f"0 {uid} 1")
        with open("/proc/self/gid_map", "w") as f:
            f.write(f"0 {gid} 1")


def _mount(source, target, fstype, flags) -> None:
    enc = lambda s: s.encode() if s is not None else None  # noqa: E731
    if libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), None) != 0:
        raise _errno_error(f"mount {target}")


def _mount_points() -> list[str]:
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            field = line.split()[4]  # the mount point, with spaces etc. as octal escapes
            points.append(field.encode().decode("unicode_escape"))
    return points


def _kept_flags(path: str) -> int:
    """The flags a remount must repeat (the kernel locks them for a less privileged namespace)."""
    f = os.statvfs(path).f_flag
    flags = 0
    for st, ms in [(ST_NOSUID, MS_NOSUID), (ST_NODEV, MS_NODEV), (ST_NOEXEC, MS_NOEXEC),
                   (ST_NOATIME, MS_NOATIME), (ST_NODIRATIME, MS_NODIRATIME),
                   (ST_RELATIME, MS_RELATIME)]:
        if f & st:
            flags |= ms
    return flags


def remount_read_only(scratch: str) -> list[str]:
    """In our private mount namespace: every mount read-only but a bind of `scratch`.

    Returns the mount points that could not be made read-only (empty = complete).
    """
    _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing we do here reaches the host
    _mount(scratch, scratch, None, MS_BIND | MS_REC)
    left = []
    for point in sorted(set(_mount_points())):
        if point == scratch or point.startswith(scratch + "/"):
            continue
        try:
            _mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | _kept_flags(point))
        except OSError:
            pass
        try:
            if not os.statvfs(point).f_flag & ST_RDONLY:
                left.append(point)
        except OSError:  # hidden under another mount: unreachable, so not writable either
            pass
    return left


# ----------------------------------------------------------------------------- Landlock

LL_EXECUTE, LL_WRITE_FILE, LL_READ_FILE, LL_READ_DIR = 1, 2, 4, 8
LL_ALL_V1 = (1 << 13) - 1        # execute ... make_sym
LL_REFER, LL_TRUNCATE, LL_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
LL_NET_BIND_TCP, LL_NET_CONNECT_TCP = 1, 2
LL_SCOPE_ABSTRACT_UNIX, LL_SCOPE_SIGNAL = 1, 2
SYS_LL_CREATE, SYS_LL_ADD_RULE, SYS_LL_RESTRICT = 444, 445, 446
LL_RULE_PATH_BENEATH = 1


def landlock_abi() -> int:
    """The kernel's Landlock ABI version (0: not available)."""
    v = libc.syscall(SYS_LL_CREATE, None, 0, 1)  # LANDLOCK_CREATE_RULESET_VERSION
    return max(0, v)


def apply_landlock(read_paths: list[str], write_paths: list[str], device_paths: list[str],
                   abi: int) -> list[str]:
    """Restrict this process (and its children) to the given paths; returns what was enforced."""
    fs = LL_ALL_V1 | (LL_REFER if abi >= 2 else 0) | (LL_TRUNCATE if abi >= 3 else 0) | \
        (LL_IOCTL_DEV if abi >= 5 else 0)
    net = (LL_NET_BIND_TCP | LL_NET_CONNECT_TCP) if abi >= 4 else 0
    scoped = (LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL) if abi >= 6 else 0
    attr = struct.pack("QQQ", fs, net, scoped)[: 24 if abi >= 6 else 16 if abi >= 4 else 8]
    buf = ctypes.create_string_buffer(attr, len(attr))
    ruleset = libc.syscall(SYS_LL_CREATE, buf, len(attr), 0)
    if ruleset < 0:
        raise _errno_error("landlock_create_ruleset")
    read = LL_EXECUTE | LL_READ_FILE | LL_READ_DIR
    file_rights = LL_EXECUTE | LL_WRITE_FILE | LL_READ_FILE | (fs & (LL_TRUNCATE | LL_IOCTL_DEV))
    try:
        for paths, rights in [(read_paths, read), (write_paths, fs), (device_paths, file_rights)]:
            for path in paths:
                try:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue  # a path this machine lacks needs no rule
                try:
                    allowed = rights if os.path.isdir(path) else rights & file_rights
                    rule = ctypes.create_string_buffer(struct.pack("=Qi", allowed, fd), 12)
                    if libc.syscall(SYS_LL_ADD_RULE, ruleset, LL_RULE_PATH_BENEATH, rule, 0) != 0:
                        raise _errno_error(f"landlock_add_rule {path}")
                finally:
                    os.close(fd)
        if libc.syscall(SYS_LL_RESTRICT, ruleset, 0) != 0:
            raise _errno_error("landlock_restrict_self")
    finally:
        os.close(ruleset)
    return ["landlock-fs"] + (["landlock-net"] if net else []) + (["landlock-scope"] if scoped else [])


# ----------------------------------------------------------------------------- seccomp

AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
SYSCALLS = {"x86_64": {"socket": 41, "io_uring_setup": 425},
            "aarch64": {"socket": 198, "io_uring_setup": 425}}
AF_UNIX, EACCES, ENOSYS, EPERM = 1, 13, 38, 1
RET_ALLOW, RET_ERRNO, RET_KILL_PROCESS = 0x7FFF0000, 0x00050000, 0x80000000


def _bpf(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k)


def apply_seccomp_network_filter() -> None:
    """Let socket() create only AF_UNIX sockets; refuse io_uring (it can open sockets too).

    A classic-BPF program over `struct seccomp_data` {int nr; u32 arch; u64 ip; u64 args[6]}.
    """
    machine = platform.machine()
    if machine not in AUDIT_ARCH:
        raise OSError(f"no seccomp filter for the {machine} architecture")
    nr = SYSCALLS[machine]
    LD, JEQ, JGE, RET = 0x20, 0x15, 0x35, 0x06
    prog = [
        _bpf(LD, 0, 0, 4),                              # 0: A = arch
        _bpf(JEQ, 1, 0, AUDIT_ARCH[machine]),           # 1: our arch? -> 3
        _bpf(RET, 0, 0, RET_KILL_PROCESS),              # 2: another ABI: kill
        _bpf(LD, 0, 0, 0),                              # 3: A = syscall number
        _bpf(JGE, 0, 1, 0x40000000),                    # 4: x32 ABI numbers? -> 5, else 6
        _bpf(RET, 0, 0, RET_ERRNO | EPERM),             # 5
        _bpf(JEQ, 0, 1, nr["io_uring_setup"]),          # 6: io_uring_setup? -> 7, else 8
        _bpf(RET, 0, 0, RET_ERRNO | ENOSYS),            # 7
        _bpf(JEQ, 0, 3, nr["socket"]),                  # 8: socket? -> 9, else 12
        _bpf(LD, 0, 0, 16),                             # 9: A = low 32 bits of args[0] (domain)
        _bpf(JEQ, 1, 0, AF_UNIX),                       # 10: AF_UNIX? -> 12, else 11
        _bpf(RET, 0, 0, RET_ERRNO | EACCES),            # 11
        _bpf(RET, 0, 0, RET_ALLOW),                     # 12
    ]
    filters = ctypes.create_string_buffer(b"".join(prog))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(prog), ctypes.cast(filters, ctypes.c_void_p))
    if libc.prctl(PR_SET_SECCOMP, 2, ctypes.byref(fprog), 0, 0) != 0:  # SECCOMP_MODE_FILTER
        raise _errno_error("seccomp")


# ----------------------------------------------------------------------------- audit hook

def install_audit_hook(scratch: str) -> None:
    """Second line of defence: refuse sockets and writes outside scratch at the Python level."""
    scratch = os.path.realpath(scratch)

    def hook(event: str, args: tuple) -> None:
        if event.startswith("socket.") and event != "socket.getaddrinfo":
            if event == "socket.__new__" and len(args) > 1 and args[1] == AF_UNIX:
                return
            raise PermissionError(f"network access is disabled in this sandbox ({event})")
        if event == "open" and len(args) >= 2 and isinstance(args[0], (str, bytes)):
            mode, flags = args[1], args[2] if len(args) > 2 else 0
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
                (isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
            path = os.fsdecode(args[0])
            if writing and path != os.devnull:
                real = os.path.realpath(path)
                if real != scratch and not real.startswith(scratch + os.sep):
                    raise PermissionError(f"writing outside the scratch directory is disabled: {path}")

    sys.addaudithook(hook)


# ----------------------------------------------------------------------------- process limits

def set_limits(memory_mb: int, cpu_s: int, file_mb: int, max_processes: int | None) -> None:
    """Address space, CPU seconds, file size, open files, no core dumps, and processes.

    `max_processes` only inside a user namespace of our own, where the kernel
    counts the namespace's processes; outside one it would count all of this
    uid's processes on the machine.
    """
    mb = 1024 * 1024
    limits = [(resource.RLIMIT_AS, memory_mb * mb), (resource.RLIMIT_CPU, cpu_s),
              (resource.RLIMIT_FSIZE, file_mb * mb), (resource.RLIMIT_NOFILE, 256),
              (resource.RLIMIT_CORE, 0)]
    if max_processes:
        limits.append((resource.RLIMIT_NPROC, max_processes))
    for which, value in limits:
        hard = value + 1 if which == resource.RLIMIT_CPU else value  # SIGXCPU first, then SIGKILL
        resource.setrlimit(which, (value, hard))


def no_new_privs() -> None:
    """Required by Landlock and seccomp for an unprivileged process; setuid binaries lose their power."""
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise _errno_error("prctl(PR_SET_NO_NEW_PRIVS)")
