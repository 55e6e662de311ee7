"""Per-trainee papers: items drawn and options shuffled deterministically from (course, assignment, student).

The draw depends only on item ids, areas, types and option letters, which the trainee-side copy of
the bank also has, so the notebook shows exactly the paper the grader rebuilds from the submission's
student id. Keys are remapped to the shuffled letters only on the grading side.

Numbering: single-choice items first, then multiple choice, then true/false, each block ordered by
area (the bank's area order); numbers run 1..N for every trainee, so the answer template is the same.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field

from daqlab.exam.bank import AREAS, TYPES
from daqlab.exam.blueprint import Blueprint

LETTERS = "ABCDEF"


SALT_ENV = "DAQLAB_PAPER_SALT"  #: the instructor's paper salt (the hub's secrets; the grading service has it)


def paper_seed(course: str, assignment: str, student: str, salt: str = "") -> int:
    """The draw's seed. With the instructor's ``salt`` nobody without it can compute a paper: not another
    trainee's, nor their own before it is published (:mod:`daqlab.hub.papers`)."""
    text = f"daqlab-exam|{course}|{assignment}|{student.strip().lower()}" + (f"|salt|{salt}" if salt else "")
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


@dataclass(frozen=True)
class PaperItem:
    number: int  #: question number on the paper (1-based)
    item_id: str  #: bank id
    area: str  #: knowledge area
    type: str  #: single | multiple | truefalse
    points: float  #: points for this question
    order: tuple  #: bank option letters in the order shown: order[0] is shown as "A"

    def shown_letter(self, bank_letter: str) -> str:
        """Letter under which a bank option is shown on this paper."""
        return LETTERS[self.order.index(bank_letter)]

    def bank_letter(self, shown: str) -> str:
        return self.order[LETTERS.index(shown)]

    @property
    def shown_letters(self) -> tuple:
        """Option letters as shown (A, B, ...); true/false items keep the normaliser's default."""
        return tuple(LETTERS[: len(self.order)]) or ("A", "B", "C", "D")


@dataclass(frozen=True)
class Paper:
    course: str  #: course id
    assignment: str  #: assignment id (blueprint name)
    student: str  #: student id the paper belongs to
    blueprint: Blueprint  #: what was drawn
    items: tuple  #: PaperItem, numbered 1..N
    texts: dict | None = field(default=None, compare=False)  #: item id -> stem/options (a published paper)

    def by_number(self) -> dict[int, PaperItem]:
        return {it.number: it for it in self.items}


def draw(items: dict, blueprint: Blueprint, *, course: str, assignment: str, student: str, salt: str = "") -> Paper:
    """Draw a trainee's paper from ``items`` (full bank or trainee-side copy: same result).

    ``items`` maps id -> object with ``area``, ``type`` and ``options`` (attribute or key access).
    """
    if not student or not str(student).strip():
        raise ValueError("a paper needs a student id")
    rng = random.Random(paper_seed(course, assignment, student, salt))
    pools: dict[tuple[str, str], list[str]] = {}
    for iid in sorted(items):
        it = items[iid]
        if _pool(it) == blueprint.pool:  # contest items never reach a practice paper, and the reverse
            pools.setdefault((_get(it, "area"), _get(it, "type")), []).append(iid)
    chosen = []
    for kind in TYPES:
        for area in AREAS:
            need = blueprint.quotas.get(area, {}).get(kind, 0)
            if not need:
                continue
            pool = pools.get((area, kind), [])
            if len(pool) < need:
                raise ValueError(f"{blueprint.name}: needs {need} {kind} items in {area}, the bank's "
                                 f"{blueprint.pool} pool has {len(pool)}")
            picked = rng.sample(pool, need)
            for iid in picked:
                letters = list(_get(items[iid], "options") or {})
                rng.shuffle(letters)
                chosen.append((kind, area, iid, tuple(letters)))
    numbered = tuple(PaperItem(n, iid, area, kind, blueprint.points[kind], order)
                     for n, (kind, area, iid, order) in enumerate(chosen, start=1))
    return Paper(course, assignment, str(student), blueprint, numbered)


def _get(obj, name):
    return obj[name] if isinstance(obj, dict) else getattr(obj, name)


def _pool(obj) -> str:
    return (obj.get("pool") if isinstance(obj, dict) else getattr(obj, "pool", None)) or "practice"


def to_json(paper: Paper, texts: dict) -> dict:
    """What a trainee's published paper file holds: which items, in which order, options in which order, and
    each item's stem and options (``texts``: id -> item text without key, :func:`daqlab.exam.bank.item_text`)."""
    return {"course": paper.course, "assignment": paper.assignment, "student": paper.student,
            "items": [[pi.number, pi.item_id, pi.area, pi.type, pi.points, list(pi.order)] for pi in paper.items],
            "texts": {pi.item_id: {k: texts[pi.item_id][k] for k in ("stem", "options")} for pi in paper.items}}


def from_json(doc: dict, blueprint: Blueprint) -> Paper:
    items = tuple(PaperItem(int(n), str(iid), str(area), str(kind), float(points), tuple(order))
                  for n, iid, area, kind, points, order in doc["items"])
    return Paper(str(doc["course"]), str(doc["assignment"]), str(doc["student"]), blueprint, items,
                 texts=doc.get("texts"))
