"""Trusted checks of the practical assignments: one function per grade cell (see daqlab.grading.cells).

They run in the grader's process (daqlab.course.trusted), never in a trainee's kernel. Each takes the
evidence the grade cell handed in (its values as plain data: daqlab.grading.evidence), checks it against
the grading plant's truth (what the station really is) and its request log (what it really served to
this submission during its run), prints one line per check and returns the points earned. A value
counts as read from the device only if the plant served the registers it comes from to this
submission: a value typed from the datasheet or made up earns nothing. A missing or malformed value
fails its own checks only. Files the task saves are read from the grader's copy (``DAQLAB_FILES``).
"""

from __future__ import annotations

import math
import os
from dataclasses import replace
from pathlib import Path

from daqlab.acquisition import codec
from daqlab.grading.checks import Report
from daqlab.grading.context import context
from daqlab.grading.params import for_station
from daqlab.plant import process as pm

FC_READ_HOLDING, FC_READ_INPUT = 3, 4


def _v(x) -> str:
    """A value in a check message as a trainee reads it: 52.3, not 52.300000000000004."""
    return f"{x:.6g}" if isinstance(x, float) else repr(x)


def _var(ns: dict, name: str):
    if name not in ns:
        raise NameError(f"变量 `{name}` 未定义（`{name}` is not defined）")
    return ns[name]


def _close(a, b, tol) -> bool:
    try:
        return a is not None and b is not None and abs(float(a) - float(b)) <= tol
    except (TypeError, ValueError):
        return False


def _matches_served(ctx, value, unit, fc, address, dtype, order="ABCD", scale=1.0, offset=0.0, tol=1e-6,
                    wrong_orders=(), what="value"):
    served = ctx.served_values(unit, fc, address, dtype, order, scale, offset)
    if not served:
        return False, (f"设备没有为你响应过对从站地址（unit id）{unit}、寄存器 {address} 的 FC {fc:02d} 读取，"
                       f"这个值不是从设备读到的（no FC {fc:02d} read of unit {unit} address {address} was served to you）")
    if any(_close(value, v, tol + 1e-6 * abs(v)) for v in served if isinstance(v, (int, float)) and math.isfinite(v)):
        return True, f"{what} {_v(value)} 与设备返回的值一致（{what} {_v(value)} matches what the plant served）"
    for other in wrong_orders:
        if any(_close(value, v, tol + 1e-6 * abs(v)) for v in ctx.served_values(unit, fc, address, dtype, other, scale, offset)):
            return False, (f"{what} {_v(value)} 是把寄存器按 {other} 字序解码的结果，请检查字序"
                           f"（registers decoded as {other}: check the word order）")
    raw = ctx.served_values(unit, fc, address, dtype, order)
    if scale != 1.0 and any(_close(value, v, 0.5) for v in raw):
        return False, f"{what} {_v(value)} 是未换算的寄存器原始值，请乘以缩放系数（raw register value: apply the scaling）"
    return False, (f"{what} {_v(value)} 与设备返回的任何值都不符，设备返回的值如 {_v(served[-1])}"
                   f"（{what} {_v(value)} does not match any served value）")


