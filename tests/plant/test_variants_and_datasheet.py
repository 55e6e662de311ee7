"""Stations differ by seed; the datasheet is generated from the same points that serve registers."""

import re

from daqlab.addressing import to_reference
from daqlab.plant import Plant
from daqlab.plant.variants import StationVariant


def test_variants_are_deterministic_and_differ_between_stations():
    a = [StationVariant.draw(7, k) for k in range(1, 31)]
    b = [StationVariant.draw(7, k) for k in range(1, 31)]
    assert a == b
    assert len({v.meter_order for v in a}) == 2
    assert len({v.th_scale for v in a}) == 2
    assert len({v.units["vfd"] for v in a}) >= 3
    assert len({(v.meter_order, v.th_scale, v.units["vfd"], v.pressure_range, v.level_range) for v in a}) >= 10
    assert StationVariant.draw(8, 1) != StationVariant.draw(7, 1)


def test_textbook_variant_is_the_reference_installation():
    v = StationVariant.default(4)
    assert v.units == {"plc": 1, "th": 2, "meter": 3, "vfd": 4, "ai": 5}
    assert (v.meter_order, v.th_scale, v.baudrate, v.parity, v.stopbits) == ("ABCD", 10, 9600, "E", 1)


def test_datasheet_lists_every_point_with_pdu_and_manual_reference():
    plant = Plant(3, seed=7, control=False)
    for k, st in plant.stations.items():
        sheet = plant.datasheet(k)
        assert f"Station {k} datasheet" in sheet and "工位" in sheet
        for dev in st.devices.values():
            assert f"## Unit {dev.unit}: {dev.title}" in sheet
            for p in dev.points:
                row = next(line for line in sheet.splitlines() if f"`{p.name}`" in line and
                           line.startswith(f"| {p.address} (0x{p.address:04X}) | {to_reference(p.area, p.address)} |"))
                assert p.dtype in row and p.zh in row
                if p.dtype == "FLOAT32":
                    assert st.variant.meter_order in row
        assert f"{st.variant.baudrate} baud" in sheet


def test_meter_word_order_in_the_datasheet_matches_what_is_served():
    from daqlab.acquisition.codec import decode

    with Plant(4, seed=3, frozen=True) as plant:
        from .conftest import connect

        for k, _st in plant.stations.items():
            order = re.search(r"`voltage_l1` \| FLOAT32 \| (\w{4}) ", plant.datasheet(k)).group(1)
            c = connect(plant, k)
            volts = decode(c.read_input_registers(0, count=2, device_id=3).registers, "FLOAT32", order)
            c.close()
            assert 220 < volts < 240, (k, order)
