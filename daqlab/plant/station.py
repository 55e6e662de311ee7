"""One station (trainee bench): its process, its five devices at their unit ids, faults and log."""

from __future__ import annotations

import random
import time

from daqlab.plant import protocol
from daqlab.plant.devices import DEVICE_CLASSES
from daqlab.plant.faults import DeviceFaults, parse_value
from daqlab.plant.process import Process
from daqlab.plant.reqlog import EXCEPTION, NO_REPLY, OK, RequestLog
from daqlab.plant.variants import StationVariant, station_seed

GATEWAY_TARGET_FAILED = 0x0B  #: exception answered for a unit id nobody owns (TCP gateway behaviour)
BROADCAST = 0


class Station:
    """Serves Modbus requests for one bench. All methods run on the plant's event-loop thread."""

    def __init__(self, variant: StationVariant, clock, *, plant_seed: int = 0, log_size: int = 100_000,
                 sink=None, unknown_unit: str = "exception"):
        if unknown_unit not in ("exception", "silent"):
            raise ValueError("unknown_unit must be 'exception' (0x0B) or 'silent' (no reply)")
        self.number = variant.station
        self.documented = variant  # what the datasheet says
        self.clock = clock
        self.unknown_unit = unknown_unit
        self._plant_seed = plant_seed
        self.revision = 0  # bumped by writes and fault changes: invalidates every device's value cache
        self.log = RequestLog(variant.station, maxlen=log_size, sink=sink)
        self.reset()

    def reset(self, served: StationVariant | None = None, scenario: str = "") -> None:
        """Start the bench afresh (new process, no faults, empty log), in place so open connections
        keep working; ``served`` is the installation actually served when it differs from the datasheet."""
        variant = served or self.documented
        self.variant = variant
        self.scenario = scenario
        self.process = Process(variant.seed, reject_rate=variant.reject_rate)
        self.process.advance_to(self.clock.now())
        self.faults: dict[str, DeviceFaults] = {}
        self._fault_rng = random.Random(station_seed(self._plant_seed, variant.station, "faults"))
        self.devices = {kind: cls(self, variant.units[kind]) for kind, cls in DEVICE_CLASSES.items()}
        self.units = {d.unit: d for d in self.devices.values()}
        self.revision += 1
        self.log.clear()

    def info(self) -> dict:
        """The documented and the served installation, faults and scenario (grading oracles read it)."""
        from dataclasses import asdict

        return {"station": self.number, "documented": asdict(self.documented), "served": asdict(self.variant),
                "faults": self.describe_faults(), "scenario": self.scenario, "plant_time": self.process.t}

    # -------------------------------------------------------------- serving
    def sync(self) -> None:
        """Bring the process model up to the current plant time."""
        self.process.advance_to(self.clock.now())

    def handle(self, unit: int, pdu: bytes, client: str) -> tuple[bytes | None, float]:
        """Reply PDU (or None for no reply) and the delay before sending it."""
        now = time.time()
        self.sync()
        tp = self.process.t
        fc = pdu[0] & 0x7F
        log = self.log

        if unit == BROADCAST:
            # as on a serial line: writes go to every device, nothing is answered
            if fc in protocol.WRITE_FCS:
                for dev in self.devices.values():
                    protocol.process(dev, pdu, lambda *a: None)
            log.add(now, tp, client, unit, fc, None, None, None, None, NO_REPLY)
            return None, 0.0

        device = self.units.get(unit)
        if device is None:
            if self.unknown_unit == "silent":
                log.add(now, tp, client, unit, fc, None, None, None, None, NO_REPLY)
                return None, 0.0
            log.add(now, tp, client, unit, fc, None, None, None, GATEWAY_TARGET_FAILED, EXCEPTION)
            return protocol.exception_pdu(fc, GATEWAY_TARGET_FAILED), 0.0

        delay = 0.0
        f = self.faults.get(device.kind)
        if f is not None:
            if f.offline or (f.drop and f.rng.random() < f.drop):
                log.add(now, tp, client, unit, fc, None, None, None, None, NO_REPLY)
                return None, 0.0
            if f.exception:
                log.add(now, tp, client, unit, fc, None, None, None, f.exception, EXCEPTION)
                return protocol.exception_pdu(fc, f.exception), f.latency
            delay = f.latency

        def record(function, address, count, values, exception):
            log.add(now, tp, client, unit, function, address, count, values, exception,
                    OK if exception is None else EXCEPTION)

        return protocol.process(device, pdu, record), delay

    # --------------------------------------------------------------- faults
    def device(self, name_or_unit) -> object:
        """A device by kind ("meter") or by unit id (3)."""
        if isinstance(name_or_unit, int) or str(name_or_unit).isdigit():
            unit = int(name_or_unit)
            if unit not in self.units:
                raise KeyError(f"station {self.number} has no device at unit {unit}")
            return self.units[unit]
        if name_or_unit not in self.devices:
            raise KeyError(f"unknown device {name_or_unit!r}; use one of {', '.join(self.devices)}")
        return self.devices[name_or_unit]

    def set_fault(self, device, mode: str, value=True) -> dict:
        """Switch a fault mode on (or off with a false/0 value); returns the device's active faults."""
        dev = self.device(device)
        parsed = parse_value(mode, value)
        f = self.faults.get(dev.kind) or DeviceFaults(rng=random.Random(self._fault_rng.random()))
        if mode == "stuck":
            self.sync()
            f.stuck = dict(dev.current_values()) if parsed else None
        else:
            setattr(f, mode, parsed)
        if f.active():
            self.faults[dev.kind] = f
        else:
            self.faults.pop(dev.kind, None)
        self.process.sensor_fault = any(x.broken for k, x in self.faults.items() if k in ("th", "ai"))
        self.revision += 1
        return f.describe()

    def clear_faults(self, device=None) -> None:
        if device is None:
            self.faults.clear()
        else:
            self.faults.pop(self.device(device).kind, None)
        self.process.sensor_fault = any(x.broken for k, x in self.faults.items() if k in ("th", "ai"))
        self.revision += 1

    def describe_faults(self) -> dict:
        return {kind: f.describe() for kind, f in self.faults.items()}
