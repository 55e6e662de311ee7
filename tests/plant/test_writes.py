"""Writes behave like devices: limits -> 03, read-only/unmapped/half values -> 02, nothing half-applied."""

from daqlab.acquisition.codec import encode

from .conftest import connect


def test_out_of_range_setpoint_is_exception_03_and_not_applied(plant):
    c = connect(plant)
    unit = plant.stations[1].variant.units["vfd"]
    try:
        assert c.write_register(0x2001, 6001, device_id=unit).exception_code == 3  # > 60.00 Hz
        assert c.write_register(0x2001, 4000, device_id=unit).isError() is False
        assert c.read_holding_registers(0x2001, count=1, device_id=unit).registers == [4000]
        assert c.write_register(1, 0, device_id=1).exception_code == 3  # batch size 0
        assert c.write_register(0x2000, 0x0100, device_id=unit).exception_code == 3  # undefined bit
    finally:
        c.close()


def test_read_only_and_unmapped_registers_are_exception_02(plant):
    c = connect(plant)
    try:
        assert c.write_register(0x20, 300, device_id=1).exception_code == 2  # firmware is read-only
        assert c.write_register(0x40, 1, device_id=1).exception_code == 2  # not mapped
        assert c.write_coil(10, True, device_id=1).exception_code == 2
        assert c.read_holding_registers(0x40, count=1, device_id=1).exception_code == 2
        assert c.read_coils(0, count=5, device_id=1).exception_code == 2  # 4 coils only
    finally:
        c.close()


def test_multi_register_values_must_be_written_whole(plant):
    c = connect(plant)
    order = plant.stations[1].variant.meter_order
    try:
        assert c.write_register(0x14, 0x4300, device_id=3).exception_code == 2  # half a float32
        regs = encode(17.0, "FLOAT32", order)
        assert not c.write_registers(0x14, regs, device_id=3).isError()
        assert c.read_holding_registers(0x14, count=2, device_id=3).registers == regs
        assert c.write_registers(0x1C, encode(7.0, "FLOAT32", order), device_id=3).exception_code == 3  # baud code
    finally:
        c.close()


def test_a_failing_multi_write_applies_nothing(plant):
    c = connect(plant)
    try:
        before = c.read_holding_registers(0x0101, count=4, device_id=2).registers
        # address ok, baud ok, temperature offset 50.0 out of range (limit 10.0)
        r = c.write_registers(0x0101, [7, 4800, 500, 0], device_id=2)
        assert r.exception_code == 3
        assert c.read_holding_registers(0x0101, count=4, device_id=2).registers == before
        assert not c.write_registers(0x0101, [7, 4800, 15, 0], device_id=2).isError()
        assert c.read_holding_registers(0x0101, count=4, device_id=2).registers == [7, 4800, 15, 0]
    finally:
        c.close()


def test_fc05_coils_and_momentary_reset(plant):
    c = connect(plant)
    unit = plant.stations[1].variant.units["vfd"]
    try:
        assert not c.write_register(0x2002, 1, device_id=unit).isError()  # external fault on
        assert c.read_holding_registers(0x2100, count=1, device_id=unit).registers == [16]
        assert c.write_coil(0, True, device_id=1).exception_code == 4  # cannot start while faulted
        assert not c.write_register(0x2002, 2, device_id=unit).isError()  # EF off + reset
        assert c.read_holding_registers(0x2100, count=1, device_id=unit).registers == [0]
        assert not c.write_coil(0, True, device_id=1).isError()
        assert c.read_coils(0, count=4, device_id=1).bits[:4] == [True, False, False, True]
    finally:
        c.close()


def test_a_write_is_visible_on_other_devices_at_once(frozen_plant_free=None):
    import daqlab.plant

    from .conftest import connect as _connect

    with daqlab.plant.run(stations=1, textbook=True, frozen=True) as plant:
        c = _connect(plant)
        try:
            assert c.read_input_registers(5, count=1, device_id=1).registers == [0]  # PLC alarm word cached
            assert not c.write_register(0x2002, 1, device_id=4).isError()           # VFD external fault
            assert c.read_input_registers(5, count=1, device_id=1).registers == [4]  # same plant step
            plant.set_fault(1, "th", "broken")
            assert c.read_input_registers(5, count=1, device_id=1).registers == [4 | 32]
        finally:
            c.close()
