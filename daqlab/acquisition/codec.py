"""Registers <-> values for every Modbus data type and byte order.

Contract:

- A register is a 16-bit unsigned int (0..65535) as carried on the wire.
- Byte orders use the gateway vocabulary (Telegraf / EMQX Neuron names). For a 32-bit value whose
  big-endian bytes are A B C D (A = most significant):

  ====  ======================  ==================  ===========================
  name  registers (hex words)   also called         Chinese gateway UIs
  ====  ======================  ==================  ===========================
  ABCD  [AB, CD]                big-endian          Float_ABCD / Long_ABCD (大端)
  CDAB  [CD, AB]                word swap           Float_CDAB (字交换)
  BADC  [BA, DC]                byte swap           Float_BADC (字节交换)
  DCBA  [DC, BA]                little-endian       Float_DCBA (小端)
  ====  ======================  ==================  ===========================

  64-bit values extend the pattern (CDAB reverses the word order, BADC swaps the bytes inside
  each word, DCBA does both). 16-bit values only know AB (ABCD/CDAB) and BA (BADC/DCBA).
- Scaling: ``engineering = raw * scale + offset`` (Telegraf's ``scale``), so a sensor sending
  tenths of a degree has ``scale=0.1``.
- Strings: two ASCII characters per register, first character in the high byte (ABCD);
  BADC/DCBA put the first character in the low byte. Decoding strips NUL and trailing blanks.
"""

from __future__ import annotations

import math
import struct

ORDERS = ("ABCD", "CDAB", "BADC", "DCBA")

#: data type -> (registers, struct format or None, integer range or None)
TYPES: dict[str, tuple[int, str | None]] = {
    "INT16": (1, "h"),
    "UINT16": (1, "H"),
    "INT32": (2, "i"),
    "UINT32": (2, "I"),
    "INT64": (4, "q"),
    "UINT64": (4, "Q"),
    "FLOAT32": (2, "f"),
    "FLOAT64": (4, "d"),
}
BIT_TYPES = ("BOOL", "BIT")
STRING = "STRING"


def registers_for(dtype: str, length: int = 0) -> int:
    """Number of 16-bit registers a value of ``dtype`` occupies (STRING: ``length`` characters)."""
    dtype = dtype.upper()
    if dtype in TYPES:
        return TYPES[dtype][0]
    if dtype == STRING:
        if length <= 0:
            raise ValueError("STRING needs a positive length in characters")
        return (length + 1) // 2
    if dtype in BIT_TYPES:
        return 1
    raise ValueError(f"unknown data type {dtype!r}; use one of {', '.join([*TYPES, STRING, *BIT_TYPES])}")


def _check_order(order: str) -> str:
    order = order.upper()
    if order not in ORDERS:
        raise ValueError(f"unknown byte order {order!r}; use one of {', '.join(ORDERS)}")
    return order


def bytes_to_registers(data: bytes, order: str = "ABCD") -> list[int]:
    """Split big-endian ``data`` (even length) into registers arranged in ``order``."""
    order = _check_order(order)
    if order in ("BADC", "DCBA"):
        data = bytes(b for i in range(0, len(data), 2) for b in (data[i + 1], data[i]))
    words = [(data[i] << 8) | data[i + 1] for i in range(0, len(data), 2)]
    if order in ("CDAB", "DCBA"):
        words.reverse()
    return words


def registers_to_bytes(words: list[int], order: str = "ABCD") -> bytes:
    """Inverse of :func:`bytes_to_registers`: registers in ``order`` -> big-endian bytes."""
    order = _check_order(order)
    for w in words:
        if not 0 <= w <= 0xFFFF:
            raise ValueError(f"register value {w} outside 0..65535")
    words = list(words)
    if order in ("CDAB", "DCBA"):
        words.reverse()
    data = b"".join(struct.pack(">H", w) for w in words)
    if order in ("BADC", "DCBA"):
        data = bytes(b for i in range(0, len(data), 2) for b in (data[i + 1], data[i]))
    return data


def encode(value, dtype: str, order: str = "ABCD", *, scale: float = 1.0, offset: float = 0.0,
           length: int = 0, clamp: bool = False) -> list[int]:
    """Encode an engineering value into registers.

    Integer types round ``(value - offset) / scale`` to the nearest integer; a value outside the
    type's range raises ValueError (or is clamped with ``clamp=True``, as a device's ADC would).
    """
    dtype = dtype.upper()
    if dtype == STRING:
        text = str(value).encode("ascii", errors="replace")
        n = registers_for(STRING, length or max(1, len(text)))
        if len(text) > 2 * n:
            raise ValueError(f"string {value!r} longer than {2 * n} characters")
        return bytes_to_registers(text.ljust(2 * n, b"\x00"), "BADC" if order.upper() in ("BADC", "DCBA") else "ABCD")
    if dtype in BIT_TYPES:
        return [1 if value else 0]
    if dtype not in TYPES:
        registers_for(dtype)  # raises the helpful error
    _, fmt = TYPES[dtype]
    raw = (value - offset) / scale if (scale != 1.0 or offset) else value
    if fmt in "fd":
        data = struct.pack(">" + fmt, float(raw))
    else:
        if isinstance(raw, float):
            if math.isnan(raw) or math.isinf(raw):
                raise ValueError(f"cannot encode {value!r} as {dtype}")
            raw = round(raw)
        lo, hi = int_range(dtype)
        if not lo <= raw <= hi:
            if not clamp:
                raise ValueError(f"{value!r} -> raw {raw} does not fit {dtype} ({lo}..{hi})")
            raw = min(max(raw, lo), hi)
        data = struct.pack(">" + fmt, int(raw))
    return bytes_to_registers(data, order)


def decode(words: list[int], dtype: str, order: str = "ABCD", *, scale: float = 1.0, offset: float = 0.0):
    """Decode registers into an engineering value (``raw * scale + offset``; strings unscaled)."""
    dtype = dtype.upper()
    if dtype == STRING:
        data = registers_to_bytes(words, "BADC" if order.upper() in ("BADC", "DCBA") else "ABCD")
        return data.split(b"\x00", 1)[0].decode("ascii", errors="replace").rstrip()
    if dtype in BIT_TYPES:
        return bool(words[0])
    n, fmt = TYPES[dtype] if dtype in TYPES else (registers_for(dtype), None)
    if len(words) != n:
        raise ValueError(f"{dtype} needs {n} registers, got {len(words)}")
    (raw,) = struct.unpack(">" + fmt, registers_to_bytes(words, order))
    if scale == 1.0 and not offset:
        return raw
    # 529 * 0.1 is 52.900000000000006 in binary floating point: round away the representation noise
    return round(raw * scale + offset, 10)


def int_range(dtype: str) -> tuple[int, int]:
    """Inclusive range of an integer data type."""
    n, fmt = TYPES[dtype.upper()]
    bits = 16 * n
    if fmt.isupper():
        return 0, (1 << bits) - 1
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def get_bit(word: int, bit: int) -> bool:
    """Bit ``bit`` (0 = least significant) of a 16-bit status word."""
    if not 0 <= bit <= 15:
        raise ValueError(f"bit {bit} outside 0..15")
    return bool((word >> bit) & 1)


def bits_to_flags(word: int, names: dict[int, str]) -> dict[str, bool]:
    """Name the bits of a status word: ``bits_to_flags(0b101, {0: 'estop', 2: 'jam'})``."""
    return {name: get_bit(word, bit) for bit, name in sorted(names.items())}
