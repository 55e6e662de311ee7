"""The grading plant, as a kernel sees it: its station, the station's truth and its request log.

The grading pipeline sets (and nothing a trainee edits can change):

- ``DAQLAB_ENDPOINT`` / ``DAQLAB_STATION`` / ``DAQLAB_SEED``: the trainee's station on the grading plant;
- ``DAQLAB_CONTROL_URL`` and ``DAQLAB_CONTROL_TOKEN``: the plant's control API (truth and request log).

Or, for a **real bench** (no simulator to ask), three kinds of truth:

- ``DAQLAB_BENCH``: its description, for the **static** facts (serial settings, resolution, analog ranges, serial
  number; the unit ids and the meter's word order as documented). It is what the trainees read, so it is never the
  truth for what the organiser may have changed on site for the task;
- ``DAQLAB_BENCH_SURVEY``: the grader's **own reads of the bench** at grading time (:func:`survey`, from the grading
  process, never the trainee's kernel), for the **served** facts the oracles use: which unit answers the meter's map
  and which word order gives a plausible mains frequency (the mock final moves the meter and swaps its words), and
  whether every other device answers at its documented unit;
- ``DAQLAB_WIRE_LOG`` (and ``DAQLAB_RS485_WIRE_LOG``): the requests and replies the grader recorded on the relays
  between the submission and the bench (daqlab.course.wirelog, daqlab.course.serialtap): what the bench served to
  this submission (a broken sensor's 0x7FFF is seen there, not in any description).

The oracles ask the same questions of either; :func:`truth_note` says in each report which kinds of truth were used.
"""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass
from functools import cached_property

from daqlab.acquisition import codec
from daqlab.plant.reqlog import LogEntry


class NoGradingPlant(RuntimeError):
    """Raised when an oracle needs the grading plant and none is configured."""


@dataclass
class GradingContext:
    endpoint: str  #: the trainee's station, tcp://host:port
    station: int  #: station number
    seed: int  #: plant seed
    control_url: str  #: http://host:port of the plant's control API
    token: str  #: X-DAQLab-Token for it

    def _get(self, path: str) -> dict:
        req = urllib.request.Request(self.control_url + path)
        if self.token:
            req.add_header("X-DAQLab-Token", self.token)
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    @cached_property
    def info(self) -> dict:
        """Documented and served installation of the station (units, word order, scaling ...)."""
        return self._get(f"/station?station={self.station}")

    @property
    def served(self) -> dict:
        return self.info["served"]

    @property
    def documented(self) -> dict:
        return self.info["documented"]

    def log(self, *, unit: int | None = None, function=None) -> list[LogEntry]:
        """Every request the station served to this submission (the pipeline resets it before each)."""
        entries = [LogEntry(**{**e, "values": tuple(e["values"]) if e["values"] is not None else None})
                   for e in self._get(f"/log?station={self.station}&limit=0")["entries"]]
        fns = (function,) if isinstance(function, int) else function
        return [e for e in entries if (unit is None or e.unit == unit) and (fns is None or e.function in fns)]

    def served_words(self, unit: int, function: int, address: int, count: int) -> list[tuple]:
        """Every time the registers [address, address+count) were served by a read: the words."""
        out = []
        for e in self.log(unit=unit, function=function):
            if e.status == "ok" and e.address is not None and e.address <= address and \
                    address + count <= e.address + e.count:
                out.append(tuple(e.values[address - e.address:address - e.address + count]))
        return out

    def served_values(self, unit, function, address, dtype, order="ABCD", scale=1.0, offset=0.0) -> list:
        n = codec.registers_for(dtype)
        return [codec.decode(list(w), dtype, order, scale=scale, offset=offset)
                for w in self.served_words(unit, function, address, n)]

    def writes(self, unit: int, address: int) -> list[LogEntry]:
        """Accepted writes (FC 05/06/15/16/22/23) that started at ``address`` on ``unit``."""
        return [e for e in self.log(unit=unit, function=(5, 6, 15, 16, 22, 23))
                if e.status == "ok" and e.address == address]


