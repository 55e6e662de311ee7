"""The gateway against a real plant (Modbus TCP) and a real Mosquitto: planned requests, the same values as a
Reader, every point's quality uplinked, store-and-forward across a broker outage."""

import json
import textwrap
import time

import pytest

import daqlab.plant
from daqlab.acquisition import Reader, naive
from daqlab.gateway import Gateway, loads
from daqlab.northbound import Recorder
from daqlab.northbound import thingmodel as tm

POINTS = """\
  # station 1 of a plant with seed 0 (the textbook units: plc 1, th 2, meter 3 CDAB, vfd 6)
  - {name: temperature, address: "2!300002", type: INT16, scale: 0.1}
  - {name: humidity, address: "2!300003", type: UINT16, scale: 0.1}
  - {name: voltage_l1, address: "3!300001#BL", type: FLOAT32}
  - {name: voltage_l2, address: "3!300003#BL", type: FLOAT32}
  - {name: power, address: "3!300053#BL", type: FLOAT32}
  - {name: energy, address: "3!300073#BL", type: FLOAT32}
  - {name: parts, address: "1!300001", type: UINT32}
  - {name: state, address: "1!300005"}
  - {name: freq, address: "6!408452", scale: 0.01}
  - {name: current, address: "6!408453", scale: 0.01}
"""


def station_points(plant, names) -> str:
    """Point-table rows (inline YAML) for these tags of the plant's station 1, as its datasheet gives them."""
    from daqlab.acquisition.tags import to_rows

    rows = [r for r in to_rows(plant.tags(1)) if r["name"] in names]
    keep = ("name", "slave_id", "register", "address", "type", "byte_order", "scale")
    return "".join("  - " + json.dumps({k: r[k] for k in keep if r[k] != ""}) + "\n" for r in rows)


def config(endpoint, *, points=POINTS, max_gap=0, northbound="", period=0.2, name="g01"):
    return loads(textwrap.dedent(f"""\
        name: {name}
        scan_period_s: {period}
        southbound:
          - name: station
            url: {endpoint}
            timeout_s: 0.3
            max_gap: {max_gap}
        points:
        """) + points + textwrap.dedent(northbound), environ={})


def northbound(broker, account, extra=""):
    return f"""\
northbound:
  broker: {broker.url}
  username: {account.username}
  password: {account.password}
  {extra}
"""


def test_a_scan_sends_the_planned_requests_and_coalescing_beats_one_per_point():
    with daqlab.plant.run(stations=1, seed=0, frozen=True) as p:
        for gap, expected in ((0, 7), (40, 5)):
            with Gateway(config(p.endpoint(1), max_gap=gap)) as gw:
                planned = len(gw.plan())
                since = time.time()
                gw.run(count=4)
                served = [e for e in p.log(1) if e.time >= since]
            assert planned == expected, gw.plan().table()
            assert len(served) == 4 * planned == gw.devices["station"].requests
            assert gw.devices["station"].planned == planned and gw.devices["station"].scans == 4
        assert len(naive(gw.config.points)) == 10  # what polling each point on its own would send per scan


def test_gateway_values_equal_reader_reads_at_the_same_plant_time():
    with daqlab.plant.run(stations=1, seed=5, frozen=True) as p:  # seed 5: other unit ids, orders and scales
        cfg = config(p.endpoint(1), points=station_points(p, {
            "th.temperature", "th.humidity", "meter.voltage_l1", "meter.power_total", "meter.energy_import",
            "plc.parts", "plc.state", "vfd.output_freq", "ai.pressure", "plc.motor_running"}))
        with Gateway(cfg) as gw, Reader(p.endpoint(1)) as reader:
            for _ in range(3):
                got = gw.scan()
                want = reader.read(cfg.points)
                assert want.ok and got == want.values
                p.advance(7.5)  # the process moves on: the next comparison is at another plant time
        values = [v for _t, v, _q in gw.history]
        assert len(values[0]) == 10 and values[0] != values[-1]


