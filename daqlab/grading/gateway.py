"""Hidden-test bodies of the gateway practical: graded on the configuration files and at the platform.

The trainee writes ``gateway/points.csv`` (the point table) and ``gateway/gateway.yaml`` and runs
``daqlab gateway`` with them. The grader reads its own copies of the two files (copied out of the sandbox;
read here without following symlinks, size-capped) and checks each point against the grading station's
served installation; it loads the configuration with only the variables a trainee's kernel has (never the
grader's own secrets: a ``${DAQLAB_CONTROL_TOKEN}`` in a trainee's file stays unset); and it checks what
reached the broker from the trainee's account during this run against the plant's request log.
"""

from __future__ import annotations

import math
import os
import statistics
from pathlib import Path

from daqlab.grading.assignments import _close, _v
from daqlab.grading.checks import Report
from daqlab.grading.context import context
from daqlab.grading.params import for_station
from daqlab.northbound import thingmodel

#: identifier -> (tag of the station's tag table, what it is, unit)
PROPERTIES = {
    "temperature": ("th.temperature", "温度", "°C"),
    "humidity": ("th.humidity", "相对湿度", "%RH"),
    "voltage_l1": ("meter.voltage_l1", "L1 相电压", "V"),
    "active_power": ("meter.power_total", "总有功功率", "W"),
    "output_freq": ("vfd.output_freq", "输出频率", "Hz"),
    "parts": ("plc.parts", "累计产量", "pcs"),
}
POINTS_FILE, CONFIG_FILE = "gateway/points.csv", "gateway/gateway.yaml"
MAX_BYTES = 256 * 1024
#: what a trainee's kernel has in its environment; the configuration is expanded with these only
TRAINEE_VARIABLES = ("DAQLAB_ENDPOINT", "DAQLAB_STATION", "DAQLAB_SEED", "DAQLAB_MQTT_URL", "DAQLAB_MQTT_USER",
                     "DAQLAB_PRODUCT_KEY")


AREA_ZH = {"coil": "线圈", "discrete": "离散输入", "input": "输入寄存器", "holding": "保持寄存器"}
_PREFIX = {"coil": 0, "discrete": 1, "input": 3, "holding": 4}
_SUFFIX = {"ABCD": "#LL", "CDAB": "#BL", "BADC": "#LB", "DCBA": "#BB"}


def _neuron(t) -> str:
    """A tag's Neuron address (6-digit 1-based reference; the byte-order suffix of 32-bit values)."""
    suffix = _SUFFIX[t.order] if t.count == 2 else ""
    return f"{t.unit}!{_PREFIX[t.area]}{t.address + 1:05d}{suffix}"


class NotHandedIn(FileNotFoundError):
    """A file the task names is missing (or is not a plain file)."""


def submitted_text(rel: str) -> str:
    """A file of the submission as text, as the grader copied it (no symlink anywhere on the path, ≤ 256 KiB)."""
    root = Path(os.environ.get("DAQLAB_FILES") or ".")
    path = root
    for part in Path(rel).parts:
        path = path / part
        if path.is_symlink():
            raise NotHandedIn(f"{rel} 是符号链接，不予读取（{rel} is a symbolic link: not read）")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        raise NotHandedIn(f"没有找到 {rel}：请按规定的文件夹和文件名保存（{rel} not found: save it under the prescribed "
                          "name）") from None
    with os.fdopen(fd, "rb") as fh:
        data = fh.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise NotHandedIn(f"{rel} 超过 {MAX_BYTES // 1024} KiB（{rel} is larger than a point table can be）")
    return data.decode("utf-8-sig", errors="replace")


