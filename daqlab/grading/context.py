"""The grading plant, as a kernel sees it: its station, the station's truth and its request log.

The grading pipeline sets (and nothing a trainee edits can change):

- ``DAQLAB_ENDPOINT`` / ``DAQLAB_STATION`` / ``DAQLAB_SEED``: the trainee's station on the grading plant;
- ``DAQLAB_CONTROL_URL`` and ``DAQLAB_CONTROL_TOKEN``: the plant's control API (truth and request log).
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


def context() -> GradingContext:
    env = os.environ
    if not env.get("DAQLAB_CONTROL_URL"):
        raise NoGradingPlant("没有评分用的设备：这些检查在教师评分（daqlab course grade）时运行"
                             "（no grading plant: these checks run when the instructor grades）")
    return GradingContext(endpoint=env["DAQLAB_ENDPOINT"], station=int(env.get("DAQLAB_STATION", "1")),
                          seed=int(env.get("DAQLAB_SEED", "0")), control_url=env["DAQLAB_CONTROL_URL"].rstrip("/"),
                          token=env.get("DAQLAB_CONTROL_TOKEN", ""))
