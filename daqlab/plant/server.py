"""Modbus TCP serving: one asyncio server per station.

MBAP header (7 bytes): transaction id, protocol id (must be 0), length (bytes that follow, unit id
included), unit id. A frame with a protocol id other than 0 or an impossible length (< 2 or > 254)
closes the connection; a frame that stays incomplete for ``FRAME_TIMEOUT`` seconds (a lying
length) closes it too. Nothing a client sends can stop the other connections being served.
With a ``gate`` (the classroom hub's station owners, :mod:`daqlab.plant.peers`) a connection from an OS
account that does not own the station is closed before anything is read.
"""

from __future__ import annotations

import asyncio
import struct
import sys

FRAME_TIMEOUT = 2.0  #: seconds an incomplete frame may wait for its remaining bytes
MAX_CONNECTIONS = 2000  #: per station; more are refused by closing at once
_MBAP = struct.Struct(">HHHB")


class ModbusTcpProtocol(asyncio.Protocol):
    def __init__(self, station, connections: set, gate=None):
        self.station = station
        self.connections = connections
        self.gate = gate  # None, or (uid of the client's socket) -> may it talk to this station?
        self.buf = bytearray()
        self.transport = None
        self.client = "?"
        self._stall = None

    def connection_made(self, transport):
        self.transport = transport
        if len(self.connections) >= MAX_CONNECTIONS:
            transport.close()
            return
        peer = transport.get_extra_info("peername")
        if self.gate is not None:
            from daqlab.plant.peers import peer_uid

            uid = peer_uid(transport.get_extra_info("sockname"), peer) if peer else None
            if not self.gate(uid):
                print(f"DAQ Lab plant: refused a connection to {transport.get_extra_info('sockname')} from "
                      f"uid {uid}: not this station's owner", file=sys.stderr, flush=True)
                transport.abort()
                return
        self.connections.add(self)
        if peer:
            self.client = f"{peer[0]}:{peer[1]}"

    def connection_lost(self, exc):
        self.connections.discard(self)
        if self._stall is not None:
            self._stall.cancel()

    def data_received(self, data):
        buf = self.buf
        buf += data
        handle = self.station.handle
        while len(buf) >= 7:
            tid, pid, length, unit = _MBAP.unpack_from(buf)
            if pid != 0 or length < 2 or length > 254:
                buf.clear()
                self.transport.close()
                return
            end = 6 + length
            if len(buf) < end:
                break
            pdu = bytes(buf[7:end])
            del buf[:end]
            reply, delay = handle(unit, pdu, self.client)
            if reply is None:
                continue
            frame = _MBAP.pack(tid, 0, len(reply) + 1, unit) + reply
            if delay:
                asyncio.get_running_loop().call_later(delay, self._send, frame)
            else:
                self.transport.write(frame)
        if buf:
            if self._stall is None:
                self._stall = asyncio.get_running_loop().call_later(FRAME_TIMEOUT, self._stalled)
        elif self._stall is not None:
            self._stall.cancel()
            self._stall = None

    def _send(self, frame: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(frame)

    def _stalled(self) -> None:
        self._stall = None
        if self.buf and self.transport is not None:
            self.buf.clear()
            self.transport.close()


async def serve_station(station, host: str, port: int, gate=None):
    """Start serving ``station`` on ``host:port`` (port 0 = a free port); returns (server, connections).
    ``gate(uid)`` (optional) decides per connection whether the client socket's owner may talk to it."""
    loop = asyncio.get_running_loop()
    connections: set = set()
    server = await loop.create_server(lambda: ModbusTcpProtocol(station, connections, gate), host, port,
                                      reuse_address=True, backlog=1024)
    return server, connections
