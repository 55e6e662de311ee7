"""The plant HMI behind ``notebooks/dashboards/plant.ipynb`` (Voila): live trends, device status, alarms, faults.

Contract:

- The HMI reads a station **only over Modbus**, through :class:`daqlab.acquisition.Reader`, with the tag
  table of the station's datasheet (``daqlab.plant.tags.tag_table``: the documented installation, so a
  drill that serves something else shows up as a fault, as it would on a real bench). It never looks
  inside a plant object. Faults are switched, and the station list and seed looked up, over the plant's
  control API (``daqlab.plant.control``), with the token from ``DAQLAB_CONTROL_TOKEN``.
- Real benches (daqlab.benches) instead of a plant: ``DAQLAB_HMI_BENCHES`` (``daqlab dashboard plant --bench FILE``,
  descriptions separated by the path separator), or a trainee's own ``DAQLAB_BENCH``: each bench is the station it
  stands for, read at its connection with its description's tags; a real device has no fault switch, so the
  instructor's panel keeps only the line commands (Modbus writes).
- Where the plant is comes from the environment that started the kernel (``daqlab dashboard plant`` sets
  it): ``DAQLAB_PLANT_HOST`` (default 127.0.0.1), ``DAQLAB_BASE_PORT`` (default 5020; station k listens on
  BASE+k, the control API on BASE), ``DAQLAB_STATIONS`` (optional: how many), ``DAQLAB_SEED`` (optional:
  the plant seed; otherwise asked from the control API), ``DAQLAB_TEXTBOOK=1`` for a textbook plant.
- The page refreshes at ``period`` seconds (1 s) from one background thread that only sets widget traits
  (HTML, Image): no Output-widget capture from a thread, and **only while a browser shows the page**: a
  hidden ipywidgets ``Play`` ticks in the browser every second (its timer runs in the page), and the
  thread polls the plant only when a tick came in the last :data:`QUIET_S` seconds. A closed tab sends no
  ticks, so its kernel stops polling within seconds (and after :data:`KICK_S` seconds of asking the page
  to restart its ticks, stops talking altogether, so the culler can reclaim it). Live updates also pause after
  ``DAQLAB_HMI_LIVE_MINUTES`` (15) minutes without any interaction: every update counts as kernel activity,
  so only then can Voila's idle-kernel culler (see ``daqlab dashboard``) reclaim the kernel of a tab left
  open, or closed (Voila keeps a closed page's kernel until it is culled).
- Key numbers are also plain HTML with stable classes and ids (``hmi-counter``, ``hmi-freq``, ``hmi-device``
  rows with ``data-device``/``data-state``, ``hmi-flag`` with ``data-flag``/``data-on``, ``hmi-alarm`` rows),
  which is what the browser tests read. Nothing depends on fontawesome or MathJax (CDN, absent offline).
"""

from __future__ import annotations

import atexit
import html
import io
import json
import os
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass, field

from daqlab import localtime
from daqlab.acquisition.reader import DECODE_ERROR, GOOD, INVALID, TIMEOUT, Reader, Sample
from daqlab.dashboards.mimic import mimic_svg
from daqlab.plant.faults import MODES
from daqlab.plant.process import ALARM_BITS, STATE_NAMES

DEVICES = ("plc", "vfd", "meter", "ai", "th")  #: device kinds of a station, in display order
DEVICE_NAMES = {"plc": "PLC", "vfd": "VFD 变频器", "meter": "power meter 电表", "ai": "analog module 模拟量模块",
                "th": "temp/humidity 温湿度"}
#: the five trended values: key -> (tag name, label, HTML class)
TRENDS = {
    "freq": ("vfd.output_freq", "VFD output frequency 输出频率 (Hz)", "hmi-freq"),
    "current": ("vfd.output_current", "VFD output current 输出电流 (A)", "hmi-current"),
    "power": ("meter.power_total", "total active power 总有功功率 (W)", "hmi-power"),
    "motor_temp": ("ai.motor_temp", "motor temperature 电机温度 (°C)", "hmi-motor-temp"),
    "parts": ("plc.parts", "part counter 零件计数 (pcs)", "hmi-counter"),
}
#: further tags read every scan (status, alarms, and one point per device at least)
STATUS_TAGS = ("plc.alarm_word", "plc.state", "plc.good", "plc.reject", "vfd.fault_code", "ai.status",
               "th.temperature", "th.humidity")
