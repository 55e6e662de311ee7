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


def test_same_trainee_same_paper_other_trainee_other_paper():
    public = load_public()
    a1 = draw(public, contest(), course="daqlab", assignment="theory-contest", student="alice")
    a2 = draw(public, contest(), course="daqlab", assignment="theory-contest", student="alice")
    b = draw(public, contest(), course="daqlab", assignment="theory-contest", student="bob")
    other_course = draw(public, contest(), course="daqlab-2027", assignment="theory-contest", student="alice")
    assert a1 == a2
    assert [i.item_id for i in a1.items] != [i.item_id for i in b.items]
    assert [i.item_id for i in a1.items] != [i.item_id for i in other_course.items]
    shared = len({i.item_id for i in a1.items} & {i.item_id for i in b.items})
    assert shared < 60


def test_quotas_numbering_and_points():
    public = load_public()
    paper = draw(public, contest(), course="daqlab", assignment="theory-contest", student="carol")
    assert [i.number for i in paper.items] == list(range(1, 86))
    assert [i.type for i in paper.items] == ["single"] * 50 + ["multiple"] * 15 + ["truefalse"] * 20
    assert sum(i.points for i in paper.items) == 100
    assert len({i.item_id for i in paper.items}) == 85
    for area, q in contest().quotas.items():
        for kind, n in q.items():
            assert sum(1 for i in paper.items if i.area == area and i.type == kind) == n


def test_grader_rebuild_from_the_full_bank_equals_the_trainee_copy(bank):
    public = load_public()
    for student in ("alice", "bob", "王小明"):
        seen = draw(public, contest(), course="daqlab", assignment="theory-contest", student=student)
        rebuilt = draw(bank, contest(), course="daqlab", assignment="theory-contest", student=student)
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
