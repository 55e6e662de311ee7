"""How a station's documented points become OPC UA variables, and how values and writes cross over.

Pure mapping, no server: NodeIds, data types, engineering units, status codes, and the two
operations on a point — read it as the device serves it, write it through the device's own path.
Every function here must run on the plant's event-loop thread (it touches station state).

Types: BOOL → Boolean; INT16/UINT16/INT32/UINT32/INT64/UINT64 → Int16 ... UInt64; FLOAT32 → Float;
FLOAT64 → Double; STRING → String. A scaled integer (``scale`` ≠ 1 or an ``offset``, e.g. a VFD
frequency in 0.01 Hz) is an engineering value with decimals, so it is a Double.

Status codes (what a Modbus client would have met instead):

==========================================  ==============================================
station / request                           OPC UA status
==========================================  ==============================================
device fault ``offline`` (no reply)          BadNoCommunication (read and write)
device fault ``exception`` (code n)          BadDeviceFailure (read and write)
write of a read-only point (Modbus 02)       BadNotWritable
write outside limits/choices (Modbus 03),    BadOutOfRange — nothing applied
or not representable in the register
device refuses the command (Modbus 04,       BadInvalidState — nothing applied
e.g. run while the e-stop is pressed)
write with the wrong Variant type            BadTypeMismatch — nothing applied
==========================================  ==============================================

Transport faults of the Modbus link (``drop``, ``latency``) do not apply to OPC UA; value faults
(``broken``, ``stuck``, ``spikes``) do, because the value is what the device serves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from asyncua import ua

from daqlab.plant.devices.base import BIT_AREAS, ModbusError, Point

NAMESPACE_URI = "urn:daqlab:plant"  #: registered first after namespace 1, so it is namespace index 2
NAMESPACE_INDEX = 2
#: device kind -> name in the address space (and in NodeIds)
DEVICE_NAMES = {"plc": "PLC", "th": "TH", "meter": "Meter", "vfd": "VFD", "ai": "AI"}

_VARIANTS = {
    "BOOL": ua.VariantType.Boolean, "BIT": ua.VariantType.Boolean,
    "INT16": ua.VariantType.Int16, "UINT16": ua.VariantType.UInt16,
    "INT32": ua.VariantType.Int32, "UINT32": ua.VariantType.UInt32,
    "INT64": ua.VariantType.Int64, "UINT64": ua.VariantType.UInt64,
    "FLOAT32": ua.VariantType.Float, "FLOAT64": ua.VariantType.Double,
    "STRING": ua.VariantType.String,
}

#: engineering unit text -> UNECE Recommendation 20 common code (OPC UA Part 8 EUInformation)
UNECE_CODES = {
    "V": "VLT", "A": "AMP", "W": "WTT", "VA": "D46", "VAr": "D44", "Hz": "HTZ", "kWh": "KWH",
    "°C": "CEL", "%RH": "P1", "bar": "BAR", "m": "MTR", "m³/h": "MQH", "pcs": "H87", "ms": "C26",
    "bit/s": "B10", "s": "SEC",
}
UNECE_NAMESPACE = "http://www.opcfoundation.org/UA/units/un/cefact"


def node_id(station: int, *path: str) -> ua.NodeId:
    """``ns=2;s=Station<k>[.<Device>[.<point>]]``; ``path`` is (device kind, point name) or a suffix."""
    parts = [f"Station{station}"]
    if path:
        parts.append(DEVICE_NAMES.get(path[0], path[0]))
        parts.extend(path[1:])
    return ua.NodeId(".".join(parts), NAMESPACE_INDEX)


def variant_type(point: Point) -> ua.VariantType:
    """OPC UA built-in type of a point's engineering value."""
    if point.area in BIT_AREAS:
        return ua.VariantType.Boolean
    if (point.scale != 1.0 or point.offset) and point.dtype not in ("FLOAT32", "FLOAT64", "STRING"):
        return ua.VariantType.Double
    return _VARIANTS[point.dtype]


def unece_unit_id(code: str) -> int:
    """UnitId of a UNECE common code: its ASCII characters packed big-endian into an Int32 (Part 8)."""
    unit_id = 0
    for ch in code:
        unit_id = (unit_id << 8) | ord(ch)
    return unit_id


