"""An RS-485 bus that judges the client's serial settings (daqlab.plant.uart, rtu, serial_server).

The UART model on its own (each wrong setting gives what a real receiver reads), then a station's bus behind a
real RFC 2217 serial device server on 127.0.0.1, read with pymodbus through pyserial's RFC 2217 client: right
settings answer, wrong baud rate / parity / data bits get silence, a wrong stop-bit count still works, A/B
swapped gets silence, a missing terminator fails some frames; a settings scan finds the bus's settings.
"""

import random
import socket

import pytest

import daqlab.plant
from daqlab.acquisition.linescan import find_settings
from daqlab.modbus import ModbusException, client_from_url, quiet
from daqlab.plant.rtu import crc16, frame
from daqlab.plant.uart import LineSettings, receive, received_bytes

pytestmark = pytest.mark.slow  # the live bus: ~1 min (RFC 2217 opens, timeouts)
REQUEST = frame(1, bytes.fromhex("0300000002"))
BUS = LineSettings(9600, 8, "E", 1)  # the textbook station's bus


def read(tx, rx, **kw):
    chars = receive(REQUEST, tx, rx, **kw)
    return received_bytes(chars), sum(not c.ok for c in chars)


# ---------------------------------------------------------------------------------------- the model
def test_same_settings_arrive_unchanged():
    for s in (BUS, LineSettings(19200, 8, "N", 2), LineSettings(115200, 8, "O", 1)):
        assert read(s, s) == (REQUEST, 0)


def test_a_wrong_baud_rate_reads_garbage_with_framing_errors():
    for tx in (LineSettings(19200, 8, "E", 1), LineSettings(4800, 8, "E", 1)):
        data, errors = read(tx, BUS)
        assert data != REQUEST and errors > 0 and not (len(data) >= 4 and crc16(data) == 0)


def test_a_wrong_parity_gives_parity_or_framing_errors():
    data, errors = read(LineSettings(9600, 8, "N", 1), BUS)  # no parity bit: the stop bit is read as parity
    assert errors > 0 and data != REQUEST
    data, errors = read(LineSettings(9600, 8, "O", 1), BUS)  # the other parity: every byte's parity is wrong
    assert data == REQUEST and errors == len(REQUEST)
    data, errors = read(BUS, LineSettings(9600, 8, "N", 1))  # parity bit read as the stop bit: 0 is a framing error
    assert data == REQUEST and errors == sum(BUS.parity_bit(b) == 0 for b in REQUEST) > 0


def test_a_wrong_stop_bit_count_goes_unnoticed_as_on_a_real_bus():
    assert read(LineSettings(9600, 8, "E", 2), BUS) == (REQUEST, 0)
    assert read(BUS, LineSettings(9600, 8, "E", 2)) == (REQUEST, 0)


def test_swapped_a_and_b_and_reflections_corrupt_the_frame():
    data, errors = read(BUS, BUS, inverted=True)
    assert errors > 0 and data != REQUEST
    rng = random.Random(1)
    damaged = sum(read(BUS, BUS, flip=0.01, rng=rng) != (REQUEST, 0) for _ in range(200))
    assert 50 < damaged < 200, damaged  # 88 bits a frame at 1 % a bit: most frames, not all


# ------------------------------------------------------------------------------------ the live bus
@pytest.fixture(scope="module")
def bus():
    quiet()
    with daqlab.plant.run(stations=1, textbook=True) as plant:
        yield plant, plant.serve_rfc2217(1)


def ask(url, settings="baudrate=9600&parity=E&stopbits=1", unit=2):
    client = client_from_url(f"{url}?{settings}", timeout=1.5, retries=0)  # generous: a busy machine
    assert client.connect(), "the serial device server accepts the port"
    try:
        rr = client.read_input_registers(1, count=2, device_id=unit)
        return None if rr.isError() else rr.registers
    except ModbusException:
        return None  # no reply (timeout) or a reply that did not check
    finally:
        client.close()


def test_the_right_settings_are_answered(bus):
    plant, url = bus
    regs = ask(url)
    assert regs is not None and len(regs) == 2
    assert abs(regs[1] / 10 - plant.snapshot(1, "th")["humidity"]) < 5


