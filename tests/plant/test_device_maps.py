"""Every point of every device map, read over Modbus TCP and decoded, equals the plant's own value."""

import math

import pytest

from daqlab.plant.devices import DEVICE_CLASSES

from .conftest import connect, read_point


@pytest.mark.parametrize("station", [1, 2, 3])
@pytest.mark.parametrize("kind", list(DEVICE_CLASSES))
def test_every_point_reads_back_as_the_model_value(frozen_plant, station, kind):
    frozen_plant.advance(3.0)
    dev = frozen_plant.stations[station].devices[kind]
    truth = frozen_plant.snapshot(station, kind)
    client = connect(frozen_plant, station)
    try:
        for p in dev.points:
            got = read_point(client, dev.unit, p)
            want = truth[p.name]
            if isinstance(want, str):
                assert got == want, p.name
            elif isinstance(want, bool) or p.area in ("coil", "discrete"):
                assert bool(got) == bool(want), p.name
            elif p.dtype == "FLOAT32":
                assert math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-6), p.name
            else:  # integers: one raw step of resolution
                step = p.scale if p.scale != 1.0 else 1
                assert abs(got - want) <= step / 2 + 1e-9, (p.name, got, want)
    finally:
        client.close()


def test_textbook_station_matches_reference_register_values():
    import daqlab.plant

    with daqlab.plant.run(stations=1, textbook=True, frozen=True) as plant:
        c = connect(plant)
        try:
            rr = c.read_holding_registers(0x10, count=8, device_id=1)
            text = b"".join(w.to_bytes(2, "big") for w in rr.registers).rstrip(b"\0").decode()
            assert text == "DAQLAB-PLC-1214"
            assert c.read_holding_registers(0x20, count=1, device_id=1).registers == [214]
            # SHT20 map: temperature at 0x0001 (x10), 0x0000 is not mapped -> exception 02
            t = c.read_input_registers(1, count=1, device_id=2).registers[0]
            assert 150 < t < 350
            assert c.read_input_registers(0, count=1, device_id=2).exception_code == 2
            # SDM630 map: 230 V-ish float32 ABCD at 0x0000, 50 Hz at 0x0046
            from daqlab.acquisition.codec import decode

            v = decode(c.read_input_registers(0, count=2, device_id=3).registers, "FLOAT32", "ABCD")
            hz = decode(c.read_input_registers(0x46, count=2, device_id=3).registers, "FLOAT32", "ABCD")
            assert 225 < v < 235 and 49.9 < hz < 50.1
            # Delta-style VFD: 0x2100 block readable, 0x2000 block readable, the gap between is not
            assert not c.read_holding_registers(0x2100, count=7, device_id=4).isError()
            assert c.read_holding_registers(0x2050, count=1, device_id=4).exception_code == 2
            # FC 43/14 read device identification
            ident = c.read_device_information(device_id=1)
            assert ident.information[1] == b"DL-PLC1214"
        finally:
            c.close()
