"""The gateway at work: scan every southbound device by the planner, publish northbound, keep the status.

    from daqlab.gateway import Gateway, load
    with Gateway(load("gateway.yaml")) as gw:
        gw.run(count=10)                    # ten scans at scan_period_s (or gw.start() ... gw.stop())
        gw.points_frame()                   # per point: quality, value, since when
        gw.devices_frame()                  # per device: scans, requests, good / timeout / exception counts

Contract:

- **One scan** reads every point once, device by device, each device with its own
  :class:`~daqlab.acquisition.Reader` (the read plan of its points: the fewest requests; a request a device
  refuses with exception 02 is split and the split remembered). A bad point never stops a scan.
- **Northbound**, per scan: one property post with every good value at the scan's start time (ms); bad
  values are left out, never sent as NaN; and a ``point_status`` event with every point's quality for the
  first scan and whenever a quality changed (thing-model convention in daqlab.northbound.thingmodel).
  Both go through one :class:`~daqlab.northbound.Uplink`: QoS, deadband, store-and-forward while the
  broker is away, in order.
- **Status** per point (quality, value, time of the last good value, since when the quality holds, the
  detail of the last error) and per device (scans, requests, planned requests per scan, counts of each
  quality, last scan duration). With ``status_file`` it is written atomically after every scan (JSON), for
  ``daqlab gateway status`` and for anyone watching from another process.
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import asdict, dataclass

import pandas as pd

from daqlab.acquisition.reader import GOOD, Reader, _progress, _scan_count
from daqlab.gateway.config import GatewayConfig


@dataclass
class PointStatus:
    name: str  #: point name
    device: str  #: southbound device
    quality: str = "not read"  #: good | timeout | exception NN | decode error | invalid | not read
    value: object = None  #: last good value
    value_time_ms: int | None = None  #: scan time of the last good value (ms since the epoch)
    since_ms: int | None = None  #: scan time from which the current quality holds
    detail: str = ""  #: what went wrong last (empty when good)


@dataclass
class DeviceStats:
    name: str  #: southbound device
    url: str  #: its connection
    planned: int = 0  #: requests one scan needs (the read plan)
    scans: int = 0  #: scans done
    requests: int = 0  #: requests sent (more than planned x scans when refused requests were split)
    good: int = 0  #: point reads with each quality, summed over scans
    timeout: int = 0  #: see good
    exception: int = 0  #: see good
    decode_error: int = 0  #: see good
    invalid: int = 0  #: see good
    last_scan_s: float = 0.0  #: how long the last scan of this device took
    last_error: str = ""  #: the last bad quality's detail


class Gateway:
    """A headless acquisition gateway built from a :class:`~daqlab.gateway.config.GatewayConfig`."""

    def __init__(self, config: GatewayConfig, *, uplink=None, status_file=None, history: int = 10_000):
        self.config = config
        self.status_file = status_file
        self.readers = {s.name: Reader(s.url, timeout=s.timeout_s, max_gap=s.max_gap, pause=s.pause_s)
                        for s in config.southbound}
        self.points = {t.name: PointStatus(t.name, t.meta["device"]) for t in config.points}
        self.devices = {s.name: DeviceStats(s.name, s.url, planned=len(self.readers[s.name].plan(config.points_of(s.name))))
                        for s in config.southbound}
        self.scans = 0
        self.started_ms = int(time.time() * 1000)
        self.history: collections.deque = collections.deque(maxlen=history)  #: (time_ms, values, qualities)
        self._sent_qualities: dict | None = None
        self.uplink_error = ""  #: the last message the uplink refused (its queue was full), empty if none
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.uplink = uplink
        if uplink is None and config.northbound is not None:
            from daqlab.northbound.uplink import Uplink

            nb = config.northbound
            self.uplink = Uplink(nb.host, nb.port, nb.username, nb.password, product_key=nb.product_key,
                                 device_name=config.name, qos=nb.qos, deadband=nb.deadband,
                                 heartbeat_s=nb.heartbeat_s, spool=nb.spool)

    # ------------------------------------------------------------------------------ one scan
    def plan(self, device: str | None = None):
        """The read plan of one device (or of the only one)."""
        device = device or self.config.southbound[0].name
        return self.readers[device].plan(self.config.points_of(device))

    def scan(self) -> dict:
        """Read every point once, publish, update the status. Returns {point: value or None}."""
        t_ms = int(time.time() * 1000)
        values, qualities = {}, {}
        for south in self.config.southbound:
            points = self.config.points_of(south.name)
            if not points:
                continue
            reader, stats = self.readers[south.name], self.devices[south.name]
            t0, sent0 = time.monotonic(), reader.requests_sent
            sample = reader.read(points)
            stats.last_scan_s = time.monotonic() - t0
            stats.scans += 1
            stats.requests += reader.requests_sent - sent0
            if reader._split:  # a refused request was split: the plan grew
                stats.planned = len(reader.plan(points))
            for name, q in sample.quality.items():
                values[name], qualities[name] = sample.values[name], q
                self._update(name, q, sample.values[name], sample.errors.get(name, ""), t_ms, stats)
        self.scans += 1
        self.history.append((t_ms, values, qualities))
        if self.uplink is not None:
            from daqlab.northbound.uplink import UplinkError

            good = {n: v for n, v in values.items() if qualities[n] == GOOD}
            try:
                if good:
                    self.uplink.publish(good, t_ms)
                if qualities != self._sent_qualities:
                    self.uplink.publish_status(qualities, t_ms)
                    self._sent_qualities = dict(qualities)
            except UplinkError as exc:  # max_pending reached (broker away too long): counted in uplink.dropped,
                self.uplink_error = str(exc)  # the scans go on (a gateway does not stop acquiring)
        if self.status_file:
            self.write_status()
        return values

    def _update(self, name, quality, value, detail, t_ms, stats: DeviceStats) -> None:
        p = self.points[name]
        if quality != p.quality:
            p.since_ms = t_ms
        p.quality = quality
        key = {"good": "good", "timeout": "timeout", "decode error": "decode_error", "invalid": "invalid"}.get(
            quality, "exception")
        setattr(stats, key, getattr(stats, key) + 1)
        if quality == GOOD:
            p.value, p.value_time_ms, p.detail = value, t_ms, ""
        else:
            p.detail = detail or quality
            stats.last_error = f"{name}: {p.detail}"

    # ----------------------------------------------------------------------------- running
    def run(self, *, count: int | None = None, duration: float | None = None, progress: bool = False) -> pd.DataFrame:
        """Scan every ``scan_period_s`` for ``count`` scans or ``duration`` seconds (or until :meth:`stop`),
        on a fixed schedule (a late scan is skipped, not squeezed in). Returns the values of these scans."""
        period = self.config.scan_period_s
        n = _scan_count(period, duration, count) if (count is not None or duration is not None) else None
        bar = _progress(n or 0, progress and n is not None)
        rows = []  # this run's scans (the history deque may drop its oldest)
        start, i = time.monotonic(), 0
        self._stop.clear()
        while (n is None or i < n) and not self._stop.is_set():
            delay = start + i * period - time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                break
            if delay < -period:  # late by more than a period: skip to the next slot on the schedule
                i += int(-delay // period)
                continue
            self.scan()
            rows.append(self.history[-1])
            bar.update(1)
            i += 1
        bar.close()
        return self.frame(rows)

    def start(self) -> Gateway:
        """Run in a background thread (a notebook stays usable) until :meth:`stop`."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self.run, name="daqlab-gateway", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def close(self) -> None:
        """Stop, send what can be sent (the rest goes to the spool file, if configured), disconnect."""
        self.stop()
        for r in self.readers.values():
            r.close()
        if self.uplink is not None:
            self.uplink.close()
        if self.status_file:
            self.write_status()

    def __enter__(self) -> Gateway:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------------------ status
    def status(self) -> dict:
        """Everything a status page shows, as plain JSON data."""
        up = self.uplink
        return {"gateway": self.config.name, "config": self.config.source, "started_ms": self.started_ms,
                "time_ms": int(time.time() * 1000), "scans": self.scans, "scan_period_s": self.config.scan_period_s,
                "running": self.running,
                "northbound": None if up is None else {"connected": up.connected, "sent": up.sent,
                                                       "pending": up.pending, "dropped": up.dropped,
                                                       "topic": up.topics.post, "error": self.uplink_error},
                "devices": [asdict(d) for d in self.devices.values()],
                "points": [asdict(p) | {"value": _jsonable(p.value)} for p in self.points.values()]}

    def write_status(self) -> None:
        import json

        from daqlab.atomic import write_atomic

        write_atomic(self.status_file, json.dumps(self.status(), ensure_ascii=False, indent=1) + "\n")

    def points_frame(self) -> pd.DataFrame:
        """Per-point status as a table (index = point name)."""
        return points_frame(self.status())

    def devices_frame(self) -> pd.DataFrame:
        """Per-device statistics as a table (index = device name)."""
        return devices_frame(self.status())

    def frame(self, history=None) -> pd.DataFrame:
        """Scans as a DataFrame (index = scan time, one column per point, None where the quality was bad);
        ``attrs["quality"]`` holds the qualities in the same shape."""
        rows = list(self.history) if history is None else history
        names = [t.name for t in self.config.points]
        index = pd.DatetimeIndex(_local([t for t, _v, _q in rows]), name="time")
        df = pd.DataFrame([v for _t, v, _q in rows], index=index, columns=names)
        df.attrs["quality"] = {n: [q.get(n) for _t, _v, q in rows] for n in names}
        return df


def _jsonable(v):
    if v is None or isinstance(v, bool | int | str):
        return v
    if isinstance(v, float):
        return v if v == v and abs(v) != float("inf") else None
    return str(v)


def _local(ms_list):
    """Epoch milliseconds -> naive timestamps in the training centre's time zone (daqlab.localtime)."""
    from daqlab.localtime import zone

    return pd.to_datetime(list(ms_list), unit="ms", utc=True).tz_convert(zone()).tz_localize(None)


def _ms(t):
    return _local([t])[0] if t else None


def points_frame(status: dict) -> pd.DataFrame:
    """The points of a :meth:`Gateway.status` (or of a status file) as a table."""
    df = pd.DataFrame(status["points"]).set_index("name") if status["points"] else pd.DataFrame()
    for col in ("value_time_ms", "since_ms"):
        if col in df:
            df[col.replace("_ms", "")] = [_ms(t) for t in df.pop(col)]
    return df


def devices_frame(status: dict) -> pd.DataFrame:
    """The devices of a :meth:`Gateway.status` (or of a status file) as a table."""
    return pd.DataFrame(status["devices"]).set_index("name") if status["devices"] else pd.DataFrame()
