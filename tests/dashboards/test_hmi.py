"""Plant HMI logic on a real plant over Modbus: device status from read quality, alarm word, alarm list."""

import json
import os
import time

from daqlab.acquisition import Reader
from daqlab.dashboards.hmi import (
    AlarmLog,
    PlantAddress,
    active_alarms,
    decode_alarm_word,
    device_status,
    hmi_tags,
    plant_layout,
)
from daqlab.plant import run

from ..course_helpers import ROOT, bench_yaml
from ..helpers import free_port_block


def test_alarm_word_decodes_into_the_named_plc_flags():
    flags = decode_alarm_word(0b101010)
    assert [k for k, on in flags.items() if on] == ["motor_overtemp", "jam", "sensor_fault"]
    assert list(flags) == ["estop", "motor_overtemp", "vfd_fault", "jam", "reject_rate_high", "sensor_fault"]
    assert not any(decode_alarm_word(None).values())


def test_device_status_follows_the_read_quality_of_each_device():
    base = free_port_block(2)
    with run(stations=1, base_port=base, frozen=True) as plant:
        tags = hmi_tags(1, seed=0)
        with Reader(PlantAddress("127.0.0.1", base).endpoint(1), timeout=0.3) as r:
            assert {d: s for d, (s, _) in device_status(r.read(tags), tags).items()} == dict.fromkeys(
                ["plc", "vfd", "meter", "ai", "th"], "online")
            plant.set_fault(1, "meter", "offline")
            plant.set_fault(1, "vfd", "exception", 4)
            plant.set_fault(1, "th", "broken")
            sample = r.read(tags)
            status = device_status(sample, tags)
    assert status["meter"] == ("offline", "no reply (timeout)")
    assert status["vfd"][0] == "fault" and "exception 04" in status["vfd"][1]
    assert status["th"] == ("fault", "sensor: temperature, humidity"), "the 0x7FFF sentinel is a sensor fault"
    assert status["plc"] == ("online", "") and status["ai"] == ("online", "")
    assert set(active_alarms(sample, status)) == {"device:meter", "device:vfd", "device:th", "alarm:sensor_fault"}


def test_alarm_log_opens_an_event_per_appearance_and_closes_it_when_it_goes():
    log = AlarmLog()
    assert [e.key for e in log.update(1, 10.0, {"alarm:jam": "jam"})] == ["alarm:jam"]
    assert log.update(1, 11.0, {"alarm:jam": "jam"}) == [], "still the same alarm"
    log.update(2, 11.0, {"alarm:jam": "jam"})
    log.update(1, 12.0, {})
    first, = [e for e in log.events if e.station == 1]
    assert (first.raised, first.cleared) == (10.0, 12.0)
    assert [e.cleared for e in log.events if e.station == 2] == [None], "other stations untouched"
    log.update(1, 13.0, {"alarm:jam": "jam"})
    assert [e.raised for e in log.events if e.station == 1] == [13.0, 10.0], "newest first"


def test_plant_layout_comes_from_the_environment_then_the_control_api():
    base = free_port_block(4)
    with run(stations=3, base_port=base, seed=7, control_token="t"):
        addr = PlantAddress.from_env({"DAQLAB_BASE_PORT": str(base), "DAQLAB_CONTROL_TOKEN": "t"})
        assert addr.endpoint(2) == f"tcp://127.0.0.1:{base + 2}"
        assert plant_layout(addr, {}) == ([1, 2, 3], 7, False)
        assert plant_layout(addr, {"DAQLAB_STATIONS": "2", "DAQLAB_SEED": "3"}) == ([1, 2], 3, False)
    nobody = PlantAddress("127.0.0.1", free_port_block(1))
    assert plant_layout(nobody, {}) == ([1], 0, False), "no control API: station 1, seed 0"


