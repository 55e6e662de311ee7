"""Tags: what to read, where, and how to turn registers into engineering values.

A :class:`Tag` is validated when it is built, so a bad tag table fails at load time with the row
number and the reason, never half-way through a poll.

Tag tables (CSV or YAML) use Telegraf's field names where Telegraf has one:

==============  ==========================================================================
column          meaning
==============  ==========================================================================
name            tag name (column name in the DataFrame), required
slave_id        Modbus unit id (1-255); ``unit_id`` is accepted too
register        coil | discrete | holding | input (aliases: 0x/1x/3x/4x, hr, ir, 保持寄存器 ...)
address         0-based PDU address **with** ``register`` (decimal, or hex such as ``0x2103``); or a
                manual reference (40001,
                400001, 4x0001) or an EMQX Neuron address (``1!400001#BB``) that carries the
                area itself; a 5/6-digit number that looks like a reference of the same area
                (``holding`` + ``40001``) is rejected as ambiguous
type            INT16 UINT16 INT32 UINT32 INT64 UINT64 FLOAT32 FLOAT64 STRING BIT BOOL
                (FLOAT = FLOAT32, DOUBLE = FLOAT64)
byte_order      ABCD (default) | CDAB | BADC | DCBA  (16-bit: AB = ABCD, BA = BADC)
scale, offset   engineering = raw * scale + offset (defaults 1 and 0)
unit            engineering unit (°C, kWh ...) -- NOT the unit id, which is ``slave_id``
length          characters, for STRING
bit             bit 0-15 of a register, for type BIT on holding/input registers
description     free text
==============  ==========================================================================

Neuron addresses (EMQX Neuron Modbus plugin, 1-based references): ``SLAVE!ADDRESS[.BIT][#ENDIAN][.LEN[H|L]]``
with endian ``#L`` = 1,2 (AB, default) and ``#B`` = 2,1 for 16-bit values, and ``#LL`` = 1,2,3,4 (ABCD, default),
``#LB`` = 2,1,4,3 (BADC), ``#BL`` = 3,4,1,2 (CDAB), ``#BB`` = 4,3,2,1 (DCBA) for 32-bit values; strings
``.LEN`` in bytes with ``H`` (high byte first) or ``L`` (low byte first, Neuron's default).
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from daqlab.acquisition import codec
from daqlab.addressing import AREAS, normalise_area, parse_reference

BIT_AREAS = ("coil", "discrete")
TYPE_ALIASES = {"FLOAT": "FLOAT32", "DOUBLE": "FLOAT64", "FLOAT32-IEEE": "FLOAT32", "FLOAT64-IEEE": "FLOAT64",
                "REAL": "FLOAT32", "WORD": "UINT16", "DWORD": "UINT32", "DINT": "INT32", "INT": "INT16"}
ORDER_ALIASES = {"AB": "ABCD", "BA": "BADC", "BIG": "ABCD", "LITTLE": "DCBA"}
NEURON_ORDERS = {"L": "ABCD", "B": "BADC", "LL": "ABCD", "LB": "BADC", "BL": "CDAB", "BB": "DCBA"}
_NEURON = re.compile(r"^(\d{1,3})!(\d{6})(?:\.(\d{1,3})([HL])?)?(?:#(LL|LB|BL|BB|L|B))?(?:\.(\d{1,3})([HL])?)?$")


class TagError(ValueError):
    """A tag or a tag table row that cannot be used; the message says why."""


@dataclass(frozen=True)
class Tag:
    name: str  #: tag name, used as the DataFrame column
    unit: int  #: Modbus unit id (slave id), 1-255
    area: str  #: "coil" | "discrete" | "holding" | "input"
    address: int  #: 0-based PDU address of the first register or bit
    dtype: str = ""  #: data type (see codec); default BOOL for coils/discrete inputs, UINT16 for registers
    order: str = "ABCD"  #: byte order of multi-register values
    scale: float = 1.0  #: engineering = raw * scale + offset
    offset: float = 0.0  #: see scale
    eng_unit: str = ""  #: engineering unit
    description: str = ""  #: free text
    length: int = 0  #: characters, for STRING
    bit: int | None = None  #: bit 0-15 of the register, for BIT on holding/input registers
    meta: dict = field(default_factory=dict, compare=False, hash=False)  #: anything else (device, zh text)

    def __post_init__(self):
        if not self.name or not str(self.name).strip():
            raise TagError("tag needs a name")
        if not isinstance(self.unit, int) or not 1 <= self.unit <= 255:
            raise TagError(f"{self.name}: unit id {self.unit!r} outside 1..255 (0 is broadcast: write-only, no reply)")
        area = normalise_area(self.area)
        object.__setattr__(self, "area", area)
        dtype = TYPE_ALIASES.get(str(self.dtype).upper(), str(self.dtype).upper()) or (
            "BOOL" if area in BIT_AREAS else "UINT16")
        object.__setattr__(self, "dtype", dtype)
        order = ORDER_ALIASES.get(str(self.order).upper(), str(self.order).upper())
        if order not in codec.ORDERS:
            raise TagError(f"{self.name}: byte order {self.order!r}; use ABCD, CDAB, BADC or DCBA")
        object.__setattr__(self, "order", order)
        if area in BIT_AREAS:
            if dtype not in ("BOOL", "BIT"):
                raise TagError(f"{self.name}: {area} values are single bits; use type BOOL (not {dtype})")
            object.__setattr__(self, "dtype", "BOOL")
        elif dtype == "BOOL":
            raise TagError(f"{self.name}: a register is 16 bits; use type BIT with bit 0-15 for one of them")
        elif dtype == "BIT":
            if self.bit is None or not 0 <= self.bit <= 15:
                raise TagError(f"{self.name}: type BIT on a register needs bit 0..15")
        else:
            try:
                codec.registers_for(dtype, self.length)
            except ValueError as exc:
                raise TagError(f"{self.name}: {exc}") from None
        if not isinstance(self.address, int) or not 0 <= self.address <= 0xFFFF:
            raise TagError(f"{self.name}: address {self.address!r} outside 0..65535")
        if self.address + self.count - 1 > 0xFFFF:
            raise TagError(f"{self.name}: {self.count} registers from {self.address} run past 65535")
        if self.count > 125:
            raise TagError(f"{self.name}: {self.count} registers is more than one read may carry (125)")
        if not self.scale or not math.isfinite(self.scale):
            raise TagError(f"{self.name}: scale must be a non-zero number")

    @property
    def count(self) -> int:
        """Registers (or bits) the tag occupies."""
        if self.area in BIT_AREAS or self.dtype == "BIT":
            return 1
        return codec.registers_for(self.dtype, self.length)

    @property
    def is_bit(self) -> bool:
        return self.area in BIT_AREAS

    @property
    def reference(self) -> str:
        """Manual-style reference of the first register (40001 = holding address 0)."""
        from daqlab.addressing import to_reference

        return to_reference(self.area, self.address)

    def decode(self, words):
        """Engineering value from the tag's registers (or its bit)."""
        if self.area in BIT_AREAS:
            return bool(words[0])
        if self.dtype == "BIT":
            return codec.get_bit(words[0], self.bit)
        return codec.decode(list(words), self.dtype, self.order, scale=self.scale, offset=self.offset)

    def encode(self, value) -> list[int]:
        """Registers for an engineering value (raises ValueError when it does not fit)."""
        if self.area in BIT_AREAS or self.dtype == "BIT":
            return [1 if value else 0]
        return codec.encode(value, self.dtype, self.order, scale=self.scale, offset=self.offset, length=self.length)


