"""Bench descriptions: the textbook station's matches the simulator's maps; bad ones are rejected with file and line;
a probe reads a described station for real."""

import textwrap

import pytest

import daqlab.plant
from daqlab.benches import BenchError, load_bench, loads_bench, probe
from daqlab.cli import main
from daqlab.plant import tag_table

from .course_helpers import ROOT


def test_the_textbook_description_matches_the_simulators_own_maps():
    bench = load_bench(ROOT / "benches" / "textbook.yaml")
    mine, sim = bench.tags(), tag_table(1, textbook=True)
    assert len(mine) == len(sim) == 77
    for a, b in zip(mine, sim, strict=True):  # same names, unit ids, addresses, types, orders, scaling
        assert (a.name, a.unit, a.area, a.address, a.dtype, a.order, a.scale, a.offset, a.length) == \
               (b.name, b.unit, b.area, b.address, b.dtype, b.order, b.scale, b.offset, b.length), a.name


def test_a_varied_station_is_described_by_its_settings():
    # station 2 of a plant with seed 7: its installation (unit ids, word order, resolution, ranges) written out
    from daqlab.plant.runner import Plant

    v = Plant(2, seed=7, control=False).station(2).variant
    text = textwrap.dedent(f"""\
        station: 2
        connection: tcp://127.0.0.1:5022
        serial: {{baudrate: {v.baudrate}, parity: {v.parity}, stopbits: {v.stopbits}}}
        serial_number: {v.serial_number}
        devices:
          plc: {{unit: {v.units['plc']}}}
          th: {{unit: {v.units['th']}, resolution: {1 / v.th_scale}}}
          meter: {{unit: {v.units['meter']}, word_order: {v.meter_order}}}
          vfd: {{unit: {v.units['vfd']}}}
          ai: {{unit: {v.units['ai']}, pressure_range: {list(v.pressure_range)}, level_range: {list(v.level_range)}}}
        """)
    assert loads_bench(text).tags() == tag_table(2, seed=7)


def test_a_bench_without_a_device_class_has_no_such_tags_and_its_apart_connection_is_in_the_datasheet():
    bench = load_bench(ROOT / "benches" / "example-bench.yaml")
    assert {t.meta["device"] for t in bench.tags()} == {"plc", "th", "meter", "vfd"}
    sheet = bench.datasheet()
    assert "Unit 5" not in sheet and "vfd（从站 6）单独连接 · connected apart: `tcp://192.168.1.33:502`" in sheet
    assert bench.urls() == {"tcp://192.168.1.23:502": ["plc", "th", "meter"], "tcp://192.168.1.33:502": ["vfd"]}


def test_a_bad_description_is_rejected_with_file_and_line(tmp_path):
    path = tmp_path / "bench-9.yaml"
    path.write_text(textwrap.dedent("""\
        station: 0
        connection: modbus://10.0.0.9
        serial: {baudrate: 9601, parity: X}
        devices:
          plc: {unit: 1}
          th: {unit: 1, resolution: 0.5}
          meter: {unit: 3, word_order: BADC, colour: red}
          robot: {unit: 9}
          vfd: {unit: 300}
        colour: blue
        speed: 0
        """), encoding="utf-8")
    with pytest.raises(BenchError) as exc:
        load_bench(path)
    got = exc.value.problems
    where = {}
    for w, why in got:
        where.setdefault(w, []).append(why)
    assert "station 0" in where["bench-9.yaml line 1"][0]
    assert "modbus://10.0.0.9" in where["bench-9.yaml line 2"][0]
    assert any("baudrate 9601" in x for x in where["bench-9.yaml line 3"])
    assert any("parity 'X'" in x for x in where["bench-9.yaml line 3"])
    assert "unit 1 is already plc's" in where["bench-9.yaml line 6"][0]
    assert any("colour" in x for x in where["bench-9.yaml line 7"]) and any("BADC" in x for x in where["bench-9.yaml line 7"])
    assert "unknown device class 'robot'" in where["bench-9.yaml line 8"][0]
    assert "unit 300" in where["bench-9.yaml line 9"][0]
    assert "unknown key 'colour'" in where["bench-9.yaml line 10"][0]
    assert "speed 0: 1 for real devices" in where["bench-9.yaml line 11"][0]


