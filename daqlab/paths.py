"""The ONLY module that names course folders (nbgrader's layout under the course root)."""

from __future__ import annotations

import os
from pathlib import Path

#: the repository / course root: the folder holding nbgrader_config.py
ROOT = Path(os.environ.get("DAQLAB_COURSE_ROOT", Path(__file__).resolve().parents[1]))
#: this checkout (the package and its notebooks), whatever DAQLAB_COURSE_ROOT points at
CHECKOUT = Path(__file__).resolve().parents[1]


def course_root() -> Path:
    return ROOT


def notebooks() -> Path:
    """Trainee-facing lessons (ungraded)."""
    return ROOT / "notebooks"


def dashboards() -> Path:
    """Voila dashboards: the course root's notebooks/dashboards, else this checkout's (a course folder made
    elsewhere, e.g. a term's grading folder, holds no notebooks of its own)."""
    own = ROOT / "notebooks" / "dashboards"
    return own if own.is_dir() else CHECKOUT / "notebooks" / "dashboards"


def source() -> Path:
    """nbgrader source assignments (instructor only)."""
    return ROOT / "source"


def release() -> Path:
    """nbgrader release/ (generated, committed)."""
    return ROOT / "release"


def grader() -> Path:
    """Instructor assets: roster, hub config, sample submissions."""
    return ROOT / "grader"
