"""The one place where Modbus address notations are converted (DESIGN: addresses are 0-based in code).

In code every address is the **0-based PDU address** sent on the wire. Manuals and gateway tools
use 1-based "reference numbers" with an area prefix:

=========  ==================  ================  ===========================
area       5-digit reference   6-digit form      function codes
=========  ==================  ================  ===========================
coil       00001-09999         000001-065536     01 read, 05/15 write
discrete   10001-19999         100001-165536     02 read
input      30001-39999         300001-365536     04 read
holding    40001-49999         400001-465536     03 read, 06/16 write
=========  ==================  ================  ===========================

Register "40001" is FC 03 at PDU address 0; "30073" is FC 04 at PDU address 72 (0x48).
Entering 40001 as a start address in a client reads 40000 registers further on: the classic
off-by-one trap this module exists to prevent.
"""

from __future__ import annotations

import re

#: register areas in code, with their manual prefix digit
AREAS = {"coil": 0, "discrete": 1, "input": 3, "holding": 4}
_BY_DIGIT = {v: k for k, v in AREAS.items()}
#: area aliases accepted at import boundaries (Telegraf, pymodbus, Chinese gateway UIs)
AREA_ALIASES = {
    "coil": "coil", "coils": "coil", "co": "coil", "0x": "coil", "线圈": "coil",
    "discrete": "discrete", "discrete_input": "discrete", "discrete_inputs": "discrete", "di": "discrete",
    "1x": "discrete", "离散输入": "discrete",
    "input": "input", "input_register": "input", "input_registers": "input", "ir": "input", "3x": "input",
    "输入寄存器": "input",
    "holding": "holding", "holding_register": "holding", "holding_registers": "holding", "hr": "holding",
    "4x": "holding", "保持寄存器": "holding",
}

_XFORM = re.compile(r"^([0134])[xX](\d{1,5})$")


def normalise_area(name: str) -> str:
    """Return the canonical area name for any accepted alias; raise ValueError otherwise."""
    key = str(name).strip().lower()
    if key not in AREA_ALIASES:
        raise ValueError(f"unknown register area {name!r}; use one of coil, discrete, input, holding")
    return AREA_ALIASES[key]


def to_reference(area: str, address: int) -> str:
    """Manual-style reference for a 0-based PDU address: ``('holding', 0) -> '40001'``.

    Uses the 5-digit form while the reference number fits in four digits
    (``('holding', 0x2000) -> '48193'``) and the 6-digit form above (``('holding', 9999) -> '410000'``).
    """
    digit = AREAS[normalise_area(area)]
    if not 0 <= address <= 0xFFFF:
        raise ValueError(f"PDU address {address} outside 0..65535")
    number = address + 1
    if number <= 9999:
        return f"{digit}{number:04d}"
    return f"{digit}{number:05d}"


def parse_reference(text: str, *, area: str | None = None) -> tuple[str, int]:
    """Parse a manual-style reference into ``(area, 0-based address)``.

    Accepts ``40001``, ``400001``, ``4x0001`` / ``4X1``, and (when ``area`` is given)
    a bare 0-based address such as ``72``. Ambiguous input raises ValueError with the reason.
    """
    s = str(text).strip()
    m = _XFORM.match(s)
    if m:
        number = int(m.group(2))
        return _checked(_BY_DIGIT[int(m.group(1))], number)
    if not s.isdigit():
        raise ValueError(f"address {text!r} is not a number or a 4x0001-style reference")
    if area is not None:
        return normalise_area(area), _pdu(int(s), text)
    if len(s) == 5 and s[0] in "0134":
        return _checked(_BY_DIGIT[int(s[0])], int(s[1:]))
    if len(s) == 6 and s[0] in "0134":
        return _checked(_BY_DIGIT[int(s[0])], int(s[1:]))
    raise ValueError(
        f"address {text!r} is ambiguous: give a 5/6-digit reference (40001, 400001), "
        "a 4x0001-style reference, or a 0-based address together with the register area"
    )


def _checked(area: str, number: int) -> tuple[str, int]:
    if not 1 <= number <= 65536:
        raise ValueError(f"reference number {number} outside 1..65536 (references are 1-based)")
    return area, number - 1


def _pdu(address: int, text: str) -> int:
    if not 0 <= address <= 0xFFFF:
        raise ValueError(f"address {text!r} outside 0..65535")
    return address
