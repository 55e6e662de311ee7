"""Every grade cell of every practical assignment has a trusted check, hands in what it checks, and no
point is earned without real work: with nothing served by the plant and nothing handed in, every check
scores 0 (a check that cannot fail would give points to a blank or forged submission)."""

import json

import pytest

from daqlab.course.generate import source_assignments
from daqlab.grading.cells import CELLS
from daqlab.plant import Plant

from ..course_helpers import ROOT

PRACTICALS = [a for a in source_assignments(ROOT) if a.startswith("practical-")]


def grade_cells(assignment):
    nb = json.loads((ROOT / "source" / assignment / f"{assignment}.ipynb").read_text("utf-8"))
    return [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade")]


@pytest.mark.parametrize("assignment", PRACTICALS)
def test_every_grade_cell_hands_in_exactly_what_its_trusted_check_reads(assignment):
    cells = grade_cells(assignment)
    assert cells
    for cell in cells:
        gid = cell["metadata"]["nbgrader"]["grade_id"]
        assert gid in CELLS, f"{assignment}: {gid} has no trusted check"
        assert "".join(cell["source"]) == CELLS[gid].hand_in_source(), f"{assignment}: {gid}"
        assert "BEGIN HIDDEN TESTS" not in "".join(cell["source"]), "no check runs in a kernel"


def test_no_check_gives_a_point_for_nothing(tmp_path, monkeypatch):
    record = tmp_path / "platform.jsonl"
    record.write_text("", encoding="utf-8")
    with Plant(1, seed=0, control=True, control_token="t") as plant:
        for k, v in {**plant.environment(1), "DAQLAB_CONTROL_URL": f"http://127.0.0.1:{plant.control_port}",
                     "DAQLAB_CONTROL_TOKEN": "t", "DAQLAB_FILES": str(tmp_path), "DAQLAB_RESULTS_DIR": str(tmp_path),
                     "DAQLAB_MQTT_RECORD": str(record), "DAQLAB_MQTT_USER": "t01", "DAQLAB_MQTT_SINCE": "0"}.items():
            monkeypatch.setenv(k, v)
        for gid, cell in CELLS.items():
            assert cell.check({}) == 0, f"{gid}: points without any work"
            typed = {n: "V2.14" if n == "firmware" else 1 for n in cell.names}  # answers typed, nothing read
            assert cell.check(typed) == 0, f"{gid}: points for values the plant never served"
