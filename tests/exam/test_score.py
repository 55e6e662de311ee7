"""Scoring sheets: all correct, blank, a fixed mixed sheet, unreadable answers."""

import pytest

from daqlab.exam.bank import load_bank
from daqlab.exam.blueprint import contest
from daqlab.exam.paper import draw
from daqlab.exam.score import score_paper, shown_key, subtotals

from .test_bank import BANK


@pytest.fixture(scope="module")
def setup():
    bank = load_bank(BANK)
    return bank, draw(bank, contest(), course="daqlab", assignment="theory-contest", student="erin")


def as_answer(pi, key):
    if pi.type == "truefalse":
        return "对" if key else "错"
    return ",".join(key) if pi.type == "multiple" else key


def wrong_answer(pi, key):
    if pi.type == "truefalse":
        return not key
    if pi.type == "single":
        return next(x for x in pi.shown_letters if x != key)
    return key[:-1] if len(key) > 2 else key + next(x for x in pi.shown_letters if x not in key)


def test_all_correct_scores_100_and_blank_scores_0(setup):
    bank, paper = setup
    right = {pi.number: as_answer(pi, shown_key(pi, bank[pi.item_id])) for pi in paper.items}
    res = score_paper(paper, bank, right)
    assert sum(r.score for r in res) == 100 and all(r.status == "correct" for r in res)
    blank = score_paper(paper, bank, {})
    assert sum(r.score for r in blank) == 0 and {r.status for r in blank} == {"blank"}


def test_mixed_sheet_scores_exactly_what_was_answered_right(setup):
    bank, paper = setup
    answers, expected, per_area = {}, 0.0, {}
    for pi in paper.items:
        key = shown_key(pi, bank[pi.item_id])
        if pi.number % 3 == 0:
            answers[pi.number] = as_answer(pi, key)
            expected += pi.points
            per_area[pi.area] = per_area.get(pi.area, 0) + pi.points
        elif pi.number % 3 == 1:
            answers[pi.number] = wrong_answer(pi, key)
        else:
            answers[pi.number] = "Z?"
    res = score_paper(paper, bank, answers)
    assert sum(r.score for r in res) == expected
    assert {a: s for a, (s, _) in subtotals(res).items() if s} == per_area
    unreadable = [r for r in res if r.status == "unreadable"]
    assert unreadable and all(r.score == 0 and r.message for r in unreadable)
    assert all(r.status == "wrong" for r in res if r.number % 3 == 1)


def test_multiple_choice_is_all_or_nothing(setup):
    bank, paper = setup
    pi = next(p for p in paper.items if p.type == "multiple")
    key = shown_key(pi, bank[pi.item_id])
    extra = key + next(x for x in pi.shown_letters if x not in key)
    for answer, score in ((key, 2), (key[:-1], 0), (extra, 0), (key[::-1], 2), (list(key), 2)):
        (r,) = score_paper(paper, bank, {pi.number: answer}, areas={pi.area})[:1] if False else [
            x for x in score_paper(paper, bank, {pi.number: answer}) if x.number == pi.number]
        assert r.score == score, answer


def test_practice_feedback_shows_keys_and_explanations_exam_mode_does_not():
    from daqlab.exam.grade import grade_cells, paper_for

    bank = load_bank(BANK)
    paper = paper_for("theory-practice-mqtt", "frank")
    cells = [{"cell_type": "code", "source": 'single = {1: "A"}\ntruefalse = {15: "对"}'}]
    tg = grade_cells(cells, assignment="theory-practice-mqtt", student="frank", bank=bank)
    text = tg.area_text("mqtt", bank)
    earned, available = tg.area("mqtt")
    assert 0 <= earned <= 2 and available == paper.blueprint.area_points("mqtt")
    assert "key" in text and "MQTT" in text
    assert sum(i.explanation["en"] in text for i in bank.values()) == 20, "every item explained in practice mode"
    contest = grade_cells(cells, assignment="theory-contest", student="frank", bank=bank)
    shown = "\n".join(contest.area_text(a, bank) for a in contest.paper.blueprint.areas)
    assert not any(i.explanation["en"] in shown for i in bank.values()), "exam mode: per-area scores only"
