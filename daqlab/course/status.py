"""The grading status store: ``<course>/grading/status.json``, one outcome per (assignment, student).

Read by ``daqlab course export`` and the results dashboard, written by ``daqlab course grade``. Writes
are atomic (temp file in the same folder, fsync, ``os.replace``) under an exclusive lock on
``status.json.lock``, so two graders on one course merge their outcomes instead of losing them, and a
write cut short leaves the previous good file. Only the grader writes here: a graded submission runs
in a sandbox where the course folder does not exist.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from daqlab.atomic import locked, write_atomic

GRADED, WITH_ERRORS, FLAGGED, NOT_GRADABLE = "graded", "graded with errors", "flagged", "not gradable"
STATUSES = (GRADED, WITH_ERRORS, FLAGGED, NOT_GRADABLE)


@dataclass
class Outcome:
    student: str  #: student id
    assignment: str  #: assignment id
    status: str  #: one of STATUSES: "flagged" needs the instructor's eye (the reason says why)
    reason: str  #: why not plainly graded (empty when graded)
    score: float | None  #: points from the gradebook (None when not gradable)
    max_score: float | None  #: points available
    seconds: float  #: wall time spent on this submission
    station: int | None = None  #: the station it was graded against (practical assignments)


class StatusError(RuntimeError):
    """status.json exists but cannot be read."""


def status_path(course: Path) -> Path:
    return Path(course) / "grading" / "status.json"


def load_status(course: Path) -> dict:
    p = status_path(course)
    if not p.exists():
        return {}
    try:
        data = json.loads(p.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise StatusError(f"{p} is unreadable ({exc}); restore it from a backup or delete it and grade again") from exc
    if not isinstance(data, dict):
        raise StatusError(f"{p} is not a status file; delete it and grade again")
    return data


def save_status(course: Path, outcomes: list[Outcome]) -> None:
    """Merge ``outcomes`` into the store (read-modify-write under the lock, atomic replace)."""
    p = status_path(course)
    with locked(p):
        data = load_status(course)
        for o in outcomes:
            data.setdefault(o.assignment, {})[o.student] = asdict(o)
        write_atomic(p, json.dumps(data, indent=1, ensure_ascii=False))
