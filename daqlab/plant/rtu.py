"""Modbus RTU serving: one station as a serial bus (RS-485 line) on a serial device or a pty.

RTU frame: unit id (1 byte) + PDU + CRC-16/MODBUS (2 bytes, **low byte first**); at most 256 bytes.

Framing rule (what the server accepts as one request):

- Bytes are accumulated as they arrive. As soon as the length of the request can be told from its
  function code it is cut from the buffer: FC 01-06 are 8 bytes, FC 15/16 are 9 + byte count,
  FC 22 is 10, FC 23 is 13 + byte count, FC 43 is 7. Several requests arriving in one burst (a pty
  does not keep the gaps) are therefore split correctly.
- A request whose CRC does not check is discarded silently, and so is everything after it until the
  line has been silent for 3.5 character times (the spec: a corrupted frame gets no reply; the next
  frame starts after a silent interval).
- Data that cannot be completed (an unlisted function code, a truncated request) is kept until the
  line has been silent for 3.5 character times; then, if the whole burst is a frame whose CRC checks
  (a function code this table does not list, e.g. 07 or 08) it is handed to the station, which answers
  it or answers exception 01; otherwise it is discarded.
- A character is 11 bits (start, 8 data, parity or second stop, stop), so 3.5 characters are
  38.5 / baudrate seconds; above 19200 baud the spec fixes 1.75 ms. We wait at least 5 ms because
  ptys and USB adapters deliver bytes in jittery bursts.

No reply (the requests still reach the station's request log, status "no_reply"):

- broadcast (unit 0): writes are applied to every device, nothing is answered;
- a unit id no device of the station owns: on a serial bus nobody is there to answer, so there is no
  reply even when the station answers exception 0x0B on TCP (``unknown_unit="exception"``);
- a bad CRC (not logged at all: the frame never reached a device);
- a device the station's faults make silent (offline, drop).

Serial settings default to the station variant's (8 data bits). A pty (socat, for tests and labs) has
no wire and no parity bit; when the kernel refuses to set parity on one, it is served as 8N1/8N2.

**The line judges the client's settings** where it can know them (:meth:`RtuServer.client_settings`: the
RFC 2217 serial device server of daqlab.plant.serial_server; a pty keeps no parity bit, so a pty line does not
judge): the request goes through :func:`daqlab.plant.uart.receive` from the client's settings to the station's,
and a frame with a parity or framing error is discarded like a bad CRC (``line_errors``); the reply goes back
through the same model from the station's settings to the client's. So a wrong baud rate, parity or data size
gets silence (the client times out), a wrong stop-bit count works (as on a real bus). Wiring faults
(:data:`WIRING`, ``wiring``): A/B swapped inverts the line (nothing gets through), a missing termination
flips bits with a chance that grows with the baud rate (reflections: intermittent CRC errors).

A reply delayed by a latency fault is sent after that delay. Everything runs on the plant's event-loop
thread: ``open(loop)`` registers a reader on the device's file descriptor, ``close()`` removes it.
"""

from __future__ import annotations

import logging
import os
import random
import time

from daqlab.plant.reqlog import NO_REPLY
from daqlab.plant.uart import LineSettings, receive, received_bytes

log = logging.getLogger(__name__)

MAX_ADU = 256  #: largest RTU frame (unit + PDU of at most 253 bytes + CRC)
MIN_SILENCE_S = 0.005  #: floor for the 3.5-character silence: ptys deliver bytes in jittery bursts
MAX_PENDING_OUT = 65536  #: reply bytes kept for a reader that does not read (then they are dropped)
WIRING = ("ok", "ab_swapped", "no_termination")  #: wiring states of a bus (``RtuServer.wiring``)
REFLECTION_FLIP_AT_9600 = 0.002  #: chance per bit of a reflected wrong bit without termination at 9600 baud

# request length known from the function code: fixed lengths, and (offset of byte count, fixed part)
_FIXED = {1: 8, 2: 8, 3: 8, 4: 8, 5: 8, 6: 8, 22: 10, 43: 7}
_COUNTED = {15: (6, 9), 16: (6, 9), 23: (10, 13)}


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _crc_table()


def crc16(data: bytes) -> int:
    """CRC-16/MODBUS of ``data``: init 0xFFFF, reflected polynomial 0xA001, no final XOR.

    On the wire the CRC goes low byte first: ``crc16(b"\\x01\\x03\\x00\\x00\\x00\\x0a") == 0xCDC5`` is sent
    as ``C5 CD``. The CRC over a whole frame (CRC bytes included) is 0.
    """
    crc = 0xFFFF
    for b in data:
        crc = (crc >> 8) ^ _TABLE[(crc ^ b) & 0xFF]
    return crc


def frame(unit: int, pdu: bytes) -> bytes:
    """RTU frame: unit id + PDU + CRC (low byte first)."""
    body = bytes([unit]) + bytes(pdu)
    return body + crc16(body).to_bytes(2, "little")


def silence_seconds(baudrate: int) -> float:
    """The silent interval that ends a frame: 3.5 characters of 11 bits (1.75 ms above 19200 baud),
    but at least ``MIN_SILENCE_S``."""
    t35 = 38.5 / baudrate if baudrate <= 19200 else 0.00175
    return max(t35, MIN_SILENCE_S)


