"""nbgrader's own Validator: every source notebook passes its tests, every released one fails them.

The exam papers are built by one generator (daqlab.exam.build), so two of the fifteen stand for all.
"""

import os

import pytest
from nbgrader.validator import Validator

from .course_helpers import ROOT

EXAMS = ["theory-contest", "theory-practice-modbus"]
pytestmark = pytest.mark.slow


@pytest.fixture()
def instructor_env(monkeypatch):
    monkeypatch.setenv("DAQLAB_EXAM_BANK", str(ROOT / "source" / "exam" / "bank"))
    monkeypatch.setenv("DAQLAB_STUDENT_ID", "instructor")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("name", EXAMS)
def test_source_passes_and_release_fails(name, instructor_env):
    source = ROOT / "source" / name / f"{name}.ipynb"
    release = ROOT / "release" / name / f"{name}.ipynb"
    assert Validator().validate(str(source)) == {}, "the source solution must pass its own tests"
    assert Validator(invert=True).validate(str(release)) == {}, "a blank release must fail every grade cell"
    assert "passed" in Validator(invert=True).validate(str(source)), "the inverted check can tell them apart"
    assert os.environ["DAQLAB_STUDENT_ID"] == "instructor"
    leftovers = list((ROOT / "release" / name).iterdir()) + list((ROOT / "source" / name).iterdir())
    assert sorted(p.name for p in leftovers) == [f"{name}.ipynb", f"{name}.ipynb"], "validation left files behind"
