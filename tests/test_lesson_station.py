"""A lesson's station (daqlab.lesson): the trainee's real bench when the kernel has one — reached through a relay
that records the requests and injects the lessons' faults on the wire — else the lesson's own simulated plant.
The bench here is a black-box station: Modbus only, as a real device."""

import socket
import time

import pytest

from daqlab.lesson import BenchStation, NotOnABench, station
from daqlab.modbus import ModbusException, ModbusTcpClient
from daqlab.plant import Plant

from .course_helpers import ROOT


@pytest.fixture()
def bench(tmp_path):
    box = Plant(1, textbook=True, control=False).start()
    path = tmp_path / "bench.yaml"
    path.write_text((ROOT / "benches" / "textbook.yaml").read_text(encoding="utf-8")
                    .replace("tcp://127.0.0.1:5021", box.endpoint(1)), encoding="utf-8")
    plant = station(stations=2, speed=10, textbook=True, environ={"DAQLAB_BENCH": str(path)})
    client = ModbusTcpClient("127.0.0.1", port=plant.port(1), timeout=0.5, retries=0)
    client.connect()
    yield box, plant, client
    client.close()
    plant.stop()
    box.stop()


def test_no_bench_means_the_lessons_own_simulated_plant():
    plant = station(stations=1, speed=10, textbook=True, environ={})
    try:
        assert isinstance(plant, Plant) and plant.simulated and plant.snapshot(1, "th")["temperature"] is not None
    finally:
        plant.stop()


def test_a_bench_is_station_one_through_a_relay_and_its_neighbours_are_simulated(bench):
    box, plant, client = bench
    assert isinstance(plant, BenchStation) and not plant.simulated
    assert plant.port(1) != box.port(1), "the lesson talks to the bench through its relay"
    regs = client.read_input_registers(1, count=2, device_id=2).registers
    truth = plant.snapshot(1, "th")  # read from the bench itself, engineering units
    assert abs(regs[0] / 10 - truth["temperature"]) < 1.0 and set(truth) >= {"temperature", "humidity"}
    mine = plant.log(1, unit=2, function=4)
    assert len(mine) == 1 and mine[0].values == tuple(regs) and mine[0].status == "ok"
    assert mine[0].client == f"127.0.0.1:{client.socket.getsockname()[1]}", "the record names the kernel's socket"
    served = [e for e in box.log(1) if e.function == 4 and e.unit == 2]
    assert len(served) == 2, "the bench served the lesson's read and the snapshot's, nothing more"
    assert plant.datasheet(1) == plant.bench.datasheet() and len(plant.tags(1)) == 77
    assert [t.name for t in plant.tags(1, devices=["th"])][0].startswith("th.")
    assert isinstance(plant.station(2).variant.units["meter"], int) and plant.endpoint(2) != plant.endpoint(1)
    # a kernel or a gateway started from the lesson finds the same bench: the relay, and the description's datasheet
    from daqlab.station import my_datasheet, my_station

    env = plant.environment(1)
    assert my_station(env).endpoint == plant.endpoint(1) and my_datasheet(env) == plant.bench.datasheet()


def test_faults_are_injected_on_the_wire_and_the_bench_runs_on(bench):
    box, plant, client = bench
    plant.set_fault(1, "th", "broken")
    assert client.read_input_registers(1, count=2, device_id=2).registers == [0x7FFF, 0x7FFF]
    alarm = client.read_input_registers(5, count=1, device_id=1).registers[0]
    assert alarm & 0x20, "a broken T/H sensor raises the PLC's sensor_fault bit, as on the simulator"
    assert plant.snapshot(1, "th")["temperature"] < 100, "the bench itself is fine: only the kernel sees the fault"
    plant.set_fault(1, "th", "offline")
    with pytest.raises(ModbusException):
        client.read_input_registers(1, count=2, device_id=2)
    assert plant.log(1, unit=2)[-1].status == "no_reply"
    client.close()
    client.connect()
    plant.clear_faults(1)
    plant.set_fault(1, "meter", "exception", 4)
    rr = client.read_input_registers(0, count=2, device_id=3)
    assert rr.isError() and rr.exception_code == 4
    plant.clear_faults(1, "meter")
    before = len(box.log(1))
    plant.set_fault(1, "vfd", "latency", 300)
    t = time.monotonic()
    assert not client.read_holding_registers(0x2103, count=1, device_id=4).isError()
    assert time.monotonic() - t >= 0.3, "the reply is held back (a lower bound: never a budget)"
    plant.set_fault(1, "ai", "stuck")
    a = client.read_input_registers(0, count=8, device_id=5).registers
    time.sleep(0.3)
    assert client.read_input_registers(0, count=8, device_id=5).registers[:4] == a[:4]
    plant.clear_faults()
    assert plant.relay.describe_faults() == {}
    assert len(box.log(1)) > before, "reads the relay passed on reached the bench"
    assert not client.read_input_registers(1, count=2, device_id=2).isError()


