"""Per-station variants drawn from the station seed, so neighbours' numbers differ.

A trainee who copies a neighbour's word order, scaling or unit id reads garbage on their own
station: each bench is a slightly different (but always documented) installation.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

DEFAULT_UNITS = {"plc": 1, "th": 2, "meter": 3, "vfd": 4, "ai": 5}


def station_seed(plant_seed: int, station: int, *salt: str) -> int:
    """Stable 63-bit seed from the plant seed, the station number and optional salt words."""
    text = "|".join(["daqlab", str(plant_seed), str(station), *salt])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


@dataclass(frozen=True)
class StationVariant:
    station: int  #: station number, 1-based
    seed: int  #: station seed (derived from the plant seed)
    units: dict  #: device name -> Modbus unit id
    meter_order: str  #: word order of the meter's float32 values: "ABCD" or "CDAB"
    th_scale: int  #: T/H transmitter resolution: 10 (0.1 units) or 100 (0.01 units)
    pressure_range: tuple  #: analog channel 0, bar at 4 mA and at 20 mA
    level_range: tuple  #: analog channel 1, m at 4 mA and at 20 mA
    reject_rate: float  #: probability that a finished part is rejected
    baudrate: int  #: serial bus speed of the station's RS-485 line
    parity: str  #: "N", "E" or "O"
    stopbits: int  #: 1 or 2
    serial_number: str  #: PLC serial number on the nameplate

    @classmethod
    def draw(cls, plant_seed: int, station: int) -> StationVariant:
        """Draw the variant of ``station`` deterministically from ``plant_seed``."""
        seed = station_seed(plant_seed, station)
        rng = random.Random(station_seed(plant_seed, station, "variant"))
        units = dict(DEFAULT_UNITS)
        units["vfd"] = rng.choice([4, 4, 6, 7, 8])
        parity = rng.choice(["N", "E", "E"])
        return cls(
            station=station,
            seed=seed,
            units=units,
            meter_order=rng.choice(["ABCD", "CDAB"]),
            th_scale=rng.choice([10, 100]),
            pressure_range=rng.choice([(0.0, 10.0), (0.0, 16.0)]),
            level_range=rng.choice([(0.0, 2.0), (0.0, 5.0)]),
            reject_rate=round(rng.uniform(0.02, 0.06), 3),
            baudrate=rng.choice([9600, 9600, 19200]),
            parity=parity,
            stopbits=2 if parity == "N" and rng.random() < 0.5 else 1,
            serial_number=f"S{station:02d}-{rng.randrange(10**5, 10**6)}",
        )

    @classmethod
    def default(cls, station: int = 1, plant_seed: int = 0) -> StationVariant:
        """The textbook installation (unit ids 1-5, ABCD, x10, 9600 8E1): used by lessons' first steps."""
        v = cls.draw(plant_seed, station)
        return cls(station=station, seed=v.seed, units=dict(DEFAULT_UNITS), meter_order="ABCD", th_scale=10,
                   pressure_range=(0.0, 10.0), level_range=(0.0, 2.0), reject_rate=0.03, baudrate=9600,
                   parity="E", stopbits=1, serial_number=v.serial_number)
