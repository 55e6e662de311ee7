"""Look at a submission before grading: is it a notebook, and were its test cells changed?"""

from __future__ import annotations

import json
from pathlib import Path


def notebook_problem(path: Path) -> str:
    """Why ``path`` is not a gradable notebook ("" when it is)."""
    import nbformat

    if not path.exists():
        return f"{path.name} is missing"
    try:
        nbformat.validate(nbformat.read(path, as_version=4))
    except (ValueError, json.JSONDecodeError, nbformat.ValidationError, UnicodeDecodeError, AttributeError,
            KeyError, TypeError) as exc:
        return f"not a notebook: {type(exc).__name__}: {str(exc)[:200]}"
    return ""


def _protected(nb) -> dict:
    from nbgrader.utils import is_grade, is_locked

    return {c.metadata.nbgrader["grade_id"]: c for c in nb.cells
            if "nbgrader" in c.metadata and (is_grade(c) or is_locked(c)) and "grade_id" in c.metadata.nbgrader}


def tampering(submitted: Path, released: Path) -> tuple[list[str], list[str]]:
    """(deleted, edited) grade/locked cell ids of a submission compared with its release."""
    import nbformat
    from nbgrader.utils import compute_checksum

    sub = _protected(nbformat.read(submitted, as_version=4))
    rel = _protected(nbformat.read(released, as_version=4))
    deleted = [gid for gid in rel if gid not in sub]
    edited = [gid for gid, c in rel.items() if gid in sub and compute_checksum(sub[gid]) != compute_checksum(c)]
    return deleted, edited


def restore_deleted(submitted: Path, released: Path, deleted: list[str]) -> None:
    """Put deleted test cells back (from the release) where they were, so nbgrader can grade."""
    import nbformat

    sub = nbformat.read(submitted, as_version=4)
    rel = nbformat.read(released, as_version=4)
    present = {c.metadata.get("nbgrader", {}).get("grade_id") for c in sub.cells}
    out = []
    for cell in rel.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in deleted:
            out.append(cell)
        elif gid in present:
            out.append(next(c for c in sub.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid))
    extra = [c for c in sub.cells if c.metadata.get("nbgrader", {}).get("grade_id") not in
             {x.metadata.get("nbgrader", {}).get("grade_id") for x in rel.cells}]
    sub.cells = out + extra
    nbformat.write(sub, submitted)
