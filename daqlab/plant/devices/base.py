"""Device skins: a register map (points) over the process model, with Modbus read/write semantics.

A :class:`Point` is one documented value of a device map; the datasheet, the station tag table and
the server all read the same points (one source of truth).

Read rule: a read is valid when the whole range lies inside one *block* of the area (points whose
gaps are at most ``HOLE`` registers are merged into one block; reserved registers inside a block
read as 0, as on the real devices). Anything else is exception 02.
Write rule: every register written must belong to a writable point and every point touched must be
written whole (no half of a float32), else exception 02; a value outside the point's limits is
exception 03. Nothing is applied unless the whole request is valid.
"""

from __future__ import annotations

from dataclasses import dataclass

from daqlab.acquisition import codec

HOLE = 8  #: reserved registers allowed inside one readable block
BIT_AREAS = ("coil", "discrete")


class ModbusError(Exception):
    """A request the device rejects with a Modbus exception code (1, 2, 3, 4 ...)."""

    def __init__(self, code: int, reason: str = ""):
        super().__init__(f"exception {code:02X}: {reason}")
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Point:
    name: str  #: snake_case name, also the tag name
    area: str  #: "coil" | "discrete" | "input" | "holding"
    address: int  #: 0-based PDU address
    dtype: str  #: codec data type (BOOL, INT16, UINT16, UINT32, FLOAT32, STRING ...)
    en: str  #: description in English
    zh: str  #: description in Chinese
    unit: str = ""  #: engineering unit
    scale: float = 1.0  #: engineering = raw * scale + offset
    offset: float = 0.0  #: see scale
    order: str = "ABCD"  #: byte order of multi-register values
    length: int = 0  #: characters, for STRING
    writable: bool = False  #: accepts FC 05/15 (coils) or FC 06/16 (holding)
    minimum: float | None = None  #: lowest accepted engineering value on write
    maximum: float | None = None  #: highest accepted engineering value on write
    choices: tuple = ()  #: accepted engineering values on write (instead of a range)
    sensor: bool = False  #: a measured value (faults broken/stuck/spikes act on it)

    @property
    def count(self) -> int:
        """Registers (or bits) the point occupies."""
        return 1 if self.area in BIT_AREAS else codec.registers_for(self.dtype, self.length)

    def encode(self, value) -> list[int]:
        """Registers of an engineering value (clamped to the type's range, as an ADC would)."""
        if self.area in BIT_AREAS:
            return [bool(value)]
        return codec.encode(value, self.dtype, self.order, scale=self.scale, offset=self.offset,
                            length=self.length, clamp=True)

    def decode(self, words: list[int]):
        if self.area in BIT_AREAS:
            return bool(words[0])
        return codec.decode(words, self.dtype, self.order, scale=self.scale, offset=self.offset)

    def limits_text(self) -> str:
        if self.choices:
            return ", ".join(f"{c:g}" if isinstance(c, float) else str(c) for c in self.choices)
        if self.minimum is None and self.maximum is None:
            return ""
        return f"{self.minimum:g} .. {self.maximum:g}"


