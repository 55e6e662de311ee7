"""A graded course as four pandas frames: what every results dashboard starts from.

:func:`load_course` reads, without writing anything:

- ``<course>/gradebook.db`` through :class:`nbgrader.api.Gradebook` (one SQL query per table, not one per
  submission): submissions, their score (the sum of their grades, as nbgrader computes it), the
  assignment's ``max_score``, and the grade cells named ``area-<area>`` (per-area subtotals of theory papers);
- ``<course>/grading/status.json`` (:func:`daqlab.course.status.load_status`): graded, graded with errors,
  flagged (needs the instructor: the reason says why)
  or not gradable, with the reason;
- ``<course>/autograded/<student>/<assignment>/exam_results.json`` (per item, written by the trusted
  grader, daqlab.course.trusted) and ``practical_results.json`` (per check, written by ``daqlab.grading``
  in the grader);
- the roster (``{student_id: Trainee}``; by default ``<course>/grader/roster.csv`` when it exists).

A folder without a gradebook but with ``daqlab-results.pkl`` is one trainee's *published* results
(:func:`save_published`, written by ``daqlab hub publish-results``): it is loaded as it is.

Statuses and scores follow ``daqlab course export`` exactly: an assignment nobody handed in (not released
yet) has no rows; no status and no submission is "not submitted"; a submission without a stored status is "graded"; a "not gradable" submission has no
score (NaN, never 0), and its stale per-item, per-check and per-area rows (if any) are left out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from daqlab.course.status import NOT_GRADABLE, load_status

NOT_SUBMITTED = "not submitted"
SCORE_COLUMNS = ["student_id", "name", "station", "assignment", "kind", "score", "max_score", "percent",
                 "status", "reason", "minutes"]
AREA_COLUMNS = ["student_id", "assignment", "area", "score", "points"]
ITEM_COLUMNS = ["student_id", "assignment", "number", "item_id", "area", "type", "points", "score", "correct",
                "chosen", "status"]
CHECK_COLUMNS = ["student_id", "assignment", "cell", "name", "points", "score", "passed", "message"]
PUBLISHED = "daqlab-results.pkl"  #: a course folder holding only this file is one trainee's published results
AREA_CELL_PREFIX = "area-"  #: grade cells of theory papers are named area-<area> (one per knowledge area)


@dataclass
class CourseData:
    """A graded course; every frame has exactly the columns listed (possibly no rows)."""

    #: one row per (trainee, assignment) of the course: student_id, name, station (Int64, <NA> when not in
    #: the roster), assignment, kind ("theory" | "practical"), score (NaN unless graded), max_score (the
    #: assignment's points, NaN when the gradebook does not know it), percent (0-100), status ("graded" |
    #: "graded with errors" | "flagged" | "not gradable" | "not submitted"), reason (empty unless an error or a flag),
    #: minutes (the time a timed theory paper took: first opened to submitted, NaN otherwise)
    scores: pd.DataFrame
    #: per-area subtotals from the grade cells "area-<area>": student_id, assignment, area, score, points
    areas: pd.DataFrame
    #: one row per question of each graded theory paper: student_id, assignment, number, item_id, area, type,
    #: points, score, correct (bool), chosen (bank letter str | sorted list of bank letters | bool | None),
    #: status ("correct" | "wrong" | "blank" | "unreadable")
    items: pd.DataFrame
    #: one row per check of each graded practical: student_id, assignment, cell (the report title), name,
    #: points, score, passed (bool), message
    checks: pd.DataFrame


def kind_of(assignment: str) -> str:
    """"theory" for assignment ids starting with "theory-", else "practical"."""
    return "theory" if str(assignment).startswith("theory-") else "practical"


def load_course(course: Path, roster: dict | None = None) -> CourseData:
    """Read the graded course at ``course`` (see the module docstring); ``roster`` maps student id -> Trainee."""
    course = Path(course)
    if not (course / "gradebook.db").exists() and (course / PUBLISHED).exists():
        return load_published(course)
    if roster is None:
        roster = _default_roster(course)
    status = load_status(course)
    subs, grades, maxima, gb_students = _read_gradebook(course / "gradebook.db")

    assignments = sorted(set(subs["assignment"]) | set(status))  # handed in by someone (as the export)
    students = sorted(set(gb_students) | set(roster) | {s for a in status.values() for s in a})
    grid = pd.MultiIndex.from_product([assignments, students], names=["assignment", "student_id"])
    scores = pd.DataFrame(index=grid).reset_index()
    st = pd.DataFrame([(a, s, o.get("status", ""), o.get("reason", "") or "")
                       for a, per in status.items() for s, o in per.items()],
                      columns=["assignment", "student_id", "status", "reason"])
    sub_scores = subs.merge(grades.groupby(["assignment", "student_id"], as_index=False)["score"].sum(),
                            on=["assignment", "student_id"], how="left").fillna({"score": 0.0})
    sub_scores["submitted"] = True
    scores = scores.merge(sub_scores, on=["assignment", "student_id"], how="left")
    scores = scores.merge(st, on=["assignment", "student_id"], how="left")
    submitted = scores["submitted"].eq(True)
    scores["status"] = scores["status"].where(scores["status"].notna(),
                                              np.where(submitted, "graded", NOT_SUBMITTED))
    scores["reason"] = scores["reason"].fillna("")
    scores.loc[scores["status"].eq(NOT_GRADABLE), "score"] = np.nan
    scores["max_score"] = scores["assignment"].map(maxima).astype(float)
    scores["percent"] = 100.0 * scores["score"] / scores["max_score"].where(scores["max_score"] > 0)
    scores["kind"] = np.where(scores["assignment"].str.startswith("theory-"), "theory", "practical")
    names = {k: getattr(t, "name", "") or "" for k, t in roster.items()}
    scores["name"] = [names.get(sid, "") for sid in scores["student_id"]]
    scores["station"] = scores["student_id"].map(
        {k: getattr(t, "station", None) for k, t in roster.items()}).astype("Int64")
    scores["minutes"] = np.nan
    scores = scores[SCORE_COLUMNS].reset_index(drop=True)

    graded = scores.loc[scores["status"].isin(["graded", "graded with errors", "flagged"]), ["student_id", "assignment",
                                                                                  "kind"]]
    cells = grades[grades["cell"].str.startswith(AREA_CELL_PREFIX)]
    areas = cells.merge(graded[["student_id", "assignment"]], on=["student_id", "assignment"])
    areas = areas.assign(area=areas["cell"].str.slice(len(AREA_CELL_PREFIX)))
    areas = areas.sort_values(["student_id", "assignment", "area"])[AREA_COLUMNS].reset_index(drop=True)

    theory = graded[graded["kind"].eq("theory")]
    practical = graded[graded["kind"].eq("practical")]
    items, used = _read_results(course, theory, "exam_results.json", "items", ITEM_COLUMNS)
    scores["minutes"] = [used.get((sid, a), np.nan) for sid, a in zip(scores["student_id"], scores["assignment"],
                                                                     strict=True)]
    checks, _ = _read_results(course, practical, "practical_results.json", "checks", CHECK_COLUMNS)
    items = items.astype({"number": "int64", "points": float, "score": float, "correct": bool})
    checks = checks.astype({"points": float, "score": float, "passed": bool})
    return CourseData(scores, areas, items, checks)


def save_published(data: CourseData, folder: Path) -> Path:
    """Write ``data`` (already cut to one trainee by the caller) as ``<folder>/daqlab-results.pkl``: what a
    trainee's dashboard reads in the hub instead of the instructor's course (see daqlab.hub.results)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (PUBLISHED + ".tmp")
    pd.to_pickle({f.name: getattr(data, f.name) for f in fields(CourseData)}, tmp)
    tmp.replace(folder / PUBLISHED)  # a dashboard opened meanwhile reads the old file or the new, never half
    return folder / PUBLISHED


