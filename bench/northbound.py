"""Benchmark: publishing through ``daqlab.northbound.Uplink`` against raw paho-mqtt, side by side in one run.

One DAQ Lab broker (``daqlab.northbound.Broker``: Debian's Mosquitto with a generated config,
``max_queued_messages 0``) per run, one device account and the platform account. A lean paho-mqtt
subscriber (platform account, MQTT 3.1.1, the post topic at QoS 1) counts every message; it runs in a
child process of this script (hidden ``--serve`` mode), so it never competes with the publisher for one
GIL (``--subscriber inprocess`` puts it in this process instead, to see what that costs). Both
publishers are measured against the same subscriber.

Both publishers send the same bytes to the same topic: a thing-model property post with 5 properties
(``daqlab.northbound.thingmodel.property_post`` encoded as the uplink encodes it, compact JSON), ids
1..N per run, sample time ``time.time()`` in ms. Two of the 5 properties are for the benchmark: the run
number and the send stamp (``time.monotonic_ns()`` just before the publish call; CLOCK_MONOTONIC is
system-wide, so the subscriber process reads the same clock at receipt).

- **raw**: a paho-mqtt 2.x client (CallbackAPIVersion.VERSION2, MQTT 3.1.1, ``loop_start``, the same
  max_inflight and max_queued settings as the Uplink), per message ``property_post`` + ``json.dumps`` +
  ``client.publish``; then wait until paho reported every message (``on_publish``: PUBACK at QoS 1,
  written to the socket at QoS 0);
- **uplink**: ``Uplink.publish(values)`` per message, then ``Uplink.flush()``.

Measurements, per QoS (0 and 1), raw and uplink alternating (``--repeat`` repetitions, the order
reversed every other one; a discarded warm-up first):

1. **full load**: N messages as fast as the publisher goes; msg/s = N / (first publish → all acked or
   written), the median over repetitions; latency publish → subscriber receipt p50/p99 (at full load it
   is mostly the time a message waits in the publisher's own queue);
2. **paced**: ``--paced-messages`` at a fixed rate (``--paced-rate``, on a fixed schedule): latency
   p50/p99 without queueing;
3. **loss** = published − distinct ids the subscriber received (both phases): must be 0 at QoS 1;
   QoS 0 loss is shown for information.

Ratio uplink/raw of the median msg/s (goal >= 0.8×).
"""

from __future__ import annotations

import argparse
import inspect
import json
import select
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

if str(Path(__file__).parent) not in sys.path:  # run as a script or imported: find bench/_common.py
    sys.path.insert(0, str(Path(__file__).parent))
