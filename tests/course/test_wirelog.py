"""The grader's wire record: Modbus TCP frames cut from a stream in any chunking, requests paired with replies."""

from daqlab.course.wirelog import WireLog


def mbap(tid: int, unit: int, pdu: bytes) -> bytes:
    return tid.to_bytes(2, "big") + b"\x00\x00" + (len(pdu) + 1).to_bytes(2, "big") + bytes([unit]) + pdu


def test_frames_split_anywhere_are_paired_by_transaction_id():
    log = WireLog(station=3)
    req, rep = log.connection()
    stream = mbap(1, 2, bytes([4, 0, 1, 0, 2])) + mbap(2, 1, bytes([3, 0, 0x18, 0, 6]))
    for i in range(0, len(stream), 3):  # arrives three bytes at a time
        req(stream[i:i + 3])
    rep(mbap(2, 1, bytes([0x83, 0x02])))  # the second is answered first: exception 02
    rep(mbap(1, 2, bytes([4, 4, 0x00, 0xF0, 0x01, 0xF4])))
    e1, e2 = log.entries()
    assert (e1.unit, e1.function, e1.address, e1.count, e1.values, e1.status) == (2, 4, 1, 2, (240, 500), "ok")
    assert (e2.unit, e2.function, e2.address, e2.status, e2.exception) == (1, 3, 0x18, "exception", 2)
    assert e1.station == 3


def test_writes_keep_what_was_written_and_unanswered_requests_are_no_reply():
    log = WireLog(1)
    req, rep = log.connection()
    req(mbap(7, 6, bytes([6, 0x20, 0x01, 0x0F, 0xA0])))  # FC 06: 0x2001 = 4000
    rep(mbap(7, 6, bytes([6, 0x20, 0x01, 0x0F, 0xA0])))
    req(mbap(8, 6, bytes([16, 0x20, 0x00, 0, 2, 4, 0, 0x12, 0x0F, 0xA0])))  # FC 16, never answered
    w, lost = log.entries()
    assert (w.function, w.address, w.values, w.status) == (6, 0x2001, (4000,), "ok")
    assert (lost.function, lost.address, lost.count, lost.values, lost.status) == (16, 0x2000, 2, (0x12, 4000), "no_reply")


def test_a_stream_that_is_not_modbus_stops_being_recorded():
    log = WireLog(1)
    req, rep = log.connection()
    req(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    req(mbap(1, 1, bytes([3, 0, 0, 0, 1])))  # after garbage the stream is out of step: not recorded
    assert log.entries() == []
