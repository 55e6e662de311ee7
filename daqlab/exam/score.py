"""Scoring a trainee's answer sheet against their paper (instructor side: needs the keys).

Rules: single choice and true/false score their points when right; multiple choice scores its points
only when exactly the keyed set is chosen (a wrong, extra or missing option scores 0). An answer
that cannot be read scores 0 with the reason; it never stops the other items being scored.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from daqlab.exam.answers import AnswerFormatError, normalise
from daqlab.exam.paper import Paper, PaperItem


@dataclass(frozen=True)
class ItemResult:
    number: int  #: question number on the paper
    item_id: str  #: bank id (item analysis groups by it)
    area: str  #: knowledge area
    type: str  #: single | multiple | truefalse
    points: float  #: points available
    score: float  #: points earned
    answer: str  #: the trainee's answer as written ("" when blank)
    chosen: object  #: bank letters chosen (str, sorted list) / bool / None; for distractor analysis
    correct: bool  #: right or wrong
    status: str  #: "correct" | "wrong" | "blank" | "unreadable"
    message: str  #: why (format problems), empty otherwise
    key: object  #: the key in the letters shown on this paper

    def to_dict(self) -> dict:
        return asdict(self)


def shown_key(pi: PaperItem, item) -> object:
    if pi.type == "truefalse":
        return item.key
    if pi.type == "single":
        return pi.shown_letter(item.key)
    return "".join(sorted(pi.shown_letter(k) for k in item.key))


def score_item(pi: PaperItem, item, answer) -> ItemResult:
    raw = "" if answer is None else (answer if isinstance(answer, str) else repr(answer))
    key = shown_key(pi, item)
    try:
        got = normalise(answer, pi.type, pi.shown_letters)
    except AnswerFormatError as exc:
        return ItemResult(pi.number, pi.item_id, pi.area, pi.type, pi.points, 0.0, raw, None, False, "unreadable",
                          str(exc), key)
    if got is None:
        return ItemResult(pi.number, pi.item_id, pi.area, pi.type, pi.points, 0.0, raw, None, False, "blank", "", key)
    if pi.type == "truefalse":
        ok, chosen = got == item.key, got
    elif pi.type == "single":
        chosen = pi.bank_letter(got)
        ok = chosen == item.key
    else:
        chosen = sorted(pi.bank_letter(x) for x in got)
        ok = tuple(chosen) == tuple(item.key)
    return ItemResult(pi.number, pi.item_id, pi.area, pi.type, pi.points, pi.points if ok else 0.0, raw, chosen, ok,
                      "correct" if ok else "wrong", "", key)


def score_paper(paper: Paper, bank: dict, answers: dict, *, areas=None) -> list[ItemResult]:
    """Score every item (or only those of ``areas``); ``answers`` maps question number -> raw answer."""
    out = []
    for pi in paper.items:
        if areas is not None and pi.area not in areas:
            continue
        out.append(score_item(pi, bank[pi.item_id], answers.get(pi.number)))
    return out


def subtotals(results: list[ItemResult]) -> dict[str, tuple[float, float]]:
    """area -> (score, points available)."""
    out: dict[str, list[float]] = {}
    for r in results:
        s = out.setdefault(r.area, [0.0, 0.0])
        s[0] += r.score
        s[1] += r.points
    return {a: (v[0], v[1]) for a, v in out.items()}