from _common import (  # noqa: E402
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

DEVICE = "bench01"  #: the device account both publishers use (same ACL, same topics)
SECRET = "daqlab-bench-northbound"  #: only for this run's throw-away broker
SIDES = ("raw", "uplink")
LABELS = {"raw": "raw paho-mqtt", "uplink": "daqlab Uplink"}
VALUES = {"th.temperature": 23.4, "th.humidity": 41.0, "meter.power_total": 1520.5}  #: + bench.run, bench.sent_ns
QUIET_S = 2.0  #: the subscriber gives up waiting for more messages of a run after this long without any
FLUSH_TIMEOUT = 120.0  #: seconds a publisher may take to get everything acknowledged
GOAL_RATIO = 0.8
clock = time.monotonic_ns  # CLOCK_MONOTONIC: the same clock in every process of this machine


def sample(run: int, sent_ns: int) -> dict:
    """One sample's values (tag names, as a gateway has them): 3 process values + run number + send stamp."""
    return {**VALUES, "bench.run": run, "bench.sent_ns": sent_ns}


def max_inflight_default() -> int:
    """The Uplink's max_inflight (the raw client is configured the same)."""
    from daqlab.northbound import Uplink

    return inspect.signature(Uplink).parameters["max_inflight"].default


# ------------------------------------------------------------------------------ subscriber
class Subscriber:
    """Lean paho subscriber: ``on_message`` only keeps (payload, receipt time); parsing is done by :meth:`collect`."""

    def __init__(self, host: str, port: int, username: str, password: str, topic: str):
        import paho.mqtt.client as mqtt

        self._got: list = []
        self._ready = threading.Event()
        self._error = None
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-sub-{uuid.uuid4().hex[:8]}",
                        protocol=mqtt.MQTTv311, clean_session=True)
        c.username_pw_set(username, password)
        c.max_queued_messages_set(0)

        def on_connect(client, userdata, flags, reason_code, properties):
            if reason_code.is_failure:
                self._error = str(reason_code)
                self._ready.set()
            else:
                client.subscribe(topic, qos=1)

        def on_subscribe(client, userdata, mid, reason_codes, properties):
            if any(rc.is_failure for rc in reason_codes):
                self._error = "subscription refused"
            self._ready.set()

        got = self._got

        def on_message(client, userdata, msg):
            got.append((msg.payload, clock()))

        c.on_connect, c.on_subscribe, c.on_message = on_connect, on_subscribe, on_message
        self.client = c
        c.connect(host, port, keepalive=30)
        c.loop_start()
        if not self._ready.wait(10) or self._error:
            c.loop_stop()
            raise RuntimeError(f"subscriber could not subscribe: {self._error or 'timeout'}")

    def collect(self, run: int, n: int) -> dict:
        """Wait until ``n`` messages arrived (or none for :data:`QUIET_S`), then return run ``run``'s
        counts and latencies and forget everything received so far."""
        got = self._got
        seen, quiet_since = -1, time.monotonic()
        while len(got) < n:
            if len(got) != seen:
                seen, quiet_since = len(got), time.monotonic()
            elif time.monotonic() - quiet_since > QUIET_S:
                break
            time.sleep(0.01)
        time.sleep(0.05)  # stragglers and duplicates
        taken = got[:]
        del got[:len(taken)]
        lat, ids, received, dups, other = [], set(), 0, 0, 0
        for payload, t in taken:
            doc = json.loads(payload)
            params = doc["params"]
            if params["bench_run"]["value"] != run:
                other += 1
                continue
            received += 1
            mid = doc["id"]
            if mid in ids:
                dups += 1
                continue
            ids.add(mid)
            lat.append(t - params["bench_sent_ns"]["value"])
        return {"received": received, "distinct": len(ids), "dups": dups, "other": other, "lat": lat,
                "sample": taken[0][0].decode() if taken else ""}

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def serve(host: str, port: int, username: str, password: str, topic: str) -> int:
    """Child mode: subscribe, print ``READY []``, then answer ``collect RUN N`` lines with a JSON line
    until stdin closes."""
    sub = Subscriber(host, port, username, password, topic)
    report_ready([])
    try:
        for line in sys.stdin:
            cmd, run, n = line.split()
            if cmd == "collect":
                print(json.dumps(sub.collect(int(run), int(n))), flush=True)
    finally:
        sub.close()
    return 0