# ------------------------------------------------------------------ import
def parse_neuron(address: str, dtype: str | None = None) -> dict:
    """Fields of an EMQX Neuron Modbus address such as ``1!400001#BB``, ``1!400010.4`` or ``1!300001.10H``.

    As in Neuron, ``.N`` right after the address is a bit number, unless the tag's type is STRING or
    an H/L suffix follows, in which case it is the string length (``1!400001.10`` needs the type to tell).
    """
    m = _NEURON.match(address.strip())
    if not m:
        raise TagError(f"{address!r} is not a Neuron address SLAVE!ADDRESS[.BIT][#ENDIAN][.LEN[H|L]]")
    slave, ref, n1, hl1, endian, n2, hl2 = m.groups()
    area, pdu = parse_reference(ref)
    out = {"unit": int(slave), "area": area, "address": pdu}
    is_string = (dtype or "").upper() == "STRING" or hl1 is not None or n2 is not None
    length, string_order = (n2, hl2) if n2 is not None else (n1, hl1)
    if n1 is not None and not is_string:
        if area in BIT_AREAS:
            raise TagError(f"{address!r}: .BIT applies to registers, not to {area}s")
        if int(n1) > 15:
            raise TagError(f"{address!r}: bit {n1} outside 0..15 (for a string length, give type STRING or .{n1}H)")
        out["bit"] = int(n1)
        out["dtype"] = "BIT"
    if endian:
        out["order"] = NEURON_ORDERS[endian]
    if is_string:
        if length is None:
            raise TagError(f"{address!r}: a STRING address needs .LEN (characters)")
        out["dtype"] = "STRING"
        out["length"] = int(length)
        out["order"] = "ABCD" if string_order == "H" else "BADC"
    return out


