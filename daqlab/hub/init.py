"""The classroom hub owns its children: everything it starts ends when it ends, however it ends.

:func:`wrap` turns the hub's command (``python -m jupyterhub -f ...``) into one that runs it in a **pid
namespace of its own** (as root), under this module as the namespace's init (pid 1). The outer process
(``--launch``: unshare(2) the pid and mount namespaces, fork the init, mount its own /proc) forwards
SIGTERM/SIGINT/SIGHUP to the init and returns only when the init, and so the whole namespace, is gone:

- the init starts the hub, forwards SIGTERM/SIGINT/SIGHUP to it, and reaps every orphan (kernels, servers);
- when the hub exits, by itself, by Ctrl-C or by ``kill -9``, the init asks everything left in the
  namespace to stop (SIGTERM: Mosquitto saves its persistence, the plant closes its sockets), waits a
  few seconds, and exits; the kernel then kills whatever is left: the proxy, the plant, the broker, the
  recorder, the idle culler, every user server and kernel;
- when the init is killed, the kernel does the same; when the launcher is killed, the init gets SIGTERM
  (PR_SET_PDEATHSIG) and stops everything cleanly; ``daqlab hub serve`` passes its own death on to the
  launcher the same way.

So a restart never finds a leftover plant or broker of its own: the ports are free again, and the hub
starts one broker on its own port. Two hubs on one state folder are refused (:func:`claim`: the init holds
a lock on ``<state>/hub.lock``, its working folder, for the hub's life; a killed hub's lock goes with it).
Without root the hub runs as before and :func:`wrap` says so (one line).

    python daqlab/hub/init.py --launch CMD...   (run as a file: stdlib only, nothing to import from the course)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

GRACE_S = 10.0  #: how long the namespace's leftovers have to stop after SIGTERM


def wrap(cmd: list[str]) -> tuple[list[str], str]:
    """(command to run, a warning or "") for the hub command ``cmd``."""
    if os.geteuid() != 0:
        return cmd, ("note: not root: if the hub is killed, its plant, broker and user servers may keep running; "
                     "stop them before starting it again")
    return [sys.executable, "-I", str(Path(__file__).resolve()), "--launch", *cmd], ""


CLONE_NEWNS, CLONE_NEWPID = 0x00020000, 0x20000000
MS_REC, MS_PRIVATE, MS_NOSUID, MS_NODEV, MS_NOEXEC = 16384, 1 << 18, 2, 4, 8


def _libc():
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def launch(cmd: list[str]) -> int:
    """The outer process: a new pid and mount namespace for an init running ``cmd``; wait for it."""
    import ctypes

    libc = _libc()
    if libc.unshare(CLONE_NEWPID | CLONE_NEWNS) != 0:
        print(f"daqlab: cannot make the hub's namespace ({os.strerror(ctypes.get_errno())}); running it plainly",
              file=sys.stderr)
        return subprocess.call(cmd)
    pid = os.fork()
    if pid == 0:  # pid 1 of the new namespace: private mounts, its own /proc, then the init
        try:
            libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None)
            libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
            libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: the launcher killed -> stop cleanly
            os.execv(sys.executable, [sys.executable, "-I", str(Path(__file__).resolve()), *cmd])
        finally:
            os._exit(127)

    def forward(signum, _frame):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, forward)
    while True:
        try:
            _, status = os.waitpid(pid, 0)  # returns once the namespace is empty
            code = os.waitstatus_to_exitcode(status)
            return code if code >= 0 else 128 - code
        except InterruptedError:
            continue


def claim(state: Path):
    """An exclusive lock on ``<state>/hub.lock`` held for the hub's life; None when another hub holds it."""
    import fcntl

    state.mkdir(parents=True, exist_ok=True)
    fh = open(state / "hub.lock", "a+")  # noqa: SIM115 (kept open: the lock lives as long as the file)
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        return None
    fh.seek(0)
    fh.truncate()
    fh.write(f"{os.getpid()}\n")
    fh.flush()
    return fh


def _reap_all(deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.05)


def main(cmd: list[str]) -> int:
    lock = claim(Path.cwd())  # the hub's state folder: one hub per state folder, held for the hub's life
    if lock is None:
        print(f"daqlab: a hub already runs with the state folder {Path.cwd()}: stop it first", file=sys.stderr)
        return 2
    hub = subprocess.Popen(cmd)

    def forward(signum, _frame):
        try:
            hub.send_signal(signum)
        except ProcessLookupError:
            pass

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, forward)
    code = 0
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if pid == hub.pid:
            code = os.waitstatus_to_exitcode(status)
            break
    try:
        os.kill(-1, signal.SIGTERM)  # everything else in the namespace: stop cleanly
    except ProcessLookupError:
        pass
    _reap_all(time.monotonic() + GRACE_S)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    if sys.argv[1:2] == ["--launch"]:
        sys.exit(launch(sys.argv[2:]))
    sys.exit(main(sys.argv[1:]))
