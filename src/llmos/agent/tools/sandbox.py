"""The sandbox's inside: confine a fresh interpreter with the kernel, then run the code.

`code_runner.py` starts this file as `python -I sandbox.py CONFIG`, a new,
single-threaded process (so it may unshare and fork safely), which builds
this tree:

    launcher      enters new user, network, mount and PID namespaces, makes
      |           every mount read-only but the scratch directory, then waits
    supervisor    PID 1 of the new namespace: confines itself (rlimits,
      |           Landlock, seccomp), reports the layers in force, then waits,
    code          reaping every orphan, for the code: a fresh interpreter
                  (`sandbox.py --run`) running the user's script under an audit hook.

It stacks independent OS-level layers, each enough on its own for its job:

  network   a network namespace of its own (a loopback that is down: even
            127.0.0.1 on the host is another machine), and a seccomp filter
            that lets `socket()` make only AF_UNIX sockets; Landlock also denies
            TCP bind/connect where the kernel has it (ABI 4+).
  files     Landlock (read-only system and Python directories, the scratch
            directory writable, nothing else visible), and a mount namespace
            with every mount read-only except a bind of the scratch directory.
  lifetime  the PID namespace: when its init (the supervisor) ends, or when the
            runner kills the launcher on a timeout, the kernel kills every
            process the code started, daemons included. Without one, the
            supervisor is a child subreaper that kills what is left itself.

The audit hook comes last and is only a second line (Python code can get round
an audit hook; it cannot get round the kernel).

The status pipe carries two JSON lines: the layers in force (before any user
code runs) and how the code ended. If no layer denies the network, or none
confines writes, the code is never started: the launcher exits `REFUSED`.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import confine as layers  # noqa: E402  (this file's neighbour; nothing else is importable yet)

sys.path.pop(0)

REFUSED = 121
NETWORK_LAYERS = {"netns", "seccomp-net"}
FILE_LAYERS = {"landlock-fs", "readonly-mounts"}


def enter(cfg: dict, want: set, done: list, why: dict) -> bool:
    """Namespaces and read-only mounts, in the launcher. True if a user namespace was entered."""
    flags = 0
    if "netns" in want:
        flags |= layers.CLONE_NEWNET
    if "mounts" in want or "pidns" in want:  # the PID namespace needs a /proc of its own
        flags |= layers.CLONE_NEWNS
    if "pidns" in want:
        flags |= layers.CLONE_NEWPID
    if not flags:
        return False
    try:
        layers.enter_namespaces(flags | layers.CLONE_NEWUSER)
    except OSError as e:
        for layer in ("netns", "mounts", "pidns"):
            if layer in want:
                why[layer] = f"no user namespace: {e}"
        return False
    if "netns" in want:
        if os.readlink("/proc/self/ns/net") != cfg["host_netns"]:
            done.append("netns")
        else:
            why["netns"] = "still in the host's network namespace"
    if "mounts" in want:
        try:
            left = layers.remount_read_only(cfg["scratch"])
            if left:
                why["mounts"] = f"still writable: {', '.join(left)}"
            else:
                done.append("readonly-mounts")
        except OSError as e:
            why["mounts"] = str(e)
    return True


def confine_supervisor(cfg: dict, want: set, in_userns: bool, done: list, why: dict) -> None:
    """Everything inherited by the code: a private /proc, limits, Landlock, seccomp."""
    if "pidns" in want and in_userns:
        if os.getpid() == 1:
            done.append("pidns")
            try:  # a /proc that shows only the sandbox's own processes
                layers._mount("proc", "/proc", "proc",
                              layers.MS_NOSUID | layers.MS_NODEV | layers.MS_NOEXEC)
            except OSError as e:
                why["proc"] = str(e)
        else:
            why["pidns"] = f"the supervisor is pid {os.getpid()}, not the namespace's init"
    try:
        layers.set_limits(cfg["memory_mb"], cfg["cpu_s"], cfg["file_mb"],
                          cfg["max_processes"] if in_userns else None)
        done.append("rlimits")
    except (OSError, ValueError) as e:
        why["rlimits"] = str(e)
    try:
        layers.no_new_privs()
    except OSError as e:
        why["no_new_privs"] = str(e)
    if "landlock" in want:
        abi = layers.landlock_abi()
        if not abi:
            why["landlock"] = "the kernel has no Landlock"
        else:
            try:
                done += layers.apply_landlock(cfg["read_paths"], [cfg["scratch"]],
                                              cfg["device_paths"], abi)
            except OSError as e:
                why["landlock"] = str(e)
    if "seccomp" in want:
        try:
            layers.apply_seccomp_network_filter()
            done.append("seccomp-net")
        except OSError as e:
            why["seccomp"] = str(e)


def _children(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    # pid (comm) state ppid ...: comm may hold spaces, so split after its ')'
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        kids.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return kids


def kill_descendants() -> None:
    """Kill every process left under us (orphans re-parent to us: we are a subreaper)."""
    for _ in range(100):
        kids = _children(os.getpid())
        if not kids:
            return
        for pid in kids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _reap_all()
        time.sleep(0.01)


def _reap_all() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def run_code(cfg: dict) -> None:
    """The code process (a fresh interpreter, exec'd): audit hook, then the script as __main__."""
    if "audit" in cfg["layers"]:
        layers.install_audit_hook(cfg["scratch"])
    os.chdir(cfg["scratch"])
    sys.argv = [cfg["code_path"]]
    sys.path.insert(0, cfg["scratch"])
    import runpy
    runpy.run_path(cfg["code_path"], run_name="__main__")


def supervise(cfg: dict, status_fd: int, want: set, in_userns: bool, done: list, why: dict) -> int:
    layers.libc.prctl(layers.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    confine_supervisor(cfg, want, in_userns, done, why)
    if "audit" in want:
        done.append("audit-hook")
    refused = []
    if not NETWORK_LAYERS & set(done):
        refused.append("network access cannot be denied (no network namespace, no seccomp)")
    if not FILE_LAYERS & set(done):
        refused.append("writes outside the scratch directory cannot be prevented "
                       "(no Landlock, no read-only mount namespace)")
    report = lambda record: os.write(status_fd, (json.dumps(record) + "\n").encode())  # noqa: E731
    report({"layers": done, "unavailable": why, "refused": refused})
    if refused:
        return REFUSED
    # The runner's SIGTERM (on a timeout) means: take everything down now.
    signal.signal(signal.SIGTERM, lambda *_: (kill_descendants(), os._exit(137)))
    code = os.fork()
    if code == 0:  # a clean interpreter for the code; the kernel's layers survive exec
        os.close(status_fd)
        os.execv(sys.executable, [sys.executable, "-I", "-B", "-X", "utf8", os.path.abspath(__file__),
                                  "--run", json.dumps(cfg)])
    while True:  # reap orphans too, until the code process itself ends
        pid, status = os.wait()
        if pid == code:
            break
    ended = ({"exit": os.waitstatus_to_exitcode(status)} if os.WIFEXITED(status)
             else {"signal": os.WTERMSIG(status)})
    report(ended)
    os.close(status_fd)
    kill_descendants()
    return 0


def main() -> None:
    if sys.argv[1] == "--run":
        return run_code(json.loads(sys.argv[2]))
    cfg = json.loads(sys.argv[1])
    status_fd, want = cfg["status_fd"], set(cfg["layers"])
    done, why = [], {}
    in_userns = enter(cfg, want, done, why)
    if in_userns and "pidns" in want:
        # unshare(CLONE_NEWPID) applies to our children: the next one is PID 1 there.
        supervisor = os.fork()
        if supervisor:
            os.close(status_fd)
            _, status = os.waitpid(supervisor, 0)
            os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 137)
        layers.libc.prctl(layers.PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    sys.exit(supervise(cfg, status_fd, want, in_userns, done, why))


if __name__ == "__main__":
    main()
