"""Each fault mode, switched at run time from Python, shows up on the wire as documented."""

import math
import time

import pytest

from daqlab.acquisition.codec import decode
from daqlab.modbus import ModbusException

from .conftest import connect


def test_offline_device_times_out_and_others_still_answer(plant):
    plant.set_fault(1, "th", "offline")
    c = connect(plant, timeout=0.3)
    try:
        with pytest.raises(ModbusException):
            c.read_input_registers(1, count=2, device_id=2)
        assert not c.read_input_registers(0, count=2, device_id=1).isError()
    finally:
        c.close()
    plant.clear_faults(1)
    c = connect(plant)
    try:
        assert not c.read_input_registers(1, count=2, device_id=2).isError()
    finally:
        c.close()


def test_latency_delays_replies(plant):
    plant.set_fault(1, "meter", "latency", 1500)
    c = connect(plant)
    try:
        t0 = time.perf_counter()
        assert not c.read_input_registers(0, count=2, device_id=3).isError()
        assert time.perf_counter() - t0 >= 1.49
        t0 = time.perf_counter()
        c.read_input_registers(0, count=2, device_id=1)
        assert time.perf_counter() - t0 < 1.4, "another device on the station is not delayed"
    finally:
        c.close()


def test_drop_loses_about_the_given_share(plant):
    plant.set_fault(1, "plc", "drop", 50)
    c = connect(plant, timeout=0.05)
    lost = 0
    try:
        for _ in range(40):
            try:
                c.read_input_registers(0, count=1, device_id=1)
            except ModbusException:
                lost += 1
                c.close()
                c.connect()
    finally:
        c.close()
    assert 8 <= lost <= 32
    assert sum(e.status == "no_reply" for e in plant.log(1)) == lost


def test_exception_injection(plant):
    plant.set_fault(1, "vfd", "exception", 6)
    c = connect(plant)
    unit = plant.stations[1].variant.units["vfd"]
    try:
        r = c.read_holding_registers(0x2100, count=1, device_id=unit)
        assert r.exception_code == 6 and r.function_code == 0x83
    finally:
        c.close()


def test_broken_sensor_reads_the_sentinel_and_raises_the_alarm(plant):
    c = connect(plant)
    try:
        plant.set_fault(1, "th", "broken")
        plant.set_fault(1, "ai", "broken")
        assert c.read_input_registers(1, count=2, device_id=2).registers == [0x7FFF, 0x7FFF]
        assert c.read_input_registers(0, count=4, device_id=5).registers == [0x7FFF] * 4
        assert c.read_input_registers(0x10, count=1, device_id=5).registers[0] & 0xF == 0xF
        time.sleep(0.05)
        assert c.read_input_registers(5, count=1, device_id=1).registers[0] & 32, "sensor_fault alarm bit"
        plant.set_fault(1, "meter", "broken")
        v = decode(c.read_input_registers(0, count=2, device_id=3).registers, "FLOAT32",
                   plant.stations[1].variant.meter_order)
        assert math.isnan(v)
    finally:
        c.close()


def test_stuck_values_freeze(plant):
    c = connect(plant)
    try:
        plant.set_fault(1, "ai", "stuck")
        first = c.read_input_registers(0, count=4, device_id=5).registers
        time.sleep(0.3)  # 6 plant seconds at speed 20: noise moves every value
        assert c.read_input_registers(0, count=4, device_id=5).registers == first
        plant.set_fault(1, "ai", "stuck", False)
        time.sleep(0.3)
        assert c.read_input_registers(0, count=4, device_id=5).registers != first
    finally:
        c.close()


def test_spikes_appear_in_sensor_values(plant):
    plant.set_fault(1, "th", "spikes", 100)
    c = connect(plant)
    try:
        raw = c.read_input_registers(1, count=1, device_id=2).registers[0]
        value = (raw - 65536 if raw > 32767 else raw) / plant.stations[1].variant.th_scale
        assert value > 60 or value < -30
    finally:
        c.close()


def test_bad_fault_requests_are_refused_with_a_reason(plant):
    with pytest.raises(ValueError, match="unknown fault mode"):
        plant.set_fault(1, "th", "melted")
    with pytest.raises(ValueError, match="percentage"):
        plant.set_fault(1, "th", "drop", 150)
    with pytest.raises(KeyError, match="unknown device"):
        plant.set_fault(1, "robot", "offline")