# ----------------------------------------------------------- practical 1
def identify(ns: dict) -> float:
    """Practical 1, cell 1: serial number, firmware, the unit ids that answer."""
    r = Report("设备识别（Identify the devices）")
    ctx = context()
    doc, served = ctx.documented, ctx.served
    def serial():
        got = str(_var(ns, "serial_number")).strip()
        if not ctx.served_words(served["units"]["plc"], FC_READ_HOLDING, 0x18, 6):
            return False, (f"{_v(got)}：从未从你的 PLC 读取过序列号寄存器 0x18-0x1D，这个值不是从设备读到的"
                           "（the serial number registers 0x18-0x1D were never read from your PLC）")
        return got == served["serial_number"], (f"应与铭牌上的序列号一致，你的答案是 {_v(got)}"
                                                "（expected the nameplate serial number）")

    r.guard("序列号：PLC 保持寄存器 0x18，12 个字符（serial number, PLC HR 0x18, 12 chars）", 3, serial)
    r.guard("用功能码 FC 03 从保持寄存器 0x18 读取（read with FC 03 from holding register 0x18）", 1,
            lambda: (bool(ctx.served_words(served["units"]["plc"], FC_READ_HOLDING, 0x18, 6)),
                     "设备响应了对 0x18-0x1D 的 FC 03 读取（the plant served a FC 03 read of 0x18-0x1D）"
                     if ctx.served_words(served["units"]["plc"], FC_READ_HOLDING, 0x18, 6) else
                     "设备没有响应过对序列号寄存器的 FC 03 读取：4xxxx 保持寄存器用功能码 FC 03 读取"
                     "（no FC 03 read of the serial number registers was served）"))

    def firmware():
        words = ctx.served_words(served["units"]["plc"], FC_READ_HOLDING, 0x20, 1)
        if not words:
            return False, ("设备没有为你响应过对固件版本寄存器 0x20 的 FC 03 读取"
                           "（no FC 03 read of the firmware register 0x20 was served to you）")
        fw = words[-1][0]
        want = f"V{fw // 100}.{fw % 100:02d}"
        got = str(_var(ns, "firmware")).strip().upper()
        return got == want, (f"固件版本寄存器 0x20 = {fw}（主版本×100+次版本）→ {want}；你的答案是 {_v(got)}"
                             "（firmware register 0x20: major*100+minor）")

    r.guard("固件版本，格式 V<主版本>.<次版本>（firmware as V<major>.<minor>）", 2, firmware)
    want = sorted(served["units"].values())

    def units():
        got = sorted(int(u) for u in _var(ns, "units"))
        asked = {e.unit for e in ctx.log() if e.unit is not None}
        unscanned = sorted(set(range(1, 21)) - asked)
        if unscanned:
            more = '...' if len(unscanned) > 5 else ''
            return False, (f"你的答案 {got}：从站地址（unit id）{unscanned[:5]}{more} 从未被询问过，请扫描 1-20"
                           f"（unit ids {unscanned[:5]}{more} were never asked）")
        return got == want, f"你的答案 {got}，对照你工位上实际应答的设备（{got} vs the devices on your bench）" + (
            "" if got == want else
            f"；手册上的从站地址是 {sorted(doc['units'].values())}（datasheet units: {sorted(doc['units'].values())}）")

    r.guard("有应答的从站地址，扫描 1-20（unit ids that answer (scan 1-20)）", 4, units)
    return r.total()


def sensor(ns: dict) -> float:
    """Practical 1, cell 2: temperature and humidity from the T/H transmitter (FC 04, scaled)."""
    r = Report("读取温湿度变送器（Read the T/H transmitter）")
    ctx = context()
    s = ctx.served
    unit, scale = s["units"]["th"], 1.0 / s["th_scale"]
    r.guard("温度 °C（temperature (°C)）", 3, lambda: _matches_served(ctx, _var(ns, "temperature"), unit, FC_READ_INPUT, 1, "INT16",
                                                         scale=scale, tol=scale / 2, what="temperature"))
    r.guard("湿度 %RH（humidity (%RH)）", 2, lambda: _matches_served(ctx, _var(ns, "humidity"), unit, FC_READ_INPUT, 2, "UINT16",
                                                       scale=scale, tol=scale / 2, what="humidity"))
    fc04 = ctx.served_words(unit, FC_READ_INPUT, 1, 1)
    r.add("用功能码 FC 04 读取输入寄存器（input registers read with FC 04）", 1, bool(fc04),
          "3xxxx 输入寄存器用功能码 FC 04 读取（FC 04 reads input registers）" if fc04 else
          "设备没有响应过对寄存器 0x0001 的 FC 04 读取：3xxxx 输入寄存器用功能码 FC 04 读取"
          "（no FC 04 read of register 0x0001 (FC 04 reads input registers)）")
    return r.total()


