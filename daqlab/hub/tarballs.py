"""Folders as gzip'd tar bytes, for the exchange service (:mod:`daqlab.hub.exchange_service`) and its client.

- :func:`pack` turns folders and files, each under its own name, into bytes: regular files and folders
  only (links and devices are left out), names relative to the folder.
- :func:`unpack` is the careful opposite for bytes that came from someone else: every member must be a
  regular file or a folder with a relative name that stays inside ``dest`` (no ``..``, no absolute path,
  no link, no device), there are at most ``max_members`` of them and their sizes add up to at most
  ``max_bytes``; otherwise :class:`BadTarball` says which member broke which rule and nothing is left
  behind in ``dest`` (it is extracted into a fresh folder the caller then moves into place).
"""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path, PurePosixPath

MAX_BYTES = 100 * 1000 * 1000  #: nbgrader's own default limit of an assignment folder (max_dir_size 100000 KB)
MAX_MEMBERS = 5000


class BadTarball(ValueError):
    """An upload that is not a tarball of plain files and folders inside its own root."""


def pack(entries: dict[str, Path]) -> bytes:
    """``{name in the archive: folder or file}`` -> tar.gz bytes (a missing entry is simply absent)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=3) as tar:
        for name, folder in entries.items():
            folder = Path(folder)
            if folder.is_file() and not folder.is_symlink():
                tar.add(folder, arcname=name, recursive=False)
                continue
            if not folder.is_dir():
                continue
            tar.add(folder, arcname=name, recursive=False)
            for p in sorted(folder.rglob("*")):
                if p.is_symlink() or not (p.is_file() or p.is_dir()):
                    continue
                tar.add(p, arcname=str(PurePosixPath(name) / p.relative_to(folder).as_posix()), recursive=False)
    return buf.getvalue()


def members_ok(tar: tarfile.TarFile, max_bytes: int, max_members: int) -> list[tarfile.TarInfo]:
    members, total = [], 0
    for m in tar:
        members.append(m)
        if len(members) > max_members:
            raise BadTarball(f"more than {max_members} files")
        name = PurePosixPath(m.name)
        if name.is_absolute() or ".." in name.parts or m.name.startswith("/"):
            raise BadTarball(f"{m.name!r} points outside its folder")
        if not (m.isfile() or m.isdir()):
            raise BadTarball(f"{m.name!r} is not a plain file or folder")
        total += m.size
        if total > max_bytes:
            raise BadTarball(f"larger than {max_bytes // 1_000_000} MB")
    return members


def unpack(data: bytes, dest: Path, max_bytes: int = MAX_BYTES, max_members: int = MAX_MEMBERS) -> Path:
    """Extract ``data`` into the new folder ``dest`` (see the module docstring); returns ``dest``."""
    dest = Path(dest)
    dest.mkdir(parents=True)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            members = members_ok(tar, max_bytes, max_members)
            tar.extractall(dest, members=members, filter="data")
    except (tarfile.TarError, EOFError, OSError, BadTarball) as exc:
        shutil.rmtree(dest, ignore_errors=True)
        if isinstance(exc, BadTarball):
            raise
        raise BadTarball(f"not a readable tar.gz ({exc})") from None
    return dest