def test_garbage_on_the_relay_is_dropped_and_it_keeps_serving(bench):
    _box, plant, client = bench
    with socket.create_connection(("127.0.0.1", plant.port(1)), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\n\r\n")
        s.settimeout(5)
        assert s.recv(100) == b"", "not Modbus TCP: closed"
    assert not client.read_input_registers(1, count=2, device_id=2).isError()


def test_what_only_a_simulator_has_is_refused_with_a_clear_note(bench, tmp_path, capsys):
    _box, plant, _client = bench
    with pytest.raises(NotOnABench, match="只有仿真工位才有"):
        plant.advance(1.0)
    with pytest.raises(NotOnABench, match="接线故障"):
        plant.set_fault(1, "bus", "ab_swapped")
    with pytest.raises(KeyError, match="实训台没有设备"):
        plant.snapshot(1, "robot")
    # a lesson that needs the simulator's RS-485 bus says so and runs on its own plant
    own = station(stations=1, needs=("rs485",), speed=10, environ={
        "DAQLAB_BENCH_YAML": (ROOT / "benches" / "textbook.yaml").read_text(encoding="utf-8")})
    try:
        assert isinstance(own, Plant) and "本课改用自己的仿真工位" in capsys.readouterr().out
    finally:
        own.stop()


def test_a_bench_that_differs_from_the_textbook_is_named_at_the_start(tmp_path, capsys):
    box = Plant(1, textbook=True, control=False).start()
    path = tmp_path / "bench.yaml"
    path.write_text(f"name: B2\nstation: 2\nconnection: {box.endpoint(1)}\n"
                    "devices: {plc: {unit: 1}, th: {unit: 7}, meter: {unit: 3, word_order: CDAB}}\n", encoding="utf-8")
    try:
        with station(textbook=True, bench=path):
            out = capsys.readouterr().out
            assert f"实训台（real bench）「B2」：{box.endpoint(1)}" in out
            assert "th 从站 2 → 7" in out and "电表字序 ABCD → CDAB" in out and "缺少设备 vfd, ai" in out
    finally:
        box.stop()


def test_a_device_connected_apart_is_reached_at_its_own_address(tmp_path):
    main_box, vfd_box = Plant(1, textbook=True, control=False).start(), Plant(1, textbook=True, control=False).start()
    path = tmp_path / "bench.yaml"
    path.write_text(f"name: B3\nstation: 3\nconnection: {main_box.endpoint(1)}\n"
                    f"devices: {{plc: {{unit: 1}}, vfd: {{unit: 4, connection: '{vfd_box.endpoint(1)}'}}}}\n",
                    encoding="utf-8")
    try:
        with station(bench=path) as plant:
            client = ModbusTcpClient("127.0.0.1", port=plant.port(1), timeout=1, retries=0)
            client.connect()
            assert not client.read_holding_registers(0x2103, count=1, device_id=4).isError()
            assert not client.read_input_registers(0, count=2, device_id=1).isError()
            client.close()
            assert "output_freq" in plant.snapshot(1, "vfd")
        assert [e.unit for e in main_box.log(1)] == [1], "the PLC's read went to the bench's gateway"
        assert {e.unit for e in vfd_box.log(1)} == {4}, "the VFD's reads went to its own address"
    finally:
        main_box.stop()
        vfd_box.stop()
