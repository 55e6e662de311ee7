"""The one place where manual references and 0-based PDU addresses meet."""

import pytest

from daqlab.addressing import normalise_area, parse_reference, to_reference


@pytest.mark.parametrize(("text", "expected"), [
    ("40001", ("holding", 0)), ("30073", ("input", 72)), ("300073", ("input", 72)), ("400001", ("holding", 0)),
    ("4x0001", ("holding", 0)), ("4X1", ("holding", 0)), ("00001", ("coil", 0)), ("10005", ("discrete", 4)),
    ("408193", ("holding", 0x2000)), ("365536", ("input", 65535)),
])
def test_manual_references_become_zero_based_pdu_addresses(text, expected):
    assert parse_reference(text) == expected


@pytest.mark.parametrize("text", ["40000", "400000", "1234", "2x0001", "abc", "4001", "465537"])
def test_ambiguous_or_invalid_references_are_rejected_with_a_reason(text):
    with pytest.raises(ValueError):
        parse_reference(text)


def test_bare_address_needs_its_area_and_stays_as_given():
    assert parse_reference("72", area="ir") == ("input", 72)
    assert parse_reference("0", area="保持寄存器") == ("holding", 0)


@pytest.mark.parametrize(("area", "address", "ref"), [
    ("holding", 0, "40001"), ("input", 72, "30073"), ("coil", 3, "00004"), ("holding", 0x2000, "48193"),
    ("holding", 9999, "410000"),
    ("input", 0x156, "30343"),
])
def test_round_trip(area, address, ref):
    assert to_reference(area, address) == ref
    assert parse_reference(ref) == (area, address)


def test_area_aliases():
    assert normalise_area("Holding_Registers") == "holding"
    with pytest.raises(ValueError, match="unknown register area"):
        normalise_area("eeprom")