class SubscriberProcess(ChildServer):
    """The subscriber in a child process; :meth:`collect` as :meth:`Subscriber.collect`."""

    def __init__(self, host: str, port: int, username: str, password: str, topic: str):
        super().__init__(__file__, ["--serve", "--host", host, "--port", str(port), "--user", username,
                                    "--password", password, "--topic", topic], name="subscriber")

    def collect(self, run: int, n: int) -> dict:
        self.proc.stdin.write(f"collect {run} {n}\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], FLUSH_TIMEOUT)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            raise RuntimeError(f"subscriber did not answer: {self.stderr()}")
        return json.loads(line)


class InProcessSubscriber(Subscriber):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ------------------------------------------------------------------------------- publishers
class RawPublisher:
    """What a gateway does by hand with paho-mqtt: the same client settings as the Uplink."""

    def __init__(self, host: str, port: int, username: str, password: str, topic: str, qos: int, max_inflight: int):
        import paho.mqtt.client as mqtt

        self.topic, self.qos = topic, qos
        self.done, self.target = 0, 0
        self.all_done = threading.Event()
        connected = threading.Event()
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-raw-{uuid.uuid4().hex[:8]}",
                        protocol=mqtt.MQTTv311, clean_session=True)
        c.username_pw_set(username, password)
        c.max_inflight_messages_set(max_inflight)
        c.max_queued_messages_set(0)
        c.on_connect = lambda client, userdata, flags, rc, props: connected.set()
        c.on_publish = self._on_publish
        self.client = c
        c.connect(host, port, keepalive=30)
        c.loop_start()
        if not connected.wait(10):
            c.loop_stop()
            raise RuntimeError("raw publisher did not connect")

    def _on_publish(self, client, userdata, mid, reason_code, properties):
        self.done += 1  # network thread only
        if self.done >= self.target:
            self.all_done.set()

    def expect(self, n: int) -> None:
        self.done, self.target = 0, n
        self.all_done.clear()

    def wait(self) -> None:
        if not self.all_done.wait(FLUSH_TIMEOUT):
            raise RuntimeError(f"raw: {self.target - self.done} message(s) not acknowledged")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def run_raw(broker, account, topic: str, qos: int, max_inflight: int, run: int, n: int, rate: float | None) -> int:
    """Publish ``n`` messages raw (paced at ``rate`` msg/s, or as fast as possible); ns from the first
    publish until all acknowledged/written."""
    from daqlab.northbound.thingmodel import property_post

    pub = RawPublisher(broker.host, broker.port, account.username, account.password, topic, qos, max_inflight)
    try:
        publish, dumps = pub.client.publish, json.dumps
        pub.expect(n)
        start = clock()
        for i in range(1, n + 1):
            if rate:
                pace(start, i, rate)
            t = clock()
            payload = dumps(property_post(sample(run, t), int(time.time() * 1000), i), separators=(",", ":"),
                            allow_nan=False)
            publish(topic, payload, qos=qos)
        pub.wait()
        return clock() - start
    finally:
        pub.close()


def run_uplink(broker, account, topic: str, qos: int, max_inflight: int, run: int, n: int,
               rate: float | None) -> int:
    """Publish ``n`` messages through ``Uplink.publish`` then ``flush``; same timing as :func:`run_raw`."""
    from daqlab.northbound import Uplink

    up = Uplink(broker.host, broker.port, account.username, account.password, qos=qos, max_inflight=max_inflight)
    try:
        assert up.topics.post == topic
        publish = up.publish
        start = clock()
        for i in range(1, n + 1):
            if rate:
                pace(start, i, rate)
            publish(sample(run, clock()))
        up.flush(FLUSH_TIMEOUT)
        return clock() - start
    finally:
        up.close()


def pace(start: int, i: int, rate: float) -> None:
    """Sleep until message ``i``'s slot on the fixed schedule start + (i - 1) / rate."""
    due = start + int((i - 1) * 1e9 / rate)
    left = due - clock()
    if left > 0:
        time.sleep(left / 1e9)


PUBLISH = {"raw": run_raw, "uplink": run_uplink}


# ----------------------------------------------------------------------------------- results
class Run(Latencies):
    """Latencies (ns, first receipt of each id) and counts of one side at one QoS, merged over repetitions."""

    def __init__(self) -> None:
        super().__init__()
        self.rates: list[float] = []  #: msg/s of each repetition
        self.published = 0
        self.distinct = 0  #: distinct ids received
        self.received = 0  #: messages received (duplicates included)

    def add(self, n: int, elapsed_ns: int, got: dict, rate: bool = True) -> None:
        if rate:
            self.rates.append(n / (elapsed_ns / 1e9))
        self.lat += got["lat"]
        self.published += n
        self.distinct += got["distinct"]
        self.received += got["received"]

    @property
    def lost(self) -> int:
        return self.published - self.distinct

    @property
    def median_rate(self) -> float:
        return statistics.median(self.rates) if self.rates else float("nan")


def table(res: dict, paced: dict, args) -> str:
    head = ("QoS", "publisher", f"msg/s (median of {args.repeat})", "uplink/raw",
            "full load p50 / p99 latency (ms)", f"paced {args.paced_rate:,.0f} msg/s p50 / p99 latency (ms)",
            "received / published", "lost")
    rows = []
    for qos in (0, 1):
        base = res[qos]["raw"]
        for side in SIDES:
            r, p = res[qos][side], paced[qos][side]
            rows.append((str(qos), LABELS[side], fmt(r.median_rate), ratio(r.median_rate, base.median_rate),
                         f"{fmt(r.pct(.5) / 1e6, 1)} / {fmt(r.pct(.99) / 1e6, 1)}",
                         f"{fmt(p.pct(.5) / 1e6, 2)} / {fmt(p.pct(.99) / 1e6, 2)}",
                         f"{r.distinct + p.distinct:,} / {r.published + p.published:,}", f"{r.lost + p.lost:,}"))
    return markdown_table(head, rows, left=2)


