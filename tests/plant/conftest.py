import pytest

import daqlab.plant
from daqlab.modbus import ModbusTcpClient


@pytest.fixture(scope="module")
def frozen_plant():
    """Three stations with a frozen clock: values only change when the test advances time."""
    with daqlab.plant.run(stations=3, seed=11, frozen=True) as plant:
        yield plant


@pytest.fixture()
def plant():
    """A fresh real-time plant per test (for writes and faults)."""
    with daqlab.plant.run(stations=2, seed=5, speed=20) as p:
        yield p


def connect(plant, station=1, timeout=2.0, retries=0):
    c = ModbusTcpClient("127.0.0.1", port=plant.port(station), timeout=timeout, retries=retries)
    assert c.connect()
    return c


READ = {"coil": "read_coils", "discrete": "read_discrete_inputs", "holding": "read_holding_registers",
        "input": "read_input_registers"}


def read_point(client, unit, point):
    rr = getattr(client, READ[point.area])(point.address, count=point.count, device_id=unit)
    assert not rr.isError(), (point.name, rr)
    words = rr.bits[: point.count] if point.area in ("coil", "discrete") else rr.registers
    return point.decode(words)
