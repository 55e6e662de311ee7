"""The gateway uplink against a real Mosquitto: round trip, deadband, QoS/retain, last will, store-and-forward."""

import json
import subprocess
import sys
import textwrap
import time

import pytest

import daqlab.plant
from daqlab.acquisition.reader import Reader
from daqlab.northbound import Broker, Recorder, Uplink, device_account, platform_account
from daqlab.northbound.uplink import UplinkError

from .conftest import need_mosquitto


def uplink(broker, account, **kw):
    return Uplink(broker.host, broker.port, account.username, account.password, **kw)


def posts(rec, device="t01"):
    return [json.loads(r.payload) for r in rec.records(device=device, kind="post")]


def test_a_sample_goes_up_as_a_valid_thing_model_post_and_the_platform_replies(broker, accounts, recorder):
    replies = Recorder(broker.host, broker.port, "t01", accounts["t01"].password, reply=False,
                       topics=[accounts["t01"].topics.post_reply])
    try:
        with uplink(broker, accounts["t01"]) as up:
            t = int(time.time() * 1000)
            mid = up.publish({"th.temperature": 23.4, "th.humidity": 41, "meter.power_total": None}, t)
            up.flush()
        got = recorder.wait_for(1, device="t01", kind="post")[-1]
        assert got.errors == [] and got.qos == 1 and got.retain is False
        doc = got.doc()
        assert doc["id"] == str(mid) and doc["params"] == {"th_temperature": {"value": 23.4, "time": t},
                                                           "th_humidity": {"value": 41, "time": t}}
        reply = replies.wait_for(1, kind="reply")
        assert reply and json.loads(reply[0].payload)["code"] == 200 and json.loads(reply[0].payload)["id"] == str(mid)
    finally:
        replies.close()


def test_report_on_change_sends_only_moves_beyond_the_deadband(broker, accounts, recorder):
    sent = []
    with uplink(broker, accounts["t02"], deadband={"th.temperature": 0.1, "plc.run": 0}) as up:
        for temp, run in [(20.0, False), (20.05, False), (20.2, False), (20.25, True), (21.0, True), (21.0, True)]:
            sent.append(up.publish({"th.temperature": temp, "plc.run": run}))
        up.flush()
    assert [s is not None for s in sent] == [True, False, True, True, True, False]
    got = recorder.wait_for(4, device="t02", kind="post")
    params = [json.loads(r.payload)["params"] for r in got]
    assert [p.get("th_temperature", {}).get("value") for p in params] == [20.0, 20.2, None, 21.0]
    assert [p.get("plc_run", {}).get("value") for p in params] == [False, None, True, None]


def test_heartbeat_resends_unchanged_values(broker, accounts):
    with uplink(broker, accounts["t02"], deadband=1.0, heartbeat_s=0.2) as up:
        assert up.publish({"a": 1.0}) is not None
        assert up.publish({"a": 1.0}) is None
        time.sleep(0.25)
        assert up.publish({"a": 1.0}) is not None


@pytest.mark.parametrize("qos, retain", [(0, False), (1, True), (2, False)])
def test_qos_and_retain_arrive_as_published(broker, accounts, recorder, qos, retain):
    with uplink(broker, accounts["t01"], qos=qos, retain=retain) as up:
        up.publish({"qos_test": qos})
        up.flush()
        if retain:  # clear the retained post again (empty retained payload) for the tests that follow
            up.client.publish(up.topics.post, b"", qos=1, retain=True).wait_for_publish(5)

    def mine(r):
        doc = r.doc() if r.kind == "post" else None
        return isinstance(doc, dict) and doc.get("params", {}).get("qos_test", {}).get("value") == qos

    assert wait_records(recorder, mine)
    rec = [r for r in recorder.records(device="t01", kind="post") if mine(r)]
    assert rec[-1].qos == qos and rec[-1].retain is retain


