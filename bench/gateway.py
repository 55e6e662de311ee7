"""Benchmark: ``daqlab gateway`` against per-point polling and a hand-written script, side by side in one run.

The job, as a contest states it: acquire a point table of 37 points from one station (all five devices: PLC,
temperature/humidity sensor, power meter, analogue input module, VFD; rows taken from the station's tag table,
0-based addresses, the datasheet's types, byte orders and scales) every scan, and deliver every value to the
platform over MQTT at QoS 1. Three ways of doing it, each with its own device account on one broker:

1. **gateway**: ``Gateway(loads(yaml))`` of ``daqlab.gateway``, configured as a user configures it (the point
   table inline, ``max_gap`` 0 = the default, northbound broker at QoS 1, no deadband): planner-coalesced reads,
   one property post per scan, a ``point_status`` event when a quality changes;
2. **per-point + Uplink**: a script on the daqlab library that polls its point table one point at a time
   (``Reader.read([tag])`` per point: one Modbus request each) and publishes one post per scan with
   ``Uplink.publish(values)``;
3. **raw**: what a trainee writes by hand: a pymodbus client (``daqlab.modbus.client_from_url``; the project
   imports pymodbus there only) reads each point on its own and decodes it with ``struct`` (types, CDAB word
   order, scale), and a paho-mqtt 2.x client (defaults, ``loop_start``) publishes **one thing-model post per
   point** at QoS 1 right after reading it: the loop trainees write first ("read a point, send it").

Each way is driven in a tight loop (``Gateway.scan()`` directly: ``gw.run()`` keeps a scan period of at least
0.05 s, which would cap every way at 20 scans/s), then everything is flushed (acknowledged by the broker).

Measured per way: **Modbus requests per scan** counted in the plant's served-request log (the plant runs in a
child process of this script; not the code's own counter, which is cross-checked in the log output); **scans/s**
and **p50 scan duration** (``time.perf_counter_ns`` around one scan: reads + publish calls); **MQTT messages and
bytes per scan** as received by the platform (bytes of the PUBLISH packets: fixed header, topic, packet id,
payload; PUBACKs not counted); **delivered values/s**: property values received by a counting subscriber (the
platform account, QoS 1 subscription, in its own child process) divided by the time from the first scan's
start to the last message's receipt (CLOCK_MONOTONIC is system-wide, so both processes read the same clock);
**loss**: messages published but never received, values read good but never received (must be 0 at QoS 1).

The plant's clock is frozen, so every scan reads the same values: at the end the three ways' last delivered
values are compared point by point (they must agree). Ways alternate (``--rounds``, the order reversed every
other round) after a short warm-up in each round; every loop is bounded in time and count.
"""

from __future__ import annotations

import argparse
import json
import math
import select
import struct
import sys
import threading
import time
import uuid
from pathlib import Path

if str(Path(__file__).parent) not in sys.path:  # run as a script or imported: find bench/_common.py
    sys.path.insert(0, str(Path(__file__).parent))
from _common import (  # noqa: E402
    HOST,
    ChildServer,
    Latencies,
    fmt,
    log,
    markdown_table,
    mosquitto_version,
    platform_summary,
    ratio,
    report_ready,
)

STATION, SEED = 1, 0  #: station 1 of a plant with seed 0 (the textbook unit ids: plc 1, th 2, meter 3, ai 5, vfd 6)
#: the point table: the station's process values (its configuration registers, coils and strings left out)
POINTS = (
    "plc.part_sensor", "plc.motor_running", "plc.alarm_active", "plc.parts", "plc.good", "plc.reject", "plc.state",
    "plc.alarm_word", "plc.cycle_time", "plc.batches",
    "th.temperature", "th.humidity",
    "meter.voltage_l1", "meter.voltage_l2", "meter.voltage_l3", "meter.current_l1", "meter.current_l2",
    "meter.current_l3", "meter.power_l1", "meter.power_l2", "meter.power_l3", "meter.power_total", "meter.pf_total",
    "meter.frequency", "meter.energy_import",
    "ai.pressure", "ai.level", "ai.motor_temp", "ai.flow", "ai.status",
    "vfd.fault_code", "vfd.status", "vfd.freq_command_rb", "vfd.output_freq", "vfd.output_current", "vfd.dc_bus",
    "vfd.output_voltage",
)
WAYS = ("gateway", "perpoint", "raw")
LABELS = {"gateway": "daqlab gateway (planned reads, 1 post/scan)",
          "perpoint": "Reader per point + Uplink (1 post/scan)",
          "raw": "raw pymodbus + paho (1 message per point)"}