def test_probe_reads_every_tag_and_catches_a_wrong_word_order(tmp_path, capsys):
    with daqlab.plant.run(stations=1, textbook=True) as p:
        text = (ROOT / "benches" / "textbook.yaml").read_text(encoding="utf-8").replace(
            "tcp://127.0.0.1:5021", p.endpoint(1))
        good = tmp_path / "good.yaml"
        good.write_text(text, encoding="utf-8")
        report = probe(load_bench(good))
        assert all(r["good"] == r["tags"] and not r["implausible"] for r in report), report
        assert main(["bench", "probe", str(good)]) == 0
        assert "meter  unit 3" in capsys.readouterr().out
        bad = tmp_path / "bad.yaml"  # the meter's words described the other way round: reads "good", implausibly
        bad.write_text(text.replace("word_order: ABCD", "word_order: CDAB"), encoding="utf-8")
        assert main(["bench", "probe", str(bad)]) == 1
        out = capsys.readouterr().out
        assert "implausible: meter.frequency" in out and "word_order" in out


def test_cli_check_and_a_clear_error(tmp_path, capsys):
    assert main(["bench", "check", str(ROOT / "benches" / "example-bench.yaml")]) == 0
    assert "70 tags on 2 connection(s)" in capsys.readouterr().out
    (tmp_path / "x.yaml").write_text("station: [\n", encoding="utf-8")
    assert main(["bench", "check", str(tmp_path / "x.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("daqlab: 1 problem(s) in the bench description") and "x.yaml line" in err
    # the lab at a bench checks the description before it starts anything: one line, no traceback
    assert main(["lab", "--bench", str(tmp_path / "x.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("daqlab: 1 problem(s) in the bench description") and "Traceback" not in err


def test_the_roster_assigns_a_real_bench_and_the_kernel_follows_it(tmp_path):
    from daqlab.course.roster import RosterError, load_roster
    from daqlab.hub.accounts import accounts, user_environment
    from daqlab.hub.settings import HubSettings
    from daqlab.station import my_bench, my_datasheet, my_station, my_tags

    (tmp_path / "benches").mkdir()
    (tmp_path / "benches" / "bench-3.yaml").write_text(
        (ROOT / "benches" / "example-bench.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name,station,bench\nann,Ann,1,\nben,Ben,3,benches/bench-3.yaml\n", encoding="utf-8")
    trainees = load_roster(roster)
    assert trainees["ann"].bench == "" and trainees["ben"].bench == str(tmp_path / "benches" / "bench-3.yaml")
    settings = HubSettings(roster=str(roster), state=str(tmp_path / "hub"), course_root=str(tmp_path))
    acc = accounts(settings, trainees)
    ben, ann = user_environment(settings, acc["ben"]), user_environment(settings, acc["ann"])
    assert ben["DAQLAB_ENDPOINT"] == "tcp://192.168.1.23:502" and ben["DAQLAB_BENCH"].endswith("bench-3.yaml")
    assert ben["DAQLAB_RS485_URL"] == "rfc2217://192.168.1.22:4001", "the bench's own RS-485 line, not a simulated one"
    assert "DAQLAB_BENCH" not in ann and ann["DAQLAB_ENDPOINT"].startswith("tcp://127.0.0.1:")
    assert my_station(ben).endpoint == "tcp://192.168.1.23:502" and my_bench(ben).name == "实训台 3 · Bench 3"
    assert "vfd（从站 6）单独连接" in my_datasheet(ben)
    assert {t.meta["device"] for t in my_tags(ben)} == {"plc", "th", "meter", "vfd"}
    assert len(my_tags(ann)) == 77 and my_bench(ann) is None
    roster.write_text("student_id,name,station,bench\nben,Ben,4,benches/bench-3.yaml\ncy,Cy,5,benches/nope.yaml\n",
                      encoding="utf-8")
    with pytest.raises(RosterError) as exc:
        load_roster(roster)
    assert "row 2: bench 'benches/bench-3.yaml' describes station 3, not 'ben''s station 4" in str(exc.value)
    assert "row 3: bench 'benches/nope.yaml' of 'cy'" in str(exc.value) and "cannot read it" in str(exc.value)


def test_a_bench_behind_a_usb_rs485_adapter_is_probed_over_rtu(rtu, tmp_path):
    # the textbook station on one end of a pty pair, as a USB-RS485 adapter appears (/dev/ttyUSB0): the
    # description's connection is an rtu:// URL with the line's settings, and every tag answers over RTU
    _plant, _side, client_path, parity = rtu
    text = (ROOT / "benches" / "textbook.yaml").read_text(encoding="utf-8").replace(
        "tcp://127.0.0.1:5021", f"rtu://{client_path}?baudrate=9600&parity={parity}&stopbits=1")
    path = tmp_path / "usb-bench.yaml"
    path.write_text(text, encoding="utf-8")
    bench = load_bench(path)
    assert list(bench.urls()) == [f"rtu://{client_path}?baudrate=9600&parity={parity}&stopbits=1"]
    report = probe(bench)
    assert [(r["device"], r["good"], r["tags"]) for r in report] == [
        (r["device"], r["tags"], r["tags"]) for r in report] and sum(r["tags"] for r in report) == 77, report