# ----------------------------------------------------------- practical 2
def meter(ns: dict) -> float:
    r = Report("电能表解码（Decode the meter）")
    ctx = context()
    s = ctx.served
    unit, order = s["units"]["meter"], s["meter_order"]
    other = ["CDAB" if order == "ABCD" else "ABCD"]
    r.guard("L1 相电压：float32，注意字序（voltage L1 (float32, word order)）", 3, lambda: _matches_served(
        ctx, _var(ns, "voltage_l1"), unit, FC_READ_INPUT, 0x00, "FLOAT32", order, tol=1e-3, wrong_orders=other,
        what="voltage_l1"))
    r.guard("正向有功电能 kWh（import energy (kWh)）", 2, lambda: _matches_served(
        ctx, _var(ns, "energy_import"), unit, FC_READ_INPUT, 0x48, "FLOAT32", order, tol=1e-3, wrong_orders=other,
        what="energy_import"))
    return r.total()


def analog(ns: dict) -> float:
    r = Report("模拟量换算（Scale the analog channels）")
    ctx = context()
    s = ctx.served
    unit = s["units"]["ai"]
    lo, hi = s["pressure_range"]
    r.guard("压力：4-20 mA，S7 计数值 → bar（pressure (4-20 mA, S7 counts -> bar)）", 3, lambda: _matches_served(
        ctx, _var(ns, "pressure"), unit, FC_READ_INPUT, 0, "INT16", scale=(hi - lo) / 27648, offset=lo,
        tol=(hi - lo) / 27648, what="pressure"))
    r.guard("电机温度 0-150 °C（motor temperature (0-150 °C)）", 2, lambda: _matches_served(
        ctx, _var(ns, "motor_temp"), unit, FC_READ_INPUT, 2, "INT16", scale=150 / 27648, tol=150 / 27648,
        what="motor_temp"))
    return r.total()


def status(ns: dict) -> float:
    r = Report("状态字（Status words）")
    ctx = context()
    unit = ctx.served["units"]["plc"]
    words = [w[0] for w in ctx.served_words(unit, FC_READ_INPUT, 5, 1)]
    states = [w[0] for w in ctx.served_words(unit, FC_READ_INPUT, 4, 1)]

    def flags():
        got = dict(_var(ns, "alarm_flags"))
        if not words:
            return False, ("设备没有为你响应过对报警字（输入寄存器 5）的 FC 04 读取"
                           "（no FC 04 read of the alarm word (input register 5) was served）")
        want = [codec.bits_to_flags(w, pm.ALARM_BITS) for w in words]
        return got in want, f"应为 {want[-1]}，你的答案是 {got}（expected vs your alarm_flags）"

    r.guard("报警字解码为带名称的标志位（alarm word decoded into named flags）", 3, flags)
    def state():
        if not states:
            return False, ("设备没有为你响应过对产线状态（输入寄存器 4）的 FC 04 读取"
                           "（no FC 04 read of the line state (input register 4) was served to you）")
        names = {pm.STATE_NAMES[w] for w in states if w in pm.STATE_NAMES}
        got = str(_var(ns, "state_name")).strip().lower()
        return got in names, (f"状态寄存器 4 读到的状态是 {sorted(names)}，你的答案是 {_v(got)}"
                              "（state register 4 as read vs your state_name）")

    r.guard("产线状态名称（line state name）", 2, state)
    return r.total()


# ----------------------------------------------------------- practical 3
ACQ_COLUMNS = ["meter.power_total", "vfd.output_freq", "plc.parts", "th.temperature"]


def _load_csv():
    import pandas as pd

    path = Path(os.environ.get("DAQLAB_FILES") or ".") / "results" / "station_log.csv"
    if not path.exists():
        raise FileNotFoundError("没有保存 results/station_log.csv，请按规定的文件夹和文件名保存"
                                "（results/station_log.csv was not saved (the prescribed folder and name)）")
    return pd.read_csv(path, index_col=0, parse_dates=True)


