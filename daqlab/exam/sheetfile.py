"""The answer sheet file a theory paper's form saves on every click: ``answers.json`` in the assignment folder.

``{"assignment": A, "answers": {"1": "B", "2": "A,C", "3": true}, "flags": [5, 7], "saved": ISO time}``:
answers in the letters SHOWN on the trainee's paper, exactly as they would type them into the answer cells
(``"B"``, ``"A,C"``, ``True``/``False``). ``nbgrader submit`` collects it with the notebook; the trusted
grader reads it as data (:func:`read`), never runs anything. Written atomically (temp + ``os.replace``), so a
crash mid-save leaves the previous sheet whole.

:func:`merge` is how the grader combines it with the typed answer cells: for each question the form's
answer counts when it has one, else the typed one; it says how many came from where.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

ANSWERS_FILE = "answers.json"


class SheetError(ValueError):
    """answers.json exists but cannot be read as an answer sheet (the reason, in Chinese and English)."""


def read(folder: Path) -> tuple[dict[int, object], set[int]] | None:
    """(answers by question number, flagged numbers) from ``folder/answers.json``; None when there is none."""
    path = Path(folder) / ANSWERS_FILE
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        raw = data["answers"]
        if not isinstance(raw, dict):
            raise TypeError("answers is not an object")
        answers = {}
        for k, v in raw.items():
            if not isinstance(v, (str, bool)) and v is not None:
                raise TypeError(f"answer {k} is {type(v).__name__}")
            answers[int(k)] = v
        flags = {int(n) for n in data.get("flags", [])}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SheetError(f"答题卡文件 {ANSWERS_FILE} 无法读取（{ANSWERS_FILE} is unreadable: {exc}）") from None
    return {n: v for n, v in answers.items() if v not in (None, "")}, flags


def write(folder: Path, assignment: str, answers: dict[int, object], flags: set[int],
          checked: dict[int, dict] | None = None) -> Path:
    from daqlab.atomic import write_atomic

    data = {"assignment": assignment,
            "answers": {str(n): v for n, v in sorted(answers.items()) if v not in (None, "")},
            "flags": sorted(flags), "saved": datetime.now(UTC).isoformat(timespec="seconds")}
    if checked:  # practice: the feedback already shown (display only: the grader uses the service's record)
        data["checked"] = {str(n): v for n, v in sorted(checked.items())}
    path = Path(folder) / ANSWERS_FILE
    write_atomic(path, json.dumps(data, ensure_ascii=False, indent=1))
    return path


def read_checked(folder: Path) -> dict[int, dict]:
    """The practice feedback the form already showed (for display after a reload); {} when none or unreadable."""
    try:
        data = json.loads((Path(folder) / ANSWERS_FILE).read_text(encoding="utf-8"))
        return {int(n): v for n, v in (data.get("checked") or {}).items() if isinstance(v, dict)}
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


def merge(form: dict[int, object] | None, typed: dict[int, object]) -> tuple[dict[int, object], str]:
    """The answers graded, and a line saying where they came from (see the module docstring)."""
    typed = {n: v for n, v in typed.items() if v not in (None, "")}
    if not form:
        return typed, f"答案来源：答题单元格 {len(typed)} 题（answers typed in the answer cells: {len(typed)}）"
    used = dict(typed)
    used.update(form)
    from_cells = len(set(typed) - set(form))
    overridden = len(set(typed) & set(form))
    line = (f"答案来源：答题卡（表单）{len(form)} 题，答题单元格 {from_cells} 题"
            f"（answers from the form: {len(form)}, from the answer cells: {from_cells}")
    if overridden:
        line += f"; {overridden} typed answer(s) replaced by the form's · {overridden} 题以表单答案为准"
    return used, line + "）"
