"""Find a serial bus's settings: try each baud rate, parity and stop-bit count until a device answers.

A device on an RS-485 bus only answers frames it can read, so the settings that get any reply (a value or a
Modbus exception: both mean the device understood the frame) are the bus's. ``find_settings`` asks one unit a
harmless question (FC 03, one register at address 0) per candidate, most common settings first, and returns
every candidate that got an answer. Typical result on a 9600 8E1 bus: ``9600 8E1`` and ``9600 8E2`` (receivers
check only the first stop bit, so a wrong stop-bit count is not noticed: set what the datasheet says).

    >>> find_settings("rfc2217://127.0.0.1:7001", unit=1)         # a serial device server
    [ScanResult(baudrate=9600, parity='E', stopbits=1, reply='registers [1500]')]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

BAUDRATES = (9600, 19200, 4800, 38400, 57600, 115200, 2400)  #: most common first
PARITIES = ("E", "N", "O")
STOPBITS = (1, 2)


@dataclass(frozen=True)
class ScanResult:
    baudrate: int
    parity: str
    stopbits: int
    reply: str  #: what the device answered ("registers [...]" or "exception 02")

    def __str__(self) -> str:
        return f"{self.baudrate} 8{self.parity}{self.stopbits}: {self.reply}"


def find_settings(port: str, unit: int = 1, *, baudrates: Iterable[int] = BAUDRATES,
                  parities: Iterable[str] = PARITIES, stopbits: Iterable[int] = STOPBITS, timeout: float = 0.3,
                  stop_at_first: bool = False) -> list[ScanResult]:
    """Every (baud rate, parity, stop bits) at which ``unit`` answers on ``port`` (``rfc2217://host:port``,
    ``/dev/ttyUSB0`` or an ``rtu://`` / ``rfc2217://`` URL; its own settings are ignored)."""
    from daqlab.modbus import client_from_url, quiet

    quiet()
    base = _base(port)
    found = []
    for baud in baudrates:
        for parity in parities:
            for stop in stopbits:
                client = client_from_url(f"{base}?baudrate={baud}&parity={parity}&stopbits={stop}",
                                         timeout=timeout, retries=0)
                try:
                    if not client.connect():
                        raise ConnectionError(f"cannot open {port}")
                    reply = _ask(client, unit)
                finally:
                    client.close()
                if reply is not None:
                    found.append(ScanResult(baud, parity, stop, reply))
                    if stop_at_first:
                        return found
    return found


def _base(port: str) -> str:
    parts = urlsplit(port)
    if parts.scheme in ("rfc2217", "rtu"):
        return f"{parts.scheme}://{parts.netloc}{parts.path}"
    return f"rtu://{port}"  # a device path


def _ask(client, unit: int) -> str | None:
    from daqlab.modbus import ExceptionResponse, ModbusException

    try:
        rr = client.read_holding_registers(0, count=1, device_id=unit)
    except ModbusException:
        return None  # no reply, or a reply that did not check: not these settings
    if isinstance(rr, ExceptionResponse):
        return f"exception {rr.exception_code:02d}"
    if rr.isError():
        return None
    return f"registers {list(rr.registers)}"
