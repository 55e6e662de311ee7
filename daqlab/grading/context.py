"""The grading plant, as a kernel sees it: its station, the station's truth and its request log.

The grading pipeline sets (and nothing a trainee edits can change):

- ``DAQLAB_ENDPOINT`` / ``DAQLAB_STATION`` / ``DAQLAB_SEED``: the trainee's station on the grading plant;
- ``DAQLAB_CONTROL_URL`` and ``DAQLAB_CONTROL_TOKEN``: the plant's control API (truth and request log).

Or, for a **real bench** (no simulator to ask): ``DAQLAB_BENCH`` (its description: the static facts, unit ids,
word order, resolution, serial number) and ``DAQLAB_WIRE_LOG`` (the requests and replies the grader recorded on
the relay between the submission and the bench, daqlab.course.wirelog). The oracles ask the same questions of
either; :func:`truth_note` says in each report which kind of truth was used.
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
    """The same questions answered without a simulator: facts from the bench description, the request log from
    the grader's own record of the wire."""

    def __init__(self, endpoint: str, station: int, seed: int, bench_file: str, wire_file: str):
        super().__init__(endpoint, station, seed, "", "")
        self.bench_file, self.wire_file = bench_file, wire_file

    @cached_property
    def info(self) -> dict:
        from dataclasses import asdict

        from daqlab.benches import load_bench

        bench = load_bench(self.bench_file)
        facts = asdict(bench.variant)  # a real bench is as described: documented = served
        return {"station": bench.station, "documented": facts, "served": facts, "faults": {}, "scenario": ""}

    def log(self, *, unit: int | None = None, function=None) -> list[LogEntry]:
        entries = []
        with open(self.wire_file, encoding="utf-8") as fh:
            for line in fh:
                e = json.loads(line)
                entries.append(LogEntry(**{**e, "values": tuple(e["values"]) if e["values"] is not None else None}))
        fns = (function,) if isinstance(function, int) else function
        return [e for e in entries if (unit is None or e.unit == unit) and (fns is None or e.function in fns)]


def truth_note(environ=None) -> str:
    """One line for a report: which kind of truth the checks used."""
    env = os.environ if environ is None else environ
    if env.get("DAQLAB_WIRE_LOG"):
        return ("（评分依据：实训台描述和评分程序在线路上记录的读写报文 · truth: the bench description and the frames "
                "the grader recorded on the wire）")
    return "（评分依据：仿真工厂的状态和请求日志 · truth: the simulated plant's state and request log）"


def context() -> GradingContext:
    env = os.environ
    if not env.get("DAQLAB_CONTROL_URL") and env.get("DAQLAB_BENCH") and env.get("DAQLAB_WIRE_LOG"):
        return BenchContext(env["DAQLAB_ENDPOINT"], int(env.get("DAQLAB_STATION", "1")),
                            int(env.get("DAQLAB_SEED", "0")), env["DAQLAB_BENCH"], env["DAQLAB_WIRE_LOG"])
    if not env.get("DAQLAB_CONTROL_URL"):
        raise NoGradingPlant("没有评分用的设备：这些检查在教师评分（daqlab course grade）时运行"
                             "（no grading plant: these checks run when the instructor grades）")
    return GradingContext(endpoint=env["DAQLAB_ENDPOINT"], station=int(env.get("DAQLAB_STATION", "1")),
                          seed=int(env.get("DAQLAB_SEED", "0")), control_url=env["DAQLAB_CONTROL_URL"].rstrip("/"),
                          token=env.get("DAQLAB_CONTROL_TOKEN", ""))
