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

from daqlab.grading.assignments import FC_READ_INPUT, _close, _v
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
        raise NoGradingPlant("没有平台记录器：这些检查在教师评分（daqlab course grade）时运行"
                             "（no platform recorder: these checks run when the instructor grades）")
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
    r = Report("连接平台（Connect to the platform）")
    topics = _topics()
    recs = records()

    def online():
        st = [x for x in recs if x.topic == topics.status]
        docs = [x.doc() for x in st]
        good = [x for x, d in zip(st, docs, strict=True) if isinstance(d, dict) and d.get("status") == "online"]
        if not st:
            return False, f"{topics.status} 上没有发布任何消息（nothing was published on {topics.status}）"
        if not good:
            return False, (f"状态主题上有 {len(st)} 条消息，但没有一条是 {{\"status\": \"online\"}}"
                           "（message(s) on the status topic, none is the online message）")
        return True, f"{topics.status} 上有上线消息（online message on {topics.status}）"

    def retained():
        good = [x for x in recs if x.topic == topics.status and isinstance(x.doc(), dict)
                and x.doc().get("status") == "online"]
        return bool(good) and all(x.retain for x in good), \
            "已设为保留消息：之后才连接的平台也能看到网关在线（retained: a platform that connects later still sees " \
            "the gateway online）" if good and all(x.retain for x in good) else \
            "上线消息必须用 retain=True 发布（the online message must be published with retain=True）"

    r.guard("在你的状态主题上发布上线状态（online status published on your status topic）", 1, online)
    r.guard("状态消息为保留消息（status message retained）", 1, retained)
    return r.total()


def posts(ns: dict) -> float:
    """Task 2: property posts on the right topic, valid, with the right values, rate, QoS and times."""
    r = Report("属性上报（Property posts）")
    topics = _topics()
    recs = records()
    mine = [x for x in recs if x.topic == topics.post]
    elsewhere = sorted({x.topic for x in recs if x.topic not in (topics.post, topics.status, topics.post_reply)})
    docs = [x.doc() for x in mine]
    valid = [d for x, d in zip(mine, docs, strict=True) if not x.errors]

    r.add("在你的属性上报主题上发布（posts on your property-post topic）", 2, bool(mine),
          f"{topics.post} 上有 {len(mine)} 条消息（message(s) on {topics.post}）" if mine else
          f"{topics.post} 上没有消息（nothing on {topics.post}）" + (
              f"；却在 {elsewhere[:3]} 上发现了消息（found {elsewhere[:3]} instead）" if elsewhere else
              f"：请逐字核对主题，包括开头的“/”；消息代理（broker）拒绝 {topics.base}# 以外的任何主题"
              f"（check the topic letter by letter, leading '/' included: the broker refuses any topic outside "
              f"{topics.base}#）"))
    bad = [x.errors[0] for x in mine if x.errors]
    r.add("每条上报都是有效的物模型 JSON（every post is valid thing-model JSON）", 2, bool(mine) and not bad,
          "全部有效（all valid）" if mine and not bad else (
              f"{len(bad)}/{len(mine)} 条无效，例如：{bad[0]}（invalid posts）" if bad else "没有上报（no posts）"))

    def identifiers():
        need = set(PROPERTIES)
        missing = [sorted(need - set(d.get("params", {}))) for d in valid]
        ok = bool(valid) and not any(missing)
        return ok, "每条上报都含 temperature、humidity 和 active_power（temperature, humidity and active_power in every " \
            "post）" if ok else (f"部分上报缺少 {next(m for m in missing if m)}（missing in some posts）" if valid else
                                "没有有效的上报（no valid post）")

    r.guard("标识符 temperature、humidity、active_power（identifiers temperature, humidity, active_power）", 2, identifiers)

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
                return False, (f"设备没有为你响应过对 {PROPERTIES[ident][0]} 寄存器的 FC 04 读取"
                               f"（the plant served no FC 04 read of the {PROPERTIES[ident][0]} register(s) to you）")
            if not got:
                return False, f"没有发布 {ident} 的值（no {ident} values published）"
            hits = sum(any(_close(v, x, tolerance[ident] + 1e-6 * abs(x)) for x in served) for v in got)
            ok = hits >= 0.8 * len(got)
            return ok, f"{hits}/{len(got)} 个 {ident} 值（{PROPERTIES[ident][3]}）与设备返回的值一致" + (
                "" if ok else f"；不一致的例子：上报 {_v(got[-1])}，设备返回 {_v(served[-1])}") + \
                f"（{ident} values match what the plant served）"
        return check

    for ident in PROPERTIES:
        r.guard(f"{ident} 的值来自设备（{ident} values from the plant）", 1, values(ident))

    prm = for_station(ctx.seed, ctx.station)

    def rate():
        times = sorted(t for d in valid for t in [thingmodel.values_of(d).get("temperature", (None, None))[1]]
                       if isinstance(t, int))
        if len(valid) < prm["publish_count"]:
            return False, f"有效上报 {len(valid)} 条，规定 {prm['publish_count']} 条（valid posts vs prescribed）"
        gaps = [(b - a) / 1000 for a, b in zip(times, times[1:], strict=False)]  # time is in ms
        med = statistics.median(gaps) if gaps else 0.0
        ok = abs(med - prm["publish_period_s"]) <= 0.15
        return ok, (f"{len(valid)} 条上报，间隔中位数 {med:.3f} s，规定为 {_v(prm['publish_period_s'])} s"
                    "（median interval vs the prescribed period）")

    r.guard(f"按规定周期上报 {prm['publish_count']} 条（{prm['publish_count']} posts at the prescribed period）", 1, rate)
    qos = sorted({x.qos for x in mine})
    r.add("QoS 1，至少送达一次（QoS 1 (at least once)）", 1, bool(mine) and qos == [1],
          f"发布所用的 QoS 为 {qos}" + ("（published with QoS）" if qos == [1] else
                                     "：任务要求 QoS 1，由消息代理（broker）回复 PUBACK（the task asks for QoS 1）"))

    def times_ms():
        stamps = [(t, x.time) for x, d in zip(mine, docs, strict=True) if not x.errors
                  for _v, t in thingmodel.values_of(d).values() if isinstance(t, int)]
        if not stamps:
            return False, "上报中没有采样时间（no sample times in the posts）"
        off = max(abs(t / 1000 - received) for t, received in stamps)
        if off <= 10:
            return True, f"采样时间与到达时间相差不超过 {off:.1f} s（sample times within {off:.1f} s of arrival）"
        if all(abs(t - rc) < 10 for t, rc in stamps):
            return False, ("采样时间是自 1970 年起的秒数，约定要求毫秒数（×1000）"
                           "（the sample times are seconds since 1970, the convention wants milliseconds）")
        return False, (f"采样时间与上报到达时间相差 {off:.3g} s，应为自 1970 年（UTC）起的毫秒数"
                       "（ms since 1970 UTC expected）")

    r.guard("采样时间为自 1970 年（UTC）起的毫秒数（sample times in ms since 1970 (UTC)）", 1, times_ms)
    return r.total()


def summary() -> str:
    """One line per record of this run (for debugging a submission by hand)."""
    return "\n".join(f"{x.time:.3f} q{x.qos}{' r' if x.retain else ''} {x.topic} {x.payload[:80]}" for x in records())