def conditions(args, max_inflight: int) -> str:
    import paho.mqtt

    where = ("in a child process (its own GIL)" if args.subscriber == "process"
             else "in this process (sharing the publisher's GIL)")
    return (f"{platform_summary()}, paho-mqtt {paho.mqtt.__version__}, {mosquitto_version()}; one DAQ Lab broker "
            f"(max_queued_messages 0) on 127.0.0.1; subscriber: lean paho client {where}, QoS 1 subscription; "
            f"publishers here, MQTT 3.1.1, max_inflight {max_inflight}, unlimited client queue, loop_start; "
            f"{args.messages:,} messages per run at full load, {args.paced_messages:,} paced, {args.repeat} "
            f"alternating repetition(s) after a {args.warmup:,}-message warm-up; payload: property post with 5 "
            f"properties, {payload_size()} bytes.")


def payload_size() -> int:
    from daqlab.northbound.thingmodel import property_post

    return len(json.dumps(property_post(sample(1, clock()), int(time.time() * 1000), 12345), separators=(",", ":")))


def verdict(res: dict, paced: dict) -> str:
    parts = []
    ok = True
    for qos in (0, 1):
        r = res[qos]["uplink"].median_rate / res[qos]["raw"].median_rate
        ok &= r >= GOAL_RATIO
        parts.append(f"QoS {qos} {r:.2f}×")
    lost1 = sum(res[1][s].lost + paced[1][s].lost for s in SIDES)
    lost0 = sum(res[0][s].lost + paced[0][s].lost for s in SIDES)
    return (f"Verdict: uplink/raw msg/s {', '.join(parts)} (goal >= {GOAL_RATIO}×) {'PASS' if ok else 'FAIL'}; "
            f"lost at QoS 1: {lost1} {'PASS' if lost1 == 0 else 'FAIL'} (goal 0); lost at QoS 0: {lost0} "
            f"(for information).")


# -------------------------------------------------------------------------------------- main
def compare(args) -> int:
    from daqlab.northbound import Broker, device_account, platform_account

    device, platform = device_account(DEVICE, SECRET), platform_account(SECRET)
    topic = device.topics.post
    max_inflight = max_inflight_default()
    res = {q: {s: Run() for s in SIDES} for q in (0, 1)}
    paced = {q: {s: Run() for s in SIDES} for q in (0, 1)}
    samples = {}
    run_no = 0
    with Broker([device, platform]) as broker:
        sub_cls = SubscriberProcess if args.subscriber == "process" else InProcessSubscriber
        with sub_cls(broker.host, broker.port, platform.username, platform.password, topic) as sub:
            def one(side: str, qos: int, n: int, rate: float | None) -> tuple[int, dict]:
                nonlocal run_no
                run_no += 1
                elapsed = PUBLISH[side](broker, device, topic, qos, max_inflight, run_no, n, rate)
                got = sub.collect(run_no, n)
                samples[side] = got["sample"]
                return elapsed, got

            for qos in (0, 1):
                for side in SIDES:  # warm-up: connections, caches, CPU clock; not counted
                    one(side, qos, args.warmup, None)
            for rep in range(1, args.repeat + 1):
                order = SIDES if rep % 2 else SIDES[::-1]
                for qos in (0, 1):
                    for side in order:
                        elapsed, got = one(side, qos, args.messages, None)
                        res[qos][side].add(args.messages, elapsed, got)
                        lat = Latencies()
                        lat.lat = got["lat"]
                        log(f"rep {rep}/{args.repeat} QoS {qos} {side:6s} {args.messages / (elapsed / 1e9):9,.0f} msg/s "
                            f" p50 {lat.pct(.5) / 1e6:8.1f} ms  p99 {lat.pct(.99) / 1e6:8.1f} ms  "
                            f"received {got['distinct']:,}/{args.messages:,} (dups {got['dups']}, other runs "
                            f"{got['other']})")
                    for side in order:
                        elapsed, got = one(side, qos, args.paced_messages, args.paced_rate)
                        paced[qos][side].add(args.paced_messages, elapsed, got, rate=False)
                        lat = Latencies()
                        lat.lat = got["lat"]
                        log(f"rep {rep}/{args.repeat} QoS {qos} {side:6s} paced {args.paced_rate:,.0f} msg/s  "
                            f"p50 {lat.pct(.5) / 1e6:6.2f} ms  p99 {lat.pct(.99) / 1e6:6.2f} ms  received "
                            f"{got['distinct']:,}/{args.paced_messages:,}")
    check_same_payload(samples)

    print()
    print(conditions(args, max_inflight))
    print()
    print(table(res, paced, args))
    print()
    print(verdict(res, paced))
    return 0