_FIELDS = {"name", "slave_id", "unit_id", "register", "address", "type", "byte_order", "scale", "offset", "unit",
           "length", "bit", "description"}


def tag_from_row(row: dict, defaults: dict | None = None) -> Tag:
    """Build a Tag from one table row (Telegraf-style field names, see the module docstring)."""
    row = {k.strip().lower(): v for k, v in {**(defaults or {}), **row}.items() if k is not None}
    row = {k: (v.strip() if isinstance(v, str) else v) for k, v in row.items() if v not in (None, "")}
    unknown = set(row) - _FIELDS
    if unknown:
        raise TagError(f"unknown column(s) {sorted(unknown)}; see daqlab.acquisition.tags for the columns")
    if "name" not in row:
        raise TagError("missing name")
    if "address" not in row:
        raise TagError("missing address")
    fields: dict = {"name": str(row["name"])}
    address = str(row["address"])
    if "!" in address:
        fields.update(parse_neuron(address, row.get("type")))
        if "register" in row and normalise_area(row["register"]) != fields["area"]:
            raise TagError(f"address {address} is in the {fields['area']} area but register says {row['register']}")
        for key in ("slave_id", "unit_id"):
            if key in row and int(row[key]) != fields["unit"]:
                raise TagError(f"address {address} names slave {fields['unit']} but {key} says {row[key]}")
    elif address.lower().startswith("0x"):
        if "register" not in row:
            raise TagError(f"hex address {address} needs the register column (hex addresses are 0-based PDU addresses)")
        try:
            fields.update(area=normalise_area(row["register"]), address=int(address, 16))
        except ValueError:
            raise TagError(f"address {address!r} is not a hex number") from None
        unit = row.get("slave_id", row.get("unit_id"))
        if unit is None:
            raise TagError("missing slave_id (unit id)")
        fields["unit"] = _int(unit, "slave_id")
    else:
        area = normalise_area(row["register"]) if "register" in row else None
        digits = address.replace("x", "").replace("X", "")
        if area is not None and address.isdigit() and len(address) in (5, 6) and address[0] == str(AREAS[area]) \
                and int(address) >= 10000:
            raise TagError(
                f"address {address} with register {row['register']!r} is ambiguous: 0-based PDU address "
                f"{address}, or reference {address} (= PDU {int(address[1:]) - 1})? Write {AREAS[area]}x{address[1:]} "
                f"for the reference or the 0-based address")
        try:
            area_parsed, pdu = parse_reference(address, area=area) if digits.isdigit() else (None, None)
        except ValueError as exc:
            raise TagError(str(exc)) from None
        if area_parsed is None:
            raise TagError(f"address {address!r} is not a number, a reference or a Neuron address")
        if area is not None and area_parsed != area:
            raise TagError(f"address {address} is in the {area_parsed} area but register says {row['register']}")
        fields.update(area=area_parsed, address=pdu)
        unit = row.get("slave_id", row.get("unit_id"))
        if unit is None:
            raise TagError("missing slave_id (unit id)")
        fields["unit"] = _int(unit, "slave_id")
    if "type" in row:
        fields["dtype"] = str(row["type"])
    elif fields["area"] in BIT_AREAS:
        fields["dtype"] = "BOOL"
    if "byte_order" in row and "order" not in fields:
        fields["order"] = str(row["byte_order"])
    elif "byte_order" in row and ORDER_ALIASES.get(str(row["byte_order"]).upper(), str(row["byte_order"]).upper()) \
            != fields["order"]:
        raise TagError(f"byte_order {row['byte_order']} contradicts the Neuron address suffix ({fields['order']})")
    for key, target, conv in (("scale", "scale", float), ("offset", "offset", float), ("length", "length", int),
                              ("bit", "bit", int)):
        if key in row:
            fields[target] = _num(row[key], key, conv)
    if "unit" in row:
        fields["eng_unit"] = str(row["unit"])
    if "description" in row:
        fields["description"] = str(row["description"])
    return Tag(**fields)


