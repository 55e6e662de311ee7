"""Grading a real bench: no simulator to ask. A black-box station (Modbus only, as a real device) stands in for it;
the grader takes its facts from the bench description and its request log from the wire, and every sample of
practical 1 gets exactly the score it gets on a simulated station."""

import json
import shutil

import pytest
import yaml

from daqlab.course.generate import generate_all
from daqlab.course.grade import Settings, grade
from daqlab.course.roster import load_roster
from daqlab.plant import Plant

from ..course_helpers import ROOT, make_course

EXPECTED = yaml.safe_load((ROOT / "grader" / "samples" / "expected.yaml").read_text(encoding="utf-8"))
pytestmark = pytest.mark.slow


def bench_yaml(v, endpoint: str) -> str:
    """The description a training centre would write for this installation (daqlab.benches)."""
    return json.dumps({  # JSON is YAML
        "name": f"black box {v.station}", "station": v.station, "connection": endpoint,
        "serial": {"baudrate": v.baudrate, "parity": v.parity, "stopbits": v.stopbits},
        "serial_number": v.serial_number,
        "devices": {"plc": {"unit": v.units["plc"]}, "th": {"unit": v.units["th"], "resolution": 1 / v.th_scale},
                    "meter": {"unit": v.units["meter"], "word_order": v.meter_order}, "vfd": {"unit": v.units["vfd"]},
                    "ai": {"unit": v.units["ai"], "pressure_range": list(v.pressure_range),
                           "level_range": list(v.level_range)}}}, ensure_ascii=False)


@pytest.mark.parametrize("A", ["practical-1-identify", "practical-6-publish"])
def test_a_practical_grades_the_same_on_a_black_box_station(tmp_path, A):
    # practical 1 (the station's identity, read with Modbus) and practical 6 (graded at the broker, values checked
    # against what the station served): both in the "clean" scenario, which a bench is in as it stands
    names = sorted(n for n in EXPECTED[A] if n != "not_a_notebook")
    course = make_course(tmp_path, [A])
    assert generate_all(course)[A].ok
    # Modbus only (no control API), and another installation than the course seed's: the kernel must take its
    # tag table from the bench description it is given (daqlab.station.my_tags), not from the seed
    box = Plant(len(names), seed=4242, control=False).start()
    try:
        assert box.control_port is None
        (course / "grader" / "benches").mkdir(parents=True)
        rows = ["student_id,name,station,bench"]
        for k, name in enumerate(names, start=1):
            (course / "grader" / "benches" / f"bench-{k}.yaml").write_text(
                bench_yaml(box.station(k).variant, box.endpoint(k)), encoding="utf-8")
            rows.append(f"{name},{name},{k},benches/bench-{k}.yaml")
            dst = course / "submitted" / name / A
            dst.mkdir(parents=True)
            shutil.copy(ROOT / "grader" / "samples" / A / f"{name}.ipynb", dst / f"{A}.ipynb")
        (course / "grader" / "roster.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        roster = load_roster(course / "grader" / "roster.csv")
        timeout = 5 if any("loop" in n for n in names) else 30
        outcomes = {o.student: o for o in grade(course, A, roster=roster,
                                                  settings=Settings(timeout=timeout, workers=2, progress=False))}
    finally:
        box.stop()
    got = {n: (outcomes[n].score, outcomes[n].status) for n in names}
    want = {n: (EXPECTED[A][n]["score"], EXPECTED[A][n]["status"]) for n in names}
    assert got == want
    # the feedback says which truth was used: the bench description and the wire, not the simulator
    nb = (course / "autograded" / "perfect" / A / f"{A}.ipynb").read_text(encoding="utf-8")
    assert "truth: the bench description and the frames the grader recorded on the wire" in nb
    assert "simulated plant's state" not in nb