def wait_records(recorder, pred, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(pred(r) for r in recorder.records()):
            return True
        time.sleep(0.02)
    return False


def test_the_broker_publishes_the_last_will_when_the_gateway_vanishes(broker, accounts, recorder):
    a = accounts["t02"]
    code = textwrap.dedent(f"""
        import time
        from daqlab.northbound import Uplink
        up = Uplink({broker.host!r}, {broker.port}, {a.username!r}, {a.password!r}, keepalive=5)
        up.publish({{"x": 1}}); up.flush(); print("up", flush=True); time.sleep(60)
    """)
    since = time.time()  # t02's statuses of earlier tests (a clean close posts "offline") do not count
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "up"
        proc.kill()  # no DISCONNECT: the broker must publish the will
        proc.wait(5)
        # an "offline" of an earlier test's clean close may still arrive after ``since`` on a busy machine: what
        # counts is this uplink's "online" followed by the will's "offline"
        deadline = time.monotonic() + 30
        while True:
            statuses = recorder.records(device="t02", kind="status", since=since)
            said = [json.loads(r.payload)["status"] for r in statuses]
            if "online" in said and "offline" in said[said.index("online"):] or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert "online" in said and said[-1] == "offline", said
        assert statuses[-1].retain  # retained: a platform that connects later still sees "offline"
    finally:
        proc.kill()


def _posts_across_an_outage(secret, device, before, during, go_down, settle, confirm=False):
    """Post ``before`` messages, take the broker down with ``go_down(broker, uplink)``, post ``during`` more
    while it is down, start it again; return (records of this device's posts, the uplink)."""
    need_mosquitto()
    dev, plat = device_account(device, secret), platform_account(secret)
    with Broker([dev, plat], persistence=True, log_type="all") as b:
        rec = Recorder.connect(b, plat, client_id="platform-recorder")
        up = uplink(b, dev, confirm=confirm)
        try:
            for i in range(before):
                up.publish({"seq": i})
            settle(up)
            go_down(b, up)
            time.sleep(0.3)
            for i in range(before, before + during):  # broker down: held in order by the uplink
                up.publish({"seq": i})
            assert up.pending >= during and not up.connected
            b.start()
            up.flush(30)
            got = rec.wait_for(before + during, device=device, kind="post", timeout=30)
            ids = {int(json.loads(r.payload)["id"]) for r in got}
            if ids != set(range(1, before + during + 1)):  # leave the evidence of where they went in the report
                log = b.log_path.read_text(errors="replace").splitlines()
                print(f"broker log, {len(log)} lines, PUBLISH lines towards the recorder after the restart:")
                print("\n".join(ln for ln in log[-400:] if "platform-recorder" in ln)[-12000:])
        finally:
            up.close()
            rec.close()
    return got, up


def test_store_and_forward_across_a_broker_restart_loses_nothing(secret):
    got, _ = _posts_across_an_outage(secret, "t05", 50, 70, go_down=lambda b, up: b.stop(),
                                     settle=lambda up: up.flush())
    ids = {int(json.loads(r.payload)["id"]) for r in got}
    seqs = {json.loads(r.payload)["params"]["seq"]["value"] for r in got}
    assert ids == set(range(1, 121)) and seqs == set(range(120)), f"lost {set(range(1, 121)) - ids}"
    # at least once: what the broker re-sent after its restart are copies of messages already recorded
    assert len({(r.topic, r.payload) for r in got}) == 120 <= len(got)


def test_kill_9_of_the_broker_loses_no_qos1_message(secret):
    """The broker dies with SIGKILL right after acknowledging posts it may not have passed on: with
    ``confirm`` the uplink keeps every post until the platform answered it and sends the unanswered ones
    again after the restart; the recorder's persistent session was saved on change. Every post arrives."""
    def taken(up):  # the broker has taken every post (a QoS 1 marker after them was acknowledged)
        up.client.publish(up.topics.status, "{}", qos=1).wait_for_publish(5)

    # SIGKILL: Mosquitto cannot save anything now, some posts may not have reached the platform
    got, up = _posts_across_an_outage(secret, "t07", 50, 50, go_down=lambda b, up: b.kill(), settle=taken,
                                      confirm=True)
    ids = {int(json.loads(r.payload)["id"]) for r in got}
    assert ids == set(range(1, 101)), f"lost {sorted(set(range(1, 101)) - ids)}"
    assert up.pending == 0 and up.dropped == 0


def test_messages_wait_in_the_spool_file_when_the_uplink_closes_offline(tmp_path, secret):
    need_mosquitto()
    dev, plat = device_account("t06", secret), platform_account(secret)
    with Broker([dev, plat]) as b:
        port = b.port
    spool = tmp_path / "uplink-spool.jsonl"
    up = Uplink("127.0.0.1", port, dev.username, dev.password, spool=spool, connect_timeout=0.3)
    for i in range(5):
        up.publish({"seq": i}, 1_000 + i)
    up.close(timeout=0.2)
    assert spool.exists() and len(spool.read_text().splitlines()) == 5
    with Broker([dev, plat], port=port) as b:
        rec = Recorder.connect(b, plat)
        with Uplink("127.0.0.1", port, dev.username, dev.password, spool=spool) as up2:
            nxt = up2.publish({"seq": 5})
            up2.flush()
        got = rec.wait_for(6, device="t06", kind="post")
        rec.close()
    assert nxt == 6 and not spool.exists()
    docs = [json.loads(r.payload) for r in got]
    assert [d["params"]["seq"]["value"] for d in docs] == list(range(6))
    assert [d["params"]["seq"]["time"] for d in docs[:5]] == [1000, 1001, 1002, 1003, 1004]  # original times


def test_a_polled_dataframe_goes_up_one_message_per_scan_at_scan_time(broker, accounts, recorder):
    with daqlab.plant.run(stations=1) as plant:
        tags = [t for t in plant.tags(1) if t.name in ("th.temperature", "th.humidity", "meter.power_total")]
        with Reader(plant.endpoint(1)) as r:
            df = r.poll(tags, period=0.1, count=3, progress=False)
    with uplink(broker, accounts["t01"]) as up:
        before = {r.payload for r in recorder.records(device="t01", kind="post")}
        ids = up.publish_frame(df)
        up.flush()
    assert len(ids) == 3
    got = [r for r in recorder.wait_for(3, device="t01", kind="post") if r.payload not in before]
    docs = sorted((json.loads(r.payload) for r in got), key=lambda d: int(d["id"]))[-3:]
    for i, doc in enumerate(docs):
        assert doc["params"]["th_temperature"]["value"] == pytest.approx(df["th.temperature"].iloc[i])
        assert doc["params"]["meter_power_total"]["value"] == pytest.approx(df["meter.power_total"].iloc[i])
        assert doc["params"]["th_humidity"]["time"] == int(df.attrs["epoch"][i] * 1000)


def test_wrong_credentials_are_a_clear_error(broker):
    with pytest.raises(UplinkError, match="refused"):
        Uplink(broker.host, broker.port, "t01", "not-the-password")


def test_from_env_uses_the_kernels_account(broker, accounts, recorder):
    env = broker.environment("t02")
    with Uplink.from_env(env) as up:
        assert up.topics.post == "/sys/daqlab/t02/thing/event/property/post"
        up.publish({"y": 2})
        up.flush()
    assert recorder.wait_for(1, device="t02", kind="post")


def test_a_gateway_publishes_each_scan_while_it_polls(broker, accounts, recorder):
    from daqlab.acquisition import Uplink as FromAcquisition

    assert FromAcquisition is Uplink
    seen = []
    with daqlab.plant.run(stations=1) as plant:
        tags = [t for t in plant.tags(1) if t.name in ("th.temperature", "plc.parts")]
        with Reader(plant.endpoint(1)) as r, uplink(broker, accounts["t02"]) as up:
            def publish(sample):
                seen.append(recorder.records(device="t02", kind="post"))  # what had arrived before this scan's post
                up.publish_sample(sample)
            df = r.poll(tags, period=0.15, count=4, progress=False, on_sample=publish)
            up.flush()
    got = recorder.wait_for(len(seen[0]) + 4, device="t02", kind="post")
    assert len(seen[-1]) >= len(seen[0]) + 2, "posts arrived while polling, not only at the end"
    docs = [json.loads(r.payload) for r in got[-4:]]
    assert [d["params"]["plc_parts"]["value"] for d in docs] == list(df["plc.parts"])
    assert [d["params"]["plc_parts"]["time"] for d in docs] == [int(e * 1000) for e in df.attrs["epoch"]]


def test_the_online_status_ack_is_not_kept_as_an_early_ack(broker, accounts):
    # the retained online status is the uplink's own message: its PUBACK must not stay in the early-ack set, or once
    # paho's message ids wrap (65535) a new post with the same id would count as acknowledged before the broker had it
    with uplink(broker, accounts["t01"]) as up:
        up.publish({"x": 1})
        up.flush()
        deadline = time.monotonic() + 5
        while up._foreign and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not up._early and not up._foreign
