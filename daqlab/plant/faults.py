"""Faults on demand, per station and device: what a troubleshooting drill switches on.

========  =====================================================  ==========================
mode      effect                                                 value
========  =====================================================  ==========================
offline   the device never answers (client times out)            on/off
latency   every reply is delayed                                 milliseconds
drop      a share of requests gets no reply                      percent (0-100)
exception every request is answered with this exception code     code (e.g. 4 or 6)
broken    sensor values read as the broken-sensor sentinel       on/off
          (16-bit: 0x7FFF; float32: NaN; analog module: 0x7FFF
          and the wire-break bits in its status word)
stuck     sensor values freeze at what they were when switched   on/off
spikes    each sensor value read is a spike with this chance     percent (0-100)
========  =====================================================  ==========================

Random choices (drop, spikes) come from a generator seeded by the station, so a drill replays
the same way for the same sequence of requests.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

MODES = ("offline", "latency", "drop", "exception", "broken", "stuck", "spikes")
SENTINEL16 = 0x7FFF


@dataclass
class DeviceFaults:
    rng: random.Random  #: seeded generator for drop and spikes
    offline: bool = False  #: no reply at all
    latency: float = 0.0  #: reply delay, seconds
    drop: float = 0.0  #: probability of no reply, 0..1
    exception: int | None = None  #: exception code answered to every request
    broken: bool = False  #: sensor points read as the sentinel
    stuck: dict | None = None  #: frozen sensor values (snapshot at switch-on)
    spikes: float = 0.0  #: probability that a sensor value read is a spike, 0..1
    extra: dict = field(default_factory=dict)  #: reserved for future modes

    def active(self) -> bool:
        return bool(self.offline or self.latency or self.drop or self.exception or self.broken
                    or self.stuck is not None or self.spikes)

    def describe(self) -> dict:
        out = {}
        if self.offline:
            out["offline"] = True
        if self.latency:
            out["latency"] = round(self.latency * 1000)
        if self.drop:
            out["drop"] = round(self.drop * 100, 3)
        if self.exception:
            out["exception"] = self.exception
        if self.broken:
            out["broken"] = True
        if self.stuck is not None:
            out["stuck"] = True
        if self.spikes:
            out["spikes"] = round(self.spikes * 100, 3)
        return out

    def transform(self, device, values: dict) -> dict:
        """Sensor values as the faulty device reports them."""
        if not (self.broken or self.stuck is not None or self.spikes):
            return values
        values = dict(values)
        sensors = [p for p in device.points if p.sensor]
        if self.stuck is not None:
            values.update({p.name: self.stuck[p.name] for p in sensors if p.name in self.stuck})
        if self.spikes:
            for p in sensors:
                if self.rng.random() < self.spikes:
                    v = values[p.name]
                    values[p.name] = v + (abs(v) + 10.0) * self.rng.choice((4.0, -4.0))
        if self.broken:
            for p in sensors:
                if p.dtype in ("FLOAT32", "FLOAT64"):
                    values[p.name] = math.nan
                else:
                    values[p.name] = ("raw", [SENTINEL16] + [0xFFFF] * (p.count - 1))
            if device.kind == "ai":
                values["status"] = values.get("status", 0) | 0x000F
        return values


def parse_value(mode: str, value) -> object:
    """Turn a CLI/API value into the field value for ``mode``; raise ValueError with the reason."""
    if mode not in MODES:
        raise ValueError(f"unknown fault mode {mode!r}; use one of {', '.join(MODES)}")
    if mode in ("offline", "broken", "stuck"):
        if isinstance(value, str):
            value = value.strip().lower() not in ("0", "off", "false", "no", "")
        return bool(value)
    number = float(value)
    if mode == "latency":
        if not 0 <= number <= 60_000:
            raise ValueError("latency is in milliseconds, 0..60000")
        return number / 1000.0
    if mode in ("drop", "spikes"):
        if not 0 <= number <= 100:
            raise ValueError(f"{mode} is a percentage, 0..100")
        return number / 100.0
    code = int(number)
    if code != 0 and not 1 <= code <= 0x0B:
        raise ValueError("exception code must be 1..11 (0 clears)")
    return code or None
