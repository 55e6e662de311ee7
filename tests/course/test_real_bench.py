"""Grading a real bench: no simulator to ask. A black-box station (Modbus only, as a real device) stands in for it;
the grader takes its static facts from the bench description, the served facts (the meter's unit and word order)
from its own reads of the bench, and its request log from the wire, and every sample gets exactly the score it gets
on a simulated station (grader/samples/expected.yaml), but for the documented differences below."""

import json
import shutil
import time

import pytest
import yaml

from daqlab.benches import BenchError, loads_bench
from daqlab.course.generate import generate_all
from daqlab.course.grade import NOT_GRADABLE, Settings, assignment_meta, grade
from daqlab.course.roster import load_roster
from daqlab.course.serialtap import SerialTap
from daqlab.grading.context import survey, truth_note
from daqlab.modbus import client_from_url
from daqlab.plant import Plant

from ..course_helpers import ROOT, bench_yaml, make_course

EXPECTED = yaml.safe_load((ROOT / "grader" / "samples" / "expected.yaml").read_text(encoding="utf-8"))
#: every practical with samples is graded on black-box stations too
PRACTICALS = sorted(a for a in EXPECTED if a.startswith("practical-"))
#: (practical, sample) -> (score on a real bench, why it differs from the simulated score). Empty: every truth the
#: checks use can be had on a bench (static facts from the description, served facts from the grader's own reads,
#: the request log from the grader's relays, RS-485 included when the bench names its serial device server).
DIFFERENCES: dict = {}


def _failed_checks(course, student, A) -> list:
    """The checks a graded submission failed, with their messages: what a differing score is made of."""
    path = course / "autograded" / student / A / "practical_results.json"
    if not path.exists():
        return ["no practical_results.json"]
    checks = json.loads(path.read_text(encoding="utf-8"))["checks"]
    return [f"{c['name']} ({c['score']}/{c['points']}): {c['message']}" for c in checks if not c["passed"]]


