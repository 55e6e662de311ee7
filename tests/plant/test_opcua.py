"""OPC UA view of a station: real asyncua server on the plant loop, real asyncua clients, real Modbus TCP."""

import asyncio
import math
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from asyncua import ua
from asyncua.sync import Client

import daqlab.plant
from daqlab.acquisition import Reader
from daqlab.plant.opcua import REFRESH_S, StationOpcUaServer
from daqlab.plant.opcua_cache import AddressSpaceCache
from daqlab.plant.opcua_nodes import DEVICE_NAMES, variant_type
from daqlab.station import my_opcua_endpoint

from ..helpers import free_port_block, wait_port
from .conftest import connect


@pytest.fixture(scope="module")
def plant():
    """Two stations, frozen clock, both served over Modbus TCP and OPC UA on free ports."""
    with daqlab.plant.run(stations=2, seed=11, frozen=True, opcua_base_port=0) as p:
        yield p


@pytest.fixture()
def client(plant):
    with Client(plant.opcua_endpoint(1)) as c:
        yield c


def node_of(client, k, tag):
    device, point = tag.split(".")
    return client.get_node(f"ns=2;s=Station{k}.{DEVICE_NAMES[device]}.{point}")


def test_browse_finds_station_devices_and_points_with_types_units_and_descriptions(plant, client):
    objects = {n.read_browse_name().Name: n for n in client.nodes.objects.get_children()}
    assert "Station1" in objects and "Station2" not in objects  # one server per station
    children = {n.read_browse_name().Name: n for n in objects["Station1"].get_children()}
    assert set(children) == {"plant_time", "PLC", "TH", "Meter", "VFD", "AI"}
    st = plant.station(1)
    for kind, name in DEVICE_NAMES.items():
        dev = st.devices[kind]
        variables = {n.read_browse_name().Name: n for n in children[name].get_children()}
        assert set(variables) == {p.name for p in dev.points}
        for p in dev.points:
            var = variables[p.name]
            assert var.nodeid.to_string() == f"ns=2;s=Station1.{name}.{p.name}"
            assert var.read_data_type_as_variant_type() == variant_type(p)
            text = var.read_description().Text
            assert p.en in text and p.zh in text
            props = {n.read_browse_name().Name: n for n in var.get_properties()}
            if p.unit:
                eu = props["EngineeringUnits"].read_value()
                assert eu.DisplayName.Text == p.unit and eu.NamespaceUri.endswith("/un/cefact")
            else:
                assert "EngineeringUnits" not in props
    power = client.get_node("ns=2;s=Station1.Meter.power_total")
    assert power.get_child("0:EngineeringUnits").read_value().UnitId == int.from_bytes(b"WTT", "big")
    assert client.get_node("ns=2;s=Station1.VFD.output_freq").read_data_type_as_variant_type() == ua.VariantType.Double
    assert client.get_node("ns=2;s=Station1.PLC.run").read_data_type_as_variant_type() == ua.VariantType.Boolean
    assert client.get_node("ns=2;s=Station1.PLC.parts").read_data_type_as_variant_type() == ua.VariantType.UInt32
    assert client.get_node("ns=2;s=Station1.PLC.nameplate").read_value() == "DAQLAB-PLC-1214"


def _same(opc, modbus, quality):
    if quality == "invalid":  # NaN on the wire (a broken float input): the reader reports None
        return isinstance(opc, float) and math.isnan(opc)
    return quality == "good" and opc == modbus


@pytest.mark.parametrize("k", [1, 2])
def test_every_variable_equals_the_modbus_value_at_the_same_plant_time(plant, k):
    c = connect(plant, k)
    assert not c.write_coil(0, True, device_id=plant.station(k).devices["plc"].unit).isError()  # line runs
    c.close()
    plant.advance(7.3)
    plant.set_fault(k, "th", "broken")  # value faults show the same in both views
    try:
        tags = plant.tags(k)
        with Client(plant.opcua_endpoint(k)) as opc:
            nodes = [node_of(opc, k, t.name) for t in tags]
            t_opc = opc.get_node(f"ns=2;s=Station{k}.plant_time").read_value()
            values = opc.read_values(nodes)
        with Reader(plant.endpoint(k)) as r:
            sample = r.read(tags)
        assert t_opc == pytest.approx(plant.now())
        mismatches = {t.name: (v, sample.values[t.name], sample.quality[t.name])
                      for t, v in zip(tags, values, strict=True)
                      if not _same(v, sample.values[t.name], sample.quality[t.name])}
        assert not mismatches
        by_name = dict(zip([t.name for t in tags], values, strict=True))
        assert by_name["vfd.output_freq"] > 0 and by_name["plc.run"] is True
    finally:
        plant.clear_faults(k)