SHORT = {"perpoint": "per-point polling + Uplink", "raw": "the raw script"}
DEVICES = {"gateway": "g01", "perpoint": "g02", "raw": "g03"}  #: each way's device account (deviceName)
GOOD = "good"
IO_TIMEOUT = 1.0  #: seconds a Modbus read may take (the gateway's default timeout_s)
WARMUP_S = 0.3  #: seconds of scans before each measurement (connections, caches, CPU clock); not counted
MAX_SCANS = 1_000_000  #: hard cap on scans in any one measurement
QUIET_S = 2.0  #: the subscriber stops waiting for missing messages after this long without any
FLUSH_TIMEOUT = 120.0  #: seconds a way may take to get everything acknowledged by the broker
ANSWER_TIMEOUT = 60.0  #: seconds a child process may take to answer a command
clock = time.monotonic_ns  # CLOCK_MONOTONIC: the same clock in every process of this machine


# ------------------------------------------------------------------------------ the point table
def point_rows() -> list[dict]:
    """The point table: one row per point (tag-table columns), named by its thing-model identifier
    (``th.temperature`` -> ``th_temperature``) so that every way sends the same property names."""
    from daqlab.acquisition.tags import to_rows
    from daqlab.plant.tags import tag_table

    rows = {r["name"]: r for r in to_rows(tag_table(STATION, seed=SEED))}
    keep = ("slave_id", "register", "address", "type", "byte_order", "scale", "offset")
    return [{"name": name.replace(".", "_"), **{k: rows[name][k] for k in keep}} for name in POINTS]


def gateway_yaml(url: str, broker, account, max_gap: int) -> str:
    """The gateway's configuration file, as a user writes it (the point table inline)."""
    points = "".join("  - " + json.dumps({k: v for k, v in r.items() if v not in ("", 0.0) or k == "address"})
                     + "\n" for r in point_rows())
    return (f"name: {account.username}\nscan_period_s: 0.05\nsouthbound:\n  - name: station\n    url: {url}\n"
            f"    timeout_s: {IO_TIMEOUT}\n    max_gap: {max_gap}\npoints:\n{points}northbound:\n"
            f"  broker: {broker.url}\n  username: {account.username}\n  password: {account.password}\n  qos: 1\n")


# ------------------------------------------------------------------------------ child processes
class Child(ChildServer):
    """A child of this script in one of its hidden serve modes, answering one JSON line per command line."""

    def ask(self, line: str) -> dict:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], ANSWER_TIMEOUT)
        answer = self.proc.stdout.readline() if ready else ""
        if not answer:
            raise RuntimeError(f"{self.name} did not answer {line!r}: {self.stderr()}")
        return json.loads(answer)


def serve_plant() -> int:
    """Child mode: one frozen plant station on a free port; ``count BEFORE`` -> the station's served-request
    total and, of the requests since the total was BEFORE, how many were not answered "ok"."""
    import daqlab.plant

    with daqlab.plant.run(stations=STATION, seed=SEED, frozen=True) as plant:
        reqlog = plant.station(STATION).log

        def count(before: int) -> dict:
            total = reqlog.total
            recent = min(total - before, len(reqlog))
            bad = sum(e.status != "ok" for e in reqlog.entries(limit=recent)) if recent > 0 else 0
            return {"total": total, "bad": bad}

        report_ready([plant.port(STATION)])
        for line in sys.stdin:
            cmd, *arg = line.split()
            if cmd == "count":
                print(json.dumps(plant.call(count, int(arg[0]))), flush=True)
    return 0


class PlantProcess(Child):
    def __init__(self):
        super().__init__(__file__, ["--serve", "plant"], name="plant")

    @property
    def url(self) -> str:
        return f"tcp://{HOST}:{self.ports[0]}"

    def count(self, before: int = 0) -> dict:
        return self.ask(f"count {before}")


def packet_size(topic: str, payload: bytes, qos: int = 1) -> int:
    """Bytes of an MQTT 3.1.1 PUBLISH packet: fixed header (type + remaining length), topic, packet id, payload."""
    rem = 2 + len(topic.encode()) + (2 if qos else 0) + len(payload)
    return 1 + (1 if rem < 128 else 2 if rem < 16_384 else 3 if rem < 2_097_152 else 4) + rem


