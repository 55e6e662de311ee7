"""Per-trainee papers: deterministic, different between trainees, quotas kept, keys remapped right."""

import pytest

from daqlab.exam.bank import load_bank, load_public
from daqlab.exam.blueprint import all_blueprints, contest, practice
from daqlab.exam.paper import draw
from daqlab.exam.score import shown_key

from .test_bank import BANK


@pytest.fixture(scope="module")
def bank():
    return load_bank(BANK)


def test_contest_blueprint_reproduces_the_contest_format():
    bp = contest()
    assert (bp.count("single"), bp.count("multiple"), bp.count("truefalse")) == (50, 15, 20)
    assert bp.total_points == 100 and bp.minutes == 60 and bp.pass_mark == 60 and not bp.feedback
    assert all(practice(a).feedback and practice(a).total_points == 24 for a in ("modbus", "mqtt"))
    assert len(all_blueprints()) == 15


def test_same_trainee_same_paper_other_trainee_other_paper(bank):
    a1 = draw(bank, contest(), course="daqlab", assignment="theory-contest", student="alice")
    a2 = draw(bank, contest(), course="daqlab", assignment="theory-contest", student="alice")
    b = draw(bank, contest(), course="daqlab", assignment="theory-contest", student="bob")
    other_course = draw(bank, contest(), course="daqlab-2027", assignment="theory-contest", student="alice")
    assert a1 == a2
    assert [i.item_id for i in a1.items] != [i.item_id for i in b.items]
    assert [i.item_id for i in a1.items] != [i.item_id for i in other_course.items]
    # the contest pool is small (100 items for 85 questions): neighbours share most items, but not their
    # order on the paper nor the order of their options
    same_place = sum(x.item_id == y.item_id and x.order == y.order for x, y in zip(a1.items, b.items, strict=True))
    assert same_place < 20, same_place


def test_a_salt_changes_every_paper_and_only_its_holder_can_rebuild_it(bank):
    plain = draw(bank, contest(), course="daqlab", assignment="theory-contest", student="alice")
    salted = draw(bank, contest(), course="daqlab", assignment="theory-contest", student="alice", salt="s3cret")
    again = draw(bank, contest(), course="daqlab", assignment="theory-contest", student="alice", salt="s3cret")
    other = draw(bank, contest(), course="daqlab", assignment="theory-contest", student="alice", salt="guess")
    assert salted == again and salted != plain and salted != other


def test_quotas_numbering_and_points(bank):
    paper = draw(bank, contest(), course="daqlab", assignment="theory-contest", student="carol")
    assert [i.number for i in paper.items] == list(range(1, 86))
    assert [i.type for i in paper.items] == ["single"] * 50 + ["multiple"] * 15 + ["truefalse"] * 20
    assert sum(i.points for i in paper.items) == 100
    assert len({i.item_id for i in paper.items}) == 85
    for area, q in contest().quotas.items():
        for kind, n in q.items():
            assert sum(1 for i in paper.items if i.area == area and i.type == kind) == n


def test_grader_rebuild_from_the_full_bank_equals_the_trainee_copy(bank):
    """A practice paper drawn from the trainee-side copy is the one the grader rebuilds from the full bank
    (contest papers are never drawn trainee-side: they are published, daqlab.hub.papers)."""
    from daqlab.exam.blueprint import practice

    public = load_public()
    for student in ("alice", "bob", "王小明"):
        for area in ("modbus", "mqtt", "standards"):
            seen = draw(public, practice(area), course="daqlab", assignment=f"theory-practice-{area}", student=student)
            rebuilt = draw(bank, practice(area), course="daqlab", assignment=f"theory-practice-{area}",
                           student=student)
            assert seen == rebuilt


def test_shuffled_keys_point_at_the_same_option_text(bank):
    paper = draw(bank, contest(), course="daqlab", assignment="theory-contest", student="dave")
    shuffled = 0
    for pi in paper.items:
        item = bank[pi.item_id]
        key = shown_key(pi, item)
        if pi.type == "single":
            assert item.options[pi.order["ABCDEF".index(key)]] == item.options[item.key]
        elif pi.type == "multiple":
            assert sorted(pi.order["ABCDEF".index(k)] for k in key) == sorted(item.key)
        shuffled += pi.order != tuple(sorted(pi.order))
    assert shuffled > 40, "options are shuffled per trainee"


def test_no_practice_paper_holds_a_contest_item(bank):
    """Practice feedback shows keys and explanations: it must never show an item a contest paper can hold."""
    from daqlab.exam.bank import AREAS
    from daqlab.exam.blueprint import practice

    contest_ids = {i.id for i in bank.values() if i.pool == "contest"}
    contest_paper = {pi.item_id for s in ("a", "b", "c")
                     for pi in draw(bank, contest(), course="daqlab", assignment="theory-contest", student=s).items}
    assert contest_paper <= contest_ids
    for area in AREAS:
        for s in [f"s{k:03d}" for k in range(30)]:
            paper = draw(bank, practice(area), course="daqlab", assignment=f"theory-practice-{area}", student=s)
            assert not {pi.item_id for pi in paper.items} & contest_ids, (area, s)
