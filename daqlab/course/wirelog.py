"""What a submission said to its station and what the station answered, recorded on the wire by the grader.

A real bench has no request log and no control API. But while a submission is graded, every byte between its
kernel and its station passes through the sandbox's relay (daqlab.course.sandbox), on the trusted side. A
:class:`WireLog` taps both directions of each relayed connection, cuts the Modbus TCP stream into frames (MBAP
header: transaction id, protocol 0, length, unit id), pairs each request with its reply by transaction id and
keeps one :class:`daqlab.plant.reqlog.LogEntry` per request, the same record the simulator's request log
keeps. The oracles read it through the same calls (``GradingContext.served_words`` ...), so "this value was
read from the device" is checked the same way on a real bench as on the simulator.

A stream that stops parsing (not Modbus TCP) is no longer recorded; nothing the submission sends can make the
relay fail or change what is forwarded: the tap only reads copies of the bytes.
"""

from __future__ import annotations

import itertools
import threading
import time

from daqlab.plant.reqlog import LogEntry

MAX_FRAME = 260  #: MBAP length field: unit id + PDU (253 bytes at most)
MAX_ENTRIES = 200_000  #: a runaway loop cannot grow the record without bound


def _bits(data: bytes, count: int) -> tuple:
    return tuple((data[i // 8] >> (i % 8)) & 1 for i in range(min(count, len(data) * 8)))


def _words(data: bytes) -> tuple:
    return tuple(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data) - 1, 2))


def parse_request(pdu: bytes) -> tuple:
    """(function, address, count, values written) of a request PDU (address None when it is not a data access)."""
    fc = pdu[0] if pdu else 0
    body = pdu[1:]
    try:
        if fc in (1, 2, 3, 4) and len(body) >= 4:
            return fc, int.from_bytes(body[0:2], "big"), int.from_bytes(body[2:4], "big"), None
        if fc == 5 and len(body) >= 4:
            return fc, int.from_bytes(body[0:2], "big"), 1, (1 if body[2:4] == b"\xff\x00" else 0,)
        if fc == 6 and len(body) >= 4:
            return fc, int.from_bytes(body[0:2], "big"), 1, (int.from_bytes(body[2:4], "big"),)
        if fc == 15 and len(body) >= 5:
            count = int.from_bytes(body[2:4], "big")
            return fc, int.from_bytes(body[0:2], "big"), count, _bits(body[5:5 + body[4]], count)
        if fc == 16 and len(body) >= 5:
            return fc, int.from_bytes(body[0:2], "big"), int.from_bytes(body[2:4], "big"), _words(body[5:5 + body[4]])
        if fc == 22 and len(body) >= 6:
            return fc, int.from_bytes(body[0:2], "big"), 1, _words(body[2:6])
    except (IndexError, ValueError):
        pass
    return fc, None, None, None


class WireLog:
    """Requests and replies of one station's relayed connections (thread-safe; one tap per direction)."""

    def __init__(self, station: int):
        self.station = station
        self._entries: list[LogEntry] = []
        self._pending: dict[tuple, tuple] = {}  # (connection, transaction id) -> (time, unit, fc, addr, count, values)
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._labels: dict[int, str] = {}  # connection -> the client's name in the records

    def connection(self, client: str | None = None):
        """(feed_request, feed_reply) for one relayed connection: call them with each chunk as it passes.
        ``client`` names the connection in the records (default ``wire:<n>``)."""
        conn = next(self._ids)
        self._labels[conn] = client or f"wire:{conn}"
        bufs = {"req": bytearray(), "rep": bytearray()}
        dead = {"req": False, "rep": False}

        def feeder(side):
            def feed(chunk: bytes) -> None:
                if dead[side]:
                    return
                buf = bufs[side]
                buf += chunk
                while len(buf) >= 7:
                    length = int.from_bytes(buf[4:6], "big")
                    if buf[2:4] != b"\x00\x00" or not 2 <= length <= MAX_FRAME:
                        dead[side] = True  # not Modbus TCP (or out of step): stop recording this stream
                        buf.clear()
                        return
                    if len(buf) < 6 + length:
                        return
                    frame = bytes(buf[:6 + length])
                    del buf[:6 + length]
                    (self._request if side == "req" else self._reply)(conn, frame)
            return feed
        return feeder("req"), feeder("rep")

    def _request(self, conn: int, frame: bytes) -> None:
        tid, unit, pdu = int.from_bytes(frame[0:2], "big"), frame[6], frame[7:]
        fc, addr, count, values = parse_request(pdu)
        with self._lock:
            self._pending[(conn, tid)] = (time.time(), unit, fc, addr, count, values)

    def _reply(self, conn: int, frame: bytes) -> None:
        tid, pdu = int.from_bytes(frame[0:2], "big"), frame[7:]
        with self._lock:
            req = self._pending.pop((conn, tid), None)
        if req is None or not pdu:
            return
        t, unit, fc, addr, count, values = req
        if pdu[0] & 0x80:
            entry = LogEntry(t, 0.0, self.station, self._labels[conn], unit, fc, addr, count, None,
                             pdu[1] if len(pdu) > 1 else None, "exception")
        else:
            if fc in (1, 2) and len(pdu) >= 2:
                values = _bits(pdu[2:2 + pdu[1]], count or 0)
            elif fc in (3, 4) and len(pdu) >= 2:
                values = _words(pdu[2:2 + pdu[1]])
            entry = LogEntry(t, 0.0, self.station, self._labels[conn], unit, fc, addr, count, values, None, "ok")
        self._add(entry)

    def _add(self, entry: LogEntry) -> None:
        with self._lock:
            if len(self._entries) < MAX_ENTRIES:
                self._entries.append(entry)

    def entries(self) -> list[LogEntry]:
        """Every request in order of sending; those still unanswered as "no_reply"."""
        with self._lock:
            left = [LogEntry(t, 0.0, self.station, self._labels[conn], unit, fc, addr, count, values, None, "no_reply")
                    for (conn, _tid), (t, unit, fc, addr, count, values) in self._pending.items()]
            return sorted(self._entries + left, key=lambda e: e.time)