def _int(value, name) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise TagError(f"{name} {value!r} is not an integer") from None


def _num(value, name, conv):
    try:
        return conv(value)
    except (TypeError, ValueError):
        raise TagError(f"{name} {value!r} is not a number") from None


class TagTableError(ValueError):
    """One or more rows of a tag table are unusable; ``errors`` lists (row number, reason)."""

    def __init__(self, errors: list[tuple[int, str]], source: str = "tag table"):
        self.errors = errors
        lines = "\n".join(f"  row {n}: {why}" for n, why in errors)
        super().__init__(f"{source}: {len(errors)} bad row(s)\n{lines}")


def _build(rows: list[tuple[int, dict]], defaults: dict, source: str) -> list[Tag]:
    tags, errors, seen = [], [], {}
    for n, row in rows:
        try:
            tag = tag_from_row(row, defaults)
        except (TagError, ValueError) as exc:
            errors.append((n, str(exc)))
            continue
        if tag.name in seen:
            errors.append((n, f"duplicate name {tag.name!r} (first on row {seen[tag.name]})"))
            continue
        seen[tag.name] = n
        tags.append(tag)
    if errors:
        raise TagTableError(errors, source)
    return tags


def load_csv(source, *, defaults: dict | None = None) -> list[Tag]:
    """Tags from a CSV file (path) or CSV text. Row numbers in errors count the header as row 1."""
    text = Path(source).read_text(encoding="utf-8-sig") if _is_path(source) else str(source)
    reader = csv.DictReader(io.StringIO(text))
    rows = [(i + 2, row) for i, row in enumerate(reader) if any((v or "").strip() for v in row.values())]
    return _build(rows, defaults or {}, str(source) if _is_path(source) else "CSV")


def load_yaml(source) -> list[Tag]:
    """Tags from YAML: a list of rows, or ``{defaults: {...}, tags: [...]}``. Rows are numbered from 1."""
    import yaml

    text = Path(source).read_text(encoding="utf-8") if _is_path(source) else str(source)
    data = yaml.safe_load(text)
    defaults = {}
    if isinstance(data, dict):
        defaults = data.get("defaults") or {}
        data = data.get("tags")
    if not isinstance(data, list):
        raise TagTableError([(0, "expected a list of tags or {defaults: ..., tags: [...]}")], "YAML")
    rows = []
    for i, row in enumerate(data, start=1):
        if not isinstance(row, dict):
            raise TagTableError([(i, "each tag must be a mapping of columns")], "YAML")
        rows.append((i, {k: v for k, v in row.items()}))
    return _build(rows, defaults, str(source) if _is_path(source) else "YAML")


def load(path) -> list[Tag]:
    """Tags from a ``.csv``, ``.yaml`` or ``.yml`` file."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return load_csv(path)
    if suffix in (".yaml", ".yml"):
        return load_yaml(path)
    raise TagError(f"{path}: use a .csv or .yaml tag table")


def _is_path(source) -> bool:
    return isinstance(source, Path) or (isinstance(source, str) and "\n" not in source and
                                        Path(source).suffix.lower() in (".csv", ".yaml", ".yml"))


def to_rows(tags) -> list[dict]:
    """Tag table rows (0-based addresses, with the manual reference beside) for display or CSV export."""
    return [{"name": t.name, "slave_id": t.unit, "register": t.area, "address": t.address, "reference": t.reference,
             "type": t.dtype, "byte_order": t.order if t.count > 1 else "", "scale": t.scale, "offset": t.offset,
             "unit": t.eng_unit, "length": t.length or "", "bit": "" if t.bit is None else t.bit,
             "description": t.description} for t in tags]


def with_unit(tags, unit: int) -> list[Tag]:
    """The same tags addressed to another unit id (a device moved on the bus)."""
    return [replace(t, unit=unit) for t in tags]
