"""Run a server (JupyterLab, Voila) as a child in the foreground: Ctrl-C or SIGTERM stop it cleanly."""

from __future__ import annotations

import signal
import subprocess


def _term_with_parent() -> None:
    """In the child, before exec: SIGTERM when this process dies (even by kill -9): no orphaned server."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def run_foreground(cmd: list[str], env: dict, cwd=None) -> int:
    """Start ``cmd`` and wait; on Ctrl-C or SIGTERM (a service manager, a test) terminate it, kill it after
    15 s, and return 0. Returns the child's exit code when it ends by itself. If this process is killed,
    the child gets SIGTERM."""
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, preexec_fn=_term_with_parent)

    def _terminate(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