@pytest.mark.slow
@pytest.mark.parametrize("A", PRACTICALS)
def test_a_practical_grades_the_same_on_a_black_box_station(tmp_path, A):
    names = sorted(n for n in EXPECTED[A] if n != "not_a_notebook")
    course = make_course(tmp_path, [A])
    assert generate_all(course)[A].ok
    meta = assignment_meta(course, A)
    # a bench whose description names no RS-485 line cannot do an RS-485 task: said at once, nothing run
    lacking = ["no_rs485_line"] if meta.get("rs485") else []
    # Modbus only (no control API), and another installation than the course seed's: the kernel must take its
    # tag table from the bench description it is given (daqlab.station.my_tags), not from the seed
    box = Plant(len(names) + len(lacking), seed=4242, control=False).start()
    try:
        assert box.control_port is None
        (course / "grader" / "benches").mkdir(parents=True)
        rows = ["student_id,name,station,bench"]
        served = {}
        for k, name in enumerate(names + lacking, start=1):
            documented = box.station(k).variant
            # the organiser prepares the bench for the task (line running, e-stop pressed, meter moved to another
            # unit with the other word order, sensor broken): the grader never resets a bench nor sets a scenario;
            # a PLC that drops requests (practical 5) is no state of a device: the grader's relay makes it
            served[name] = box.apply_scenario(k, meta["scenario"], wire=False)["served"]
            bus = box.serve_rfc2217(k, 0) if meta.get("rs485") and name not in lacking else ""
            (course / "grader" / "benches" / f"bench-{k}.yaml").write_text(
                bench_yaml(documented, box.endpoint(k), bus), encoding="utf-8")
            rows.append(f"{name},{name},{k},benches/bench-{k}.yaml")
            dst = course / "submitted" / name / A
            dst.mkdir(parents=True)
            sample = name if name not in lacking else "perfect"
            shutil.copy(ROOT / "grader" / "samples" / A / f"{sample}.ipynb", dst / f"{A}.ipynb")
        (course / "grader" / "roster.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        roster = load_roster(course / "grader" / "roster.csv")
        timeout = 5 if any("loop" in n for n in names) else 30
        # four workers on any machine: a graded notebook mostly waits (polls, scans, timeouts): ≈ 30 % CPU with two
        outcomes = {o.student: o for o in grade(course, A, roster=roster,
                                                  settings=Settings(timeout=timeout, workers=4, progress=False))}
    finally:
        box.stop()
    got = {n: (outcomes[n].score, outcomes[n].status) for n in names}
    want = {n: (DIFFERENCES.get((A, n), (EXPECTED[A][n]["score"],))[0], EXPECTED[A][n]["status"]) for n in names}
    assert got == want, {n: outcomes[n].reason or _failed_checks(course, n, A) for n in names if got[n] != want[n]}
    for name in lacking:
        assert outcomes[name].status == NOT_GRADABLE
        assert "rs485: rfc2217://host:port" in outcomes[name].reason
    # the feedback says which truths were used: the description, the grader's own reads, the wire; not the simulator
    nb = (course / "autograded" / "perfect" / A / f"{A}.ipynb").read_text(encoding="utf-8")
    assert "truth: the bench description (static facts), the grader's own reads of the bench at grading time" in nb
    assert "the frames the grader recorded on the wire" in nb
    assert "simulated plant's state" not in nb
    # nobody makes a real line drop requests: the grader's relay does it for practical 5, and the report says so (the
    # no-retry sample loses its 4 points on the bench as on the simulator: the scores above)
    made = "the task's communication faults (plc: drop 30 %) were made by the grader's relay"
    assert (made in nb) == (meta["scenario"] == "troubleshoot")
    meter = served["perfect"]
    assert f"(meter at unit {meter['units']['meter']}, word order {meter['meter_order']})" in nb
    if meta["scenario"] == "mock":  # the served facts the checks used are the bench's, not the description's
        k = (names + lacking).index("perfect") + 1  # the perfect sample's bench
        documented = yaml.safe_load((course / "grader" / "benches" / f"bench-{k}.yaml").read_text(encoding="utf-8"))
        assert meter["units"]["meter"] != documented["devices"]["meter"]["unit"]
        assert meter["meter_order"] != documented["devices"]["meter"]["word_order"]


def test_the_grader_finds_a_moved_meter_and_its_word_order_itself():
    """The served facts come from the grader's reads of the bench: the meter's unit (scanned, bounded) and the word
    order that gives a plausible mains frequency; a gateway that stays silent for unknown units is scanned 1-31 only."""
    for unknown in ("exception", "silent"):
        with Plant(1, seed=4242, control=False, unknown_unit=unknown) as box:
            v = box.station(1).variant
            served = box.apply_scenario(1, "mock")["served"]
            bench = loads_bench(bench_yaml(v, box.endpoint(1)).replace('"connection"', f'"unknown_unit": "{unknown}",'
                                                                                         ' "connection"', 1))
            assert bench.unknown_unit == unknown
            found = survey(bench)
            assert found == {"units": {"meter": served["units"]["meter"]}, "meter_order": served["meter_order"],
                             "notes": [], "error": ""}
            assert (found["units"]["meter"], found["meter_order"]) != (v.units["meter"], v.meter_order)
            box.apply_scenario(1, "clean")  # as described: found where the description says
            assert survey(bench)["units"] == {"meter": v.units["meter"]}
    # nothing answers: no survey, and it says why (the checks then use the description)
    dead = loads_bench(bench_yaml(v, "tcp://127.0.0.1:9"))
    lost = survey(dead)
    assert "cannot connect" in lost["error"]
    note = truth_note({"DAQLAB_WIRE_LOG": "wire.jsonl", "DAQLAB_BENCH_SURVEY": json.dumps(lost)})
    assert "the grader could not survey the bench: cannot connect" in note and "unit ids and word order as described" in note


def test_the_rs485_tap_records_what_the_line_answered(tmp_path):
    """The grader's relay to a bench's serial device server forwards every byte and records each request with the
    line's reply: wrong settings get no reply (not recorded as served), right ones are recorded as rfc2217://."""
    with Plant(1, seed=4242, control=False) as box:
        v = box.station(1).variant
        url = box.serve_rfc2217(1, 0)
        tap = SerialTap(url, tmp_path / "rs485.jsonl", 1)
        try:
            wrong = "N" if v.parity != "N" else "E"
            for parity in (wrong, wrong, v.parity):
                c = client_from_url(f"{tap.url}?baudrate={v.baudrate}&parity={parity}&stopbits={v.stopbits}",
                                    timeout=1, retries=0)
                assert c.connect()
                try:
                    rr = c.read_holding_registers(0x2103, count=1, device_id=v.units["vfd"])
                    assert parity == v.parity and not rr.isError()
                    c.read_holding_registers(0x2103, count=1, device_id=v.units["vfd"])  # two on one connection
                except Exception:  # noqa: BLE001 - no reply with the wrong settings
                    assert parity == wrong
                c.close()
            time.sleep(0.3)
        finally:
            tap.close()
    entries = [json.loads(x) for x in (tmp_path / "rs485.jsonl").read_text().splitlines()]
    assert [(e["status"], e["unit"], e["function"], e["address"]) for e in entries] == [
        ("ok", v.units["vfd"], 3, 0x2103), ("ok", v.units["vfd"], 3, 0x2103)]
    assert all(e["client"] == url and e["values"] == [0] for e in entries)  # line stopped: 0.00 Hz


def test_the_rs485_tap_records_a_request_before_the_line_can_answer_it(tmp_path, monkeypatch):
    """On a busy machine the tap's record of a request may lag behind the bytes: the request is recorded before it is
    passed on, so the line's reply always finds it (a reply that found nothing would make a good read count as
    unanswered, and cost a trainee the "read over RS-485" points). The lag is made certain here."""
    from daqlab.course import serialtap

    parse = serialtap._request_length

    def lagging(buf):
        time.sleep(0.05)
        return parse(buf)

    monkeypatch.setattr(serialtap, "_request_length", lagging)
    with Plant(1, seed=4242, control=False) as box:
        v = box.station(1).variant
        url = box.serve_rfc2217(1, 0)
        tap = SerialTap(url, tmp_path / "rs485.jsonl", 1)
        try:
            c = client_from_url(f"{tap.url}?baudrate={v.baudrate}&parity={v.parity}&stopbits={v.stopbits}",
                                timeout=3, retries=0)
            assert c.connect()
            for _ in range(3):
                assert not c.read_holding_registers(0x2103, count=1, device_id=v.units["vfd"]).isError()
            c.close()
            time.sleep(0.5)
        finally:
            tap.close()
    entries = [json.loads(x) for x in (tmp_path / "rs485.jsonl").read_text().splitlines()]
    assert [e["status"] for e in entries] == ["ok"] * 3


def test_a_bench_names_its_rs485_line_as_a_serial_device_server():
    with Plant(1, seed=4242, control=False, frozen=True) as box:
        v = box.station(1).variant
    assert loads_bench(bench_yaml(v, "tcp://10.0.0.5:502", "rfc2217://10.0.0.6:4001")).rs485 == "rfc2217://10.0.0.6:4001"
    assert loads_bench(bench_yaml(v, "tcp://10.0.0.5:502")).rs485 == ""
    with pytest.raises(BenchError) as err:
        loads_bench(bench_yaml(v, "tcp://10.0.0.5:502", "tcp://10.0.0.6:4001"))
    assert any("rs485 'tcp://10.0.0.6:4001': rfc2217://host:port" in why for _where, why in err.value.problems)