def request_length(buf) -> int | None:
    """Length of the request frame at the start of ``buf`` (CRC included), or None while it cannot be
    told yet or the function code is not in the table."""
    if len(buf) < 2:
        return None
    fc = buf[1]
    if fc in _FIXED:
        return _FIXED[fc]
    if fc in _COUNTED:
        at, fixed = _COUNTED[fc]
        return fixed + buf[at] if len(buf) > at else None
    return None


def is_pty(path) -> bool:
    """True when ``path`` (a link such as socat's ``link=``) leads to a pseudo-terminal."""
    return os.path.realpath(path).startswith("/dev/pts/")


class RtuServer:
    """Serves ``station`` as Modbus RTU on the serial device ``device_path`` (see the module docstring).

    Serial settings default to the station variant's (``variant.baudrate``/``parity``/``stopbits``,
    8 data bits); ``line_parity`` is what the device really got. The request log names the client as
    ``device_path``: on a bus there is no peer address.
    """

    def __init__(self, station, device_path: str, *, baudrate: int | None = None, parity: str | None = None,
                 stopbits: int | None = None):
        v = station.variant
        self.station = station
        self.device_path = str(device_path)
        self.baudrate = int(baudrate if baudrate is not None else v.baudrate)
        self.parity = (parity if parity is not None else v.parity).upper()
        self.stopbits = int(stopbits if stopbits is not None else v.stopbits)
        if self.parity not in ("N", "E", "O"):
            raise ValueError("parity must be N, E or O")
        if self.stopbits not in (1, 2):
            raise ValueError("stopbits must be 1 or 2")
        self.line_parity = self.parity  #: parity really set on the device ("N" on a pty that refuses parity)
        self.silence = silence_seconds(self.baudrate)
        self.crc_errors = 0  #: frames discarded for a bad CRC
        self.line_errors = 0  #: bursts discarded for parity or framing errors (wrong settings, wiring)
        self.discarded = 0  #: bursts discarded because they never formed a frame
        self.wiring = getattr(station, "wiring", "ok")  #: one of WIRING (plant.set_wiring sets every line of a station)
        self._noise = random.Random(f"rtu-{station.number}")  # seeded: a wiring drill replays the same way
        self._serial = None
        self._fd: int | None = None
        self._loop = None
        self._buf = bytearray()
        self._skipping = False  # after a bad CRC: drop everything until the line is silent
        self._silence_timer = None
        self._pending: set = set()  # delayed replies (latency faults)
        self._out = bytearray()  # reply bytes the device did not take yet

    def __repr__(self) -> str:
        return (f"RtuServer(station={self.station.number}, {self.device_path!r}, "
                f"{self.baudrate} 8{self.parity}{self.stopbits})")

    # ------------------------------------------------------------ lifecycle
    def open(self, loop) -> RtuServer:
        """Open the device (non-blocking) and start serving on ``loop``; call on the loop's thread."""
        self._serial = self._open_serial()
        self._fd = self._serial.fileno()
        os.set_blocking(self._fd, False)
        self._loop = loop
        loop.add_reader(self._fd, self._readable)
        return self

    def _open_serial(self):
        import termios

        import serial  # pyserial, installed with pymodbus[serial]

        def attempt(parity):
            return serial.Serial(self.device_path, baudrate=self.baudrate, bytesize=8, parity=parity,
                                 stopbits=self.stopbits, timeout=0, write_timeout=0)

        try:
            return attempt(self.parity)
        except (termios.error, OSError, serial.SerialException):
            # A pty has no wire and so no parity bit; recent Linux kernels reject a tcsetattr whose only
            # change is turning parity on (EINVAL), e.g. when the line is reopened at the same speed.
            # The bytes are the same either way, so serve the pty without parity rather than not at all.
            if self.parity == "N" or not is_pty(self.device_path):
                raise
        log.warning("RTU %s: this pty does not take parity %s; serving it as 8N%d (a pty has no parity bit)",
                    self.device_path, self.parity, self.stopbits)
        self.line_parity = "N"
        return attempt("N")

    def close(self) -> None:
        """Stop serving and close the device (idempotent)."""
        if self._silence_timer is not None:
            self._silence_timer.cancel()
            self._silence_timer = None
        for handle in self._pending:
            handle.cancel()
        self._pending.clear()
        if self._loop is not None and self._fd is not None:
            self._loop.remove_reader(self._fd)
            self._loop.remove_writer(self._fd)
        self._fd = None
        if self._serial is not None:
            try:
                self._serial.close()
            except OSError:
                pass
            self._serial = None
        self._buf.clear()
        self._out.clear()

    # -------------------------------------------------------------- reading
    def _readable(self) -> None:
        try:
            data = os.read(self._fd, 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:  # the other end of the line went away (pty closed, adapter unplugged)
            log.warning("RTU %s: read failed (%s); no longer serving", self.device_path, exc)
            self.close()
            return
        if not data:
            log.warning("RTU %s: end of file; no longer serving", self.device_path)
            self.close()
            return
        self._received(data)

    def _received(self, data: bytes) -> None:
        """Bytes that reached the line's end: through the line model, then framing and serving."""
        data = self._line_in(data)
        if data is None:  # parity or framing errors: the device drops the frame
            self._buf.clear()
            self._skipping = True
        elif not self._skipping:
            self._buf += data
            self._parse()
        # any byte restarts the silent interval that ends a frame (or a discarded burst)
        if self._silence_timer is not None:
            self._silence_timer.cancel()
            self._silence_timer = None
        if self._buf or self._skipping:
            self._silence_timer = self._loop.call_later(self.silence, self._silent)

    # ------------------------------------------------------------ the line
    def settings(self) -> LineSettings:
        """The station's own serial settings (what its devices are set to)."""
        return LineSettings(self.baudrate, 8, self.parity, self.stopbits)

    def client_settings(self) -> LineSettings | None:
        """The client's serial settings when this line can know them, else None (then nothing is judged)."""
        return None

    def set_wiring(self, state: str) -> None:
        if state not in WIRING:
            raise ValueError(f"wiring must be one of {', '.join(WIRING)}")
        self.wiring = state

    def _line_model(self) -> tuple[LineSettings, dict] | None:
        """(the client's settings, line effects) when bytes must go through the UART model, else None."""
        client = self.client_settings()
        if self.wiring == "ok" and (client is None or client == self.settings()):
            return None
        effects = {"inverted": self.wiring == "ab_swapped", "rng": self._noise,
                   "flip": REFLECTION_FLIP_AT_9600 * self.baudrate / 9600 if self.wiring == "no_termination" else 0.0}
        return client or self.settings(), effects

    def _line_in(self, data: bytes) -> bytes | None:
        """What the station's UART reads of ``data``; None when it saw parity or framing errors."""
        model = self._line_model()
        if model is None:
            return data
        client, effects = model
        chars = receive(data, client, self.settings(), **effects)
        if not all(c.ok for c in chars):
            self.line_errors += 1
            return None
        return received_bytes(chars)

    def _line_out(self, data: bytes) -> bytes:
        """What the client's UART reads of the station's reply ``data`` (bytes with errors read as sampled)."""
        model = self._line_model()
        if model is None:
            return data
        client, effects = model
        return received_bytes(receive(data, self.settings(), client, **effects))

    def _parse(self) -> None:
        buf = self._buf
        while buf:
            n = request_length(buf)
            if n is None:
                return  # incomplete, or an unlisted function code: the silence decides
            if n > MAX_ADU:
                self._discard_until_silence()
                return
            if len(buf) < n:
                return
            if crc16(buf[:n]) != 0:
                self.crc_errors += 1
                self._discard_until_silence()
                return
            adu = bytes(buf[:n])
            del buf[:n]
            self._request(adu[0], adu[1:-2])

    def _discard_until_silence(self) -> None:
        self._buf.clear()
        self._skipping = True

    def _silent(self) -> None:
        self._silence_timer = None
        self._skipping = False
        buf = self._buf
        if not buf:
            return
        if 4 <= len(buf) <= MAX_ADU and crc16(buf) == 0:
            adu = bytes(buf)
            buf.clear()
            self._request(adu[0], adu[1:-2])
            return
        self.discarded += 1
        buf.clear()

    # ------------------------------------------------------------- serving
    def _request(self, unit: int, pdu: bytes) -> None:
        st = self.station
        if unit != 0 and unit not in st.units:
            # nobody on this bus owns the unit id: silence, whatever the station does on TCP
            st.sync()
            st.log.add(time.time(), st.process.t, self.device_path, unit, pdu[0] & 0x7F,
                       None, None, None, None, NO_REPLY)
            return
        reply, delay = st.handle(unit, pdu, client=self.device_path)
        if reply is None or unit == 0:
            return
        out = self._line_out(frame(unit, reply))
        if delay:
            handle = None

            def later():
                self._pending.discard(handle)
                self._write(out)

            handle = self._loop.call_later(delay, later)
            self._pending.add(handle)
        else:
            self._write(out)

    def _write(self, data: bytes) -> None:
        if self._fd is None:
            return
        if self._out:  # keep replies in order behind what the device has not taken yet
            self._queue(data)
            return
        try:
            n = os.write(self._fd, data)
        except BlockingIOError:
            n = 0
        except OSError as exc:
            log.warning("RTU %s: write failed (%s)", self.device_path, exc)
            return
        if n < len(data):
            self._queue(data[n:])

    def _queue(self, data: bytes) -> None:
        if len(self._out) + len(data) > MAX_PENDING_OUT:
            return  # nobody reads the line: like a real bus, the bytes are simply lost
        if not self._out:
            self._loop.add_writer(self._fd, self._flush)
        self._out += data

    def _flush(self) -> None:
        try:
            n = os.write(self._fd, self._out)
        except BlockingIOError:
            return
        except OSError as exc:
            log.warning("RTU %s: write failed (%s)", self.device_path, exc)
            n = len(self._out)
        del self._out[:n]
        if not self._out:
            self._loop.remove_writer(self._fd)
