"""Build throwaway nbgrader course folders from this repository for real nbgrader runs."""

import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def make_course(tmp: Path, assignments, *, bank=True) -> Path:
    course = tmp / "course"
    (course / "source").mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    for a in assignments:
        shutil.copytree(ROOT / "source" / a, course / "source" / a)
    if bank:
        shutil.copytree(ROOT / "source" / "exam", course / "source" / "exam")
    return course


def submit(course: Path, assignment: str, student: str, edit) -> Path:
    """Copy the released notebook to submitted/<student>/, letting ``edit(cell)`` change it as a trainee would."""
    src = course / "release" / assignment / f"{assignment}.ipynb"
    dst = course / "submitted" / student / assignment / f"{assignment}.ipynb"
    dst.parent.mkdir(parents=True, exist_ok=True)
    nb = json.loads(src.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        edit(cell)
    dst.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    (dst.parent / "timestamp.txt").write_text("2026-11-25 09:00:00.000000 UTC")
    return dst


def bench_yaml(v, endpoint: str, rs485: str = "", **extra) -> str:
    """The description a training centre would write for this installation (daqlab.benches): as documented, never
    what the organiser changed on site for the task."""
    return json.dumps({  # JSON is YAML
        "name": f"black box {v.station}", "station": v.station, "connection": endpoint,
        "serial": {"baudrate": v.baudrate, "parity": v.parity, "stopbits": v.stopbits},
        "serial_number": v.serial_number, **({"rs485": rs485} if rs485 else {}), **extra,
        "devices": {"plc": {"unit": v.units["plc"]}, "th": {"unit": v.units["th"], "resolution": 1 / v.th_scale},
                    "meter": {"unit": v.units["meter"], "word_order": v.meter_order}, "vfd": {"unit": v.units["vfd"]},
                    "ai": {"unit": v.units["ai"], "pressure_range": list(v.pressure_range),
                           "level_range": list(v.level_range)}}}, ensure_ascii=False)