class Device:
    """Base class of a simulated device. Subclasses define ``points``, ``values`` and ``apply``."""

    kind = "device"  #: short name used by the CLI and the tag tables
    title = ""  #: English title
    title_zh = ""  #: Chinese title
    identity = ("DAQ Lab", "DL-DEVICE", "V1.0")  #: FC 43/14 basic objects: vendor, product code, revision
    notes: tuple = ()  #: extra datasheet notes (English, Chinese)

    def __init__(self, station, unit: int):
        self.station = station
        self.process = station.process
        self.variant = station.variant
        self.unit = unit
        self.points: list[Point] = self.build_points()
        self._index: dict[str, dict[int, tuple[Point, int]]] = {a: {} for a in ("coil", "discrete", "input", "holding")}
        for p in self.points:
            for i in range(p.count):
                slot = self._index[p.area]
                if p.address + i in slot:
                    raise ValueError(f"{self.kind}: {p.name} overlaps {slot[p.address + i][0].name}")
                slot[p.address + i] = (p, i)
        self.blocks = {area: _blocks(sorted(idx)) for area, idx in self._index.items()}
        self.by_name = {p.name: p for p in self.points}
        self._cache_step = -1
        self._values: dict = {}
        self._words: dict = {}

    # -- to implement ------------------------------------------------------
    def build_points(self) -> list[Point]:
        raise NotImplementedError

    def values(self) -> dict:
        """Engineering values of every point now (from the process model)."""
        raise NotImplementedError

    def apply(self, point: Point, value) -> None:
        """Carry out a validated write of ``value`` to ``point``."""
        raise NotImplementedError

    # -- Modbus semantics ----------------------------------------------------
    def current_values(self) -> dict:
        # cached per model step and station revision: a write or a fault change anywhere on the
        # station (the PLC's run coil moves the VFD) is visible on every device at once
        step = (self.process.step, self.station.revision)
        if step != self._cache_step:
            self._cache_step = step
            self._values = self.values()
            self._words = {}
        return self._values

    def read(self, area: str, address: int, count: int) -> list[int]:
        """Registers (or 0/1 bits) at ``address``; raise ModbusError(2) outside the map."""
        if not self.in_block(area, address, count):
            raise ModbusError(2, f"{self.kind}: {area} {address}..{address + count - 1} outside the map")
        values = self.current_values()
        faults = self.station.faults.get(self.kind)
        if faults is not None:
            values = faults.transform(self, values)
            words_cache: dict = {}
        else:
            words_cache = self._words
        index = self._index[area]
        out = [0] * count
        for i in range(count):
            hit = index.get(address + i)
            if hit is None:
                continue
            p, k = hit
            words = words_cache.get(p.name)
            if words is None:
                words = words_cache[p.name] = _encode(p, values[p.name])
            out[i] = words[k]
        return out

    def in_block(self, area: str, address: int, count: int) -> bool:
        end = address + count - 1
        return any(a <= address and end <= b for a, b in self.blocks[area])

    def write(self, area: str, address: int, words: list[int]) -> None:
        """Validate the whole request, then apply it point by point."""
        index = self._index[area]
        touched: dict[str, list] = {}
        for i, w in enumerate(words):
            hit = index.get(address + i)
            if hit is None or not hit[0].writable:
                what = "not mapped" if hit is None else f"{hit[0].name} is read-only"
                raise ModbusError(2, f"{self.kind}: {area} {address + i} {what}")
            p, k = hit
            buf = touched.setdefault(p.name, [None] * p.count)
            buf[k] = w
        updates = []
        for name, buf in touched.items():
            p = self.by_name[name]
            if None in buf:
                raise ModbusError(2, f"{self.kind}: {name} needs all {p.count} registers written together")
            value = p.decode(buf)
            if p.choices and value not in p.choices:
                raise ModbusError(3, f"{self.kind}: {name}={value!r} not one of {p.limits_text()}")
            if p.minimum is not None and not (p.minimum - 1e-9 <= value <= p.maximum + 1e-9):
                raise ModbusError(3, f"{self.kind}: {name}={value!r} outside {p.limits_text()}")
            updates.append((p, value))
        for p, value in updates:
            self.check(p, value)
        for p, value in updates:
            self.apply(p, value)
        self.station.revision += 1

    def check(self, point: Point, value) -> None:
        """Device-specific validation beyond limits (raise ModbusError(3)); default accepts."""


def _encode(p: Point, value) -> list[int]:
    if value is None:
        return [0] * p.count
    if isinstance(value, tuple) and value and value[0] == "raw":
        return list(value[1])
    return p.encode(value)


def _blocks(addresses: list[int]) -> list[tuple[int, int]]:
    blocks: list[list[int]] = []
    for a in addresses:
        if blocks and a - blocks[-1][1] <= HOLE + 1:
            blocks[-1][1] = a
        else:
            blocks.append([a, a])
    return [tuple(b) for b in blocks]
