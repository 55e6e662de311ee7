"""A station's RS-485 bus behind a serial device server: Modbus RTU over RFC 2217 on TCP.

Workshops put RS-485 buses on the network with serial device servers (串口服务器) that speak RFC 2217 (Telnet
COM port control): the client opens ``rfc2217://host:port`` as if it were a local serial port and its serial
settings (baud rate, data bits, parity, stop bits) travel to the server. pyserial, and so pymodbus
(``ModbusSerialClient(port="rfc2217://127.0.0.1:7001", baudrate=9600, parity="E")``) and
``daqlab.modbus.client_from_url("rtu://rfc2217://...")``, open such ports.

Unlike a pty (which keeps no parity bit on Linux), this line knows the client's settings exactly, so it judges
them like a real bus (see daqlab.plant.rtu and daqlab.plant.uart): a wrong baud rate, parity or data size
gets no reply, a wrong stop-bit count still works; wiring faults apply as on any line. One client at a time
(a serial port has one owner): a second connection is closed at once. The Telnet and RFC 2217 negotiation is
pyserial's own server side (:class:`serial.rfc2217.PortManager`) over a port object that only records the
settings.
"""

from __future__ import annotations

import logging
import socket

from serial.rfc2217 import PortManager

from daqlab.plant.rtu import RtuServer
from daqlab.plant.uart import PARITIES, LineSettings

log = logging.getLogger(__name__)


class _RecordedPort:
    """What PortManager configures: the client's serial settings (no hardware behind them)."""

    def __init__(self):
        self.baudrate, self.bytesize, self.parity, self.stopbits = 9600, 8, "N", 1
        self.xonxoff = self.rtscts = self.break_condition = False
        self.dtr = self.rts = True
        self.cts = self.dsr = self.cd = True
        self.ri = False

    def reset_input_buffer(self):
        pass

    def reset_output_buffer(self):
        pass


class Rfc2217Server(RtuServer):
    """Serves ``station``'s RTU bus to one RFC 2217 client at a time on ``host:port`` (0: a free port)."""

    def __init__(self, station, host: str = "127.0.0.1", port: int = 0, gate=None, **serial_kwargs):
        super().__init__(station, f"rfc2217://{host}:{port}", **serial_kwargs)
        self.host, self.port = host, port
        self.gate = gate  # None, or (uid of the client's socket) -> may it use this bus? (daqlab.plant.peers)
        self._listener: socket.socket | None = None
        self._conn: socket.socket | None = None
        self._manager: PortManager | None = None
        self._port = _RecordedPort()

    @property
    def url(self) -> str:
        return f"rfc2217://{self.host}:{self.port}"

    def __repr__(self) -> str:
        return f"Rfc2217Server(station={self.station.number}, {self.url!r}, {self.settings()})"

    # ------------------------------------------------------------ lifecycle
    def open(self, loop) -> Rfc2217Server:
        lst = socket.create_server((self.host, self.port), reuse_port=False)
        lst.setblocking(False)
        self._listener = lst
        self.port = lst.getsockname()[1]
        self.device_path = self.url  # the request log names the line
        self._loop = loop
        loop.add_reader(lst.fileno(), self._accept)
        return self

    def close(self) -> None:
        self._drop()
        if self._listener is not None:
            if self._loop is not None:
                self._loop.remove_reader(self._listener.fileno())
            self._listener.close()
            self._listener = None
        super().close()

    def _accept(self) -> None:
        try:
            conn, _ = self._listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        if self.gate is not None:  # the classroom hub: only the station's owner (and staff) may open its bus
            import sys

            from daqlab.plant.peers import peer_uid

            try:
                uid = peer_uid(conn.getsockname(), conn.getpeername())
            except OSError:
                uid = None
            if not self.gate(uid):
                print(f"DAQ Lab plant: refused a connection to {self.url} from uid {uid}: not this station's owner",
                      file=sys.stderr, flush=True)
                conn.close()
                return
        if self._conn is not None:  # the port is in use: like a serial device server, refuse the second owner
            conn.close()
            return
        conn.settimeout(2.0)  # replies are small: a blocking send on the loop thread, bounded
        self._conn = conn
        self._port = _RecordedPort()
        self._manager = PortManager(self._port, self)
        self._fd = conn.fileno()
        self._loop.add_reader(self._fd, self._readable)

    def _drop(self) -> None:
        if self._conn is not None:
            if self._loop is not None:
                self._loop.remove_reader(self._conn.fileno())
            self._conn.close()
        self._conn = self._manager = None
        self._fd = None
        self._buf.clear()
        self._skipping = False

    # ------------------------------------------------------------------ I/O
    def write(self, data: bytes) -> None:
        """PortManager's connection: Telnet negotiation and RFC 2217 answers to the client."""
        if self._conn is not None:
            try:
                self._conn.sendall(data)
            except OSError:
                self._drop()

    def _readable(self) -> None:
        try:
            data = self._conn.recv(4096) if self._conn is not None else b""
        except (BlockingIOError, InterruptedError, TimeoutError):
            return
        except OSError:
            data = b""
        if not data:  # the client closed the port
            self._drop()
            return
        payload = b"".join(self._manager.filter(data))  # Telnet commands answered, serial bytes kept
        if payload:
            self._received(payload)
            if self._silence_timer is not None:
                self._silence_timer.cancel()
            self._silence_timer = self._loop.call_later(self.silence, self._silent)

    def _write(self, data: bytes) -> None:
        if self._manager is not None:
            self.write(b"".join(self._manager.escape(data)))

    # ------------------------------------------------------------- the line
    def client_settings(self) -> LineSettings | None:
        """The settings the client's port was opened with (RFC 2217 tells them); None before a client."""
        p = self._port
        if self._conn is None:
            return None
        parity = str(p.parity)[:1].upper()
        stopbits = 2 if float(p.stopbits) >= 1.5 else 1
        try:
            return LineSettings(int(p.baudrate), int(p.bytesize), parity if parity in PARITIES else "N", stopbits)
        except ValueError:
            return LineSettings(int(p.baudrate) or 1, 8, "S", 1)  # nothing a station's UART can read
