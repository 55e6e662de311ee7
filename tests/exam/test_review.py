"""The blind review of the item bank (source/exam/review/): every item was answered by an independent reviewer
who never saw the keys, and every answer agrees with the bank's key. A key changed later, or an item added
without a review, fails here: review it (and record any disagreement's resolution) before it reaches a paper."""

import json
from pathlib import Path

from daqlab.exam.bank import load_bank

from ..course_helpers import ROOT

REVIEW = ROOT / "source" / "exam" / "review" / "2026-12-blind"


def reviewed() -> dict[str, dict]:
    out = {}
    for f in sorted(Path(REVIEW).glob("*.answers.json")):
        for a in json.loads(f.read_text(encoding="utf-8")):
            assert a["id"] not in out, f"{a['id']} answered twice"
            out[a["id"]] = a
    return out


def _key(value):
    return sorted(value) if isinstance(value, (list, tuple)) else value


def test_every_item_was_answered_blind_and_agrees_with_its_key():
    bank = load_bank(ROOT / "source" / "exam" / "bank")
    answers = reviewed()
    assert sorted(set(bank) - set(answers)) == [], "items never reviewed blind"
    assert sorted(set(answers) - set(bank)) == [], "answers for items no longer in the bank"
    disagree = {i: (bank[i].key, a["answer"]) for i, a in answers.items() if _key(a["answer"]) != _key(bank[i].key)}
    assert disagree == {}, f"key vs blind reviewer: {disagree}"
    assert all(a["why"].strip() for a in answers.values()), "every answer gives its reason"