def acquisition_csv(ns: dict) -> float:
    r = Report("数据文件（Evidence file）")
    ctx = context()
    prm = for_station(ctx.seed, ctx.station)

    def exists():
        df = _load_csv()
        missing = [c for c in ACQ_COLUMNS if c not in df.columns]
        return not missing, "列齐全（columns present）" if not missing else f"缺少列 {missing}（missing columns）"

    r.guard("results/station_log.csv，含四个变量列（results/station_log.csv with the four tag columns）", 2, exists)
    r.guard(f"至少 {prm['poll_count'] - 2} 行（at least {prm['poll_count'] - 2} rows）", 1,
            lambda: (len(_load_csv()) >= prm["poll_count"] - 2, f"{len(_load_csv())} 行（rows）"))

    def rate():
        dt = _load_csv().index.to_series().diff().dropna().dt.total_seconds()
        ok = len(dt) > 0 and abs(dt.median() - prm["poll_period_s"]) <= 0.1
        return ok, (f"采样间隔中位数 {dt.median():.3f} s，规定为 {_v(prm['poll_period_s'])} s"
                    "（median interval vs the prescribed period）")

    r.guard("按规定周期采样（sampled at the prescribed period）", 2, rate)

    def genuine():
        hits, n = _genuine_share(ctx)
        return n > 0 and hits >= 0.8 * n, f"{hits}/{n} 个功率值与设备返回的寄存器值一致（power values match served registers）"

    r.guard("功率值确实是从设备采集的（power values were really acquired from the plant）", 2, genuine)
    # the CSV earns its other points only if it is this run's acquisition: rows no more than the scans served
    polls = len(ctx.served_words(ctx.served["units"]["meter"], FC_READ_INPUT, 0x34, 2))
    try:
        rows = int(_load_csv()["meter.power_total"].notna().sum())
    except Exception:  # no file or no power column: its own checks above already say so
        rows = 0
    if polls == 0:
        r.checks = [replace(c, passed=False, earned=0.0) for c in r.checks]
        r.add("文件来自本次运行（the file comes from this run）", 0, False,
              "评分期间设备没有为你响应过功率读取：这个文件不是在本次运行中采集的"
              "（the plant served no power reads to you during grading: the file was not acquired here）")
    elif rows > polls:
        r.checks = [replace(c, passed=False, earned=0.0) for c in r.checks]
        r.add("文件来自本次运行（the file comes from this run）", 0, False,
              f"文件里有 {rows} 个功率值，但评分期间设备只为你响应过 {polls} 次功率读取：每一行都应是一次真实的采集"
              f"（{rows} power values in the file, only {polls} power reads served to you: every row must be a real scan）")
    return r.total()


def _genuine_share(ctx) -> tuple[int, int]:
    """(power values in the CSV that the plant served to this run, power values in the CSV)."""
    s = ctx.served
    served = ctx.served_values(s["units"]["meter"], FC_READ_INPUT, 0x34, "FLOAT32", s["meter_order"])
    vals = _load_csv()["meter.power_total"].dropna()
    hits = 0
    for v in vals:  # each served read vouches for one row: one read copied into every row is one hit
        i = next((i for i, x in enumerate(served) if _close(v, x, 1e-3 + 1e-6 * abs(x))), None)
        if i is not None:
            hits += 1
            del served[i]
    return hits, len(vals)


def acquisition_kpis(ns: dict) -> float:
    r = Report("指标（KPIs）")
    ctx = context()
    df = None

    def data():
        nonlocal df
        if df is None:
            df = _load_csv()
        return df

    def kpi(name, compute, rel):
        def check():
            got = dict(_var(ns, "kpis"))[name]
            hits, n = _genuine_share(ctx)
            if not n or hits < 0.8 * n:
                return False, (f"{name}：你的 CSV 不是本次运行中从设备采集的，只有 {hits}/{n} 个值由设备返回"
                               "（your CSV was not acquired from the plant during this run）")
            want = compute(data())
            ok = _close(got, want, abs(want) * rel + 1e-9)
            return ok, f"{name} = {_v(got)}，按你的 CSV 计算为 {want:.6g}（yours vs computed from your CSV）"
        return check

    def energy(d):
        t = d.index.to_series().diff().dt.total_seconds().fillna(0).to_numpy()
        p = d["meter.power_total"].to_numpy()
        return float(sum((p[i] + p[i - 1]) / 2 * t[i] for i in range(1, len(p)))) / 3_600_000

    def ppm(d):
        minutes = (d.index[-1] - d.index[0]).total_seconds() / 60
        return float(d["plc.parts"].iloc[-1] - d["plc.parts"].iloc[0]) / minutes

    r.guard("平均功率 W（mean power (W)）", 1, kpi("mean_power_w", lambda d: float(d["meter.power_total"].mean()), 0.01))
    r.guard("最高温度 °C（max temperature (°C)）", 1, kpi("max_temperature_c", lambda d: float(d["th.temperature"].max()), 0.01))
    r.guard("电能 kWh，梯形法积分（energy (kWh, trapezoidal)）", 2, kpi("energy_kwh", energy, 0.05))
    r.guard("每分钟产量（parts per minute）", 2, kpi("parts_per_min", ppm, 0.10))
    return r.total()