ALARM_LABELS = {"estop": "E-stop 急停", "motor_overtemp": "motor over-temperature 电机过热",
                "vfd_fault": "VFD fault 变频器故障", "jam": "conveyor jam 输送线堵料",
                "reject_rate_high": "reject rate high 不良率高", "sensor_fault": "sensor fault 传感器故障"}
LIVE_MINUTES = 15  #: live updates pause after this many minutes without interaction (DAQLAB_HMI_LIVE_MINUTES)
BEAT_S = 1.0  #: the page's heartbeat period (a hidden Play widget ticking in the browser)
QUIET_S = 5.0  #: no heartbeat for this long: no browser shows the page, polling stops
KICK_S = 60.0  #: how long a silent page is asked to restart its heartbeat before the kernel falls silent too
SENTINEL16 = 0x7FFF  #: what a broken 16-bit sensor input reads (see daqlab.plant.faults)
AI_CHANNELS = {0: "pressure", 1: "level", 2: "motor_temp", 3: "flow"}  #: analog module channel -> point


# ------------------------------------------------------------------ where the plant is
@dataclass(frozen=True)
class PlantAddress:
    host: str = "127.0.0.1"  #: the plant's host
    base_port: int = 5020  #: control API on BASE, station k on BASE+k
    token: str | None = None  #: X-DAQLab-Token of the control API, if the plant has one

    @classmethod
    def from_env(cls, environ=None) -> PlantAddress:
        env = os.environ if environ is None else environ
        return cls(host=env.get("DAQLAB_PLANT_HOST") or "127.0.0.1",
                   base_port=int(env.get("DAQLAB_BASE_PORT") or 5020),
                   token=env.get("DAQLAB_CONTROL_TOKEN") or None)

    def endpoint(self, station: int) -> str:
        """``tcp://host:port`` of station ``station`` (BASE + station)."""
        return f"tcp://{self.host}:{self.base_port + int(station)}"

    @property
    def control_url(self) -> str:
        return f"http://{self.host}:{self.base_port}"


class ControlError(RuntimeError):
    """The control API is unreachable or refused the request (message says why)."""


class ControlClient:
    """The plant's control API (JSON over HTTP on the base port), as ``daqlab plant fault`` uses it."""

    def __init__(self, address: PlantAddress, timeout: float = 3.0):
        self.address = address
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        url = self.address.control_url + path
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
        if self.address.token:
            req.add_header("X-DAQLab-Token", self.address.token)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            try:
                reason = json.loads(exc.read()).get("error", exc.reason)
            except ValueError:
                reason = exc.reason
            raise ControlError(f"plant refused: {reason}") from None
        except OSError as exc:
            raise ControlError(f"no plant control API at {url} ({exc})") from None

    def status(self) -> dict:
        return self._call("GET", "/status")

    def set_fault(self, station: int, device: str, mode: str, value="on") -> dict:
        return self._call("POST", "/fault", {"station": int(station), "device": device, "mode": mode, "value": value})

    def clear(self, station: int, device: str | None = None) -> dict:
        return self._call("POST", "/clear", {"station": int(station), "device": device})


def plant_layout(address: PlantAddress, environ=None) -> tuple[list[int], int, bool]:
    """(stations, seed, textbook): from the environment, else from the control API's status, else ([1], 0)."""
    env = os.environ if environ is None else environ
    textbook = env.get("DAQLAB_TEXTBOOK", "") not in ("", "0", "false", "no")
    status = None
    if not env.get("DAQLAB_STATIONS") or not env.get("DAQLAB_SEED"):
        try:
            status = ControlClient(address, timeout=2.0).status()
        except ControlError:
            status = None
    if env.get("DAQLAB_STATIONS"):
        stations = list(range(1, int(env["DAQLAB_STATIONS"]) + 1))
    elif status:
        stations = [s["station"] for s in status["stations"]]
    else:
        stations = [1]
    if env.get("DAQLAB_SEED"):
        seed = int(env["DAQLAB_SEED"])
    else:
        seed = int(status["seed"]) if status else 0
    return stations, seed, textbook


def hmi_tags(station: int, seed: int = 0, textbook: bool = False, bench=None) -> list:
    """The tags the HMI reads from ``station``: its datasheet's addresses, types, byte orders and scaling (a real
    bench's from its description: only the devices it has)."""
    from daqlab.plant.tags import tag_table

    table = {t.name: t for t in (bench.tags() if bench is not None else tag_table(station, seed=seed, textbook=textbook))}
    names = [tag for tag, _, _ in TRENDS.values()] + list(STATUS_TAGS)
    return [table[n] for n in names if n in table]


