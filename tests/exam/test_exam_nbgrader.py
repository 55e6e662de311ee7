"""The theory paper through real nbgrader: generate, trainees answer and submit, autograde, gradebook."""

import json
import os

import nbformat
import pytest
from nbclient import NotebookClient
from nbgrader.api import Gradebook

from daqlab.course.generate import generate_all
from daqlab.course.grade import grade
from daqlab.exam.bank import load_bank
from daqlab.exam.blueprint import contest
from daqlab.exam.paper import draw
from daqlab.exam.score import shown_key

from ..course_helpers import ROOT, make_course, submit

A = "theory-contest"
pytestmark = pytest.mark.slow


def as_answer(pi, key):
    if pi.type == "truefalse":
        return "对" if key else "错"
    return ",".join(key) if pi.type == "multiple" else key


def fill(answers):
    """An edit that writes answers into the answer cells' template lines, as a trainee types them."""
    def edit(cell):
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        if gid.startswith("answers-"):
            text = "".join(cell["source"])
            for n, v in answers.items():
                text = text.replace(f'    {n}: "",', f"    {n}: {json.dumps(v, ensure_ascii=False)},")
            cell["source"] = text
    return edit


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = make_course(tmp_path_factory.mktemp("exam"), [A])
    assert generate_all(course)[A].ok
    bank = load_bank(ROOT / "source" / "exam" / "bank")

    def paper(student):
        return draw(bank, contest(), course="daqlab", assignment=A, student=student)

    alice = paper("alice")
    submit(course, A, "alice", fill({pi.number: as_answer(pi, shown_key(pi, bank[pi.item_id])) for pi in alice.items}))
    submit(course, A, "bob", fill({}))
    carol, answers, expected = paper("carol"), {}, {}
    for pi in carol.items:  # right on every third question, wrong or unreadable on the others
        key = shown_key(pi, bank[pi.item_id])
        if pi.number % 3 == 0:
            answers[pi.number] = as_answer(pi, key)
            expected[pi.area] = expected.get(pi.area, 0) + pi.points
        elif pi.type == "truefalse":
            answers[pi.number] = "错" if key else "对"
        else:
            answers[pi.number] = "Q" if pi.number % 3 == 2 else ("A,B,C,D" if pi.type == "multiple" else
                                                                next(x for x in "ABCD" if x != key))
    submit(course, A, "carol", fill(answers))
    erin = paper("erin")

    def by_code(cell):  # answers written as code: keys fetched, a comprehension, an update after the literal
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        if gid == "answers-single":
            cell["source"] = "from daqlab.exam.notebook import solution\nsingle = solution('theory-contest', 'single')"
        elif gid == "answers-multiple":
            cell["source"] = "multiple = " + json.dumps({pi.number: as_answer(pi, shown_key(pi, bank[pi.item_id]))
                                                         for pi in erin.items if pi.type == "multiple"})
        elif gid == "answers-truefalse":
            cell["source"] = "truefalse = {}\ntruefalse.update({n: '对' for n in range(66, 86)})"
        elif gid.startswith("area-"):
            cell["source"] = "100"  # a grade cell that "returns" full marks
    submit(course, A, "erin", by_code)
    outcomes = grade(course, A, progress=False)
    return course, outcomes, expected, bank


def test_every_submission_is_graded(graded):
    _, outcomes, _, _ = graded
    assert [(o.student, o.status) for o in outcomes][:3] == [("alice", "graded"), ("bob", "graded"), ("carol", "graded")]


def test_answers_written_as_code_score_nothing_and_are_flagged(graded):
    """Theory answers are read as literals, never run: no key can be fetched, no grade cell can forge."""
    course, outcomes, _, _ = graded
    erin = {o.student: o for o in outcomes}["erin"]
    assert erin.status == "flagged" and "not a plain literal" in erin.reason and "changes `truefalse`" in erin.reason
    assert erin.score == 30, "only the literal multiple-choice answers (15 x 2, all right) count"
    assert "test cells edited" in erin.reason


def test_scores_in_the_gradebook(graded):
    course, _, expected, _ = graded
    with Gradebook(f"sqlite:///{course}/gradebook.db") as gb:
        scores = {s: gb.find_submission(A, s).score for s in ("alice", "bob", "carol")}
        assert gb.find_submission(A, "alice").max_score == 100
        area_cells = {a: gb.find_grade(f"area-{a}", A, A, "carol").score for a in contest().areas}
    assert scores == {"alice": 100, "bob": 0, "carol": sum(expected.values())}
    assert {a: s for a, s in area_cells.items() if s} == expected, "per-area subtotals"


def test_per_item_results_are_recorded_for_item_analysis(graded):
    course, _, _, _ = graded
    data = json.loads((course / "autograded" / "carol" / A / "exam_results.json").read_text(encoding="utf-8"))
    assert data["student"] == "carol" and len(data["items"]) == 85
    statuses = {r["status"] for r in data["items"]}
    assert statuses == {"correct", "wrong", "unreadable"}
    assert all(r["message"] for r in data["items"] if r["status"] == "unreadable")


def test_exam_mode_feedback_hides_keys_and_explanations(graded):
    course, _, _, bank = graded
    text = (course / "autograded" / "carol" / A / f"{A}.ipynb").read_text(encoding="utf-8")
    explanations = [i.explanation["en"] for i in bank.values()]
    assert not any(e in text for e in explanations)
    assert "Modbus RTU/TCP" in text  # the per-area scores are shown


def test_the_trainee_sees_the_paper_the_grader_rebuilds(graded, tmp_path):
    course, _, _, bank = graded
    nb = nbformat.read(course / "release" / A / f"{A}.ipynb", as_version=4)
    nb.cells.insert(2, nbformat.v4.new_code_cell(  # what the form shows: numbers, items, option order
        "import json\nprint(json.dumps([[pi.number, pi.item_id, list(pi.order)] for pi in form.paper.items]))"))
    env_before = dict(os.environ)
    os.environ.pop("DAQLAB_EXAM_BANK", None)
    os.environ["DAQLAB_STUDENT_ID"] = "dave"
    try:
        NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=False,
                       resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    assert "application/vnd.jupyter.widget-view+json" in nb.cells[1].outputs[0]["data"], "the answer form"
    shown = json.loads(nb.cells[2].outputs[0]["text"])
    want = draw(bank, contest(), course="daqlab", assignment=A, student="dave")
    assert shown == [[pi.number, pi.item_id, list(pi.order)] for pi in want.items]
    grade_outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "scored after submission" in grade_outputs, "no keys in a trainee kernel: format check only"
