"""The process model: coupling and determinism."""

from daqlab.acquisition.codec import decode
from daqlab.plant.process import DT, Process

from .conftest import connect


def run_script(seed):
    p = Process(seed)
    samples = []
    for t in range(0, 120):
        if t == 5:
            p.start(42.5)
        if t == 80:
            p.stop()
        p.advance_to(t * 1.0)
        samples.append((p.out_freq, p.current, p.parts, p.reject, round(p.energy_kwh, 9), p.motor_temp, p.humidity))
    return samples


def test_same_seed_and_same_commands_give_the_same_values():
    assert run_script(3) == run_script(3)


def test_different_seeds_give_different_noise():
    assert run_script(3) != run_script(4)


def test_reading_does_not_change_the_future():
    a, b = Process(9), Process(9)
    a.start(50)
    b.start(50)
    for k in range(1, 200):
        a.advance_to(k * DT)
        a.total_power_w(), a.alarm_word(), a.phase_powers()  # reads in between
    b.advance_to(199 * DT)
    assert (a.parts, a.current, a.energy_kwh) == (b.parts, b.current, b.energy_kwh)


def test_vfd_start_drives_frequency_current_power_and_counter(frozen_plant):
    st = 2
    unit = frozen_plant.stations[st].variant.units["vfd"]
    order = frozen_plant.stations[st].variant.meter_order
    c = connect(frozen_plant, st)
    try:
        def power():
            return decode(c.read_input_registers(0x34, count=2, device_id=3).registers, "FLOAT32", order)

        def parts():
            hi, lo = c.read_input_registers(0, count=2, device_id=1).registers
            return hi << 16 | lo

        p0, n0 = power(), parts()
        assert c.read_holding_registers(0x2103, count=1, device_id=unit).registers == [0]
        assert not c.write_register(0x2001, 5000, device_id=unit).isError()
        assert not c.write_register(0x2000, 0x0012, device_id=unit).isError()
        frozen_plant.advance(2.0)
        mid = c.read_holding_registers(0x2103, count=1, device_id=unit).registers[0]
        assert 1000 < mid < 5000, "ramping at 10 Hz/s: about 20 Hz after 2 s"
        frozen_plant.advance(20.0)
        regs = c.read_holding_registers(0x2103, count=2, device_id=unit).registers
        assert regs[0] == 5000 and regs[1] > 200, "at 50.00 Hz with more than 2 A"
        assert power() > p0 + 500
        assert parts() >= n0 + 15
        status = c.read_holding_registers(0x2101, count=1, device_id=unit).registers[0]
        assert status & 0b10001 == 0b10001, "running and at speed"
        assert not c.write_register(0x2000, 0x0001, device_id=unit).isError()
        frozen_plant.advance(10.0)
        assert c.read_holding_registers(0x2103, count=1, device_id=unit).registers == [0]
    finally:
        c.close()


def test_plc_run_coil_starts_the_line_at_the_speed_setpoint(frozen_plant):
    c = connect(frozen_plant, 3)
    unit = frozen_plant.stations[3].variant.units["vfd"]
    try:
        assert not c.write_register(0, 3000, device_id=1).isError()  # 30.00 Hz
        assert not c.write_coil(0, True, device_id=1).isError()
        frozen_plant.advance(8.0)
        assert c.read_holding_registers(0x2103, count=1, device_id=unit).registers == [3000]
        assert c.read_input_registers(4, count=1, device_id=1).registers == [2]  # running
        assert c.read_coils(0, count=1, device_id=1).bits[0] is True
        assert not c.write_coil(1, True, device_id=1).isError()  # momentary stop
        assert c.read_coils(1, count=1, device_id=1).bits[0] is False
        frozen_plant.advance(8.0)
        assert c.read_input_registers(4, count=1, device_id=1).registers == [0]  # stopped
    finally:
        c.close()


def test_two_plants_with_the_same_seed_serve_identical_values():
    import daqlab.plant

    def capture():
        with daqlab.plant.run(stations=1, seed=21, frozen=True) as plant:
            c = connect(plant)
            unit = plant.stations[1].variant.units["vfd"]
            out = []
            c.write_register(0x2001, 3700, device_id=unit)
            c.write_register(0x2000, 0x12, device_id=unit)
            for _ in range(10):
                plant.advance(1.7)
                out.append(tuple(c.read_input_registers(0, count=0x4C, device_id=3).registers))
                out.append(tuple(c.read_input_registers(0, count=8, device_id=1).registers))
            c.close()
            return out

    assert capture() == capture()