def acquisition_figure(ns: dict) -> float:
    """Practical 3, cell 3: ``fig`` has labelled axes and a horizontal line at the station's power threshold."""
    r = Report("趋势图（Trend figure）")
    ctx = context()
    prm_threshold = for_station(ctx.seed, ctx.station)["power_threshold_w"]  # this station's, not station 1's

    def axes():
        fig = _var(ns, "fig")
        if not (isinstance(fig, dict) and fig.get("__figure__") and fig.get("axes")):
            raise TypeError("`fig` 不是带坐标轴的 matplotlib 图（`fig` is not a matplotlib figure with axes）")
        return fig["axes"]

    def labelled():
        ax = axes()[0]
        return bool(ax["xlabel"] and ax["ylabel"]), f"x 轴标签 {ax['xlabel']!r}，y 轴标签 {ax['ylabel']!r}（x label, y label）"

    def threshold():
        lines = [line for ax in axes() for line in ax["lines"]]
        flat = [line for line in lines if line["y"] and len(set(line["y"])) == 1 and _close(line["y"][0], prm_threshold, 1e-6)]
        return bool(flat), "找到了阈值线（threshold line found）" if flat else \
            f"在 {prm_threshold:g} W 处没有水平线（no horizontal line at {prm_threshold:g} W）"

    r.guard("坐标轴有标签（axes labelled）", 1, labelled)
    r.guard("阈值线（threshold line）", 1, threshold)
    return r.total()


# ----------------------------------------------------------- practical 4
def _vfd(ctx):
    return ctx.served["units"]["vfd"]


def control_start(ns: dict) -> float:
    r = Report("按设定频率启动（Start at the setpoint）")
    ctx = context()
    sp = for_station(ctx.seed, ctx.station)["setpoint_hz"]
    unit = _vfd(ctx)
    any_freq = [e for e in ctx.writes(unit, 0x2001) if e.values]
    freq_writes = [e for e in any_freq if e.values[0] == round(sp * 100)]
    runs = [e for e in ctx.writes(unit, 0x2000) if e.values and e.values[0] == 0x0012]
    wrote = sorted({e.values[0] for e in any_freq})
    r.add(f"频率指令 {sp:.2f} Hz 写入 0x2001（frequency command {sp:.2f} Hz written to 0x2001）", 3, bool(freq_writes),
          "已写入（written）" if freq_writes else
          f"没有向从站地址（unit id）{unit} 的 0x2001 写入 {round(sp * 100)}，频率以 0.01 Hz 为单位"
          + (f"；你写入的是 {wrote[:5]}" if wrote else "")
          + f"（no write of {round(sp * 100)} to 0x2001 on unit {unit}" + (f"; you wrote {wrote[:5]}）" if wrote else "）"))
    # the order is its own check: a wrong frequency value costs the frequency's points, not these as well
    ok_order = bool(any_freq and runs and runs[-1].time >= any_freq[0].time)
    r.add("先写频率，再写正转运行 0x0012（run forward (0x0012) after the setpoint）", 3, ok_order,
          "写频率之后写入了 0x2000 = 0x0012（0x2000 = 0x0012 written after the frequency）" if ok_order else
          "写设定频率之后没有运行指令 0x0012（no run command 0x0012 after the setpoint）")
    reached = [w for w in ctx.served_words(unit, FC_READ_HOLDING, 0x2103, 1) if abs(w[0] - round(sp * 100)) <= 10]
    r.add("输出频率达到设定值（output frequency seen at the setpoint）", 2, bool(reached),
          "有一次读取 0x2103 显示已达到设定频率（a read of 0x2103 showed the setpoint）" if reached else
          "没有一次读取 0x2103 显示达到设定频率，请等待加速完成（no read of 0x2103 showed the setpoint (wait for the ramp)）")
    def reported():
        got = _var(ns, "reached_freq")
        seen = [w[0] / 100 for w in ctx.served_words(unit, FC_READ_HOLDING, 0x2103, 1)]
        if not any(_close(got, v, 0.05) for v in seen):
            return False, (f"reached_freq {_v(got)} 不是变频器通过 0x2103 返回给你的输出频率"
                           "（not an output frequency the drive reported to you (0x2103)）")
        return _close(got, sp, 0.1), (f"reached_freq {_v(got)} 读自 0x2103，设定频率为 {sp:.2f}"
                                      "（read from 0x2103 vs setpoint）")

    r.guard("报告 reached_freq（reached_freq reported）", 2, reported)
    return r.total()