def load_published(folder: Path) -> CourseData:
    """The frames written by :func:`save_published` (written by the instructor's side only)."""
    data = CourseData(**pd.read_pickle(Path(folder) / PUBLISHED))
    if "minutes" not in data.scores.columns:  # published before time used was recorded
        data.scores["minutes"] = np.nan
    return data


def only_student(data: CourseData, student_id: str) -> CourseData:
    """The trainee view: the same frames holding the rows of ``student_id`` only."""
    return CourseData(**{f.name: _rows_of(getattr(data, f.name), student_id) for f in fields(CourseData)})


# ---------------------------------------------------------------------------------------- helpers
def _rows_of(frame: pd.DataFrame, student_id: str) -> pd.DataFrame:
    return frame[frame["student_id"] == student_id].reset_index(drop=True)


def _default_roster(course: Path) -> dict:
    from daqlab.course.roster import load_roster

    path = course / "grader" / "roster.csv"
    return load_roster(path) if path.exists() else {}


def _read_gradebook(db: Path):
    """(submissions, grades, {assignment: max_score}, [student ids]) from the gradebook, in four queries.

    ``grades`` has one row per grade (student_id, assignment, cell, score, points); a submission's score
    is the sum of its grades, exactly nbgrader's ``SubmittedAssignment.score``.
    """
    subs = pd.DataFrame(columns=["assignment", "student_id"])
    grades = pd.DataFrame({"student_id": pd.Series(dtype=object), "assignment": pd.Series(dtype=object),
                           "cell": pd.Series(dtype=object), "score": pd.Series(dtype=float),
                           "points": pd.Series(dtype=float)})
    if not db.exists():  # Gradebook() would create an empty database: nothing graded yet
        return subs, grades, {}, []
    from nbgrader.api import (
        Assignment,
        BaseCell,
        Grade,
        Gradebook,
        GradeCell,
        Student,
        SubmittedAssignment,
        SubmittedNotebook,
        TaskCell,
    )
    from sqlalchemy import func

    gc, tc = GradeCell.__table__, TaskCell.__table__
    with Gradebook(f"sqlite:///{db}") as gb:
        q = gb.db
        maxima = {name: float(m) for name, m in q.query(Assignment.name, Assignment.max_score).all()}
        students = [s for (s,) in q.query(Student.id).all()]
        subs = pd.DataFrame(q.query(Assignment.name, SubmittedAssignment.student_id)
                            .select_from(SubmittedAssignment).join(Assignment).all(),
                            columns=["assignment", "student_id"])
        rows = (q.query(SubmittedAssignment.student_id, Assignment.name, BaseCell.name, Grade.score,
                        func.coalesce(gc.c.max_score, tc.c.max_score, 0.0))
                .select_from(Grade)
                .join(SubmittedNotebook, Grade.notebook_id == SubmittedNotebook.id)
                .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
                .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
                .join(BaseCell, Grade.cell_id == BaseCell.id)
                .outerjoin(gc, gc.c.id == BaseCell.id)
                .outerjoin(tc, tc.c.id == BaseCell.id)
                .all())
    if rows:
        grades = pd.DataFrame(rows, columns=["student_id", "assignment", "cell", "score", "points"])
        grades = grades.astype({"score": float, "points": float})
    return subs, grades, maxima, students


