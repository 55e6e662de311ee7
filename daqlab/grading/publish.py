"""Hidden-test bodies of the "publish to the platform" practical: graded at the broker.

While a submission is graded, the pipeline runs DAQ Lab's broker with a platform recorder subscribed to
``/sys/#`` and gives the kernel (nothing a trainee edits can change):

- ``DAQLAB_MQTT_URL`` / ``DAQLAB_MQTT_USER`` / ``DAQLAB_MQTT_PASSWORD`` / ``DAQLAB_PRODUCT_KEY``: the
  trainee's own device account (user name = device name = student id);
- ``DAQLAB_MQTT_RECORD``: the recorder's JSONL file; ``DAQLAB_MQTT_SINCE``: when this run started.

The checks look only at what reached the broker from this trainee's account during this run, and compare
the published values with what the grading plant served to the same kernel (its request log).
"""

from __future__ import annotations

import math
import os
import statistics
import time

from daqlab.grading.assignments import FC_READ_INPUT, _close
from daqlab.grading.checks import Report
from daqlab.grading.context import NoGradingPlant, context
from daqlab.grading.params import for_station
from daqlab.northbound import thingmodel
from daqlab.northbound.recorder import distinct_key, load_records

#: property identifier -> (device, FC 04 address, data type, what) of the product's thing model
PROPERTIES = {
    "temperature": ("th", 1, "INT16", "°C"),
    "humidity": ("th", 2, "UINT16", "%RH"),
    "active_power": ("meter", 0x34, "FLOAT32", "W"),
}


def records(settle_s: float = 0.3, timeout_s: float = 3.0) -> list:
    """This run's records of this trainee's device, once the recorder has caught up (no new line for
    ``settle_s``)."""
    env = os.environ
    if not env.get("DAQLAB_MQTT_RECORD"):
        raise NoGradingPlant("no platform recorder: these checks run when the instructor grades (daqlab course grade)")
    device, since = env.get("DAQLAB_MQTT_USER", ""), float(env.get("DAQLAB_MQTT_SINCE", "0"))
    deadline, last, stable_since = time.monotonic() + timeout_s, -1, time.monotonic()
    while True:
        got = [r for r in load_records(env["DAQLAB_MQTT_RECORD"]) if r.device == device and r.time >= since]
        if len(got) != last:
            last, stable_since = len(got), time.monotonic()
        if time.monotonic() - stable_since >= settle_s or time.monotonic() > deadline:
            seen, once = set(), []  # QoS 1 is at least once: a re-delivered post counts once
            for r in got:
                if distinct_key(r) not in seen:
                    seen.add(distinct_key(r))
                    once.append(r)
            return once
        time.sleep(0.05)


def _topics():
    env = os.environ
    return thingmodel.ThingTopics(env.get("DAQLAB_PRODUCT_KEY", "daqlab"), env.get("DAQLAB_MQTT_USER", ""))


def status(ns: dict) -> float:
    """Task 1: the gateway announced itself: a retained ``{"status": "online"}`` on its status topic."""
    r = Report("Connect to the platform · 连接平台")
    topics = _topics()
    recs = records()

    def online():
        st = [x for x in recs if x.topic == topics.status]
        docs = [x.doc() for x in st]
        good = [x for x, d in zip(st, docs, strict=True) if isinstance(d, dict) and d.get("status") == "online"]
        if not st:
            return False, f"nothing was published on {topics.status}"
        if not good:
            return False, f"{len(st)} message(s) on the status topic, none is {{\"status\": \"online\"}}"
        return True, f"online message on {topics.status}"

    def retained():
        good = [x for x in recs if x.topic == topics.status and isinstance(x.doc(), dict)
                and x.doc().get("status") == "online"]
        return bool(good) and all(x.retain for x in good), \
            "retained: a platform that connects later still sees the gateway online" if good and all(
                x.retain for x in good) else "the online message must be published with retain=True"

    r.guard("online status published on your status topic", 1, online)
    r.guard("status message retained", 1, retained)
    return r.total()


