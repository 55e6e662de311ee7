"""A real bench's RS-485 line, relayed and recorded by the grader (the counterpart of daqlab.course.wirelog).

A bench whose description names ``rs485: rfc2217://host:port`` (a serial device server on its RS-485 line) gives a
graded submission that line through a :class:`SerialTap`: the grader listens on 127.0.0.1, the sandbox relays the
kernel to it (``DAQLAB_RS485_URL``), and the tap forwards every byte unchanged to the serial device server while it
reads copies of them. It strips the Telnet / RFC 2217 layer (IAC commands, COM-PORT-OPTION negotiation, IAC IAC
escapes), cuts the data into Modbus RTU frames (length from the function code, CRC-16 checked; a byte that does not
start a good frame is skipped) and pairs each request with the reply that follows it (RTU is half duplex: one
request at a time). Each answered request becomes one :class:`daqlab.plant.reqlog.LogEntry` whose ``client`` is the
bench's ``rfc2217://`` URL, appended as a JSON line to a file of the grader's; daqlab.grading.context reads it
beside the Modbus TCP wire log. A request sent with the wrong baud rate or parity gets no good reply from a real
line, so it is recorded as unanswered: "read over RS-485" is judged by what the line answered, as on the simulator.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import replace
from urllib.parse import urlsplit

from daqlab.course.wirelog import _bits, _words, parse_request
from daqlab.plant.reqlog import LogEntry
from daqlab.plant.rtu import crc16, request_length

IAC, SB, SE = 255, 250, 240
_COUNTED_FCS = (15, 16, 23)  #: requests whose length comes from their byte count (rtu.request_length waits for it)
_FIXED_REP = {5: 8, 6: 8, 15: 8, 16: 8, 22: 10}
MAX_RTU = 256


class _Telnet:
    """Data bytes of one direction of a Telnet (RFC 854 / 2217) stream; commands are dropped."""

    def __init__(self):
        self.state = "data"

    def feed(self, chunk: bytes) -> bytes:
        out = bytearray()
        for b in chunk:
            if self.state == "data":
                if b == IAC:
                    self.state = "iac"
                else:
                    out.append(b)
            elif self.state == "iac":
                if b == IAC:
                    out.append(IAC)  # an escaped 0xFF data byte
                    self.state = "data"
                elif b == SB:
                    self.state = "sb"
                elif 251 <= b <= 254:  # WILL WONT DO DONT <option>
                    self.state = "option"
                else:
                    self.state = "data"
            elif self.state == "option":
                self.state = "data"
            elif self.state == "sb":
                self.state = "sb-iac" if b == IAC else "sb"
            elif self.state == "sb-iac":
                self.state = "data" if b == SE else "sb"
        return bytes(out)


def _request_length(buf: bytes) -> int | None:
    """Length of the RTU request at the start of ``buf`` (daqlab.plant.rtu's table); 0 when it cannot be one, None
    when more bytes are needed."""
    n = request_length(buf)
    if n is None and len(buf) >= 2 and buf[1] not in _COUNTED_FCS:
        return 0  # not a function code the table knows: resynchronise
    return n


def _reply_length(buf: bytes) -> int | None:
    if len(buf) < 2:
        return None
    fc = buf[1]
    if fc & 0x80:
        return 5
    if fc in (1, 2, 3, 4, 23):
        return None if len(buf) < 3 else 5 + buf[2]
    return _FIXED_REP.get(fc, 0)


class _Frames:
    """RTU frames out of a byte stream (CRC checked; resynchronises by skipping a byte)."""

    def __init__(self, length):
        self.length, self.buf = length, bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self.buf += data
        out = []
        while self.buf:
            n = self.length(self.buf)
            if n is None:
                break
            if not 4 <= n <= MAX_RTU:
                del self.buf[0]
                continue
            if len(self.buf) < n:
                break
            if crc16(bytes(self.buf[:n])) != 0:
                del self.buf[0]
                continue
            out.append(bytes(self.buf[:n]))
            del self.buf[:n]
        if len(self.buf) > 2 * MAX_RTU:  # noise: keep the tail only
            del self.buf[:-MAX_RTU]
        return out


class SerialTap:
    """Relay 127.0.0.1:<free port> -> the bench's serial device server, recording Modbus RTU requests and replies
    to ``path`` (JSON lines of LogEntry). ``url`` is what the kernel opens; ``close()`` ends every connection."""

    def __init__(self, target: str, path, station: int = 1):
        parts = urlsplit(target)
        self.target, self.label = (parts.hostname, parts.port), f"rfc2217://{parts.hostname}:{parts.port}"
        self.path, self.station = str(path), station
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"rfc2217://127.0.0.1:{self.sock.getsockname()[1]}"
        open(self.path, "a", encoding="utf-8").close()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            try:
                up = socket.create_connection(self.target, timeout=10)
                up.settimeout(None)
            except OSError:
                conn.close()
                continue
            with self._lock:
                self._socks += [conn, up]
            pending: list[LogEntry] = []  # the request waiting for its reply (RTU: one at a time)
            req_frames, rep_frames = _Frames(_request_length), _Frames(_reply_length)
            req_telnet, rep_telnet = _Telnet(), _Telnet()

            def on_request(chunk, pending=pending, frames=req_frames, telnet=req_telnet, replies=rep_frames):
                for f in frames.feed(telnet.feed(chunk)):
                    fc, addr, count, values = parse_request(f[1:-2])
                    if pending:
                        self._write(pending.pop())  # never answered (wrong settings, or no such unit)
                    pending.append(LogEntry(time.time(), 0.0, self.station, self.label, f[0], fc, addr, count,
                                            values, None, "no_reply"))
                    replies.buf.clear()  # half duplex: what came before this request is no reply to it

            def on_reply(chunk, pending=pending, frames=rep_frames, telnet=rep_telnet):
                for f in frames.feed(telnet.feed(chunk)):
                    if not pending or f[0] != pending[0].unit or (f[1] & 0x7F) != pending[0].function:
                        continue
                    req, pdu = pending.pop(), f[1:-2]
                    if pdu[0] & 0x80:
                        entry = replace(req, values=None, exception=pdu[1] if len(pdu) > 1 else None,
                                        status="exception")
                    elif req.function in (1, 2):
                        entry = replace(req, values=_bits(pdu[2:2 + pdu[1]], req.count or 0), status="ok")
                    elif req.function in (3, 4):
                        entry = replace(req, values=_words(pdu[2:2 + pdu[1]]), status="ok")
                    else:
                        entry = replace(req, status="ok")
                    self._write(entry)

            both = threading.Lock()  # one direction's record at a time: ``pending`` is shared

            def locked(fn, both=both):
                def serialised(chunk):
                    with both:
                        fn(chunk)
                return serialised

            for a, b, tap in ((conn, up, locked(on_request)), (up, conn, locked(on_reply))):
                threading.Thread(target=self._pump, args=(a, b, tap), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, tap) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                # recorded before it is passed on: a request is pending before the line can answer it, else a
                # busy machine's reply thread may see the answer first and drop it as no reply to anything
                try:
                    tap(data)
                except Exception:  # noqa: BLE001 - the record is best effort; forwarding never stops for it
                    pass
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _write(self, entry: LogEntry) -> None:
        with self._lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry.to_dict()) + "\n")

    def close(self) -> None:
        self.sock.close()
        with self._lock:
            socks, self._socks = self._socks, []
        for s in socks:
            try:
                s.close()
            except OSError:
                pass