def test_link_faults_become_bad_statuses(plant, client):
    power = client.get_node("ns=2;s=Station1.Meter.power_total")
    plant.set_fault(1, "meter", "offline")
    try:
        assert power.read_data_value(raise_on_bad_status=False).StatusCode.value == ua.StatusCodes.BadNoCommunication
        with pytest.raises(ua.uaerrors.BadNoCommunication):
            power.read_value()
    finally:
        plant.clear_faults(1)
    plant.set_fault(1, "meter", "exception", 4)
    try:
        assert power.read_data_value(raise_on_bad_status=False).StatusCode.value == ua.StatusCodes.BadDeviceFailure
    finally:
        plant.clear_faults(1)
    assert isinstance(power.read_value(), float)


class Changes:
    def __init__(self):
        self.seen = []
        self.event = threading.Event()

    def datachange_notification(self, node, val, data):
        self.seen.append((node.nodeid.Identifier, val))
        self.event.set()


def test_subscription_delivers_a_change_after_the_plant_advances(plant, client):
    handler = Changes()
    sub = client.create_subscription(50, handler)
    try:
        sub.subscribe_data_change([client.get_node("ns=2;s=Station1.plant_time"),
                                   client.get_node("ns=2;s=Station1.Meter.energy_import")])
        deadline = time.monotonic() + 30
        # the initial values: good ones (an earlier test's meter fault can still be the node's value until the
        # next refresh, and that arrives as a bad status with no value)
        while time.monotonic() < deadline and not (
                len(dict(handler.seen)) == 2 and None not in dict(handler.seen).values()):
            time.sleep(0.02)
        first = dict(handler.seen)
        assert len(first) == 2 and None not in first.values(), handler.seen
        handler.seen.clear()
        target = plant.advance(2.0)
        deadline = time.monotonic() + 30
        # a refresh can land mid-advance and notify an intermediate time first: wait for the final one
        while time.monotonic() < deadline and not (
                len({n for n, _ in handler.seen}) == 2
                and abs(dict(handler.seen)["Station1.plant_time"] - target) < 1e-3):
            time.sleep(0.02)
        latest = dict(handler.seen)
        assert latest["Station1.plant_time"] == pytest.approx(target)
        assert latest["Station1.Meter.energy_import"] > first["Station1.Meter.energy_import"]
    finally:
        sub.delete()


def _vfd_freq_register(plant, k=1):
    c = connect(plant, k)
    try:
        rr = c.read_holding_registers(0x2001, count=1, device_id=plant.station(k).devices["vfd"].unit)
        assert not rr.isError()
        return rr.registers[0]
    finally:
        c.close()


def test_setpoint_write_goes_through_the_device_and_shows_in_the_modbus_register(plant, client):
    freq = client.get_node("ns=2;s=Station1.VFD.freq_command")
    freq.write_value(ua.Variant(42.5, ua.VariantType.Double))
    assert _vfd_freq_register(plant) == 4250  # 0.01 Hz units
    assert freq.read_value() == 42.5
    for bad in (75.0, -1.0, 1e9, math.nan):  # above 60 Hz; below 0 (encode would clamp it to 0)
        with pytest.raises(ua.uaerrors.BadOutOfRange):
            freq.write_value(ua.Variant(bad, ua.VariantType.Double))
    assert _vfd_freq_register(plant) == 4250  # nothing applied
    with pytest.raises(ua.uaerrors.BadTypeMismatch):
        freq.write_value(ua.Variant(40, ua.VariantType.Int32))
    with pytest.raises(ua.uaerrors.BadNotWritable):
        client.get_node("ns=2;s=Station1.VFD.output_freq").write_value(ua.Variant(1.0, ua.VariantType.Double))
    # the PLC's run coil: a Boolean written through FC-05 semantics, read back over Modbus
    run = client.get_node("ns=2;s=Station1.PLC.run")
    run.write_value(False)
    c = connect(plant, 1)
    assert c.read_coils(0, count=1, device_id=1).bits[0] is False
    run.write_value(True)
    assert c.read_coils(0, count=1, device_id=1).bits[0] is True
    c.close()
    # a Modbus write shows in OPC UA too
    c = connect(plant, 1)
    assert not c.write_register(0x2001, 3000, device_id=plant.station(1).devices["vfd"].unit).isError()
    c.close()
    assert freq.read_value() == 30.0