def truth():
    """identifier -> the tag as the station serves it (unit ids, word order and resolution from the served
    installation: in the mock final they differ from the datasheet, and the point table must follow the plant)."""
    from dataclasses import replace

    from daqlab.plant.tags import tag_table

    ctx = context()
    s = ctx.served
    tags = {t.name: t for t in tag_table(ctx.station, seed=ctx.seed)}
    out = {}
    for ident, (name, _what, _unit) in PROPERTIES.items():
        t = tags[name]
        kind = name.split(".")[0]
        t = replace(t, unit=s["units"][kind])
        if kind == "meter":
            t = replace(t, order=s["meter_order"])
        if kind == "th":
            t = replace(t, scale=1 / s["th_scale"])
        out[ident] = t
    return out


def _trainee_env() -> dict:
    env = {k: os.environ[k] for k in TRAINEE_VARIABLES if k in os.environ}
    env["DAQLAB_MQTT_PASSWORD"] = "(password)"  # present for the check, never the real one
    return env


def point_table(ns: dict) -> float:
    """Task 1: every property's row in gateway/points.csv reads the right register with the right decoding."""
    from daqlab.gateway.config import build_points, table_rows

    r = Report("点表（Tag table）")
    problems: list = []
    points = {}
    try:
        rows = table_rows(submitted_text(POINTS_FILE), "points.csv")
        tags, _where = build_points(rows, ["station"], problems)
        points = {thingmodel.identifier(t.name): t for t in tags}
    except (NotHandedIn, ValueError) as exc:
        problems.append((POINTS_FILE, str(exc)))
    if problems:
        r.add("点表可以加载（the point table loads）", 0, False,
              "；".join(f"{where}: {why}" for where, why in problems[:5])[:600])
    want = truth()
    for ident, (_name, what, unit) in PROPERTIES.items():
        t, got = want[ident], points.get(ident)
        if got is None:
            r.add(f"{ident}（{what}）的地址（address）", 1, False,
                  f"点表中没有 {ident} 这一行（no row named {ident}）")
            r.add(f"{ident} 的数据类型、字节序和缩放（type, byte order, scale）", 1, False, "没有这一行（no row）")
            continue
        where_ok = (got.unit, got.area, got.address) == (t.unit, t.area, t.address)
        r.add(f"{ident}（{what}）的地址（address）", 1, where_ok,
              f"{_neuron(got)}：从站 {got.unit} 的{AREA_ZH[got.area]} 0x{got.address:04X}" + (
                  "，正确（correct）" if where_ok else
                  f"；这个量在从站 {t.unit} 的{AREA_ZH[t.area]} 0x{t.address:04X}，Neuron 地址 {_neuron(t)}"
                  f"（the value is at slave {t.unit}, {t.area} 0x{t.address:04X}: {_neuron(t)}）"))
        order_ok = got.order == t.order or t.count == 1
        scale_ok = math.isclose(got.scale, t.scale, rel_tol=1e-6) and math.isclose(got.offset, 0.0, abs_tol=1e-12)
        dec_ok = got.dtype == t.dtype and order_ok and scale_ok
        wrong = [x for x, ok in ((f"类型应为 {t.dtype}（type {t.dtype}）", got.dtype == t.dtype),
                                 (f"字节序应为 {t.order}（byte order {t.order}）", order_ok),
                                 (f"缩放系数应为 {_v(t.scale)}（scale {_v(t.scale)}）", scale_ok)) if not ok]
        r.add(f"{ident} 的数据类型、字节序和缩放（type, byte order, scale）", 1, dec_ok,
              " ".join(x for x in (got.dtype, got.order if got.count > 1 else "", f"×{_v(got.scale)}", unit) if x) +
              ("，正确（correct）" if dec_ok else "：" + "；".join(wrong)))
    return r.total()