def eu_information(unit: str) -> ua.EUInformation:
    """EngineeringUnits value of a point's unit; UnitId -1 when the unit has no UNECE code here."""
    code = UNECE_CODES.get(unit)
    return ua.EUInformation(NamespaceUri=UNECE_NAMESPACE, UnitId=unece_unit_id(code) if code else -1,
                            DisplayName=ua.LocalizedText(unit), Description=ua.LocalizedText(unit))


@dataclass(frozen=True)
class PointBinding:
    station: object  #: the daqlab.plant.station.Station (its devices are looked up at every access)
    kind: str  #: device kind ("vfd")
    name: str  #: point name ("freq_command")
    nodeid: ua.NodeId  #: ``ns=2;s=Station<k>.<Device>.<point>``
    vtype: ua.VariantType  #: built-in type of the value
    writable: bool  #: the point accepts writes (through the device's own write path)

    def point(self) -> Point:
        """The point as the device serves it now (a scenario may re-install the device)."""
        return self.station.devices[self.kind].by_name[self.name]


def _status(code: int) -> ua.StatusCode:
    return ua.StatusCode(code)


def _link_fault(binding: PointBinding) -> int | None:
    f = binding.station.faults.get(binding.kind)
    if f is None:
        return None
    if f.offline:
        return ua.StatusCodes.BadNoCommunication
    if f.exception:
        return ua.StatusCodes.BadDeviceFailure
    return None


def read_value(binding: PointBinding):
    """(value, status code) of a point now: ``point.decode(device.read(...))``, exactly the registers a
    Modbus read of the same point at the same plant time returns. A device fault's random generator
    (spikes) is restored afterwards, so an OPC UA read never changes what Modbus clients see next."""
    station = binding.station
    station.sync()
    bad = _link_fault(binding)
    if bad is not None:
        return None, bad
    device = station.devices[binding.kind]
    p = device.by_name[binding.name]
    f = station.faults.get(binding.kind)
    state = f.rng.getstate() if f is not None else None
    try:
        value = p.decode(device.read(p.area, p.address, p.count))
    except ModbusError:
        return None, ua.StatusCodes.BadDeviceFailure
    finally:
        if state is not None:
            f.rng.setstate(state)
    if binding.vtype in (ua.VariantType.Float, ua.VariantType.Double):
        value = float(value)
    return value, ua.StatusCodes.Good


def datavalue(binding: PointBinding, now: datetime | None = None) -> ua.DataValue:
    """A DataValue for the point now, stamped with wall-clock source and server timestamps."""
    value, code = read_value(binding)
    now = now or datetime.now(UTC)
    variant = ua.Variant(value, binding.vtype) if value is not None else ua.Variant()
    return ua.DataValue(variant, StatusCode=_status(code), SourceTimestamp=now, ServerTimestamp=now)


MODBUS_TO_STATUS = {2: ua.StatusCodes.BadNotWritable, 3: ua.StatusCodes.BadOutOfRange,
                    4: ua.StatusCodes.BadInvalidState}


def write_value(binding: PointBinding, variant: ua.Variant | None) -> ua.StatusCode:
    """Write an engineering value through the device's own write path (limits, choices and device
    checks enforced; nothing applied unless accepted). Returns the OPC UA status of the write."""
    if not binding.writable:
        return _status(ua.StatusCodes.BadNotWritable)
    if variant is None or variant.VariantType != binding.vtype or variant.Value is None:
        return _status(ua.StatusCodes.BadTypeMismatch)
    station = binding.station
    station.sync()
    bad = _link_fault(binding)
    if bad is not None:
        return _status(bad)
    device = station.devices[binding.kind]
    p = device.by_name[binding.name]
    value = variant.Value
    if p.area in BIT_AREAS:
        words = [bool(value)]
    else:
        if isinstance(value, float) and not math.isfinite(value):
            return _status(ua.StatusCodes.BadOutOfRange)
        try:
            words = p.encode(value)
        except (ValueError, OverflowError):
            return _status(ua.StatusCodes.BadOutOfRange)
        if not isinstance(value, str):
            # encode() clamps like an ADC; a value the register cannot hold is refused, not clamped
            back = p.decode(words)
            if not math.isclose(back, value, rel_tol=1e-6, abs_tol=abs(p.scale) / 2 + 1e-9):
                return _status(ua.StatusCodes.BadOutOfRange)
    try:
        device.write(p.area, p.address, words)
    except ModbusError as exc:
        return _status(MODBUS_TO_STATUS.get(exc.code, ua.StatusCodes.BadDeviceFailure))
    return _status(ua.StatusCodes.Good)
