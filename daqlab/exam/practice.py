"""Instant feedback on practice papers, without handing a trainee a key they could use before answering.

On a practice paper the form has "确认并看答案 Check" on every item: the answer is sent once, the key and the
explanation come back, and the item locks. What makes it fair is where this happens:

- On the hub, the exchange service (:mod:`daqlab.hub.exchange_service`) holds the practice keys the
  instructor's release uploaded (:func:`keys_payload`, never in the release itself) and answers
  ``POST api/practice``: it records the trainee's **first** checked answer for that question, then returns the
  key and explanation (:func:`check`). ``daqlab course collect`` saves the recorded first answers in
  ``<course>/practice-answers/<assignment>.json`` and the grader scores those, whatever the notebook or
  ``answers.json`` say later: seeing a key never raises a score.
- In a lab without a hub the form checks against the bank on the machine (an instructor's checkout); there is
  nothing to protect there.
- Exam papers (no feedback) have no Check button and nothing is shown until results are published.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

FIRST_DIR = "practice-answers"  #: <course>/practice-answers/<assignment>.json: {student: {number: answer}}


def keys_payload(bank: dict, assignment: str, salt: str, course: str = "daqlab") -> dict:
    """What the instructor's release gives the service for a practice paper: the pool's items with keys and
    explanations, and the salt the papers are drawn with (the service keeps both to itself)."""
    from daqlab.exam.bank import item_text
    from daqlab.exam.blueprint import for_assignment

    bp = for_assignment(assignment)
    if not bp.feedback:
        raise ValueError(f"{assignment} is an exam paper: no instant feedback")
    items = {iid: {**item_text(it), "key": list(it.key) if isinstance(it.key, tuple) else it.key,
                   "explanation": it.explanation}
             for iid, it in bank.items() if it.pool == bp.pool}
    return {"course": course, "assignment": assignment, "salt": salt, "items": items}


def check(payload: dict, student: str, number: int, answer) -> dict:
    """The feedback on one answer of ``student``'s paper: right or wrong, the key in the letters shown on
    their paper, the explanation; or a format message."""
    from daqlab.exam.blueprint import for_assignment
    from daqlab.exam.paper import draw
    from daqlab.exam.score import score_item

    items = payload["items"]
    paper = draw(items, for_assignment(payload["assignment"]), course=payload["course"],
                 assignment=payload["assignment"], student=student, salt=payload.get("salt", ""))
    by_number = {pi.number: pi for pi in paper.items}
    if number not in by_number:
        raise KeyError(f"no question {number} on this paper")
    pi = by_number[number]
    item = items[pi.item_id]
    key = tuple(item["key"]) if isinstance(item["key"], list) else item["key"]
    r = score_item(pi, SimpleNamespace(key=key), answer)
    return {"number": number, "answer": answer, "status": r.status, "correct": r.correct, "key": r.key,
            "message": r.message, "explanation": item["explanation"]}


def first_answers(course_root: Path, assignment: str, student: str) -> dict[int, object]:
    """The first checked answers the service recorded for ``student`` (saved by collect); {} when none."""
    path = Path(course_root) / FIRST_DIR / f"{assignment}.json"
    try:
        mine = json.loads(path.read_text(encoding="utf-8")).get(student) or {}
        return {int(n): v["answer"] if isinstance(v, dict) else v for n, v in mine.items()}
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        return {}


def local_payload(assignment: str) -> dict | None:
    """Outside the hub: the keys from the bank on this machine, when it is readable (a lab)."""
    import os

    from daqlab import paths
    from daqlab.exam.bank import BankError, load_bank

    folder = Path(os.environ.get("DAQLAB_EXAM_BANK") or paths.source() / "exam" / "bank")
    try:
        bank = load_bank(folder)
    except (BankError, OSError):
        return None
    from daqlab.exam.notebook import identity

    course, assignment, _ = identity(assignment)
    return keys_payload(bank, assignment, "", course)
