"""Publish each trainee's own results where their server (and only theirs) can read them.

A trainee's results dashboard must not read the instructor's course folder: it holds answer keys,
hidden tests and everyone's submissions. After grading, the instructor publishes:

``<results>/<student>/daqlab-results.pkl``
    the course's frames cut to that trainee (:func:`daqlab.dashboards.data.only_student`): scores,
    statuses, per-area mastery, per-item results of their theory papers, per-check results of practicals;
``<results>/<student>/feedback/<assignment>/*.html`` -> ``feedback/<student>/<assignment>/``
    their feedback files (nbgrader's layout, so the dashboard's links work unchanged).

A trainee's server gets ``DAQLAB_COURSE_ROOT=<results>/<student>`` (:mod:`daqlab.hub.accounts`); on
Kubernetes only that folder is mounted into their pod (a ``subPath`` per user). Publishing again replaces
the files atomically; trainees see the new results when they reload the dashboard.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from daqlab.dashboards.data import load_course, only_student, save_published


def publish(course, results, roster: dict | None = None, students=None) -> list[str]:
    """Publish ``students`` (default: every trainee of the course and roster) from ``course`` into
    ``results``; returns the student ids published."""
    course, results = Path(course), Path(results)
    data = load_course(course, roster)
    ids = sorted(set(students or data.scores["student_id"]))
    for sid in ids:
        folder = results / sid
        save_published(only_student(data, sid), folder)
        src = course / "feedback" / sid
        dst = folder / "feedback" / sid
        if src.is_dir():
            tmp = folder / "feedback.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.copytree(src, tmp / sid)
            shutil.rmtree(folder / "feedback", ignore_errors=True)
            tmp.rename(folder / "feedback")
        elif dst.exists():
            shutil.rmtree(folder / "feedback")
    return ids