def posts(ns: dict) -> float:
    """Task 2: property posts on the right topic, valid, with the right values, rate, QoS and times."""
    r = Report("Property posts · 属性上报")
    topics = _topics()
    recs = records()
    mine = [x for x in recs if x.topic == topics.post]
    elsewhere = sorted({x.topic for x in recs if x.topic not in (topics.post, topics.status, topics.post_reply)})
    docs = [x.doc() for x in mine]
    valid = [d for x, d in zip(mine, docs, strict=True) if not x.errors]

    r.add("posts on your property-post topic", 2, bool(mine),
          f"{len(mine)} message(s) on {topics.post}" if mine else
          f"nothing on {topics.post}" + (f"; found {elsewhere[:3]} instead" if elsewhere else
                                         f" (check the topic letter by letter, leading '/' included: the broker "
                                         f"refuses any topic outside {topics.base}#)"))
    bad = [x.errors[0] for x in mine if x.errors]
    r.add("every post is valid thing-model JSON", 2, bool(mine) and not bad,
          "all valid" if mine and not bad else (f"{len(bad)}/{len(mine)} invalid, e.g. {bad[0]}" if bad else "no posts"))

    def identifiers():
        need = set(PROPERTIES)
        missing = [sorted(need - set(d.get("params", {}))) for d in valid]
        ok = bool(valid) and not any(missing)
        return ok, "temperature, humidity and active_power in every post" if ok else \
            (f"missing {next(m for m in missing if m)} in some posts" if valid else "no valid post")

    r.guard("identifiers temperature, humidity, active_power", 2, identifiers)

    ctx = context()
    s = ctx.served
    truth = {
        "temperature": ctx.served_values(s["units"]["th"], FC_READ_INPUT, 1, "INT16", scale=1 / s["th_scale"]),
        "humidity": ctx.served_values(s["units"]["th"], FC_READ_INPUT, 2, "UINT16", scale=1 / s["th_scale"]),
        "active_power": ctx.served_values(s["units"]["meter"], FC_READ_INPUT, 0x34, "FLOAT32", s["meter_order"]),
    }
    tolerance = {"temperature": 0.5 / s["th_scale"], "humidity": 0.5 / s["th_scale"], "active_power": 1e-3}

    def values(ident):
        def check():
            served = [v for v in truth[ident] if isinstance(v, int | float) and math.isfinite(v)]
            got = [thingmodel.values_of(d).get(ident, (None, None))[0] for d in valid]
            got = [v for v in got if v is not None]
            if not served:
                return False, f"the plant served no FC 04 read of the {PROPERTIES[ident][0]} register(s) to you"
            if not got:
                return False, f"no {ident} values published"
            hits = sum(any(_close(v, x, tolerance[ident] + 1e-6 * abs(x)) for x in served) for v in got)
            ok = hits >= 0.8 * len(got)
            return ok, f"{hits}/{len(got)} {ident} values ({PROPERTIES[ident][3]}) match what the plant served" + (
                "" if ok else f", e.g. published {got[-1]!r} vs served {served[-1]:.4g}")
        return check

    for ident in PROPERTIES:
        r.guard(f"{ident} values from the plant", 1, values(ident))

    prm = for_station(ctx.seed, ctx.station)

    def rate():
        times = sorted(t for d in valid for t in [thingmodel.values_of(d).get("temperature", (None, None))[1]]
                       if isinstance(t, int))
        if len(valid) < prm["publish_count"]:
            return False, f"{len(valid)} valid posts, {prm['publish_count']} prescribed"
        gaps = [(b - a) / 1000 for a, b in zip(times, times[1:], strict=False)]  # time is in ms
        med = statistics.median(gaps) if gaps else 0.0
        ok = abs(med - prm["publish_period_s"]) <= 0.15
        return ok, f"{len(valid)} posts, median interval {med:.3f} s (prescribed {prm['publish_period_s']} s)"

    r.guard(f"{prm['publish_count']} posts at the prescribed period", 1, rate)
    qos = sorted({x.qos for x in mine})
    r.add("QoS 1 (at least once)", 1, bool(mine) and qos == [1],
          f"published with QoS {qos}" + ("" if qos == [1] else ": the task asks for QoS 1 (PUBACK from the broker)"))

    def times_ms():
        stamps = [(t, x.time) for x, d in zip(mine, docs, strict=True) if not x.errors
                  for _v, t in thingmodel.values_of(d).values() if isinstance(t, int)]
        if not stamps:
            return False, "no sample times in the posts"
        off = max(abs(t / 1000 - received) for t, received in stamps)
        if off <= 10:
            return True, f"sample times within {off:.1f} s of arrival"
        if all(abs(t - rc) < 10 for t, rc in stamps):
            return False, "the sample times are seconds since 1970, the convention wants milliseconds (x 1000)"
        return False, f"sample times are {off:.3g} s away from when the posts arrived (ms since 1970 UTC expected)"

    r.guard("sample times in ms since 1970 (UTC)", 1, times_ms)
    return r.total()


def summary() -> str:
    """One line per record of this run (for debugging a submission by hand)."""
    return "\n".join(f"{x.time:.3f} q{x.qos}{' r' if x.retain else ''} {x.topic} {x.payload[:80]}" for x in records())