class Counter:
    """The platform: a lean paho subscriber to every device's events (property posts and point_status events);
    ``on_message`` only keeps (topic, payload, receipt time); :meth:`collect` does the counting."""

    def __init__(self, host: str, port: int, username: str, password: str):
        import paho.mqtt.client as mqtt

        self._got: list = []
        ready, error = threading.Event(), []
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-platform-{uuid.uuid4().hex[:8]}",
                        protocol=mqtt.MQTTv311, clean_session=True)
        c.username_pw_set(username, password)

        def on_connect(client, userdata, flags, reason_code, properties):
            if reason_code.is_failure:
                error.append(str(reason_code))
                ready.set()
            else:
                client.subscribe("/sys/+/+/thing/event/#", qos=1)

        def on_subscribe(client, userdata, mid, reason_codes, properties):
            if any(rc.is_failure for rc in reason_codes):
                error.append("subscription refused")
            ready.set()

        got = self._got

        def on_message(client, userdata, msg):
            got.append((msg.topic, msg.payload, clock()))

        c.on_connect, c.on_subscribe, c.on_message = on_connect, on_subscribe, on_message
        self.client = c
        c.connect(host, port, keepalive=30)
        c.loop_start()
        if not ready.wait(10) or error:
            c.loop_stop()
            raise RuntimeError(f"the counting subscriber could not subscribe: {error or 'timeout'}")

    def collect(self, device: str, n: int) -> dict:
        """Wait until ``n`` messages arrived (or none for :data:`QUIET_S`), count what came from ``device``,
        and forget everything received so far."""
        got = self._got
        seen, quiet_since = -1, time.monotonic()
        while len(got) < n:
            if len(got) != seen:
                seen, quiet_since = len(got), time.monotonic()
            elif time.monotonic() - quiet_since > QUIET_S:
                break
            time.sleep(0.005)
        time.sleep(0.05)  # stragglers and duplicates
        taken = got[:]
        del got[:len(taken)]
        out = {"received": 0, "distinct": 0, "dups": 0, "posts": 0, "events": 0, "values": 0, "bytes": 0,
               "other": 0, "invalid": 0, "last_t": 0, "last_values": {}}
        ids = set()
        for topic, payload, t in taken:
            parts = topic.split("/")  # /sys/{productKey}/{deviceName}/thing/event/{identifier}/post
            if len(parts) < 4 or parts[3] != device:
                out["other"] += 1
                continue
            out["received"] += 1
            try:
                doc = json.loads(payload)
                key = (parts[6], doc["id"])
            except (ValueError, KeyError, IndexError, TypeError):
                out["invalid"] += 1
                continue
            if key in ids:
                out["dups"] += 1
                continue
            ids.add(key)
            out["bytes"] += packet_size(topic, payload)
            out["last_t"] = max(out["last_t"], t)
            if parts[6] == "property":
                out["posts"] += 1
                params = doc.get("params", {})
                out["values"] += len(params)
                out["last_values"].update({k: v["value"] if isinstance(v, dict) else v for k, v in params.items()})
            else:
                out["events"] += 1
        out["distinct"] = len(ids)
        return out

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def serve_subscriber(host: str, port: int, username: str, password: str) -> int:
    """Child mode: subscribe, print ``READY []``, answer ``collect DEVICE N`` with a JSON line until stdin closes."""
    counter = Counter(host, port, username, password)
    report_ready([])
    try:
        for line in sys.stdin:
            cmd, device, n = line.split()
            if cmd == "collect":
                print(json.dumps(counter.collect(device, int(n))), flush=True)
    finally:
        counter.close()
    return 0


class SubscriberProcess(Child):
    def __init__(self, host: str, port: int, username: str, password: str):
        super().__init__(__file__, ["--serve", "subscriber", "--host", host, "--port", str(port), "--user", username,
                                    "--password", password], name="subscriber")

    def collect(self, device: str, n: int) -> dict:
        return self.ask(f"collect {device} {n}")


