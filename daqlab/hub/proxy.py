"""configurable-http-proxy, the hub's front door, installed from npm into the state folder.

Contract: :func:`ensure_proxy` returns the path of the ``configurable-http-proxy`` executable under
``<state>/node_modules/.bin``, running ``npm install --prefix <state> configurable-http-proxy@5`` the first
time (about 2 s with a warm npm cache; nothing is installed globally). :class:`ProxyUnavailable` says what is
missing (npm, or the install failed, with npm's output).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

PACKAGE = "configurable-http-proxy@5"  #: major version checked with JupyterHub 6.1 (stack.md: 5.3.0)


class ProxyUnavailable(RuntimeError):
    """configurable-http-proxy could not be found or installed."""


def proxy_path(state) -> Path:
    return Path(state) / "node_modules" / ".bin" / "configurable-http-proxy"


def ensure_proxy(state, *, quiet: bool = True) -> Path:
    """The proxy executable under ``state``; install it with npm when it is not there yet."""
    path = proxy_path(state)
    if path.exists():
        return path
    npm = shutil.which("npm")
    if npm is None:
        raise ProxyUnavailable("npm is not installed: JupyterHub's proxy (configurable-http-proxy) comes from npm "
                               "(Debian: apt-get install npm)")
    Path(state).mkdir(parents=True, exist_ok=True)
    cmd = [npm, "install", "--prefix", str(state), PACKAGE, "--no-audit", "--no-fund", "--loglevel=error"]
    p = subprocess.run(cmd, capture_output=quiet, text=True, timeout=600)
    if p.returncode != 0 or not path.exists():
        raise ProxyUnavailable(f"`{' '.join(cmd)}` failed:\n{(p.stdout or '') + (p.stderr or '')}")
    return path
