"""Per-user cache of asyncua's standard address space, so an OPC UA server starts in ~50 ms, not ~1 s.

Every asyncua server first loads the OPC UA standard address space (namespace 0, thousands of
nodes) from generated Python code: about 1 s of CPU per server. ``Server.init(shelf_file=...)`` can
instead open a *shelf* (a :mod:`shelve` file) holding those nodes, written once, and load nodes
lazily from it. This module owns where that shelf lives and how it is written safely:

- Folder: ``$DAQLAB_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/daqlab`` or ``~/.cache/daqlab``,
  then ``opcua-aspace-asyncua<version>-py<major>.<minor>/``: the shelf holds pickled asyncua
  objects, so a different asyncua or Python version gets a fresh one.
- The first start writes the shelf into a private temporary folder (asyncua does this inside
  ``init`` right after loading the standard nodes, so the first start costs ~2 s instead of ~1 s),
  then publishes it with one atomic ``rename`` of the folder: concurrent starts (two plants, two
  test workers) never see a half-written shelf; a loser of the race discards its copy.
- ``aspace`` inside the folder is the path handed to asyncua. asyncua only trusts a shelf when a
  file of exactly that name (or ``<name>.db``) exists, but the ``dbm.dumb`` backend (the only one
  in some Python builds) writes ``aspace.dat``/``.dir``/``.bak``; an empty ``aspace`` marker file,
  written last, satisfies that check and marks the shelf complete.
- Any failure to create the folder (read-only home) just means no cache: servers start the slow way.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

SHELF_NAME = "aspace"  #: file name handed to asyncua inside the cache folder


def cache_root(environ: dict | None = None) -> Path:
    """The per-user daqlab cache folder (not created here)."""
    env = os.environ if environ is None else environ
    if env.get("DAQLAB_CACHE_DIR"):
        return Path(env["DAQLAB_CACHE_DIR"])
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "daqlab"


def _version_key() -> str:
    from importlib.metadata import version

    return f"opcua-aspace-asyncua{version('asyncua')}-py{sys.version_info[0]}.{sys.version_info[1]}"


@dataclass(frozen=True)
class AddressSpaceCache:
    folder: Path  #: published cache folder; holds the shelf files and the ``aspace`` marker

    @classmethod
    def default(cls, environ: dict | None = None) -> AddressSpaceCache:
        return cls(cache_root(environ) / _version_key())

    @property
    def shelf(self) -> Path:
        """Path to pass as ``Server.init(shelf_file=...)`` once :meth:`ready`."""
        return self.folder / SHELF_NAME

    def ready(self) -> bool:
        """True when a complete shelf has been published."""
        return self.shelf.is_file()

    def new_build(self) -> Path | None:
        """A private folder to let asyncua write a shelf into (its shelf path is ``<folder>/aspace``);
        None when the cache root cannot be created (then start without a shelf)."""
        try:
            self.folder.parent.mkdir(parents=True, exist_ok=True)
            return Path(tempfile.mkdtemp(prefix=".build-", dir=self.folder.parent))
        except OSError:
            return None

    def publish(self, build: Path) -> bool:
        """Mark the shelf written into ``build`` complete and move it into place atomically.
        Returns False (and removes ``build``) when another process published first or on error."""
        try:
            (build / SHELF_NAME).touch()
            os.rename(build, self.folder)
            return True
        except OSError:
            shutil.rmtree(build, ignore_errors=True)
            return False

    def discard(self) -> None:
        """Remove a published shelf that failed to load (it is rebuilt on the next start)."""
        shutil.rmtree(self.folder, ignore_errors=True)
