"""Raw frames over a socket: the plant answers as the Modbus spec says and keeps serving everyone."""

import socket
import struct
import time

import pytest

import daqlab.plant

from .conftest import connect


@pytest.fixture(scope="module")
def raw_plant():
    with daqlab.plant.run(stations=1, textbook=True, frozen=True) as plant:
        yield plant


def open_raw(plant):
    s = socket.create_connection(("127.0.0.1", plant.port(1)), timeout=2)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def transact(sock, unit, pdu, tid=7, pid=0, length=None):
    sock.sendall(struct.pack(">HHHB", tid, pid, len(pdu) + 1 if length is None else length, unit) + pdu)
    head = recv_exact(sock, 7)
    rtid, rpid, rlen, runit = struct.unpack(">HHHB", head)
    body = recv_exact(sock, rlen - 1)
    assert (rtid, rpid, runit) == (tid, 0, unit)
    return body


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return buf


@pytest.mark.parametrize(
    ("unit", "pdu", "reply"),
    [
        (1, bytes.fromhex("0300000000"), "8303"),  # FC03 count 0 -> 03
        (1, bytes.fromhex("030000007E"), "8303"),  # FC03 count 126 -> 03
        (1, bytes.fromhex("04000000 7E".replace(" ", "")), "8403"),  # FC04 count 126 -> 03
        (1, bytes.fromhex("01000007D1"), "8103"),  # FC01 2001 bits -> 03
        (1, bytes.fromhex("0300"), "8303"),  # truncated PDU -> 03
        (1, bytes.fromhex("030000000100"), "8303"),  # PDU one byte too long -> 03
        (1, bytes.fromhex("41000000 01".replace(" ", "")), "C101"),  # unknown FC 0x41 -> 01
        (1, bytes.fromhex("07"), "8701"),  # FC 07 (serial only) -> 01
        (1, bytes.fromhex("0300400001"), "8302"),  # beyond the map -> 02
        (1, bytes.fromhex("03FFFF0002"), "8302"),  # address + count beyond 65535 -> 02
        (1, bytes.fromhex("0500000012"), "8503"),  # FC05 value not FF00/0000 -> 03
        (1, bytes.fromhex("10000100020300010002"), "9003"),  # FC16 byte count mismatch -> 03
        (9, bytes.fromhex("0300000001"), "830B"),  # unknown unit -> 0B gateway target failed
        (1, bytes.fromhex("2B0E0100"), None),  # FC43/14 basic identification: normal reply
    ],
)
def test_spec_exception_replies(raw_plant, unit, pdu, reply):
    s = open_raw(raw_plant)
    try:
        body = transact(s, unit, pdu)
        if reply is None:
            assert body[:2] == b"\x2b\x0e" and b"DL-PLC1214" in body
        else:
            assert body.hex().upper() == reply
            assert body[0] == (pdu[0] | 0x80), "exception carries the request's FC + 0x80"
    finally:
        s.close()


def test_normal_read_and_mask_write_and_read_write_multiple(raw_plant):
    s = open_raw(raw_plant)
    try:
        assert transact(s, 1, bytes.fromhex("0300200001")).hex() == "030200d6"  # firmware 214
        # FC22 mask write on batch_size (addr 1): (current AND 0x00F0) OR (0x0005 AND NOT 0x00F0)
        assert transact(s, 1, bytes.fromhex("06000100F3"))  # batch size 243 = 0xF3
        assert transact(s, 1, bytes.fromhex("16000100F00005")).hex() == "16000100f00005"
        assert transact(s, 1, bytes.fromhex("0300010001")).hex() == "030200f5"  # 0xF0 | 0x05
        # FC23: write batch size 100 and read it back in one transaction
        assert transact(s, 1, bytes.fromhex("17000100010001000102 0064".replace(" ", ""))).hex() == "17020064"
    finally:
        s.close()


def closed_by_peer(sock, wait=3.0):
    sock.settimeout(wait)
    try:
        return sock.recv(1) == b""
    except (ConnectionResetError, TimeoutError):
        return False


def test_wrong_protocol_id_closes_the_connection(raw_plant):
    s = open_raw(raw_plant)
    s.sendall(struct.pack(">HHHB", 1, 5, 6, 1) + bytes.fromhex("0300000001"))
    assert closed_by_peer(s)


def test_impossible_length_closes_the_connection(raw_plant):
    s = open_raw(raw_plant)
    s.sendall(struct.pack(">HHHB", 1, 0, 1000, 1) + bytes.fromhex("0300000001"))
    assert closed_by_peer(s)


def test_lying_length_is_closed_after_the_frame_timeout(raw_plant):
    s = open_raw(raw_plant)
    t0 = time.monotonic()
    s.sendall(struct.pack(">HHHB", 1, 0, 30, 1) + bytes.fromhex("0300000001"))  # promises 29 PDU bytes
    assert closed_by_peer(s, wait=5.0)
    assert time.monotonic() - t0 >= 1.5


def test_broadcast_write_is_executed_without_reply(raw_plant):
    s = open_raw(raw_plant)
    try:
        s.sendall(struct.pack(">HHHB", 3, 0, 6, 0) + bytes.fromhex("0600010050"))  # batch size 80 to everyone
        s.settimeout(0.3)
        with pytest.raises((TimeoutError, socket.timeout)):
            s.recv(1)
        s.settimeout(2)
        assert transact(s, 1, bytes.fromhex("0300010001")).hex() == "03020050"
    finally:
        s.close()


def test_pipelined_frames_in_one_segment_are_all_answered(raw_plant):
    s = open_raw(raw_plant)
    try:
        frames = b"".join(struct.pack(">HHHB", tid, 0, 6, 1) + bytes.fromhex("0400040001") for tid in range(1, 6))
        s.sendall(frames)
        replies = [recv_exact(s, 11) for _ in range(5)]  # MBAP 7 + FC, byte count, one register
        assert [struct.unpack(">H", r[:2])[0] for r in replies] == [1, 2, 3, 4, 5]
        assert all(r[7:9] == b"\x04\x02" for r in replies)
    finally:
        s.close()


def test_hundreds_of_idle_and_garbage_connections_do_not_stop_service(raw_plant):
    idle = [open_raw(raw_plant) for _ in range(300)]
    try:
        garbage = [open_raw(raw_plant) for _ in range(20)]
        for g in garbage:
            g.sendall(b"\x00\x01\x00")  # a partial header, then silence
        c = connect(raw_plant)
        t0 = time.perf_counter()
        for _ in range(200):
            assert not c.read_input_registers(0, count=8, device_id=1).isError()
        assert time.perf_counter() - t0 < 60, "served while 300 idle and 20 half-open connections wait"
        c.close()
        for g in garbage:
            g.close()
    finally:
        for s in idle:
            s.close()