def test_every_point_goes_up_with_its_quality(broker, accounts):
    points = POINTS + '  - {name: missing, address: "2!300100"}\n'
    with daqlab.plant.run(stations=1, seed=0, frozen=True) as p:
        rec = Recorder.connect(broker, accounts["platform"])
        cfg = config(p.endpoint(1), points=points, northbound=northbound(broker, accounts["g01"]))
        try:
            with Gateway(cfg) as gw:
                gw.scan()                                   # all good but the register the sensor does not have
                p.set_fault(1, "vfd", "offline")            # no reply: freq and current time out
                p.set_fault(1, "meter", "broken")           # NaN floats: invalid
                gw.scan()
                gw.scan()                                   # same qualities: no new status event
                p.clear_faults(1)
                gw.scan()
                gw.uplink.flush()
                status = gw.points_frame()
            posts = rec.wait_for(4, device="g01", kind="post")
            events = rec.wait_for(3, device="g01", kind="event")
        finally:
            rec.close()
    assert all(not r.errors for r in posts + events), [r.errors for r in posts + events if r.errors]
    docs = [r.doc() for r in posts]
    sent = [set(d["params"]) for d in docs]
    good_all = {"temperature", "humidity", "voltage_l1", "voltage_l2", "power", "energy", "parts", "state", "freq",
                "current"}
    assert sent[0] == good_all and sent[3] == good_all  # a bad point is left out of the post, never sent as NaN
    assert sent[1] == sent[2] == {"temperature", "humidity", "parts", "state"}
    quality = [r.doc()["params"]["value"] for r in events]
    assert len(events) == 3  # first scan, on change, back to good: not every scan
    assert quality[0]["missing"] == "exception 02" and quality[0]["temperature"] == "good"
    assert quality[1]["freq"] == quality[1]["current"] == "timeout"
    assert quality[1]["power"] == quality[1]["voltage_l1"] == "invalid"
    assert set(quality[2].values()) == {"good", "exception 02"}
    # a post and its event carry the same scan time; the event comes before the next post
    assert events[1].doc()["params"]["time"] == docs[1]["params"]["temperature"]["time"]
    assert status.loc["missing", "quality"] == "exception 02" and status.loc["freq", "quality"] == "good"


def test_per_device_statistics_count_each_quality():
    with daqlab.plant.run(stations=1, seed=0, frozen=True) as p:
        src = textwrap.dedent(f"""\
            scan_period_s: 0.2
            southbound:
              - {{name: station, url: "{p.endpoint(1)}", timeout_s: 0.3}}
              - {{name: nobody, url: "tcp://127.0.0.1:9", timeout_s: 0.3}}
            points:
              - {{name: temperature, device: station, address: "2!300002", type: INT16, scale: 0.1}}
              - {{name: ghost, device: station, address: "2!300100"}}
              - {{name: far, device: nobody, address: "1!400001"}}
            """)
        with Gateway(loads(src, environ={})) as gw:
            gw.run(count=2)
            dev = gw.devices_frame()
    assert dev.loc["station", ["scans", "good", "exception", "timeout"]].tolist() == [2, 2, 2, 0]
    assert dev.loc["nobody", ["scans", "good", "timeout"]].tolist() == [2, 0, 2]
    assert "far" in dev.loc["nobody", "last_error"]


def test_store_and_forward_across_a_broker_outage_keeps_every_scan(broker, accounts):
    with daqlab.plant.run(stations=1, seed=0) as p:
        rec = Recorder.connect(broker, accounts["platform"], client_id="gw-platform")
        cfg = config(p.endpoint(1), northbound=northbound(broker, accounts["g02"]), name="g02")
        try:
            with Gateway(cfg) as gw:
                gw.run(count=3)
                gw.uplink.flush()
                broker.stop()
                gw.run(count=5)                      # the broker is away: scans go on, posts are held
                assert gw.uplink.pending >= 5 and not gw.uplink.connected
                broker.start()
                gw.run(count=2)
                gw.uplink.flush(30)
                times = [t for t, _v, _q in gw.history]
            got = rec.wait_for(10, device="g02", kind="post", timeout=30)
        finally:
            rec.close()
    posted = sorted({r.doc()["params"]["temperature"]["time"] for r in got})
    assert posted == times  # every scan arrived, at its own sample time