def test_dashboard_notebooks_are_committed_without_outputs():
    for name in ("plant.ipynb", "results.ipynb", "scoreboard.ipynb"):
        nb = json.loads((ROOT / "notebooks" / "dashboards" / name).read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            assert not cell.get("outputs") and not cell.get("execution_count"), name


def test_the_hmi_polls_only_while_a_browser_shows_the_page():
    """No heartbeat from a page (a closed tab): polling stops and the connection closes; a tick resumes it."""
    import time

    from daqlab.dashboards.hmi import PlantHMI

    base = free_port_block(2)
    with run(stations=1, base_port=base, control=True, control_token="t") as plant:
        hmi = PlantHMI(PlantAddress("127.0.0.1", base), period=0.1, environ={"DAQLAB_STATIONS": "1"}, quiet_s=1.0)
        try:
            deadline = time.monotonic() + 60
            while not hmi.polling_paused and time.monotonic() < deadline:  # no browser: it stops by itself
                time.sleep(0.1)
            assert hmi.polling_paused and hmi.scans > 0
            time.sleep(0.3)
            served, scans = len(plant.log(1)), hmi.scans
            time.sleep(1.5)
            assert hmi.scans == scans and len(plant.log(1)) == served, "nothing is polled while no page is shown"
            hmi.w_beat.value += 1  # the page's Play ticked (what the browser sends every second)
            deadline = time.monotonic() + 30
            while hmi.scans == scans and time.monotonic() < deadline:
                time.sleep(0.05)
            assert hmi.scans > scans and not hmi.polling_paused
        finally:
            hmi.stop()


def test_a_trainees_hmi_opens_on_their_own_station():
    from daqlab.dashboards.hmi import PlantHMI

    base = free_port_block(4)
    with run(stations=3, base_port=base, control=True, control_token="t"):
        env = {"DAQLAB_STATIONS": "3", "DAQLAB_SEED": "0", "DAQLAB_STATION": "2", "JUPYTERHUB_USER": "alice",
               "DAQLAB_INSTRUCTOR": "grader-daqlab"}
        hmi = PlantHMI(PlantAddress("127.0.0.1", base), period=0.2, environ=env, quiet_s=1.0)
        try:
            assert hmi.w_station.value == 2 and [v for _, v in hmi.w_station.options] == [2]
        finally:
            hmi.stop()
        teacher = PlantHMI(PlantAddress("127.0.0.1", base), period=0.2, quiet_s=1.0,
                           environ={**env, "JUPYTERHUB_USER": "grader-daqlab"})
        try:
            assert teacher.w_station.value == 1 and len(teacher.w_station.options) == 3, "the instructor sees all"
        finally:
            teacher.stop()


def test_dashboard_pages_speak_to_teachers_and_trainees_not_developers():
    for name in ("plant.ipynb", "results.ipynb"):
        nb = json.loads((ROOT / "notebooks" / "dashboards" / name).read_text(encoding="utf-8"))
        shown = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")  # Voila shows these
        assert "daqlab dashboard" not in shown and "DAQLAB_" not in shown, name
        assert shown.lstrip("# ")[0] > "\u2e80", f"{name}: the title starts in Chinese"


def test_the_process_picture_colours_each_device_by_its_state():
    from daqlab.dashboards.mimic import mimic_svg

    ok = {d: ("online", "") for d in ("plc", "vfd", "meter", "ai", "th")}
    values = {"plc.state": 2, "plc.parts": 17, "vfd.output_freq": 42.5, "meter.power_total": 1234.0,
              "ai.motor_temp": None, "th.temperature": 23.4, "th.humidity": 55.0}
    svg = mimic_svg(values, {**ok, "meter": ("offline", "timeout")}, {"jam": True, "motor_overtemp": False})
    assert 'data-device="meter" data-state="offline"' in svg and 'stroke-dasharray="6 4"' in svg
    assert 'data-device="conveyor" data-state="alarm"' in svg, "a jam turns the conveyor red"
    assert "42.5 Hz" in svg and "零件 parts 17" in svg and "电机 —" in svg, "a blanked sensor is a dash, not a number"
    running = mimic_svg(values, ok, {})
    assert 'data-device="conveyor" data-state="running"' in running
    assert running.count('data-state="online"') == 6, "the five devices and the motor the drive turns"


def test_the_hmi_shows_real_benches_from_their_descriptions(tmp_path):
    """Benches instead of a plant (daqlab dashboard plant --bench ...): each read at its connection with its own
    tags (a bench without an analog module has no such device), no fault switch, the line commands still work."""
    from daqlab.dashboards.hmi import PlantHMI
    from daqlab.plant import Plant


    one, two = Plant(1, textbook=True, control=False).start(), Plant(1, seed=5, control=False).start()
    try:
        files = []
        for k, box in ((3, one), (7, two)):
            v = box.station(1).variant
            doc = json.loads(bench_yaml(v, box.endpoint(1)))
            doc["station"] = k
            if k == 7:
                del doc["devices"]["ai"]
            files.append(tmp_path / f"bench-{k}.yaml")
            files[-1].write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        env = {"DAQLAB_HMI_BENCHES": os.pathsep.join(map(str, files))}
        hmi = PlantHMI(PlantAddress("127.0.0.1", 1), period=0.2, environ=env, quiet_s=1.0)
        try:
            assert hmi.stations == [3, 7] and hmi.endpoint(3) == one.endpoint(1) and not hasattr(hmi, "w_device")
            with hmi._lock:
                hmi._pending = 3
            sample = hmi.tick()
            assert sample.quality and all(q == "good" for q in sample.quality.values()), sample.quality
            hmi.w_station.value = 7
            deadline = time.monotonic() + 30
            while hmi.station != 7 and time.monotonic() < deadline:
                time.sleep(0.05)
            sample = hmi.tick()
            assert not any(n.startswith("ai.") for n in sample.values) and sample.quality["th.temperature"] == "good"
            hmi.w_run.click()  # the line command: a Modbus write to the bench's PLC
            assert any(e.function in (5, 15) and e.status == "ok" for e in two.log(1))
            assert "plc.run := 1 written" in hmi.w_info.value
        finally:
            hmi.stop()
        trainee = PlantHMI(PlantAddress("127.0.0.1", 1), period=0.2, quiet_s=1.0,
                           environ={"DAQLAB_BENCH": str(files[0]), "DAQLAB_STATION": "3", "JUPYTERHUB_USER": "ann",
                                    "DAQLAB_INSTRUCTOR": "grader-daqlab"})
        try:
            assert trainee.stations == [3] and trainee.endpoint(3) == one.endpoint(1)
        finally:
            trainee.stop()
    finally:
        one.stop()
        two.stop()


def test_a_wrong_bench_for_the_hmi_is_one_line_before_voila_starts(tmp_path, capsys):
    from daqlab.cli import main

    (tmp_path / "b.yaml").write_text("station: 1\n", encoding="utf-8")
    assert main(["dashboard", "plant", "--bench", str(tmp_path / "b.yaml"), "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("daqlab: ") and "bench description" in err and "Traceback" not in err