# ------------------------------------------------------------------------------ the three ways
class GatewayWay:
    """``daqlab gateway``: one ``Gateway.scan()`` per scan."""

    def __init__(self, url: str, broker, account, max_gap: int):
        from daqlab.gateway import Gateway, loads

        self.gw = Gateway(loads(gateway_yaml(url, broker, account, max_gap), environ={}))
        self._qualities = None  # the qualities of the previous scan (the gateway sends an event when they change)

    @property
    def requests(self) -> int:
        return sum(d.requests for d in self.gw.devices.values())

    def scan(self) -> tuple[int, int, int]:
        """One scan: (good values read, bad reads, MQTT messages published)."""
        self.gw.scan()
        _t, _values, qualities = self.gw.history[-1]
        good = sum(q == GOOD for q in qualities.values())
        messages = (good > 0) + (qualities != self._qualities)  # the engine's contract: a post, an event on change
        self._qualities = qualities
        return good, len(qualities) - good, messages

    def flush(self) -> None:
        self.gw.uplink.flush(FLUSH_TIMEOUT)

    def close(self) -> None:
        self.gw.close()


class PerPointWay:
    """daqlab's Reader one point at a time (one request each), one ``Uplink.publish`` per scan."""

    def __init__(self, url: str, broker, account):
        from daqlab.acquisition import Reader
        from daqlab.acquisition.tags import tag_from_row
        from daqlab.northbound import Uplink

        self.tags = [tag_from_row(dict(r)) for r in point_rows()]
        self.reader = Reader(url, timeout=IO_TIMEOUT).connect()
        self.uplink = Uplink(broker.host, broker.port, account.username, account.password, qos=1)

    @property
    def requests(self) -> int:
        return self.reader.requests_sent

    def scan(self) -> tuple[int, int, int]:
        values, bad = {}, 0
        for tag in self.tags:
            sample = self.reader.read([tag])
            values[tag.name] = sample.values[tag.name]
            bad += sample.quality[tag.name] != GOOD
        sent = self.uplink.publish(values) is not None
        return len(values) - bad, bad, int(sent)

    def flush(self) -> None:
        self.uplink.flush(FLUSH_TIMEOUT)

    def close(self) -> None:
        self.reader.close()
        self.uplink.close()


def decode_by_hand(row: dict, reply) -> object:
    """What a trainee writes: registers (or bits) -> engineering value, for the types of this point table."""
    kind, order = row["type"], row["byte_order"] or "ABCD"
    if kind == "BOOL":
        return bool(reply.bits[0])
    r = reply.registers
    if kind == "UINT16":
        raw = r[0]
    elif kind == "INT16":
        raw = r[0] - 65536 if r[0] >= 32768 else r[0]
    elif kind in ("UINT32", "FLOAT32") and order in ("ABCD", "CDAB"):
        words = r[:2] if order == "ABCD" else [r[1], r[0]]
        packed = struct.pack(">HH", *words)
        raw = struct.unpack(">I" if kind == "UINT32" else ">f", packed)[0]
    else:
        raise ValueError(f"{row['name']}: {kind} {order} is not decoded by this benchmark's raw script")
    return raw * row["scale"] + row["offset"] if (row["scale"] != 1.0 or row["offset"]) else raw