def test_status_file_is_written_each_scan(tmp_path):
    with daqlab.plant.run(stations=1, seed=0, frozen=True) as p:
        path = tmp_path / "status.json"
        with Gateway(config(p.endpoint(1)), status_file=path) as gw:
            gw.run(count=2)
            doc = json.loads(path.read_text())
    assert doc["scans"] == 2 and doc["gateway"] == "g01" and doc["northbound"] is None
    assert {d["name"] for d in doc["devices"]} == {"station"} and len(doc["points"]) == 10
    assert all(pt["quality"] == "good" for pt in doc["points"])


def test_point_status_events_are_validated():
    ev = tm.point_status({"th.temperature": "good", "freq": "exception 0B"}, 1764055200000, 9)
    assert tm.validate_event(ev) == [] and ev["params"]["value"] == {"th_temperature": "good", "freq": "exception 0B"}
    assert tm.validate_event({**ev, "params": {"value": {"t": "bad"}, "time": 1}})
    with pytest.raises(ValueError, match="not a quality"):
        tm.point_status({"t": "fine"}, 1, 1)


def test_run_returns_its_own_scans_even_when_the_history_is_full():
    with daqlab.plant.run(stations=1, seed=0, frozen=True) as p:
        with Gateway(config(p.endpoint(1)), history=5) as gw:
            sizes = [len(gw.run(count=3)) for _ in range(3)]
    assert sizes == [3, 3, 3] and len(gw.history) == 5


def test_a_name_other_than_the_mqtt_user_is_refused_at_load(broker, accounts):
    from daqlab.gateway import ConfigError

    with pytest.raises(ConfigError, match="differs from the MQTT user 'g01'"):
        config("tcp://127.0.0.1:5021", northbound=northbound(broker, accounts["g01"]), name="gw-station1")


def test_a_full_uplink_queue_does_not_stop_the_scans(accounts):
    from daqlab.northbound import Uplink

    with daqlab.plant.run(stations=1, seed=0, frozen=True) as p:
        a = accounts["g03"]
        up = Uplink("127.0.0.1", 9, a.username, a.password, max_pending=2, connect_timeout=0.2)  # no broker there
        with Gateway(config(p.endpoint(1), name="g03"), uplink=up) as gw:
            gw.run(count=4)
            assert gw.scans == 4 and up.dropped >= 1 and "not accepting more" in gw.uplink_error


def test_run_count_zero_scans_nothing():
    with daqlab.plant.run(stations=1, seed=0, frozen=True) as p:
        with Gateway(config(p.endpoint(1))) as gw:
            assert len(gw.run(count=0)) == 0 and gw.scans == 0


def test_the_panel_shows_points_not_read_yet_and_keeps_refreshing(tmp_path):
    from daqlab.gateway.ui import GatewayPanel

    cfg = tmp_path / "gateway.yaml"
    cfg.write_text("scan_period_s: 0.5\nsouthbound: [{name: s, url: 'tcp://127.0.0.1:9', timeout_s: 0.2}]\n"
                   "points: [{name: a, address: '1!400001'}]\n", encoding="utf-8")
    panel = GatewayPanel(cfg, environ={})
    panel.gateway = Gateway(loads(cfg.read_text(), environ={}))  # never scanned: value None, since NaT
    panel.refresh()
    assert ">not read<" in panel.status.value and "nan" not in panel.status.value.lower()
    panel.gateway.scan()  # a timeout: value still empty
    panel.refresh()
    assert ">timeout<" in panel.status.value and "nan" not in panel.status.value.lower()
    panel.gateway.close()