#: parsed results files of this process: path -> ((mtime_ns, size), columns, used minutes). A dashboard kernel reads
#: a course again on Reload (and a pre-heated one right after the request): files not changed since are not parsed
#: again. Keyed by modification time and size, as make and rsync decide "unchanged".
_PARSED: dict[Path, tuple[tuple[int, int], tuple, float]] = {}


def _parsed(path: Path, key: str, own: list[str]) -> tuple[tuple, float] | None:
    """``(columns of the key list, timing.used_minutes)`` of one results file, None when missing or unreadable."""
    try:
        st = path.stat()
        stamp = (st.st_mtime_ns, st.st_size)
        hit = _PARSED.get(path)
        if hit is not None and hit[0] == stamp:
            return hit[1], hit[2]
        doc = json.loads(path.read_text(encoding="utf-8"))
        records = doc.get(key) or []
        cols = tuple(tuple(r.get(c) for r in records) for c in own)
        used = (doc.get("timing") or {}).get("used_minutes")
        minutes = float(used) if used is not None else np.nan
    except (OSError, ValueError, TypeError, AttributeError):
        return None
    _PARSED[path] = (stamp, cols, minutes)
    return cols, minutes


def _read_results(course: Path, subs: pd.DataFrame, filename: str, key: str,
                  columns: list[str]) -> tuple[pd.DataFrame, dict]:
    """Rows of the ``key`` list of every ``autograded/<student>/<assignment>/<filename>`` of ``subs``, and
    ``{(student, assignment): minutes}`` (``timing.used_minutes``: what a timed paper took, NaN when unknown).

    A missing or unreadable file adds no rows (a submission whose grade cells crashed before writing). Each file
    is read once; records are gathered column by column (no per-row DataFrame work).
    """
    own = columns[2:]
    cols: dict[str, list] = {c: [] for c in columns}
    minutes: dict = {}
    base = course / "autograded"
    for sid, a in zip(subs["student_id"], subs["assignment"], strict=True):
        got = _parsed(base / sid / a / filename, key, own)
        if got is None:
            continue
        parsed, minutes[(sid, a)] = got
        n = len(parsed[0]) if parsed else 0
        cols["student_id"] += [sid] * n
        cols["assignment"] += [a] * n
        for c, values in zip(own, parsed, strict=True):
            cols[c] += values
    return pd.DataFrame(cols, columns=columns), minutes
