"""Grade submissions with nbgrader, handing each kernel its submission's identity (grading contract).

For every submission ``submitted/<student>/<assignment>/`` the kernel's environment gets
``DAQLAB_STUDENT_ID`` (the folder nbgrader takes the submission from, not anything in the notebook),
``DAQLAB_ASSIGNMENT``, ``DAQLAB_COURSE`` and ``DAQLAB_EXAM_BANK`` (the instructor-side bank with keys).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from daqlab.course.nbg import autograde


@dataclass
class Outcome:
    student: str  #: student id
    assignment: str  #: assignment id
    status: str  #: "graded" | "error"
    reason: str  #: why not graded cleanly (empty when graded)
    seconds: float  #: wall time of the autograde run


def submissions(course: Path, assignment: str) -> list[str]:
    base = Path(course) / "submitted"
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if (p / assignment).is_dir())


def grading_env(course: Path, assignment: str, student: str, course_id: str = "daqlab") -> dict:
    bank = Path(course) / "source" / "exam" / "bank"
    return {"DAQLAB_STUDENT_ID": student, "DAQLAB_ASSIGNMENT": assignment, "DAQLAB_COURSE": course_id,
            "DAQLAB_EXAM_BANK": str(bank.resolve())}


def grade(course: Path, assignment: str, students=None, progress: bool = True) -> list[Outcome]:
    from tqdm.auto import tqdm

    course = Path(course)
    out = []
    for student in tqdm(students or submissions(course, assignment), desc=f"grade {assignment}", unit="submission",
                        disable=not progress):
        run = autograde(course, assignment, student, env=grading_env(course, assignment, student))
        reason = "" if run.ok else run.output.strip().splitlines()[-1] if run.output.strip() else "nbgrader failed"
        out.append(Outcome(student, assignment, "graded" if run.ok else "error", reason, run.seconds))
    return out