@pytest.mark.parametrize("settings", ["baudrate=19200&parity=E", "baudrate=4800&parity=E", "baudrate=9600&parity=N",
                                      "baudrate=9600&parity=O", "baudrate=9600&parity=E&bytesize=7"])
def test_each_wrong_setting_gets_silence_and_the_bus_keeps_serving(bus, settings):
    plant, url = bus
    line = plant.rtu_lines(1)[0]
    before = line.line_errors + line.crc_errors
    assert ask(url, settings) is None
    assert line.line_errors + line.crc_errors > before, "the device saw a damaged frame"
    assert ask(url) is not None, "the right settings work again at once"


def test_a_wrong_stop_bit_count_still_works(bus):
    assert ask(bus[1], "baudrate=9600&parity=E&stopbits=2") is not None


def test_the_port_has_one_owner(bus):
    _, url = bus
    host, port = url.removeprefix("rfc2217://").split(":")
    first = client_from_url(f"{url}?baudrate=9600&parity=E", timeout=1.5, retries=0)
    assert first.connect()
    try:
        with socket.create_connection((host, int(port)), timeout=2) as second:
            second.settimeout(2)
            assert second.recv(64) == b"", "a second client is closed at once"
        assert not first.read_input_registers(1, count=2, device_id=2).isError()
    finally:
        first.close()


def test_wiring_faults(bus):
    plant, url = bus
    try:
        plant.set_wiring(1, "ab_swapped")
        assert ask(url) is None
        plant.set_wiring(1, "no_termination")
        answered = sum(ask(url) is not None for _ in range(30))
        assert 0 < answered < 30, f"reflections fail some frames, not all: {answered} of 30 answered"
        with pytest.raises(ValueError):
            plant.set_wiring(1, "loose")
    finally:
        plant.set_wiring(1, "ok")
    assert ask(url) is not None


def test_a_settings_scan_finds_the_bus(bus):
    _, url = bus
    found = find_settings(url, unit=1, baudrates=(19200, 9600), timeout=1.0)
    assert {(r.baudrate, r.parity, r.stopbits) for r in found} == {(9600, "E", 1), (9600, "E", 2)}
    assert all(r.reply.startswith("registers") for r in found)


def test_wiring_through_the_fault_api_and_status(bus):
    plant, url = bus
    assert plant.set_fault(1, "bus", "ab_swapped") == {"wiring": "ab_swapped"}
    st = plant.status()["stations"][0]
    assert st["wiring"] == "ab_swapped" and st["rtu"][0]["line"] == url
    assert ask(url) is None
    plant.clear_faults(1)
    assert plant.status()["stations"][0]["wiring"] == "ok" and ask(url) is not None
    with pytest.raises(ValueError):
        plant.set_fault(1, "bus", "offline")



def test_the_bus_asks_its_gate_with_the_clients_os_account_and_refuses_when_told():
    # the classroom hub gates each station's RS-485 device server like its Modbus port (daqlab.plant.peers): the
    # gate gets the uid owning the client's socket (looked up in /proc/net/tcp) and a refused client is cut off
    import os

    from daqlab.plant.serial_server import Rfc2217Server

    seen = []
    with daqlab.plant.run(stations=2, seed=0) as plant:
        def open_gated(k, allow):
            def _open():
                srv = Rfc2217Server(plant.station(k), "127.0.0.1", 0,
                                    gate=lambda uid: seen.append(uid) or allow)
                srv.open(plant._loop)
                plant._rtu.append(srv)
                return srv.url
            return plant.call(_open)

        v = plant.station(1).variant
        kw = dict(baudrates=[v.baudrate], parities=[v.parity], stopbits=[v.stopbits], timeout=0.5)
        assert find_settings(open_gated(1, True), unit=1, **kw)      # allowed: the bus answers
        refused = open_gated(2, False)
        with pytest.raises(Exception):  # noqa: B017 (pyserial: the port closed during the RFC 2217 negotiation)
            find_settings(refused, unit=1, **kw)
    assert seen and all(uid == os.geteuid() for uid in seen)
