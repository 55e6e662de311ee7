"""Build throwaway nbgrader course folders from this repository for real nbgrader runs."""

import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def make_course(tmp: Path, assignments, *, bank=True) -> Path:
    course = tmp / "course"
    (course / "source").mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    for a in assignments:
        shutil.copytree(ROOT / "source" / a, course / "source" / a)
    if bank:
        shutil.copytree(ROOT / "source" / "exam", course / "source" / "exam")
    return course


def submit(course: Path, assignment: str, student: str, edit) -> Path:
    """Copy the released notebook to submitted/<student>/, letting ``edit(cell)`` change it as a trainee would."""
    src = course / "release" / assignment / f"{assignment}.ipynb"
    dst = course / "submitted" / student / assignment / f"{assignment}.ipynb"
    dst.parent.mkdir(parents=True, exist_ok=True)
    nb = json.loads(src.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        edit(cell)
    dst.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    (dst.parent / "timestamp.txt").write_text("2026-11-25 09:00:00.000000 UTC")
    return dst