def hmi_benches(environ=None) -> dict:
    """station -> real bench (daqlab.benches.Bench) the HMI shows instead of a plant's stations (see the docstring)."""
    from daqlab.benches import load_bench
    from daqlab.station import my_bench

    env = os.environ if environ is None else environ
    if env.get("DAQLAB_HMI_BENCHES"):
        benches = [load_bench(f) for f in env["DAQLAB_HMI_BENCHES"].split(os.pathsep) if f]
    else:
        mine = my_bench(env)
        benches = [mine] if mine is not None else []
    return {b.station: b for b in benches}


# ------------------------------------------------------------------ decoding a scan
def decode_alarm_word(word: int | None) -> dict[str, bool]:
    """PLC alarm bit-word -> {flag name: on} for every bit of ALARM_BITS (all off when the word is unknown)."""
    w = int(word or 0)
    return {name: bool(w >> bit & 1) for bit, name in sorted(ALARM_BITS.items())}


def _is_sentinel(tag, value) -> bool:
    if value is None or tag.dtype not in ("INT16", "UINT16") or tag.area != "input" or not tag.scale:
        return False
    return round((value - (tag.offset or 0.0)) / tag.scale) == SENTINEL16


def device_status(sample: Sample, tags) -> dict[str, tuple[str, str]]:
    """Per device: ("online" | "offline" | "fault", detail) from the qualities of one scan.

    offline: no reply (timeout); fault: a Modbus exception, an invalid or undecodable value, a broken-sensor
    sentinel (0x7FFF) or the analog module's wire-break/over-range bits. Devices not in ``tags`` are left out.
    """
    out: dict[str, tuple[str, str]] = {}
    for dev in DEVICES:
        mine = [t for t in tags if t.name.split(".", 1)[0] == dev]
        if not mine:
            continue
        qualities = {t.name: sample.quality.get(t.name) for t in mine}
        bad = {n: q for n, q in qualities.items() if q != GOOD}
        if bad and all(q == TIMEOUT for q in bad.values()) and len(bad) == len(mine):
            out[dev] = ("offline", "no reply (timeout)")
        elif bad:
            n, q = next(iter(bad.items()))
            what = {INVALID: "invalid value (NaN)", DECODE_ERROR: "decode error", TIMEOUT: "timeout"}.get(q, q)
            out[dev] = ("fault", f"{n.split('.', 1)[1]}: {what}")
        else:
            broken = [t.name.split(".", 1)[1] for t in mine if _is_sentinel(t, sample.values.get(t.name))]
            if dev == "ai" and sample.values.get("ai.status"):
                word = int(sample.values["ai.status"])
                broken += [f"ch{ch} {AI_CHANNELS[ch]} wire break" for ch in range(4) if word >> ch & 1]
                broken += [f"ch{ch} {AI_CHANNELS[ch]} over range" for ch in range(4) if word >> (4 + ch) & 1]
            out[dev] = ("fault", "sensor: " + ", ".join(dict.fromkeys(broken))) if broken else ("online", "")
    return out


