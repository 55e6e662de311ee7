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
    "ModbusException", "ModbusIOException", "ModbusSerialClient", "ModbusTcpClient", "client_from_url",
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
    the Modbus serial-line default).
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
    raise ValueError(f"{url!r}: use tcp://host:port or rtu:///dev/ttyX?baudrate=9600&parity=E&stopbits=1")


def client_from_url(url: str, *, timeout: float = 3.0, retries: int = 1, asynchronous: bool = False):
    """A pymodbus client (not yet connected) for a ``tcp://`` or ``rtu://`` URL."""
    args = parse_url(url)
    kind = args.pop("kind")
    if kind == "tcp":
        cls = AsyncModbusTcpClient if asynchronous else ModbusTcpClient
        return cls(args["host"], port=args["port"], timeout=timeout, retries=retries)
    cls = AsyncModbusSerialClient if asynchronous else ModbusSerialClient
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
