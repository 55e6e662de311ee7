"""Every sample submission in grader/samples gets exactly its expected score and status (real nbgrader)."""

import shutil

import pytest
import yaml

from daqlab.course.generate import generate_all
from daqlab.course.grade import Settings, grade, load_status
from daqlab.course.roster import Trainee

from ..course_helpers import ROOT, make_course

EXPECTED = yaml.safe_load((ROOT / "grader" / "samples" / "expected.yaml").read_text(encoding="utf-8"))
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=sorted(EXPECTED))
def graded(request, tmp_path_factory):
    a = request.param
    course = make_course(tmp_path_factory.mktemp("samples"), [a])
    assert generate_all(course)[a].ok
    roster = {}
    for k, name in enumerate(sorted(EXPECTED[a]), start=1):
        dst = course / "submitted" / name / a
        dst.mkdir(parents=True)
        shutil.copy(ROOT / "grader" / "samples" / a / f"{name}.ipynb", dst / f"{a}.ipynb")
        roster[name] = Trainee(name, name, k)
    # a short cell timeout keeps the endless-loop samples quick; practical 3 polls for 6 s by design
    # four workers on any machine: a graded notebook mostly waits (polls, scans, timeouts): ≈ 30 % CPU with two
    timeout = 5 if any("loop" in n for n in EXPECTED[a]) else 30
    outcomes = grade(course, a, roster=roster, settings=Settings(timeout=timeout, workers=4, progress=False))
    return a, course, {o.student: o for o in outcomes}


def test_every_sample_gets_its_expected_score_and_status(graded):
    a, _, outcomes = graded
    assert set(outcomes) == set(EXPECTED[a]), "no submission is dropped"
    for name, want in EXPECTED[a].items():
        got = outcomes[name]
        assert (got.score, got.status) == (want["score"], want["status"]), (name, got)
        if "reason" in want:
            assert want["reason"] in got.reason, (name, got.reason)


def test_outcomes_are_stored_and_originals_restored(graded):
    a, course, outcomes = graded
    stored = load_status(course)[a]
    assert {k: v["status"] for k, v in stored.items()} == {k: o.status for k, o in outcomes.items()}
    for name in EXPECTED[a]:  # the grader's neutralised copies never replace what the trainee submitted
        sub = (course / "submitted" / name / a / f"{a}.ipynb").read_bytes()
        assert sub == (ROOT / "grader" / "samples" / a / f"{name}.ipynb").read_bytes(), name


def test_a_secret_named_in_a_trainee_file_is_never_expanded(graded):
    """gateway.yaml is read by the grader, which holds the plant's control token: a ${DAQLAB_CONTROL_TOKEN} in it
    must stay unset (the grader expands only what a trainee's kernel has), or the feedback would print the token."""
    a, course, _ = graded
    if a != "practical-7-gateway":
        pytest.skip("only the gateway practical reads a trainee's configuration")
    nb = (course / "autograded" / "forged_secret_in_config" / a / f"{a}.ipynb").read_text(encoding="utf-8")
    assert "environment variable DAQLAB_CONTROL_TOKEN is not set" in nb
    assert "tcp://${DAQLAB_CONTROL_TOKEN}:502" in (course / "autograded" / "forged_secret_in_config" / a / "gateway" /
                                                   "gateway.yaml").read_text(encoding="utf-8")
