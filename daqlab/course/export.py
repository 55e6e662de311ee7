"""Export grades with their grading status: an error is never a silent 0.

Columns: student_id, name, station, assignment, score, max_score, status, reason. ``status`` is
"graded", "graded with errors", "flagged" (the reason says what needs the instructor), "not gradable" or
"not submitted".
"""

from __future__ import annotations

import csv
from pathlib import Path

from daqlab.course.status import load_status

COLUMNS = ["student_id", "name", "station", "assignment", "score", "max_score", "status", "reason"]


def rows(course: Path, roster: dict | None = None) -> list[dict]:
    from nbgrader.api import Gradebook, MissingEntry

    course = Path(course)
    if not (course / "gradebook.db").exists():
        raise FileNotFoundError(2, "no gradebook here: grade first, or give the course folder with --course",
                                str(course / "gradebook.db"))
    status = load_status(course)
    roster = roster or {}
    out = []
    db = course / "gradebook.db"
    with Gradebook(f"sqlite:///{db}") as gb:
        # an assignment nobody has handed in (not released yet, or just released) is no row at all: "not
        # submitted" for every trainee of every unreleased paper would drown the real rows
        assignments = sorted({a.name for a in gb.assignments if a.num_submissions} | set(status))
        students = sorted({s.id for s in gb.students} | set(roster) | {s for a in status.values() for s in a})
        for a in assignments:
            for sid in students:
                st = status.get(a, {}).get(sid)
                try:
                    sub = gb.find_submission(a, sid)
                    score, max_score = float(sub.score), float(sub.max_score)
                except MissingEntry:
                    score = max_score = None
                if st is None and score is None:
                    state, reason = "not submitted", ""
                elif st is None:
                    state, reason = "graded", ""
                else:
                    state, reason = st["status"], st["reason"]
                    if state == "not gradable":
                        score = None
                t = roster.get(sid)
                out.append({"student_id": sid, "name": getattr(t, "name", ""), "station": getattr(t, "station", ""),
                            "assignment": a, "score": "" if score is None else f"{score:g}",
                            "max_score": "" if max_score is None else f"{max_score:g}", "status": state,
                            "reason": reason})
    return out


def export(course: Path, path: Path, roster: dict | None = None) -> int:
    import io

    from daqlab.atomic import write_atomic

    data = rows(course, roster)
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=COLUMNS)
    w.writeheader()
    w.writerows(data)
    write_atomic(Path(path), buf.getvalue())  # the previous export stays whole until the new one is
    return len(data)