class RawWay:
    """A hand-written script: pymodbus reads one point at a time, paho publishes one post per point."""

    READ = {"coil": "read_coils", "discrete": "read_discrete_inputs", "holding": "read_holding_registers",
            "input": "read_input_registers"}
    COUNT = {"BOOL": 1, "UINT16": 1, "INT16": 1, "UINT32": 2, "FLOAT32": 2}

    def __init__(self, url: str, broker, account):
        import paho.mqtt.client as mqtt

        from daqlab.modbus import client_from_url

        self.rows = point_rows()
        for row in self.rows:
            if row["type"] not in self.COUNT:
                raise ValueError(f"{row['name']}: type {row['type']} is not read by this benchmark's raw script")
        self.modbus = client_from_url(url, timeout=IO_TIMEOUT)
        if not self.modbus.connect():
            raise RuntimeError(f"raw script: no Modbus connection to {url}")
        self.topic = f"/sys/daqlab/{account.username}/thing/event/property/post"
        self.requests = 0
        self.published = self.acked = 0
        self._msg_id = 0
        connected = threading.Event()
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-raw-{uuid.uuid4().hex[:8]}")
        c.username_pw_set(account.username, account.password)
        c.on_connect = lambda client, userdata, flags, rc, props: connected.set()
        c.on_publish = self._on_publish
        c.connect(broker.host, broker.port)
        c.loop_start()
        if not connected.wait(10):
            c.loop_stop()
            raise RuntimeError("raw script: the MQTT client did not connect")
        self.mqtt = c

    def _on_publish(self, client, userdata, mid, reason_code, properties):
        self.acked += 1  # paho's network thread only

    def scan(self) -> tuple[int, int, int]:
        from daqlab.modbus import ModbusException

        good = bad = 0
        for row in self.rows:
            self.requests += 1
            try:
                reply = getattr(self.modbus, self.READ[row["register"]])(
                    row["address"], count=self.COUNT[row["type"]], device_id=row["slave_id"])
            except ModbusException:
                bad += 1
                continue
            if reply.isError():
                bad += 1
                continue
            value = decode_by_hand(row, reply)
            self._msg_id += 1
            payload = json.dumps({"id": str(self._msg_id), "version": "1.0",
                                  "params": {row["name"]: {"value": value, "time": int(time.time() * 1000)}},
                                  "method": "thing.event.property.post"})
            self.published += 1
            self.mqtt.publish(self.topic, payload, qos=1)
            good += 1
        return good, bad, good

    def flush(self) -> None:
        deadline = time.monotonic() + FLUSH_TIMEOUT
        while self.acked < self.published:  # what a script does before it exits (outside the timed scans)
            if time.monotonic() > deadline:
                raise RuntimeError(f"raw script: {self.published - self.acked} message(s) not acknowledged")
            time.sleep(0.001)

    def close(self) -> None:
        self.modbus.close()
        self.mqtt.disconnect()
        self.mqtt.loop_stop()