class BenchContext(GradingContext):
    """The same questions answered without a simulator: static facts from the bench description, served facts
    (unit ids, the meter's word order) from the grader's own survey of the bench, the request log from the grader's
    own record of the wire (Modbus TCP, and the RS-485 line when the bench has one)."""

    def __init__(self, endpoint: str, station: int, seed: int, bench_file: str, wire_file: str,
                 survey_json: str = "", rs485_file: str = ""):
        super().__init__(endpoint, station, seed, "", "")
        self.bench_file, self.wire_file, self.rs485_file = bench_file, wire_file, rs485_file
        self.survey = json.loads(survey_json) if survey_json else {}

    @cached_property
    def info(self) -> dict:
        from dataclasses import asdict

        from daqlab.benches import load_bench

        bench = load_bench(self.bench_file)
        documented = asdict(bench.variant)
        served = dict(documented)
        if self.survey.get("units"):  # what the grader found on the bench (see survey()); else as described
            served["units"] = {**documented["units"], **{k: int(u) for k, u in self.survey["units"].items()}}
        if self.survey.get("meter_order"):
            served["meter_order"] = self.survey["meter_order"]
        return {"station": bench.station, "documented": documented, "served": served, "faults": {}, "scenario": ""}

    def log(self, *, unit: int | None = None, function=None) -> list[LogEntry]:
        entries = []
        for path in (self.wire_file, self.rs485_file):
            if not path:
                continue
            with open(path, encoding="utf-8") as fh:
                for line in fh:
                    e = json.loads(line)
                    entries.append(LogEntry(**{**e, "values": tuple(e["values"]) if e["values"] is not None else None}))
        entries.sort(key=lambda e: e.time)
        fns = (function,) if isinstance(function, int) else function
        return [e for e in entries if (unit is None or e.unit == unit) and (fns is None or e.function in fns)]


#: unit ids the grader scans for a meter that is not where the description says. A gateway that answers exception 0B
#: for a unit nobody has is quick to scan (a reply per unit): all of 1-247. One that stays silent costs a timeout per
#: unit: only 1-31 (the units RS-485 training benches use), about 10 s at 0.3 s each.
SCAN_FAST, SCAN_SILENT = range(1, 248), range(1, 32)
#: one read per device class that its map answers (the bench has the device at its documented unit)
SIGNATURE = {"plc": (3, 0x18, 6), "th": (4, 0x01, 2), "vfd": (3, 0x2103, 1), "ai": (4, 0x00, 1)}
METER_FREQUENCY, METER_VOLTAGE = 0x46, 0x00  #: input registers of the meter's map (float32)


def survey(bench, *, timeout: float = 0.3) -> dict:
    """The bench as it stands, read by the grader (trusted side) before a submission runs; nothing is written.

    Returns ``{"units": {kind: unit}, "meter_order": "ABCD"|"CDAB", "notes": [...], "error": ""}``: the meter's unit
    is the first that answers the meter's map with a plausible mains frequency and phase voltage
    (daqlab.benches.PLAUSIBLE) in one word order, that order its word order: the documented unit first, then the scan
    range (SCAN_FAST or SCAN_SILENT, units of the other devices left out). Every other device is checked with one
    read at its documented unit (a note when it does not answer; its unit stays the documented one).
    """
    from daqlab.acquisition import codec
    from daqlab.benches import PLAUSIBLE
    from daqlab.modbus import client_from_url, quiet

    quiet()
    out: dict = {"units": {}, "meter_order": "", "notes": [], "error": ""}
    clients: dict = {}

    def client(kind):
        url = bench.devices[kind].url
        if url.startswith("rfc2217://") and "?" not in url:
            v = bench.variant
            url += f"?baudrate={v.baudrate}&parity={v.parity}&stopbits={v.stopbits}"
        if url not in clients:
            c = client_from_url(url, timeout=timeout, retries=0)
            if not c.connect():
                raise ConnectionError(f"cannot connect to {url}")
            clients[url] = c
        return clients[url]

    def read(kind, unit, fc, address, count):
        c = client(kind)
        try:
            rr = (c.read_holding_registers if fc == 3 else c.read_input_registers)(address, count=count, device_id=unit)
        except Exception:  # noqa: BLE001 - no reply (timeout, closed): this unit does not answer
            return None
        return None if rr.isError() else list(rr.registers)

    def meter_at(unit):
        freq, volt = read("meter", unit, 4, METER_FREQUENCY, 2), read("meter", unit, 4, METER_VOLTAGE, 2)
        if not freq or not volt:
            return ""
        flo, fhi, _ = PLAUSIBLE["meter.frequency"]
        vlo, vhi, _ = PLAUSIBLE["meter.voltage_l1"]
        fits = [o for o in ("ABCD", "CDAB") if flo <= codec.decode(freq, "FLOAT32", o) <= fhi
                and vlo <= codec.decode(volt, "FLOAT32", o) <= vhi]
        return fits[0] if len(fits) == 1 else ""

    try:
        for kind, dev in bench.devices.items():
            if kind in SIGNATURE and read(kind, dev.unit, *SIGNATURE[kind]) is None:
                out["notes"].append(f"{kind} 在从站 {dev.unit} 没有应答（{kind} did not answer at unit {dev.unit}）")
        if "meter" in bench.devices:
            documented = bench.devices["meter"].unit
            taken = {d.unit for k, d in bench.devices.items() if k != "meter"}
            scan = SCAN_SILENT if bench.unknown_unit == "silent" else SCAN_FAST
            for unit in [documented, *(u for u in scan if u not in taken and u != documented)]:
                order = meter_at(unit)
                if order:
                    out["units"]["meter"], out["meter_order"] = unit, order
                    break
            else:
                out["notes"].append(f"从站 {scan.start}-{scan.stop - 1} 中没有一个按电能表的寄存器表给出合理的电网频率，"
                                    "电能表的从站地址和字序按描述（no unit in "
                                    f"{scan.start}-{scan.stop - 1} answered the meter's map with a plausible mains "
                                    "frequency: its unit and word order as described）")
    except (ConnectionError, OSError) as exc:
        out["error"] = str(exc)
    finally:
        for c in clients.values():
            c.close()
    return out


