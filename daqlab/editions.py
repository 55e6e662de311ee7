"""The lessons' two editions from one source.

``teacher/lessons/NN-Title.ipynb`` is the **teacher edition** and the only source: exercises solved, teaching
notes, typical wrong answers. ``notebooks/NN-Title.ipynb`` is the **student edition** generated from it
(``daqlab lessons build``; committed, and a test checks it is up to date). The source marks:

- an **exercise** is a code cell tagged ``exercise``: the lines a trainee starts from (placeholders such as
  ``fc = None``), then the solution between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader's markers);
  its metadata ``daqlab.wrong`` lists typical wrong answers, each ``{"why": "...", "code": "..."}``: code that
  replaces the solution region and that the exercise's check must fail (tests/test_lessons.py tries each);
- a **self-check** is the code cell tagged ``check`` right after an exercise: it raises ``AssertionError`` with a
  Chinese message while the answer is missing or wrong, and prints ✔ when it is right;
- a **teaching note** is a markdown cell tagged ``teacher`` (minutes, common mistakes, what to show on the
  projector): the student edition leaves it out.

The student edition is the source with teaching notes removed, each solution region removed (markers
included), the ``daqlab`` metadata and every output dropped. Nothing else changes, so the two editions never
disagree.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
EXERCISE, CHECK, TEACHER = "exercise", "check", "teacher"
LESSON_GLOB = "[0-9][0-9]-*.ipynb"


class EditionError(ValueError):
    """A lesson source that breaks the conventions above (the message names the lesson and the cell)."""


@dataclass
class Exercise:
    """One exercise of a lesson source: where it is, its solution and its typical wrong answers."""

    lesson: str
    index: int  #: cell index in the teacher edition
    before: str  #: the lines before the solution region (what the trainee starts from)
    solution: str  #: the lines inside the region
    after: str  #: the lines after the region
    wrong: list[dict]  #: [{"why": ..., "code": ...}]

    def with_answer(self, code: str) -> str:
        """The exercise cell with ``code`` in place of the solution (how a trainee's answer looks)."""
        return "".join(part for part in (self.before, code.rstrip("\n") + "\n", self.after))


def source_text(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def split_solution(text: str, where: str) -> tuple[str, str, str]:
    """(before, solution, after) of an exercise cell's text; exactly one region, markers on their own lines."""
    lines = text.splitlines(keepends=True)
    starts = [i for i, ln in enumerate(lines) if ln.strip() == BEGIN]
    ends = [i for i, ln in enumerate(lines) if ln.strip() == END]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise EditionError(f"{where}: an exercise needs exactly one {BEGIN} ... {END} region")
    b, e = starts[0], ends[0]
    return "".join(lines[:b]), "".join(lines[b + 1:e]), "".join(lines[e + 1:])


def exercises(path: Path) -> list[Exercise]:
    """The exercises of one teacher-edition lesson, checked against the conventions (EditionError if not)."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    out = []
    cells = nb["cells"]
    for i, cell in enumerate(cells):
        if EXERCISE not in tags(cell):
            continue
        where = f"{Path(path).name} cell {i}"
        if cell["cell_type"] != "code":
            raise EditionError(f"{where}: only code cells can be exercises")
        before, solution, after = split_solution(source_text(cell), where)
        wrong = cell.get("metadata", {}).get("daqlab", {}).get("wrong", [])
        if len(wrong) < 2 or not all(isinstance(w, dict) and w.get("code") and w.get("why") for w in wrong):
            raise EditionError(f"{where}: list at least two typical wrong answers in metadata daqlab.wrong "
                               '([{"why": ..., "code": ...}])')
        if i + 1 >= len(cells) or CHECK not in tags(cells[i + 1]):
            raise EditionError(f"{where}: the cell after an exercise must be its self-check (tag {CHECK!r})")
        out.append(Exercise(Path(path).name, i, before, solution, after, wrong))
    return out


def student_edition(nb: dict, name: str = "lesson") -> dict:
    """The student edition of a teacher-edition notebook (a new dict; ``nb`` is not changed)."""
    out = copy.deepcopy(nb)
    cells = []
    for i, cell in enumerate(out["cells"]):
        if TEACHER in tags(cell):
            continue
        cell.get("metadata", {}).pop("daqlab", None)
        text = source_text(cell)
        if EXERCISE in tags(cell):
            before, _solution, after = split_solution(text, f"{name} cell {i}")
            text = before + after
        elif BEGIN in text or END in text:
            raise EditionError(f"{name} cell {i}: solution markers outside an exercise cell (tag it {EXERCISE!r})")
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
        cell["source"] = text.splitlines(keepends=True)
        cells.append(cell)
    out["cells"] = cells
    return out


def dumps(nb: dict) -> str:
    """A notebook as JupyterLab writes it (indent 1, non-ASCII kept, a final newline)."""
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def build(teacher: Path, student: Path, check_only: bool = False, only: tuple[str, ...] = ()) -> list[str]:
    """Write the student edition of every lesson of ``teacher`` into ``student``; returns the names written
    (with ``check_only``: the names that are missing or differ, writing nothing). ``only``: lesson numbers or
    name prefixes ("02", "11-MQTT"): just those lessons."""
    from daqlab.atomic import write_atomic

    changed = []
    sources = sorted(Path(teacher).glob(LESSON_GLOB))
    if not sources:
        raise EditionError(f"{teacher}: no lessons (NN-Title.ipynb) to build from")
    if only:
        sources = [s for s in sources if s.name.startswith(tuple(only))]
        if not sources:
            raise EditionError(f"{teacher}: no lesson starts with {', '.join(only)}")
    for src in sources:
        exercises(src)  # the conventions hold before anything is written
        text = dumps(student_edition(json.loads(src.read_text(encoding="utf-8")), src.name))
        dst = Path(student) / src.name
        if dst.exists() and dst.read_text(encoding="utf-8") == text:
            continue
        changed.append(src.name)
        if not check_only:
            write_atomic(dst, text)
    known = {s.name for s in sources}
    for stale in [] if only else sorted(Path(student).glob(LESSON_GLOB)):
        if stale.name not in known:  # a lesson renamed or removed in the source
            changed.append(stale.name)
            if not check_only:
                stale.unlink()
    return changed


def solution_lines(ex: Exercise) -> list[str]:
    """The solution's lines that would give it away (not blank, not a comment, not a bare keyword)."""
    out = []
    for ln in ex.solution.splitlines():
        s = ln.strip()
        if s and not s.startswith("#") and not re.fullmatch(r"(pass|else:|try:|finally:|\)|\]|\})", s):
            out.append(s)
    return out


def language_counts(nb: dict) -> tuple[int, int]:
    """(Chinese characters, English words) of a notebook's markdown prose: code blocks and `code spans` left
    out (identifiers are English by rule), tables and the English terms in parentheses counted."""
    text = "\n".join(source_text(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"`[^`]*`", " ", text)
    return len(re.findall(r"[\u4e00-\u9fff]", text)), len(re.findall(r"[A-Za-z]+(?:[-'][A-Za-z]+)*", text))


def stats_table(teacher: Path) -> str:
    """A Markdown table of the lessons: title, suggested minutes, exercises and their wrong answers, and the
    student edition's prose as Chinese characters against English words (README's lesson table)."""
    rows = ["| lesson · 课次 | minutes · 学时 | exercises · 练习 | wrong answers tried · 错误答案 | "
            "Chinese chars · 汉字 | English words · 英文词 |", "|---|--:|--:|--:|--:|--:|"]
    for src in sorted(Path(teacher).glob(LESSON_GLOB)):
        nb = json.loads(src.read_text(encoding="utf-8"))
        first = source_text(nb["cells"][0])
        title = first.splitlines()[0].lstrip("# ").strip() if first else src.stem
        m = re.search(r"建议学时\*\*[：:]\s*约?\s*(\d+)", first)
        exs = exercises(src)
        zh, en = language_counts(student_edition(nb, src.name))
        rows.append(f"| [{title}](notebooks/{src.name}) | {m.group(1) if m else '—'} | {len(exs)} | "
                    f"{sum(len(e.wrong) for e in exs)} | {zh:,} | {en:,} |")
    return "\n".join(rows)
