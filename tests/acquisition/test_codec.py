"""Codec vectors from shared/reference/facts.md and cross-checks against pymodbus' converters."""

import math

import pytest

from daqlab.acquisition.codec import ORDERS, bits_to_flags, decode, encode
from daqlab.modbus import ModbusTcpClient

FLOATS = {  # value -> registers in ABCD, CDAB, BADC, DCBA (facts.md)
    3.14159: ["4049 0FD0", "0FD0 4049", "4940 D00F", "D00F 4940"],
    230.0: ["4366 0000", "0000 4366", "6643 0000", "0000 6643"],
    50.0: ["4248 0000", "0000 4248", "4842 0000", "0000 4842"],
    -20.5: ["C1A4 0000", "0000 C1A4", "A4C1 0000", "0000 A4C1"],
}


@pytest.mark.parametrize("value", list(FLOATS))
@pytest.mark.parametrize("k", range(4))
def test_float32_in_all_four_orders(value, k):
    words = [int(w, 16) for w in FLOATS[value][k].split()]
    assert encode(value, "FLOAT32", ORDERS[k]) == words
    assert math.isclose(decode(words, "FLOAT32", ORDERS[k]), value, rel_tol=1e-6)


def test_integers_from_the_reference():
    assert decode([0xFF33], "INT16", scale=0.1) == pytest.approx(-20.5)
    assert encode(-20.5, "INT16", scale=0.1) == [0xFF33]
    assert encode(-123456, "INT32") == [0xFFFE, 0x1DC0]
    assert encode(100000, "UINT32") == [0x0001, 0x86A0]
    assert decode([0x0131], "INT16", scale=0.1) == pytest.approx(30.5)  # SHT20 frame example
    assert decode([0x0222], "UINT16", scale=0.1) == pytest.approx(54.6)


@pytest.mark.parametrize(("dtype", "value"), [("FLOAT32", 3.14159), ("INT32", -123456), ("UINT32", 4000000000),
                                               ("FLOAT64", -1234.5678), ("INT64", -(2**40) + 7)])
@pytest.mark.parametrize("order", ["ABCD", "CDAB"])
def test_agrees_with_pymodbus_converters(dtype, value, order):
    dt = getattr(ModbusTcpClient.DATATYPE, dtype)
    word_order = "big" if order == "ABCD" else "little"
    theirs = ModbusTcpClient.convert_to_registers(value, dt, word_order=word_order)
    assert encode(value, dtype, order) == theirs
    back = ModbusTcpClient.convert_from_registers(theirs, dt, word_order=word_order)
    assert decode(theirs, dtype, order) == pytest.approx(back)


def test_strings_and_bits():
    assert encode("DAQLAB", "STRING", length=8) == [0x4441, 0x514C, 0x4142, 0x0000]
    assert decode([0x4441, 0x514C, 0x4142, 0x0000], "STRING") == "DAQLAB"
    assert decode([0x4144, 0x4C51, 0x4241], "STRING", "BADC") == "DAQLAB"
    assert bits_to_flags(0b1001, {0: "estop", 3: "jam", 5: "overtemp"}) == {"estop": True, "jam": True,
                                                                            "overtemp": False}


def test_out_of_range_and_unknown_types_raise():
    with pytest.raises(ValueError, match="does not fit INT16"):
        encode(40000, "INT16")
    assert encode(40000, "INT16", clamp=True) == [0x7FFF]
    with pytest.raises(ValueError, match="unknown data type"):
        encode(1, "INT24")
    with pytest.raises(ValueError, match="unknown byte order"):
        encode(1.0, "FLOAT32", "ADBC")