def configuration(ns: dict) -> float:
    """Task 2: gateway/gateway.yaml loads and names the station, the period and the platform as prescribed."""
    from daqlab.gateway.config import ConfigError, loads

    r = Report("网关配置（Gateway configuration）")
    ctx = context()
    prm = for_station(ctx.seed, ctx.station)
    env = _trainee_env()
    cfg, why = None, ""
    try:
        text = submitted_text(CONFIG_FILE)
        cfg = loads(text, source="gateway.yaml", base=Path(POINTS_FILE).parent, environ=env,
                    read=lambda path: submitted_text(str(path)))
    except NotHandedIn as exc:
        why = str(exc)
    except ConfigError as exc:
        why = "；".join(f"{where}: {w}" for where, w in exc.problems[:5])[:600]
    r.add("配置文件可以加载（daqlab gateway check passes）", 1, cfg is not None,
          "加载成功（loads）" if cfg is not None else why)
    if cfg is None:
        for name in (f"采集周期 {_v(prm['gateway_period_s'])} s（scan period）", "南向连接你的工位（southbound: your station）",
                     "北向：平台与 QoS 1（northbound: the platform, QoS 1）"):
            r.add(name, 1, False, "配置无法加载（the configuration does not load）")
        return r.total()
    r.add(f"采集周期 {_v(prm['gateway_period_s'])} s（scan period）", 1,
          math.isclose(cfg.scan_period_s, prm["gateway_period_s"]),
          f"scan_period_s = {_v(cfg.scan_period_s)}，规定为 {_v(prm['gateway_period_s'])}（prescribed）")
    urls = sorted({s.url for s in cfg.southbound})
    r.add("南向连接你的工位（southbound: your station）", 1, urls == [ctx.endpoint],
          f"南向地址 {urls}" + ("，正确（correct）" if urls == [ctx.endpoint] else
                            "：应只有你的工位 ${DAQLAB_ENDPOINT}（only your station）"))
    nb = cfg.northbound
    mine = nb is not None and f"mqtt://{nb.host}:{nb.port}" == env.get("DAQLAB_MQTT_URL") and \
        nb.username == env.get("DAQLAB_MQTT_USER") and nb.qos == 1
    r.add("北向：平台与 QoS 1（northbound: the platform, QoS 1）", 1, mine,
          "没有北向配置：数据不会上报（no northbound: nothing is published）" if nb is None else
          f"{nb.host}:{nb.port}，用户 {nb.username}，QoS {nb.qos}" + ("，正确（correct）" if mine else
                                                                "：应为 broker: env（你的平台账号）且 qos: 1（broker: env, qos: 1）"))
    return r.total()


