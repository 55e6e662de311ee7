"""A lesson's line to a real bench: a Modbus TCP relay that records every request and can inject faults on the wire.

A real bench has no request log and no fault switch. A lesson that follows a trainee's bench (daqlab.lesson)
connects through this relay instead (``127.0.0.1:<port>`` -> the bench), so the lesson can still show what was
sent (:meth:`WireRelay.log`, the same :class:`daqlab.plant.reqlog.LogEntry` records the simulator keeps, one per
request, ``client`` = the kernel's ``host:port``) and drill the faults of daqlab.plant.faults on the devices'
replies as the kernel sees them:

- ``offline`` / ``drop``: the request is not passed on (the client times out);
- ``exception``: the relay answers the exception itself;
- ``latency``: the reply is held back;
- ``broken`` / ``stuck`` / ``spikes``: the sensor values in a read reply are rewritten as the simulator's faulty
  device would serve them (the bench description gives every point's address and type); a broken T/H or analog
  sensor also sets the PLC's ``sensor_fault`` alarm bit, as the simulated PLC does.

Nothing is written to the bench on the relay's own account; a stream that is not Modbus TCP is closed.
"""

from __future__ import annotations

import random
import socket
import threading
import time

from daqlab.course.wirelog import MAX_FRAME, WireLog
from daqlab.plant.faults import DeviceFaults, parse_value

AREAS = {3: "holding", 4: "input", 1: "coil", 2: "discrete"}  #: read function code -> area
SENSOR_FAULT_BIT = 0x0020  #: the PLC's alarm word, bit 5 (daqlab.plant.process.ALARM_BITS)


def _frames(sock: socket.socket):
    """Modbus TCP frames read from ``sock`` (MBAP header + PDU); stops at EOF or a stream that is not Modbus TCP."""
    buf = bytearray()
    while True:
        while len(buf) >= 7:
            length = int.from_bytes(buf[4:6], "big")
            if buf[2:4] != b"\x00\x00" or not 2 <= length <= MAX_FRAME:
                return
            if len(buf) < 6 + length:
                break
            frame = bytes(buf[:6 + length])
            del buf[:6 + length]
            yield frame
        try:
            chunk = sock.recv(4096)
        except OSError:
            return
        if not chunk:
            return
        buf += chunk


def _address(url: str) -> tuple[str, int]:
    """(host, port) of a ``tcp://host:port[?...]`` URL."""
    host, port = url[len("tcp://"):].split("?")[0].rsplit(":", 1)
    return host, int(port)