def truth_note(environ=None) -> str:
    """One line for a report: which kinds of truth the checks used."""
    env = os.environ if environ is None else environ
    if env.get("DAQLAB_WIRE_LOG"):
        found = json.loads(env.get("DAQLAB_BENCH_SURVEY") or "{}")
        if found and not found.get("error"):
            meter = found.get("units", {}).get("meter")
            zh = ([f"电能表在从站 {meter}，字序 {found['meter_order']}"] if meter else []) + found.get("notes", [])
            own = ("、评分时评分程序对实训台的读取" + (f"（{'；'.join(zh)}）" if zh else ""),
                   ", the grader's own reads of the bench at grading time"
                   + (f" (meter at unit {meter}, word order {found['meter_order']})" if meter else ""))
        else:
            why = found.get("error") or "no survey"
            own = (f"（评分时未能读取实训台：{why}，从站地址和字序按描述）",
                   f" (the grader could not survey the bench: {why}; unit ids and word order as described)")
        line = ("（Modbus TCP 和 RS-485 总线）", " (Modbus TCP and the RS-485 line)") if env.get("DAQLAB_RS485_WIRE_LOG") \
            else ("", "")
        made = env.get("DAQLAB_WIRE_FAULTS", "")
        made = (f"；任务规定的通信故障（{made}）由评分程序在中继上模拟", f"; the task's communication faults ({made}) "
                "were made by the grader's relay") if made else ("", "")
        return (f"（评分依据：实训台描述（静态参数）{own[0]}和评分程序在线路上记录的读写报文{line[0]}{made[0]} · truth: the "
                f"bench description (static facts){own[1]} and the frames the grader recorded on the wire{line[1]}"
                f"{made[1]}）")
    return "（评分依据：仿真工厂的状态和请求日志 · truth: the simulated plant's state and request log）"


def context() -> GradingContext:
    env = os.environ
    if not env.get("DAQLAB_CONTROL_URL") and env.get("DAQLAB_BENCH") and env.get("DAQLAB_WIRE_LOG"):
        return BenchContext(env["DAQLAB_ENDPOINT"], int(env.get("DAQLAB_STATION", "1")),
                            int(env.get("DAQLAB_SEED", "0")), env["DAQLAB_BENCH"], env["DAQLAB_WIRE_LOG"],
                            env.get("DAQLAB_BENCH_SURVEY", ""), env.get("DAQLAB_RS485_WIRE_LOG", ""))
    if not env.get("DAQLAB_CONTROL_URL"):
        raise NoGradingPlant("没有评分用的设备：这些检查在教师评分（daqlab course grade）时运行"
                             "（no grading plant: these checks run when the instructor grades）")
    return GradingContext(endpoint=env["DAQLAB_ENDPOINT"], station=int(env.get("DAQLAB_STATION", "1")),
                          seed=int(env.get("DAQLAB_SEED", "0")), control_url=env["DAQLAB_CONTROL_URL"].rstrip("/"),
                          token=env.get("DAQLAB_CONTROL_TOKEN", ""))