def uplink(ns: dict) -> float:
    """Task 3: what the platform received: every property with the plant's values, at the period, with the
    point-status events, read with the planned (coalesced) number of requests."""
    from daqlab.acquisition.planner import plan
    from daqlab.grading.publish import _topics, records

    r = Report("上报到平台（At the platform）")
    ctx = context()
    prm = for_station(ctx.seed, ctx.station)
    topics = _topics()
    recs = records()
    mine = [x for x in recs if x.topic == topics.post]
    valid = [x.doc() for x in mine if not x.errors]
    r.add("属性上报到达平台且全部有效（valid property posts arrived）", 1, bool(valid) and len(valid) == len(mine),
          f"{len(valid)}/{len(mine)} 条有效（valid）" if mine else f"{topics.post} 上没有消息（nothing arrived）")
    want = truth()
    for ident, (_name, what, unit) in PROPERTIES.items():
        t = want[ident]
        fc = 4 if t.area == "input" else 3

        def check(ident=ident, t=t, fc=fc, unit=unit):
            served = [v for v in ctx.served_values(t.unit, fc, t.address, t.dtype, t.order, scale=t.scale)
                      if isinstance(v, int | float) and math.isfinite(v)]
            got = [v for d in valid for v in [thingmodel.values_of(d).get(ident, (None, None))[0]] if v is not None]
            if not got:
                return False, f"平台没有收到 {ident}（no {ident} values arrived）"
            tol = abs(t.scale) / 2 + 1e-6
            hits = sum(any(_close(v, x, tol + 1e-6 * abs(x)) for x in served) for v in got)
            ok = hits >= 0.8 * len(got)
            return ok, (f"{hits}/{len(got)} 个值（{unit}）与设备返回的一致（match what the plant served）"
                        + ("" if ok or not served else f"；例如上报 {_v(got[-1])}，设备返回 {_v(served[-1])}"))
        r.guard(f"{ident}（{what}）的值来自设备（values from the plant）", 1, check)

    def rate():
        times = sorted({t for d in valid for _v, t in thingmodel.values_of(d).values() if isinstance(t, int)})
        if len(times) < prm["gateway_scans"]:
            return False, f"平台收到 {len(times)} 次扫描，规定 {prm['gateway_scans']} 次（scans received vs prescribed）"
        # each post's own sample time against its own arrival (deadband or retries may make posts and scans differ)
        late = max(abs(t / 1000 - x.time) for x in mine if not x.errors
                   for _v, t in thingmodel.values_of(x.doc()).values() if isinstance(t, int))
        if late > 10:  # sample times are the scans' own: a post made up later, or ms taken for s, is not one
            return False, (f"采样时间与到达平台的时间相差 {late:.0f} s：应是每次扫描开始的时间（毫秒）"
                           "（sample times must be the scans' start times in ms）")
        med = statistics.median((b - a) / 1000 for a, b in zip(times, times[1:], strict=False))
        ok = abs(med - prm["gateway_period_s"]) <= 0.15
        return ok, f"{len(times)} 次扫描，间隔中位数 {med:.3f} s（median interval），规定 {_v(prm['gateway_period_s'])} s"

    r.guard(f"{prm['gateway_scans']} 次扫描，按规定周期（scans at the period）", 1, rate)

    def statuses():
        events = [x for x in recs if x.kind == "event" and x.device == topics.device_name]
        good = [x.doc() for x in events if not x.errors]
        if not good:
            return False, "平台没有收到点位状态事件 point_status（no point_status events）"
        covered = set().union(*(set(d["params"]["value"]) for d in good))
        missing = sorted(set(PROPERTIES) - covered)
        return not missing, (f"{len(good)} 条状态事件，覆盖全部点位（cover every point）" if not missing else
                             f"状态事件缺少 {missing}（missing in the point_status events）")

    r.guard("每个点位的质量码都上报了（every point's quality reported）", 1, statuses)

    def requests():
        times = sorted({t for d in valid for _v, t in thingmodel.values_of(d).values() if isinstance(t, int)})
        if not times:
            return False, "没有上报，无法核对读取次数（nothing arrived）"
        starts = [t / 1000 for t in times]
        # every read the station served during the gateway's middle scans (the 2nd to the one before last): the
        # notebook is inside gw.run() then, so a poll just before or a check just after is left out, and every
        # read in between counts, whoever sent it (one connection or a new one per read): it is what the station
        # had to answer per scan.
        inner = starts[1:-1] if len(starts) >= 3 else starts
        lo, hi = (starts[1], starts[-1]) if len(starts) >= 3 else (starts[0], starts[-1] + prm["gateway_period_s"])
        served = [e for e in ctx.log() if e.function in (1, 2, 3, 4) and lo - 0.02 <= e.time < hi - 0.02]
        planned = len(plan(list(want.values())))
        per_scan = len(served) / len(inner)
        ok = planned / 2 <= per_scan <= planned + 1e-9  # too few: the posts were not polled scan by scan
        why = "" if ok else ("：相邻寄存器应合并读取（coalesce）" if per_scan > planned else
                             "：扫描期间几乎没有读取设备，上报的不是每次扫描读到的值（the scans did not poll the station）")
        return ok, (f"每次扫描 {per_scan:.1f} 个 Modbus 请求，按采集计划只需 {planned} 个"
                    f"（requests per scan vs the planned {planned}）" + why)

    r.guard("按采集计划合并读请求（reads coalesced as planned）", 1, requests)
    return r.total()