def test_device_refusal_maps_to_bad_invalid_state_after_a_scenario_reset(plant):
    plant.apply_scenario(2, "decode")  # e-stop pressed; the station's devices are rebuilt in place
    try:
        with Client(plant.opcua_endpoint(2)) as c:
            with pytest.raises(ua.uaerrors.BadInvalidState):
                c.get_node("ns=2;s=Station2.PLC.run").write_value(True)
            assert c.get_node("ns=2;s=Station2.PLC.estop_ok").read_value() is False
    finally:
        plant.apply_scenario(2, "clean")


def test_environment_names_the_opcua_endpoint(plant):
    env = plant.environment(1)
    assert env["DAQLAB_OPCUA_ENDPOINT"] == plant.opcua_endpoint(1)
    assert env["DAQLAB_OPCUA_ENDPOINT"].startswith("opc.tcp://127.0.0.1:")
    assert my_opcua_endpoint(env) == plant.opcua_endpoint(1)
    with pytest.raises(RuntimeError, match="DAQLAB_OPCUA_ENDPOINT"):
        my_opcua_endpoint({})
    assert plant.status()["stations"][0]["opcua"] == plant.opcua_endpoint(1)


def test_server_stops_cleanly_with_the_plant():
    before = set(threading.enumerate())
    p = daqlab.plant.run(stations=1, frozen=True).start()
    assert "DAQLAB_OPCUA_ENDPOINT" not in p.environment(1)
    endpoint = p.serve_opcua(1)
    with Client(endpoint) as c:
        assert c.get_node("ns=2;s=Station1.plant_time").read_value() == 0.0
    p.stop()
    time.sleep(0.1)
    assert set(threading.enumerate()) <= before
    port = int(endpoint.split(":")[2].split("/")[0])
    with pytest.raises(OSError):
        import socket

        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_address_space_cache_is_built_once_then_used(tmp_path):
    cache = AddressSpaceCache(tmp_path / "aspace-test")
    plant = daqlab.plant.Plant(1, frozen=True)

    async def start_stop():
        srv = await StationOpcUaServer(plant.station(1), cache=cache).start()
        await srv.stop()
        return srv.started_from_cache

    assert not cache.ready()
    assert asyncio.run(start_stop()) is False
    assert cache.ready() and not [p for p in tmp_path.iterdir() if p.name.startswith(".build-")]
    assert asyncio.run(start_stop()) is True


def test_plant_serve_cli_serves_opcua_on_base_plus_k():
    base = free_port_block(2)
    opc = free_port_block(2)
    proc = subprocess.Popen([sys.executable, "-m", "daqlab.cli", "plant", "serve", "--stations", "1", "--base-port",
                             str(base), "--frozen", "--opcua-base-port", str(opc)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))
    try:
        wait_port(opc + 1)
        with Client(f"opc.tcp://127.0.0.1:{opc + 1}/daqlab/station1") as c:
            assert c.get_node("ns=2;s=Station1.PLC.firmware").read_value() == 214
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert f"opc.tcp://127.0.0.1:{opc + 1}/daqlab/station1" in out


def test_refresh_period_is_the_published_minimum_sampling_interval(client):
    attr = client.get_node("ns=2;s=Station1.Meter.power_total").read_attribute(ua.AttributeIds.MinimumSamplingInterval)
    assert attr.Value.Value == REFRESH_S * 1000
