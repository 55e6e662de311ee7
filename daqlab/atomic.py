"""Files DAQ Lab owns are never half-written: atomic replace, and a lock where two processes write.

- :func:`write_atomic`: temp file in the same folder, fsync, ``os.replace``: a reader (or a crash, or a full
  disk) sees the old file or the new one, never a part.
- :func:`locked`: an exclusive ``flock`` on ``<file>.lock`` around a read-modify-write.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def locked(path: Path):
    """An exclusive lock on ``path``.lock for the duration (waits for another writer)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(str(path) + ".lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _umask() -> int:
    mask = os.umask(0o022)  # the only way to read it is to set it: put it straight back
    os.umask(mask)
    return mask


def write_atomic(path: Path, text: str, mode: int | None = None) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never a part.
    ``mode`` (e.g. 0o600) is set before the new file is visible; without it the file keeps the mode (and group)
    of the one it replaces, and a new file gets what ``open`` would give it (0666 minus the umask), not
    mkstemp's 0600: the instructor must be able to read what the root grading service wrote."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        if mode is None:
            try:
                old = path.stat()
                mode = old.st_mode & 0o7777
                with contextlib.suppress(OSError):
                    os.fchown(fd, -1, old.st_gid)
            except FileNotFoundError:
                mode = 0o666 & ~_umask()
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