def check_same_payload(samples: dict) -> None:
    """The two sides' messages differ only in the id, the times and the run/send-stamp values."""
    def shape(text: str):
        doc = json.loads(text)
        for v in doc["params"].values():
            v["time"] = 0
        doc["id"] = "0"
        doc["params"]["bench_run"]["value"] = doc["params"]["bench_sent_ns"]["value"] = 0
        return json.dumps(doc, separators=(",", ":"))

    if not all(samples.get(s) for s in SIDES):
        return
    if shape(samples["raw"]) != shape(samples["uplink"]):
        raise RuntimeError(f"the two publishers send different payloads:\n{samples['raw']}\n{samples['uplink']}")
    log(f"same payload on both sides, e.g. {samples['uplink']}")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="bench/northbound.py",
        description="Messages/s and latency at QoS 0 and 1 publishing through daqlab.northbound.Uplink vs raw "
                    "paho-mqtt, side by side in one run (ratios), through one DAQ Lab broker (Mosquitto), and "
                    "loss (must be 0 at QoS 1). Prints a Markdown table for README.",
        epilog="examples:\n"
               "  python bench/northbound.py                      # full run (about 1 minute)\n"
               "  python bench/northbound.py --quick              # smoke run (a few seconds)\n"
               "  python bench/northbound.py --messages 50000 --repeat 7\n"
               "  python bench/northbound.py --subscriber inprocess   # subscriber in this process (shared GIL)",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="tiny sizes (500 messages, 1 repetition, 200 paced)")
    p.add_argument("--messages", type=int, default=None, help="messages per full-load run (default 20000)")
    p.add_argument("--repeat", type=int, default=None, help="alternating raw/uplink repetitions (default 5)")
    p.add_argument("--paced-messages", type=int, default=None, help="messages per paced run (default 1000)")
    p.add_argument("--paced-rate", type=float, default=1000.0, help="msg/s of the paced runs (default 1000)")
    p.add_argument("--warmup", type=int, default=None, help="messages per side of the discarded warm-up (default 2000)")
    p.add_argument("--subscriber", choices=("process", "inprocess"), default="process",
                   help="where the counting subscriber runs (default: a child process)")
    # hidden child mode: the subscriber
    p.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--host", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--user", help=argparse.SUPPRESS)
    p.add_argument("--password", help=argparse.SUPPRESS)
    p.add_argument("--topic", help=argparse.SUPPRESS)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if args.serve:
        return serve(args.host, args.port, args.user, args.password, args.topic)
    quick = args.quick
    if args.messages is None:
        args.messages = 500 if quick else 20_000
    if args.repeat is None:
        args.repeat = 1 if quick else 5
    if args.paced_messages is None:
        args.paced_messages = 200 if quick else 1000
    if args.warmup is None:
        args.warmup = 100 if quick else 2000
    if not (1 <= args.messages <= 5_000_000 and 1 <= args.repeat <= 50 and 1 <= args.paced_messages <= 1_000_000
            and 0 < args.paced_rate <= 100_000 and 1 <= args.warmup <= 1_000_000):
        parser().error("out of range: messages 1..5e6, repeat 1..50, paced-messages 1..1e6, paced-rate 0..1e5, "
                       "warmup 1..1e6")
    return compare(args)


if __name__ == "__main__":
    sys.exit(main())