def control_stop(ns: dict) -> float:
    r = Report("安全停机（Stop safely）")
    ctx = context()
    unit = _vfd(ctx)
    runs = [e.time for e in ctx.writes(unit, 0x2000) if e.values and e.values[0] == 0x0012]
    stops = [e.time for e in ctx.writes(unit, 0x2000) if e.values and e.values[0] == 0x0001]
    # running: a run command, or an output frequency above 0 read back (a line already running when the task began)
    turning = [e.time for e in ctx.log(unit=unit, function=FC_READ_HOLDING) if e.status == "ok" and e.values
               and e.address <= 0x2103 < e.address + e.count and e.values[0x2103 - e.address] > 0]
    ran = bool(stops) and any(t < stops[-1] for t in runs + turning)
    rerun = bool(stops and runs and runs[-1] > stops[-1])
    ok = ran and not rerun
    r.add("运行后写入停机指令 0x0001（stop command 0x0001 written after running）", 3, ok,
          "已停机（stopped）" if ok else
          "没有写入停机指令 0x0001（no stop command 0x0001 was written）" if not stops else
          "最后一次停机之后又写入了运行指令，变频器仍在运行（a run command after the last stop: the drive is left running）"
          if rerun else
          "停机指令之前变频器没有运行：没有运行指令，也没有读到大于 0 的输出频率"
          "（the drive was not running before the stop: no run command, no output frequency above 0 read）")
    zero_after = [e for e in ctx.log(unit=unit, function=FC_READ_HOLDING)
                  if e.status == "ok" and stops and e.time > stops[-1] and e.address <= 0x2103 < e.address + e.count
                  and e.values[0x2103 - e.address] == 0]

    def confirmed():
        got = _var(ns, "stopped_freq")
        if not zero_after:
            return False, "停机后没有一次读取 0x2103 显示 0 Hz（no read of 0x2103 after the stop showed 0 Hz）"
        return _close(got, 0.0, 0.05), f"stopped_freq {_v(got)}，停机后有读取显示 0 Hz（a read after the stop showed 0 Hz）"

    r.guard("确认输出频率为 0 Hz（output frequency confirmed at 0 Hz）", 2, confirmed)
    return r.total()


# ----------------------------------------------------------- practical 5
def _meter_unit(ctx, ns):
    s, d = ctx.served, ctx.documented
    got = int(_var(ns, "meter_unit"))
    if not ctx.served_words(s["units"]["meter"], FC_READ_INPUT, 0, 2):
        return False, (f"meter_unit {got}：评分运行中从未读到过电能表的电压寄存器，这个答案不是从设备上核实的"
                       "（the meter's voltage registers were never read during the run: not verified on the device）")
    return got == s["units"]["meter"], f"meter_unit {got}，手册上写的是 {d['units']['meter']}（datasheet says {d['units']['meter']}）"


def _meter_order(ctx, ns):
    s, d = ctx.served, ctx.documented
    got = str(_var(ns, "meter_order")).upper()
    if not ctx.served_words(s["units"]["meter"], FC_READ_INPUT, 0, 2):
        return False, (f"meter_order {_v(got)}：从未读取过电能表的寄存器，无法判断字序"
                       "（the meter's registers were never read, so it cannot be told）")
    return got == s["meter_order"], f"meter_order {_v(got)}，手册上写的是 {d['meter_order']}（datasheet says {d['meter_order']}）"