def active_alarms(sample: Sample, status: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Alarm key -> text for what is wrong now: PLC alarm-word flags, then device communication/sensor faults."""
    out = {}
    if sample.quality.get("plc.alarm_word") == GOOD:
        for name, on in decode_alarm_word(sample.values["plc.alarm_word"]).items():
            if on:
                out[f"alarm:{name}"] = ALARM_LABELS.get(name, name)
    for dev, (state, detail) in status.items():
        if state != "online":
            out[f"device:{dev}"] = f"{DEVICE_NAMES[dev]} {state}: {detail}"
    return out


@dataclass
class AlarmEvent:
    raised: float  #: wall time the alarm appeared (seconds since the epoch)
    station: int  #: station number
    key: str  #: "alarm:<flag>" or "device:<kind>"
    text: str  #: what the operator reads
    cleared: float | None = None  #: wall time it went away (None while active)


@dataclass
class AlarmLog:
    """Alarm list: one event per appearance of an alarm, closed when it goes away (newest first)."""

    maxlen: int = 200  #: events kept
    events: deque = field(default_factory=deque)  #: AlarmEvent, newest first

    def update(self, station: int, now: float, active: dict[str, str]) -> list[AlarmEvent]:
        """Record what appeared and close what went away on ``station``; returns the new events."""
        open_ = {e.key: e for e in self.events if e.station == station and e.cleared is None}
        new = []
        for key, text in active.items():
            if key not in open_:
                ev = AlarmEvent(now, station, key, text)
                self.events.appendleft(ev)
                new.append(ev)
        for key, ev in open_.items():
            if key not in active:
                ev.cleared = now
        while len(self.events) > self.maxlen:
            self.events.pop()
        return new

    def close_station(self, station: int, now: float) -> None:
        """Stop watching ``station``: its open alarms end (we no longer know)."""
        for e in self.events:
            if e.station == station and e.cleared is None:
                e.cleared = now


# ------------------------------------------------------------------ HTML pieces
CSS = """<style>
.hmi-box{font-family:sans-serif;font-size:13px}
.hmi-numbers{display:flex;flex-wrap:wrap;gap:8px}
.hmi-num{border:1px solid #ccc;border-radius:4px;padding:4px 10px;min-width:120px}
.hmi-num .hmi-label{font-size:11px;color:#555}
.hmi-num .hmi-value{font-size:20px;font-weight:bold}
table.hmi-table{border-collapse:collapse}
table.hmi-table td,table.hmi-table th{border:1px solid #ddd;padding:2px 8px;text-align:left}
.hmi-state-online{color:#137333;font-weight:bold}
.hmi-state-offline,.hmi-state-fault{color:#c5221f;font-weight:bold}
.hmi-flag{display:inline-block;margin:2px;padding:2px 6px;border-radius:3px;border:1px solid #bbb;color:#777}
.hmi-flag[data-on="1"]{background:#c5221f;color:#fff;border-color:#c5221f}
tr.hmi-alarm[data-active="1"]{background:#fce8e6}
</style>"""


def _fmt(value, digits=1) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def shown_values(sample: Sample, tags) -> dict:
    """The scan's values with broken-sensor readings (the 0x7FFF sentinel) blanked: not a temperature of 177 °C."""
    return {t.name: None if _is_sentinel(t, sample.values.get(t.name)) else sample.values.get(t.name) for t in tags}


def numbers_html(station: int, sample: Sample | None, values: dict | None = None) -> str:
    """The key numbers as plain text, one element per value with a stable id and class."""
    values = values if values is not None else (sample.values if sample else {})
    state = values.get("plc.state")
    cells = [("hmi-station", "station 工位", str(station))]
    for key, (tag, label, cls) in TRENDS.items():
        cells.append((cls, label, _fmt(values.get(tag), 0 if key == "parts" else 2)))
    cells.append(("hmi-state", "line state 产线状态",
                  "—" if state is None else STATE_NAMES.get(int(state), str(state))))
    word = values.get("plc.alarm_word")
    cells.append(("hmi-alarm-word", "alarm word 报警字", "—" if word is None else f"0x{int(word):04X}"))
    stamp = localtime.clock(sample.epoch or sample.time) if sample else "—"
    cells.append(("hmi-updated", "updated 更新", stamp))
    return '<div class="hmi-box hmi-numbers">' + "".join(
        f'<div class="hmi-num"><div class="hmi-label">{html.escape(label)}</div>'
        f'<div class="hmi-value {cls}" id="{cls}">{html.escape(text)}</div></div>' for cls, label, text in cells) + "</div>"


def devices_html(status: dict[str, tuple[str, str]]) -> str:
    rows = "".join(
        f'<tr class="hmi-device" data-device="{dev}" data-state="{state}"><td>{dev}</td>'
        f"<td>{html.escape(DEVICE_NAMES[dev])}</td><td class=\"hmi-state-{state}\">{state}</td>"
        f"<td>{html.escape(detail)}</td></tr>" for dev, (state, detail) in status.items())
    return ('<div class="hmi-box"><b>Devices 设备状态</b><table class="hmi-table hmi-devices">'
            "<tr><th>device</th><th></th><th>status</th><th>detail</th></tr>" + rows + "</table></div>")


def alarm_word_html(word: int | None) -> str:
    flags = decode_alarm_word(word)
    label = "—" if word is None else f"0x{int(word):04X} = {int(word):016b}b"
    spans = "".join(f'<span class="hmi-flag" data-flag="{name}" data-on="{int(on)}">bit {bit} {name} · '
                    f"{html.escape(ALARM_LABELS.get(name, name))}</span>"
                    for (bit, name), on in zip(sorted(ALARM_BITS.items()), flags.values(), strict=True))
    return (f'<div class="hmi-box"><b>PLC alarm word 报警字</b> <span class="hmi-alarm-word-bits">{label}</span>'
            f'<div class="hmi-flags">{spans}</div></div>')


def alarms_html(log: AlarmLog, limit: int = 30) -> str:
    def t(x):
        return localtime.clock(x) if x else ""

    rows = "".join(
        f'<tr class="hmi-alarm" data-key="{html.escape(e.key)}" data-station="{e.station}" '
        f'data-active="{int(e.cleared is None)}"><td>{t(e.raised)}</td><td>{e.station}</td>'
        f"<td>{html.escape(e.text)}</td><td>{t(e.cleared) or 'active'}</td></tr>"
        for e in list(log.events)[:limit])
    n_active = sum(1 for e in log.events if e.cleared is None)
    return (f'<div class="hmi-box"><b>Alarms 报警列表</b> (<span class="hmi-alarm-count">{n_active}</span> active)'
            '<table class="hmi-table hmi-alarms"><tr><th>time</th><th>station</th><th>alarm</th><th>cleared</th></tr>'
            + (rows or '<tr><td colspan="4">no alarms</td></tr>') + "</table></div>")


def faults_html(station: int, faults: dict | None, message: str = "") -> str:
    if faults is None:
        body = "control API not reachable"
    elif not faults:
        body = "none"
    else:
        body = "; ".join(f"{d}: " + ", ".join(f"{m}={v}" for m, v in f.items()) for d, f in faults.items())
    msg = f'<div class="hmi-fault-message">{html.escape(message)}</div>' if message else ""
    return (f'<div class="hmi-box">Active faults on station {station} 当前故障: '
            f'<span class="hmi-faults">{html.escape(body)}</span>{msg}</div>')


class TrendPlot:
    """The five trends over the last ``window`` seconds as a PNG; one Figure reused (only line data change)."""

    def __init__(self, window: float = 120.0):
        from matplotlib.figure import Figure

        import daqlab.plotting  # noqa: F401  (CJK font)

        self.window = window
        self.fig = Figure(figsize=(9, 6.2), dpi=80)
        self.axes = self.fig.subplots(len(TRENDS), 1, sharex=True)
        self.lines = []
        for ax, (tag, label, _) in zip(self.axes, TRENDS.values(), strict=True):
            (line,) = ax.plot([], [], lw=1.4, drawstyle="steps-post" if tag == "plc.parts" else "default")
            self.lines.append(line)
            ax.set_title(label, fontsize=9, loc="left", pad=2)
            ax.tick_params(labelsize=8)
            ax.grid(alpha=0.3)
        self.axes[-1].set_xlim(-window, 0)
        self.axes[-1].set_xlabel("seconds before now 距今秒数", fontsize=8)
        self.fig.tight_layout(h_pad=0.4)

    def png(self, history) -> bytes:
        """``history``: (epoch seconds, {tag: value}) pairs, oldest first; missing values leave gaps."""
        now = history[-1][0] if history else time.time()
        pts = [(t - now, v) for t, v in history if t >= now - self.window]
        for ax, line, (tag, _, _) in zip(self.axes, self.lines, TRENDS.values(), strict=True):
            xs = [x for x, v in pts if v.get(tag) is not None]
            ys = [v[tag] for _, v in pts if v.get(tag) is not None]
            line.set_data(xs, ys)
            if ys:
                lo, hi = min(ys), max(ys)
                pad = max((hi - lo) * 0.1, abs(hi) * 0.02, 0.5)
                ax.set_ylim(lo - pad, hi + pad)
        buf = io.BytesIO()
        self.fig.savefig(buf, format="png")
        return buf.getvalue()


# ------------------------------------------------------------------ the widget app
def is_instructor(environ=None) -> bool:
    """True outside JupyterHub, or when JUPYTERHUB_USER is the instructor (DAQLAB_INSTRUCTOR, grader-daqlab)."""
    env = os.environ if environ is None else environ
    user = env.get("JUPYTERHUB_USER")
    return not user or user == env.get("DAQLAB_INSTRUCTOR", "grader-daqlab")


class PlantHMI:
    """The dashboard: ``PlantHMI().show()`` in a notebook; ``stop()`` ends the refresh thread and the connection."""

    def __init__(self, address: PlantAddress | None = None, *, period: float = 1.0, environ=None,
                 live_minutes: float | None = None, quiet_s: float | None = None):
        import ipywidgets as w

        env = os.environ if environ is None else environ
        self.address = address or PlantAddress.from_env(env)
        self.control = ControlClient(self.address)
        self.benches = hmi_benches(env)
        if self.benches:  # real benches: no plant, no control API
            self.stations, self.seed, self.textbook = sorted(self.benches), 0, False
        else:
            self.stations, self.seed, self.textbook = plant_layout(self.address, env)
        self.period = period
        self.live_seconds = 60 * float(live_minutes if live_minutes is not None
                                       else env.get("DAQLAB_HMI_LIVE_MINUTES") or LIVE_MINUTES)
        self.instructor = is_instructor(env)
        own = env.get("DAQLAB_STATION", "")
        if not self.instructor and own.isdigit():  # a trainee's HMI shows their own station (the only one that answers them)
            self.stations = [int(own)]
        self.station = self.stations[0]
        self.history: deque = deque(maxlen=int(600 / period))
        self.alarms = AlarmLog()
        self._plot = TrendPlot()
        self.scans = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._reader: Reader | None = None
        self._tags: list = []
        self._pending: int | None = self.station
        self._last_touch = time.monotonic()
        self._message = ""
        self._faults: dict | None = None
        self.quiet_s = QUIET_S if quiet_s is None else quiet_s
        self._born = time.monotonic()
        self._last_beat: float | None = None  # when the page's heartbeat last ticked (None: not yet)
        self._last_kick = 0.0

        layout = w.Layout
        self.w_station = w.Dropdown(options=[(f"station {k} 工位 {k}", k) for k in self.stations], value=self.station,
                                    description="Station 工位", layout=layout(width="260px"))
        self.w_live = w.ToggleButton(value=True, description="Live 实时", tooltip="pause / resume live updates",
                                     button_style="success", layout=layout(width="110px"))
        self.w_info = w.HTML()
        self.w_numbers = w.HTML(numbers_html(self.station, None))
        self.w_mimic = w.HTML(mimic_svg({}, {}))
        self.w_mimic.add_class("hmi-mimic-box")
        self.w_trend = w.Image(format="png", layout=layout(width="720px"))
        self.w_devices = w.HTML(devices_html({}))
        self.w_word = w.HTML(alarm_word_html(None))
        self.w_alarms = w.HTML(alarms_html(self.alarms))
        self.w_station.add_class("hmi-station-select")
        self.w_live.add_class("hmi-live-toggle")
        self.w_station.observe(self._on_station, names="value")
        self.w_live.observe(self._on_live, names="value")
        top = w.HBox([self.w_station, self.w_live, self.w_info])
        parts = [top, self.w_mimic, self.w_numbers, w.HBox([self.w_trend, w.VBox([self.w_devices, self.w_word])]),
                 self.w_alarms]
        if self.instructor:
            parts.append(self._fault_panel(w))
        # the page's heartbeat: a hidden Play whose timer runs in the browser (see the module docstring)
        self.w_beat = w.Play(value=0, min=0, max=2**31 - 1, step=1, interval=int(1000 * BEAT_S), show_repeat=False,
                             layout=layout(display="none"))
        self.w_beat.observe(self._on_beat, names="value")
        self.root = w.VBox([w.HTML(CSS), *parts, self.w_beat])
        self._info()
        self._thread = threading.Thread(target=self._run, name="daqlab-hmi", daemon=True)
        self._thread.start()
        atexit.register(self.stop)

    # ---------------------------------------------------------- instructor panel
    def endpoint(self, station: int) -> str:
        """Where station ``station`` answers: its bench's connection, or the plant's port for it."""
        bench = self.benches.get(station)
        return bench.connection if bench is not None else self.address.endpoint(station)

    def _fault_panel(self, w):
        layout = w.Layout
        if self.benches:  # a real device has no fault switch: the line commands only
            self.w_run = w.Button(description="Start line 启动", button_style="success", layout=layout(width="130px"))
            self.w_halt = w.Button(description="Stop line 停止", layout=layout(width="130px"))
            self.w_reset = w.Button(description="Reset alarms 复位", layout=layout(width="150px"))
            for b, cls, fn in ((self.w_run, "hmi-start", lambda _: self._line("plc.run", True)),
                               (self.w_halt, "hmi-stop", lambda _: self._line("plc.run", False)),
                               (self.w_reset, "hmi-reset", lambda _: self._line("plc.reset", True))):
                b.add_class(cls)
                b.on_click(fn)
            title = w.HTML("<b>Instructor: the line 教师：产线</b> <span class='hmi-bench-note' style='color:#555'>"
                           "实训台是真实设备，没有故障开关：故障请在现场布置（a real bench has no fault switch）</span>")
            return w.VBox([title, w.HBox([self.w_run, self.w_halt, self.w_reset])],
                          layout=layout(border="1px solid #ccc", padding="6px", margin="8px 0 0 0"))
        self.w_device = w.Dropdown(options=list(DEVICES), value="meter", description="Device 设备",
                                   layout=layout(width="200px"))
        self.w_mode = w.Dropdown(options=list(MODES), value="offline", description="Mode 模式",
                                 layout=layout(width="200px"))
        self.w_value = w.Text(value="on", description="Value 值", layout=layout(width="180px"),
                              tooltip="on/off, milliseconds (latency), percent (drop, spikes), code (exception)")
        self.w_apply = w.Button(description="Apply 施加", button_style="danger", layout=layout(width="110px"))
        self.w_clear = w.Button(description="Clear 清除", layout=layout(width="110px"))
        self.w_clear_all = w.Button(description="Clear station 全部清除", layout=layout(width="170px"))
        self.w_run = w.Button(description="Start line 启动", button_style="success", layout=layout(width="130px"))
        self.w_halt = w.Button(description="Stop line 停止", layout=layout(width="130px"))
        self.w_reset = w.Button(description="Reset alarms 复位", layout=layout(width="150px"))
        self.w_faults = w.HTML(faults_html(self.station, None))
        for wid, cls in ((self.w_device, "hmi-device-select"), (self.w_mode, "hmi-mode-select"),
                         (self.w_value, "hmi-value-input"), (self.w_apply, "hmi-apply"), (self.w_clear, "hmi-clear"),
                         (self.w_clear_all, "hmi-clear-all"), (self.w_run, "hmi-start"), (self.w_halt, "hmi-stop"),
                         (self.w_reset, "hmi-reset")):
            wid.add_class(cls)
        for b, fn in ((self.w_apply, self._on_apply), (self.w_clear, self._on_clear), (self.w_clear_all, self._on_clear_all),
                      (self.w_run, lambda _: self._line("plc.run", True)),
                      (self.w_halt, lambda _: self._line("plc.run", False)),
                      (self.w_reset, lambda _: self._line("plc.reset", True))):
            b.on_click(fn)
        title = w.HTML('<b>Instructor: faults and line 教师：故障注入与产线</b> '
                       "<span style='color:#555'>(control API; the line commands are Modbus writes)</span>")
        self._refresh_faults()
        return w.VBox([title, w.HBox([self.w_device, self.w_mode, self.w_value, self.w_apply, self.w_clear,
                                      self.w_clear_all]),
                       w.HBox([self.w_run, self.w_halt, self.w_reset]), self.w_faults],
                      layout=layout(border="1px solid #ccc", padding="6px", margin="8px 0 0 0"))

    @property
    def selected(self) -> int:
        """The station chosen in the dropdown (the refresh thread may still be switching to it)."""
        return self.w_station.value

    def _refresh_faults(self, message: str = "") -> None:
        if self.benches:  # no control API: the last line command's outcome goes into the info line
            self._info(message)
            return
        if not self.instructor:
            return
        station = self.selected
        try:
            st = next((s for s in self.control.status()["stations"] if s["station"] == station), None)
            self._faults = st["faults"] if st else {}
        except ControlError as exc:
            self._faults, message = None, message or str(exc)
        self.w_faults.value = faults_html(station, self._faults, message)

    def _on_apply(self, _):
        self._touch()
        try:
            r = self.control.set_fault(self.selected, self.w_device.value, self.w_mode.value, self.w_value.value.strip() or "on")
            msg = f"{self.w_device.value}: {r.get('faults') or 'no faults'}"
        except ControlError as exc:
            msg = str(exc)
        self._refresh_faults(msg)
        self._wake.set()

    def _on_clear(self, _):
        self._touch()
        try:
            self.control.clear(self.selected, self.w_device.value)
            msg = f"{self.w_device.value}: faults cleared"
        except ControlError as exc:
            msg = str(exc)
        self._refresh_faults(msg)
        self._wake.set()

    def _on_clear_all(self, _):
        self._touch()
        try:
            self.control.clear(self.selected)
            msg = f"station {self.selected}: all faults cleared"
        except ControlError as exc:
            msg = str(exc)
        self._refresh_faults(msg)
        self._wake.set()

    def _line(self, tag_name: str, value: bool) -> None:
        """PLC coil write over Modbus (run on/off, reset pulse), on the refresh thread's connection."""
        self._touch()
        from daqlab.acquisition.reader import WriteError
        from daqlab.plant.tags import tag_table

        station = self.selected
        bench = self.benches.get(station)
        table = bench.tags() if bench is not None else \
            tag_table(station, seed=self.seed, textbook=self.textbook, devices=("plc",))
        tag = next(t for t in table if t.name == tag_name)
        with self._lock:
            own = self._reader is None or self._pending is not None or self.station != station
            reader = Reader(self.endpoint(station), timeout=1.0) if own else self._reader
            try:
                reader.write(tag, value, verify=tag_name != "plc.reset")
                msg = f"{tag_name} := {int(value)} written"
            except (WriteError, OSError) as exc:
                msg = f"write failed: {exc}"
            finally:
                if own:
                    reader.close()
        self._refresh_faults(msg)
        self._wake.set()

    # ---------------------------------------------------------- events
    def _touch(self) -> None:
        self._last_touch = time.monotonic()

    def _info(self, note: str = "") -> None:
        live = "live" if self.w_live.value else "paused"
        self.w_info.value = (f'<span class="hmi-info">{html.escape(self.endpoint(self.station))} · '
                             f'<span class="hmi-live">{live}</span>{" · " + html.escape(note) if note else ""}</span>')

    def _on_station(self, change) -> None:
        self._touch()
        with self._lock:
            self._pending = change["new"]
        self._refresh_faults()
        self._wake.set()

    def _on_live(self, change) -> None:
        self._touch()
        self.w_live.description = "Live 实时" if change["new"] else "Paused 暂停"
        self.w_live.button_style = "success" if change["new"] else ""
        self._info()
        self._wake.set()

    # ---------------------------------------------------------- refresh thread
    def _switch(self, station: int) -> None:
        if self._reader is not None:
            self._reader.close()
            self.alarms.close_station(self.station, time.time())
        self.station = station
        self._tags = hmi_tags(station, self.seed, self.textbook, bench=self.benches.get(station))
        self._reader = Reader(self.endpoint(station), timeout=0.5)
        self.history.clear()

    def tick(self) -> Sample:
        """One scan and one repaint (the refresh thread calls it every period)."""
        with self._lock:
            if self._pending is not None:
                self._switch(self._pending)
                self._pending = None
                self._info()
            sample = self._reader.read(self._tags)
            station = self.station
        self.scans += 1
        status = device_status(sample, self._tags)
        self.alarms.update(station, sample.epoch, active_alarms(sample, status))
        shown = shown_values(sample, self._tags)
        self.history.append((sample.epoch, shown))
        self.w_numbers.value = numbers_html(station, sample, shown)
        word = sample.values.get("plc.alarm_word") if sample.quality.get("plc.alarm_word") == GOOD else None
        self.w_mimic.value = mimic_svg(shown, status, decode_alarm_word(word))
        self.w_devices.value = devices_html(status)
        self.w_word.value = alarm_word_html(sample.values.get("plc.alarm_word"))
        self.w_alarms.value = alarms_html(self.alarms)
        self.w_trend.value = self._plot.png(list(self.history))
        return sample

    def _on_beat(self, _change) -> None:
        self._last_beat = time.monotonic()
        if self.polling_paused:
            self.polling_paused = False
            self._wake.set()

    polling_paused = False  #: True while no browser shows the page (no heartbeat): nothing is polled

    def watched(self, now: float | None = None) -> bool:
        """Does a browser show the page (a heartbeat in the last ``quiet_s`` seconds, or just started)?"""
        now = time.monotonic() if now is None else now
        seen = self._last_beat if self._last_beat is not None else self._born
        return now - seen <= self.quiet_s

    def _kick(self, now: float) -> None:
        """Ask a page that may be open to (re)start its heartbeat: the Play starts on playing false -> true."""
        seen = self._last_beat if self._last_beat is not None else self._born
        if now - seen <= KICK_S and now - self._last_kick >= 2 * BEAT_S:
            self._last_kick = now
            self.w_beat.playing = False
            self.w_beat.playing = True

    def _run(self) -> None:
        while not self._stop.is_set():
            start = time.monotonic()
            if self.w_live.value and start - self._last_touch > self.live_seconds:
                self.w_live.value = False  # a tab left open stops talking to the kernel (culling can happen)
                self._info(f"paused after {self.live_seconds / 60:g} min without interaction; press Live to resume")
            if not self.watched(start):
                self.polling_paused = True  # no browser shows the page: poll nothing, close the connection
                with self._lock:
                    if self._reader is not None:
                        self._reader.close()
                        self._reader, self._pending = None, self.station
                self._kick(start)
            elif self.w_live.value or self._pending is not None:
                try:
                    self.tick()
                except Exception as exc:  # keep the HMI alive whatever one scan does
                    self._info(f"refresh error: {exc}")
            self._wake.wait(max(0.05, self.period - (time.monotonic() - start)))
            self._wake.clear()

    def stop(self) -> None:
        """Stop the refresh thread and close the Modbus connection (idempotent)."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(5)
        if self._reader is not None:
            self._reader.close()

    def show(self):
        from IPython.display import display

        display(self.root)
        return self
