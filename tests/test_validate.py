"""nbgrader's own Validator, as a trainee's Validate button runs it: what it can and cannot say.

Validation runs in the trainee's kernel, where no key, check or oracle exists: it says whether the answers
are there and readable, never whether they are right (that is decided at grading, outside the kernel).
A practical source notebook hands in every answer; a blank release fails every grade cell ("not
answered yet"). An exam notebook validates blank or filled alike (its grade cells only check formats).
The exam papers come from one generator (daqlab.exam.build), so two of the fifteen stand for all;
every practical assignment is validated against a plant started as the grader starts it. Notebooks
are validated in temporary copies of their folders, so nothing is written into source/ or release/.
"""

import json
import shutil
import time

import pytest
from nbgrader.validator import Validator

from daqlab.course.generate import source_assignments
from daqlab.course.grade import _start_platform
from daqlab.plant import Plant

from .course_helpers import ROOT

EXAMS = ["theory-contest", "theory-practice-modbus"]
PRACTICALS = [a for a in source_assignments(ROOT) if a.startswith("practical-")]
pytestmark = pytest.mark.slow


def validate_copy(kind: str, name: str, tmp_path, invert=False) -> dict:
    folder = tmp_path / kind / name
    shutil.copytree(ROOT / kind / name, folder)
    return Validator(invert=invert).validate(str(folder / f"{name}.ipynb"))


@pytest.fixture()
def instructor_env(monkeypatch):
    monkeypatch.setenv("DAQLAB_EXAM_BANK", str(ROOT / "source" / "exam" / "bank"))
    monkeypatch.setenv("DAQLAB_STUDENT_ID", "instructor")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    return monkeypatch


@pytest.mark.parametrize("name", EXAMS)
def test_exam_validation_checks_formats_only(name, instructor_env, tmp_path):
    assert validate_copy("source", name, tmp_path) == {}, "a blank paper is well-formed"
    assert validate_copy("release", name, tmp_path) == {}, "the release validates the same way: formats only"
    folder = tmp_path / "bad" / name
    shutil.copytree(ROOT / "release" / name, folder)
    nb = json.loads((folder / f"{name}.ipynb").read_text("utf-8"))
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "answers-single":
            cell["source"] = "".join(cell["source"]).replace('    1: "",', '    1: "Z",')
    (folder / f"{name}.ipynb").write_text(json.dumps(nb), "utf-8")
    run = Validator(invert=False)
    assert run.validate(str(folder / f"{name}.ipynb")) == {}, "a format problem is reported, not failed"


@pytest.mark.parametrize("name", PRACTICALS)
def test_practical_source_passes_and_release_fails(name, instructor_env, tmp_path):
    meta = json.loads((ROOT / "source" / name / f"{name}.ipynb").read_text("utf-8"))["metadata"]["daqlab"]
    platform = _start_platform(tmp_path, name, ["instructor"]) if meta.get("mqtt") else None
    try:
        with Plant(3, seed=0, control=True, control_token="t") as plant:
            if meta.get("rs485"):  # as the grading pipeline does: the station's bus behind a serial device server
                plant.serve_rfc2217(3)
            for k, v in {**plant.environment(3), "DAQLAB_CONTROL_URL": f"http://127.0.0.1:{plant.control_port}",
                         "DAQLAB_CONTROL_TOKEN": "t", "DAQLAB_ASSIGNMENT": name}.items():
                instructor_env.setenv(k, v)
            if platform is not None:  # as the grading pipeline does for an assignment graded at the broker
                for k, v in platform[0].environment("instructor").items():
                    instructor_env.setenv(k, v)
                instructor_env.setenv("DAQLAB_MQTT_RECORD", str(platform[2]))
                instructor_env.setenv("DAQLAB_MQTT_SINCE", str(time.time()))
            plant.apply_scenario(3, meta["scenario"])
            assert validate_copy("source", name, tmp_path) == {}, "the reference solution must pass its own tests"
            plant.apply_scenario(3, meta["scenario"])
            if platform is not None:
                instructor_env.setenv("DAQLAB_MQTT_SINCE", str(time.time()))
            assert validate_copy("release", name, tmp_path, invert=True) == {}, "the blank release must fail every test"
    finally:
        if platform is not None:
            platform[1].close()
            platform[0].close()
    for kind in ("source", "release"):
        assert sorted(p.name for p in (ROOT / kind / name).iterdir()) == [f"{name}.ipynb"], "nothing left behind"