class WireRelay:
    """Listen on 127.0.0.1 (a free port) and relay each connection to ``target``; see the module docstring."""

    def __init__(self, target: tuple[str, int], station_model, *, station: int = 1, seed: int = 0,
                 routes: dict | None = None):
        self.target = target
        self.routes = dict(routes or {})  # unit -> (host, port) of a device connected apart (its own gateway)
        self.model = station_model  # daqlab.plant.station.Station of the bench (register maps only, never served)
        self.wire = WireLog(station)
        self.faults: dict[int, DeviceFaults] = {}  # unit -> faults switched on
        self._rng = random.Random(f"wire-relay-{station}-{seed}")
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(32)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True, name="wire-relay").start()

    @classmethod
    def for_bench(cls, bench, *, seed: int = 0) -> WireRelay:
        """A relay to a real bench (daqlab.benches.Bench): its connection, and a device with its own TCP connection
        reached at that one."""
        routes = {d.unit: _address(d.url) for d in bench.devices.values()
                  if d.url != bench.connection and d.url.startswith("tcp://")}
        return cls(_address(bench.connection), bench.station_model(), station=bench.station, seed=seed, routes=routes)

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    # ----------------------------------------------------------------- faults
    def set_fault(self, unit: int, mode: str, value=True, *, stuck_values: dict | None = None) -> dict:
        """Switch a fault mode on (off with a false/0 value) for the device at ``unit``; ``stuck_values`` are the
        engineering values a ``stuck`` fault freezes (read from the bench by the caller)."""
        parsed = parse_value(mode, value)
        with self._lock:
            f = self.faults.get(unit) or DeviceFaults(rng=random.Random(self._rng.random()))
            if mode == "stuck":
                f.stuck = dict(stuck_values or {}) if parsed else None
            else:
                setattr(f, mode, parsed)
            if f.active():
                self.faults[unit] = f
            else:
                self.faults.pop(unit, None)
            return f.describe()

    def clear_faults(self, unit: int | None = None) -> None:
        with self._lock:
            if unit is None:
                self.faults.clear()
            else:
                self.faults.pop(unit, None)

    def describe_faults(self) -> dict:
        with self._lock:
            return {u: f.describe() for u, f in self.faults.items()}

    def log(self, *, since: float | None = None, unit: int | None = None, function: int | None = None,
            limit: int | None = None) -> list:
        """What the kernel sent through the relay and what it got back, oldest first (filters as plant.log)."""
        out = [e for e in self.wire.entries() if (since is None or e.time >= since) and
               (unit is None or e.unit == unit) and (function is None or e.function == function)]
        return out[-limit:] if limit else out

    # ---------------------------------------------------------------- serving
    def _serve(self) -> None:
        while True:
            try:
                conn, peer = self.sock.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._socks.append(conn)
            feed_request, feed_reply = self.wire.connection(client=f"{peer[0]}:{peer[1]}")
            state = {"pending": {}, "send": threading.Lock(), "up": {}}
            threading.Thread(target=self._requests, args=(conn, feed_request, feed_reply, state),
                             daemon=True).start()

    def _upstream(self, target, conn, feed_reply, state):
        """The connection to ``target`` for this client (opened on first use, with its reply pump)."""
        up = state["up"].get(target)
        if up is None:
            up = socket.create_connection(target, timeout=10)
            up.settimeout(None)
            up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            state["up"][target] = up
            with self._lock:
                self._socks.append(up)
            threading.Thread(target=self._replies, args=(up, conn, feed_reply, state), daemon=True).start()
        return up

    def _send(self, sock: socket.socket, frame: bytes, feed, state) -> None:
        with state["send"]:
            try:
                sock.sendall(frame)
            except OSError:
                return
        feed(frame)

    def _requests(self, conn, feed_request, feed_reply, state) -> None:
        for frame in _frames(conn):
            feed_request(frame)
            unit, pdu = frame[6], frame[7:]
            with self._lock:
                f = self.faults.get(unit)
                drop = f is not None and (f.offline or (f.drop and f.rng.random() < f.drop))
                exc = f.exception if f is not None else None
                delay = f.latency if f is not None else 0.0
            if drop:
                continue  # never passed on: the client times out, the record says no_reply
            if exc:
                if delay:
                    time.sleep(delay)
                reply = frame[0:4] + (3).to_bytes(2, "big") + bytes([unit, (pdu[0] | 0x80) & 0xFF, exc])
                self._send(conn, reply, feed_reply, state)
                continue
            state["pending"][frame[0:2]] = (unit, pdu)
            try:
                self._upstream(self.routes.get(unit, self.target), conn, feed_reply, state).sendall(frame)
            except OSError:
                break  # the bench (or its gateway) cannot be reached: the client sees the connection close
        for s in (conn, *state["up"].values()):
            _close(s)

    def _replies(self, up, conn, feed_reply, state) -> None:
        for frame in _frames(up):
            req = state["pending"].pop(frame[0:2], None)
            if req is not None:
                frame = self._rewrite(req[0], req[1], frame)
                with self._lock:
                    f = self.faults.get(req[0])
                    delay = f.latency if f is not None else 0.0
                if delay:
                    time.sleep(delay)
            self._send(conn, frame, feed_reply, state)

    def _rewrite(self, unit: int, request: bytes, frame: bytes) -> bytes:
        """The reply as a device with this unit's value faults would give it (unchanged when none applies)."""
        pdu = frame[7:]
        fc = request[0] if request else 0
        if fc not in (1, 2, 3, 4) or len(request) < 5 or not pdu or pdu[0] != fc or len(pdu) < 2:
            return frame
        device = self.model.units.get(unit)
        if device is None:
            return frame
        address, count = int.from_bytes(request[1:3], "big"), int.from_bytes(request[3:5], "big")
        data = bytearray(pdu[2:2 + pdu[1]])
        with self._lock:
            f = self.faults.get(unit)
            sensor_fault = any(x.broken for u, x in self.faults.items()
                               if u in self.model.units and self.model.units[u].kind in ("th", "ai"))
        changed = False
        if fc in (3, 4):
            words = [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data) - 1, 2)]
            if f is not None:
                changed |= _rewrite_sensors(device, AREAS[fc], address, words, f)
            if sensor_fault and device.kind == "plc":
                changed |= _or_point(device, "input", "alarm_word", address, words, SENSOR_FAULT_BIT)
            if changed:
                data = bytearray(b"".join(w.to_bytes(2, "big") for w in words))
        elif sensor_fault and device.kind == "plc":
            p = device.by_name.get("alarm_active")
            if p is not None and p.area == AREAS[fc] and address <= p.address < address + count:
                i = p.address - address
                data[i // 8] |= 1 << (i % 8)
                changed = True
        if not changed:
            return frame
        pdu = bytes([fc, len(data)]) + bytes(data)
        return frame[0:4] + (len(pdu) + 1).to_bytes(2, "big") + frame[6:7] + pdu

    def close(self) -> None:
        _close(self.sock)
        with self._lock:
            socks, self._socks = self._socks, []
        for s in socks:
            _close(s)


def _rewrite_sensors(device, area: str, address: int, words: list[int], faults: DeviceFaults) -> bool:
    """Apply ``faults`` (broken/stuck/spikes) to the points of ``device`` read whole in ``words``."""
    if not (faults.broken or faults.stuck is not None or faults.spikes):
        return False
    whole = [p for p in device.points if p.area == area and address <= p.address
             and p.address + p.count <= address + len(words)]
    if not whole:
        return False
    values = {p.name: 0 for p in device.points}
    values.update({p.name: p.decode(words[p.address - address:p.address - address + p.count]) for p in whole})
    new = faults.transform(device, values)
    from daqlab.plant.devices.base import _encode

    changed = False
    for p in whole:
        if new[p.name] is not values[p.name] and new[p.name] != values[p.name]:
            words[p.address - address:p.address - address + p.count] = _encode(p, new[p.name])
            changed = True
    return changed


def _or_point(device, area: str, name: str, address: int, words: list[int], bits: int) -> bool:
    p = device.by_name.get(name)
    if p is None or p.area != area or not address <= p.address < address + len(words):
        return False
    words[p.address - address] |= bits
    return True


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
