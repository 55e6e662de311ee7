"""The ONLY module that imports pymodbus (pinned >=3.16.1,<3.17: its API moves between minors).

Everything else in daqlab (and the lessons) gets clients, exception types and the reference
"bare" server from here, so a pymodbus upgrade is a one-file change.

pymodbus 3.16 facts this module relies on (see shared/reference/stack.md): ``count`` and
``device_id`` are keyword-only; an exception reply comes back as an ``ExceptionResponse`` whose
``isError()`` is true (not raised); a timeout raises ``ModbusIOException``/``ConnectionException``.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from pymodbus import FramerType, ModbusException
from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient, ModbusSerialClient, ModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusIOException
from pymodbus.pdu import ExceptionResponse

__all__ = [
    "AsyncModbusSerialClient", "AsyncModbusTcpClient", "ConnectionException", "ExceptionResponse",
    "ModbusException", "ModbusIOException", "ModbusSerialClient", "ModbusTcpClient", "SerialClient", "client_from_url",
    "parse_url", "quiet", "serve_static",
]


def quiet() -> None:
    """Silence pymodbus' own error logging (timeouts are reported as tag quality instead)."""
    import logging

    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)


def parse_url(url: str) -> dict:
    """Split a connection URL into client arguments.

    ``tcp://127.0.0.1:5021`` -> ``{"kind": "tcp", "host": "127.0.0.1", "port": 5021}``;
    ``rtu:///dev/ttyUSB0?baudrate=9600&parity=E&stopbits=1`` -> serial settings (defaults 9600 8E1,
    the Modbus serial-line default); ``rfc2217://127.0.0.1:7001?baudrate=9600&parity=E`` -> the same for a
    serial port behind a serial device server (``port`` is ``rfc2217://127.0.0.1:7001``).
    """
    parts = urlsplit(url)
    if parts.scheme == "tcp":
        if not parts.hostname:
            raise ValueError(f"{url!r}: tcp URL needs a host, e.g. tcp://127.0.0.1:502")
        return {"kind": "tcp", "host": parts.hostname, "port": parts.port or 502}
    if parts.scheme == "rtu":
        q = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        unknown = set(q) - {"baudrate", "parity", "stopbits", "bytesize"}
        if unknown:
            raise ValueError(f"{url!r}: unknown serial setting(s) {sorted(unknown)}")
        parity = q.get("parity", "E").upper()
        if parity not in ("N", "E", "O"):
            raise ValueError(f"{url!r}: parity must be N, E or O")
        return {"kind": "rtu", "port": parts.path, "baudrate": int(q.get("baudrate", 9600)), "parity": parity,
                "stopbits": int(q.get("stopbits", 1)), "bytesize": int(q.get("bytesize", 8))}
    if parts.scheme == "rfc2217":  # a serial device server (RFC 2217): the serial settings travel to it
        if not parts.hostname or not parts.port:
            raise ValueError(f"{url!r}: rfc2217 URL needs host and port, e.g. rfc2217://127.0.0.1:7001?parity=E")
        args = parse_url(f"rtu:///x?{parts.query}")
        args["port"] = f"rfc2217://{parts.hostname}:{parts.port}"
        return args
    raise ValueError(f"{url!r}: use tcp://host:port, rtu:///dev/ttyX?baudrate=9600&parity=E&stopbits=1 "
                     "or rfc2217://host:port?baudrate=9600&parity=E")


class SerialClient(ModbusSerialClient):
    """pymodbus' synchronous serial client; also opens ``rfc2217://host:port`` ports (pyserial's RFC 2217
    client has no write timeout, which pymodbus always asks for)."""

    def connect(self) -> bool:
        if self.socket or not str(self.comm_params.host).startswith("rfc2217://"):
            return super().connect()
        import serial

        try:
            self.socket = serial.serial_for_url(
                self.comm_params.host, timeout=self.comm_params.timeout_connect,
                bytesize=self.comm_params.bytesize, stopbits=self.comm_params.stopbits,
                baudrate=self.comm_params.baudrate, parity=self.comm_params.parity)
            self.socket.inter_byte_timeout = self.inter_byte_timeout
        except Exception:  # noqa: BLE001 - pyserial raises undocumented exceptions; not connected, as pymodbus does
            self.close()
        return self.socket is not None


def client_from_url(url: str, *, timeout: float = 3.0, retries: int = 1, asynchronous: bool = False):
    """A pymodbus client (not yet connected) for a ``tcp://`` or ``rtu://`` URL."""
    args = parse_url(url)
    kind = args.pop("kind")
    if kind == "tcp":
        cls = AsyncModbusTcpClient if asynchronous else ModbusTcpClient
        return cls(args["host"], port=args["port"], timeout=timeout, retries=retries)
    cls = AsyncModbusSerialClient if asynchronous else SerialClient
    return cls(args.pop("port"), framer=FramerType.RTU, timeout=timeout, retries=retries, **args)


async def serve_static(host: str, port: int, *, registers: int = 200, device_id: int = 1):
    """Bare pymodbus TCP server with one static block of holding and input registers (benchmark baseline).

    Returns the started server; stop it with ``await server.shutdown()``.
    """
    from pymodbus.server import ModbusTcpServer
    from pymodbus.simulator import DataType, SimData, SimDevice

    block = [SimData(0, count=registers, values=0x1234, datatype=DataType.REGISTERS)]
    device = SimDevice(id=device_id, simdata=block)  # shared block: FC 03 and FC 04 read the same registers
    server = ModbusTcpServer(device, address=(host, port))
    await server.serve_forever(background=True)
    return server