def _th_diagnosed(ctx, ns):
    s = ctx.served
    got = str(_var(ns, "th_status")).strip().lower()
    raw = [w[0] for w in ctx.served_words(s["units"]["th"], FC_READ_INPUT, 1, 1)]
    if not raw:
        return False, f"th_status {_v(got)}：从未读取过温湿度变送器的温度寄存器（the T/H temperature register was never read）"
    want = "broken" if raw[-1] == 0x7FFF else "ok"
    return got == want, (f"th_status {_v(got)}：寄存器读数为 0x{raw[-1]:04X}，0x7FFF 是传感器故障时的无效值（故障码）"
                         f"（the register read 0x{raw[-1]:04X}, 0x7FFF is the sentinel）")


def diagnose(ns: dict) -> float:
    """The mock final's part 5: what was found on site (meter moved, its words swapped, the T/H sensor broken)."""
    r = Report("现场排查（Diagnose on site）")
    ctx = context()
    r.guard("电能表实际的从站地址（meter's real unit id）", 3, lambda: _meter_unit(ctx, ns))
    r.guard("电能表实际的字序（meter's real word order）", 3, lambda: _meter_order(ctx, ns))
    r.guard("诊断出温湿度传感器故障（broken T/H sensor diagnosed）", 2, lambda: _th_diagnosed(ctx, ns))
    return r.total()


PARTS_CALLS = 20  #: read_parts() calls at hand-in (daqlab.grading.cells): a read without retries cannot pass them


def troubleshoot(ns: dict) -> float:
    r = Report("故障排查（Troubleshoot）")
    ctx = context()
    s = ctx.served

    r.guard("电能表实际的从站地址（meter's real unit id）", 3, lambda: _meter_unit(ctx, ns))
    r.guard("电能表实际的字序（meter's real word order）", 3, lambda: _meter_order(ctx, ns))
    other = ["CDAB" if s["meter_order"] == "ABCD" else "ABCD"]
    r.guard("正确读取 L1 相电压（voltage L1 read correctly）", 3, lambda: _matches_served(
        ctx, _var(ns, "voltage_l1"), s["units"]["meter"], FC_READ_INPUT, 0, "FLOAT32", s["meter_order"], tol=1e-3,
        wrong_orders=other, what="voltage_l1"))
    r.guard("诊断出温湿度传感器故障（broken T/H sensor diagnosed）", 2, lambda: _th_diagnosed(ctx, ns))

    def robust():
        calls = _var(ns, "read_parts")
        if not (isinstance(calls, dict) and isinstance(calls.get("__calls__"), list)):
            raise TypeError("`read_parts` 不是函数（`read_parts` is not a function）")
        got = calls["__calls__"]
        counts = {v for v in ctx.served_values(s["units"]["plc"], FC_READ_INPUT, 0, "UINT32")}
        ok = len(got) == PARTS_CALLS and all(isinstance(v, int) and not isinstance(v, bool) and v in counts for v in got)
        return ok, f"调用 read_parts() {len(got)} 次 → {got}（read_parts() x{len(got)}）" + (
            "" if ok else "；每次调用都必须返回 PLC 实际返回过的产量计数（each call must return a part count the PLC served）")

    r.guard("read_parts() 能承受间歇性超时（read_parts() survives intermittent timeouts）", 4, robust)
    return r.total()


def answered(ns: dict, *names: str) -> None:
    """Visible part of a test cell: say which answers exist; raise only when none of them does.

    (A blank notebook fails its tests; a partly answered one is graded check by check.)
    """
    present = [n for n in names if n in ns]
    for n in names:
        print(f"  {'✓' if n in ns else '·'} {n}" + (f" = {ns[n]!r}"[:80] if n in ns else " 未作答（not answered yet）"))
    if not present:
        raise NameError(f"尚未作答：{', '.join(names)} 都还没有定义（none of {', '.join(names)} is defined yet）")