# ------------------------------------------------------------------------------ results
class Run(Latencies):
    """Scan durations (ns) and counts of one way, merged over rounds; ``rate`` is scans per second."""

    def __init__(self) -> None:
        super().__init__()
        self.requests = 0  #: Modbus requests the plant served during the measured scans
        self.own_requests = 0  #: requests the way's own counter says it sent (cross-check only)
        self.plant_bad = 0  #: requests the plant did not answer "ok"
        self.good = 0  #: point reads with a good value
        self.bad = 0  #: point reads without one
        self.published = 0  #: MQTT messages the way published
        self.received = 0  #: distinct messages the platform received
        self.dups = 0  #: duplicates received (allowed at QoS 1)
        self.other = 0  #: messages from another device or run (must be 0)
        self.values = 0  #: property values the platform received
        self.bytes = 0  #: bytes of the PUBLISH packets received
        self.deliver_ns = 0  #: first scan start -> last message received
        self.last_values: dict = {}  #: the last value of each point the platform received (last round)

    def merge(self, other: Run) -> Run:
        super().merge(other)
        for k in ("requests", "own_requests", "plant_bad", "good", "bad", "published", "received", "dups", "other",
                  "values", "bytes", "deliver_ns"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        return self

    @property
    def scans(self) -> int:
        return len(self.lat)

    def per_scan(self, n: int) -> float:
        return n / self.scans if self.scans else math.nan

    @property
    def values_rate(self) -> float:
        """Property values delivered to the platform per second."""
        return self.values / (self.deliver_ns / 1e9) if self.deliver_ns else math.nan

    @property
    def lost_messages(self) -> int:
        return self.published - self.received

    @property
    def lost_values(self) -> int:
        return self.good - self.values


def measure(way, device: str, plant: PlantProcess, sub: SubscriberProcess, seconds: float) -> Run:
    """Warm up; then scan in a tight loop for ``seconds``, flush, and count what the plant served and the
    platform received."""
    published = 0
    warm_end = clock() + int(WARMUP_S * 1e9)
    for _ in range(MAX_SCANS):
        if clock() >= warm_end:
            break
        published += way.scan()[2]
    way.flush()
    sub.collect(device, published)  # the warm-up's messages: received and forgotten
    run = Run()
    before, own0 = plant.count()["total"], way.requests
    timer = time.perf_counter_ns
    start = clock()
    deadline = start + int(seconds * 1e9)
    t1 = timer()
    t_start = t1
    for _ in range(MAX_SCANS):
        t0 = timer()
        if clock() >= deadline:
            break
        good, bad, messages = way.scan()
        t1 = timer()
        run.lat.append(t1 - t0)
        run.good += good
        run.bad += bad
        run.published += messages
    run.elapsed_ns = t1 - t_start
    way.flush()
    served = plant.count(before)
    run.requests, run.plant_bad = served["total"] - before, served["bad"]
    run.own_requests = way.requests - own0
    got = sub.collect(device, run.published)
    run.received, run.dups, run.other = got["distinct"], got["dups"], got["other"] + got["invalid"]
    run.values, run.bytes = got["values"], got["bytes"]
    run.deliver_ns = got["last_t"] - start if got["last_t"] else 0
    run.last_values = got["last_values"]
    return run


# ------------------------------------------------------------------------------- report
def table(res: dict[str, Run]) -> str:
    head = ("Way", "Modbus requests/scan", "scans/s", "p50 scan (ms)", "MQTT messages/scan", "MQTT bytes/scan",
            "delivered values/s", "lost messages / values (QoS 1)")
    rows = []
    for w in WAYS:
        r = res[w]
        rows.append((LABELS[w], fmt(r.per_scan(r.requests), 1), fmt(r.rate), fmt(r.pct(.5) / 1e6, 2),
                     fmt(r.per_scan(r.received), 1), fmt(r.per_scan(r.bytes)), fmt(r.values_rate),
                     f"{r.lost_messages:,} / {r.lost_values:,}"))
    return markdown_table(head, rows)


def ratio_table(res: dict[str, Run]) -> str:
    """Gateway vs each other way, every ratio oriented so that > 1 means the gateway does better."""
    g = res["gateway"]
    head = ("gateway vs", "fewer requests/scan", "scans/s", "shorter p50 scan", "fewer messages/scan",
            "fewer bytes/scan", "delivered values/s")
    rows = []
    for w in WAYS[1:]:
        r = res[w]
        rows.append((LABELS[w], ratio(r.per_scan(r.requests), g.per_scan(g.requests)), ratio(g.rate, r.rate),
                     ratio(r.pct(.5), g.pct(.5)), ratio(r.per_scan(r.received), g.per_scan(g.received)),
                     ratio(r.per_scan(r.bytes), g.per_scan(g.bytes)), ratio(g.values_rate, r.values_rate)))
    return markdown_table(head, rows)


def conditions(args, url_points: int) -> str:
    import paho.mqtt

    return (f"{platform_summary()}, paho-mqtt {paho.mqtt.__version__}, {mosquitto_version()}; plant "
            f"(seed {SEED}, station {STATION}, frozen clock) and the counting platform subscriber each in a child "
            f"process, one DAQ Lab broker on 127.0.0.1, the three ways here one after another; {url_points} points "
            f"from 5 devices, gateway max_gap {args.max_gap}; MQTT QoS 1; {args.seconds:g} s per way "
            f"({args.rounds} alternating round(s), {WARMUP_S:g} s warm-up each).")


def same_values(res: dict[str, Run]) -> tuple[bool, str]:
    """Whether every way delivered the same value for every point (the plant is frozen)."""
    ref = res["gateway"].last_values
    problems = []
    for w in WAYS[1:]:
        got = res[w].last_values
        if set(got) != set(ref):
            problems.append(f"{w}: points {sorted(set(got) ^ set(ref))} missing on one side")
            continue
        for k, v in ref.items():
            o = got[k]
            same = (o == v) if isinstance(v, bool) or isinstance(o, bool) else math.isclose(o, v, rel_tol=1e-9,
                                                                                             abs_tol=1e-9)
            if not same:
                problems.append(f"{w}: {k} = {o!r}, gateway {v!r}")
    return not problems, "; ".join(problems[:5])


def verdict(res: dict[str, Run]) -> str:
    g = res["gateway"]
    parts = []
    for w in WAYS[1:]:
        r = res[w]
        parts.append(f"vs {SHORT[w]}: {ratio(r.per_scan(r.requests), g.per_scan(g.requests))} fewer Modbus requests per "
                     f"scan, {ratio(g.values_rate, r.values_rate)} the delivered values/s")
    lost = sum(r.lost_messages + max(r.lost_values, 0) for r in res.values())
    bad = sum(r.bad + r.plant_bad for r in res.values())
    same, why = same_values(res)
    return (f"Verdict: gateway {'; '.join(parts)}. Lost at QoS 1: {lost} {'PASS' if lost == 0 else 'FAIL'} (goal 0); "
            f"every read good: {'yes' if bad == 0 else f'NO ({bad} bad reads)'}; the same value of every point "
            f"delivered by all three ways: {'yes' if same else f'NO ({why})'}.")


# --------------------------------------------------------------------------------- main
def compare(args) -> int:
    from daqlab.northbound import Broker, roster_accounts
    from daqlab.northbound.accounts import new_secret

    accounts = {a.username: a for a in roster_accounts(list(DEVICES.values()), new_secret())}
    platform = accounts["platform"]
    res = {w: Run() for w in WAYS}
    each = args.seconds / args.rounds
    with PlantProcess() as plant, Broker(list(accounts.values())) as broker, \
            SubscriberProcess(broker.host, broker.port, platform.username, platform.password) as sub:
        ways = {}
        try:
            ways["gateway"] = GatewayWay(plant.url, broker, accounts[DEVICES["gateway"]], args.max_gap)
            ways["perpoint"] = PerPointWay(plant.url, broker, accounts[DEVICES["perpoint"]])
            ways["raw"] = RawWay(plant.url, broker, accounts[DEVICES["raw"]])
            for rnd in range(1, args.rounds + 1):
                order = WAYS if rnd % 2 else WAYS[::-1]
                for w in order:
                    r = measure(ways[w], DEVICES[w], plant, sub, each)
                    res[w].merge(r)
                    res[w].last_values = r.last_values
                    log(f"round {rnd}/{args.rounds} {w:8s} {r.per_scan(r.requests):5.1f} req/scan (own counter "
                        f"{r.per_scan(r.own_requests):5.1f}) {r.rate:7,.0f} scans/s  p50 {r.pct(.5) / 1e6:6.2f} ms  "
                        f"{r.per_scan(r.received):5.1f} msg/scan {r.per_scan(r.bytes):7,.0f} B/scan  "
                        f"{r.values_rate:9,.0f} values/s  received {r.received:,}/{r.published:,} (dups {r.dups}, "
                        f"other {r.other}) values {r.values:,}/{r.good:,}  bad reads {r.bad + r.plant_bad}")
            plan = ways["gateway"].gw.plan()
        finally:
            for way in ways.values():
                way.close()

    print()
    print(conditions(args, len(POINTS)))
    print()
    print(table(res))
    print()
    print("Gateway vs the others (> 1: the gateway does better):")
    print()
    print(ratio_table(res))
    print()
    print(verdict(res))
    print()
    print(f"The gateway's read plan: {len(plan)} requests for {plan.tags} points "
          f"({', '.join(f'unit {q.unit} FC {q.function:02d} {q.address}+{q.count}' for q in plan)}).")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="bench/gateway.py",
        description="One station's 37-point table acquired and delivered over MQTT QoS 1 three ways, side by side "
                    "in one run: daqlab gateway, per-point polling with daqlab's Reader and Uplink, and a raw "
                    "pymodbus + paho-mqtt script. Modbus requests per scan (the plant's log), scans/s, MQTT "
                    "messages and bytes per scan, delivered values/s, loss; ratios. Prints Markdown tables for README.",
        epilog="examples:\n"
               "  python bench/gateway.py                    # full run (about 40 s)\n"
               "  python bench/gateway.py --quick            # smoke run (a few seconds)\n"
               "  python bench/gateway.py --seconds 15 --rounds 5\n"
               "  python bench/gateway.py --max-gap 8        # let the gateway read holes of up to 8 registers",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="short durations (0.5 s per way, 1 round)")
    p.add_argument("--seconds", type=float, default=None, help="seconds per way, over all rounds (default 9)")
    p.add_argument("--rounds", type=int, default=None, help="alternating rounds (default 3; --quick: 1)")
    p.add_argument("--max-gap", type=int, default=0, help="the gateway's max_gap (default 0, its own default)")
    # hidden child modes: the plant, the counting subscriber
    p.add_argument("--serve", choices=("plant", "subscriber"), help=argparse.SUPPRESS)
    p.add_argument("--host", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--user", help=argparse.SUPPRESS)
    p.add_argument("--password", help=argparse.SUPPRESS)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if args.serve == "plant":
        return serve_plant()
    if args.serve == "subscriber":
        return serve_subscriber(args.host, args.port, args.user, args.password)
    if args.seconds is None:
        args.seconds = 0.5 if args.quick else 9.0
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    if not (0 < args.seconds <= 600 and 1 <= args.rounds <= 20 and 0 <= args.max_gap <= 124):
        parser().error("out of range: seconds 0..600, rounds 1..20, max-gap 0..124")
    return compare(args)


if __name__ == "__main__":
    sys.exit(main())
