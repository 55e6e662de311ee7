"""A real bench, described: which devices, where they are connected, and their register maps (实训台描述).

A training centre's bench (a PLC, an SDM630-class meter, an SHT20-class T/H transmitter, a VFD, an analog
module, behind Modbus TCP or a USB-RS485 adapter) is described in one YAML file. The register maps are not
written out: each device names its **class**, whose map is the one the simulator's device of that class
serves (a real SDM630's map is the simulated meter's map), with the settings that differ between
installations (unit id, word order, resolution, analog ranges). So datasheets and tag tables come from the
same point definitions for a simulated station and for a real bench::

    # benches/bench-01.yaml
    name: 实训台 1 · Bench 1
    station: 1                                   # the station number this bench is (the roster assigns it)
    connection: tcp://192.168.1.21:502           # where the devices answer (a gateway, or a PLC's TCP port)
    serial: {baudrate: 9600, parity: E, stopbits: 1}   # the RS-485 line behind it
    rs485: rfc2217://192.168.1.22:4001           # optional: a serial device server (RFC 2217) on that line
    serial_number: S01-482913                    # the PLC's nameplate
    devices:
      plc:   {unit: 1}
      th:    {unit: 2, resolution: 0.1}          # 0.1 or 0.01 per count
      meter: {unit: 3, word_order: CDAB}         # float32 word order: ABCD or CDAB
      vfd:   {unit: 4}
      ai:    {unit: 5, pressure_range: [0, 10], level_range: [0, 2]}   # bar and m at 4 and 20 mA
      # a device may have its own connection: {unit: 2, connection: "rtu:///dev/ttyUSB0?baudrate=9600&parity=E"}

A bench may leave a class out (no analog module): its datasheet and tags have no such device. ``speed`` is 1 for
real devices (a black-box simulator standing in for a bench, ``daqlab plant serve --black-box --speed 10``, says 10:
lessons time their waits by it). ``unknown_unit: silent`` says its gateway does not answer unit ids nobody has
(default: exception 0B). ``rs485`` names a serial device server (RFC 2217) on the bench's RS-485 line, for tasks
done over RS-485 (the mock final's part 1b): the grader relays and records it.
Every problem is reported at once with the file and line (:class:`BenchError`). ``benches/textbook.yaml`` describes the
textbook station and is checked against the simulator's own maps by the tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from daqlab.yamllines import ProblemsError, load_lines, plain, where, yaml_error

CLASSES = ("plc", "th", "meter", "vfd", "ai")  #: device classes (profiles) the simulator models
CLASS_NAMES = {"plc": "PLC (production line controller)", "th": "T/H transmitter (SHT20-class, RS-485)",
               "meter": "energy meter (SDM630-class)", "vfd": "variable-frequency drive",
               "ai": "4-20 mA analog input module"}
_URL = re.compile(r"^(tcp://[^/:?#\s]+:\d{1,5}|rtu://\S+|rfc2217://[^/:?#\s]+:\d{1,5}\S*)$")


class BenchError(ProblemsError):
    """The description cannot be used; ``problems`` lists (where, why)."""

    what = "the bench description"


@dataclass(frozen=True)
class BenchDevice:
    kind: str  #: device class: plc | th | meter | vfd | ai
    unit: int  #: Modbus unit id, 1-247
    url: str  #: where it answers (tcp://, rtu://, rfc2217://)


@dataclass
class Bench:
    name: str  #: what the instructors call it
    station: int  #: station number it stands for (the roster assigns stations to trainees)
    connection: str  #: default connection of its devices
    devices: dict  #: kind -> BenchDevice, only the classes the bench has
    variant: object  #: daqlab.plant.variants.StationVariant: the parameters of the device classes
    source: str = ""  #: the file it came from
    lines: dict = field(default_factory=dict)  #: kind -> "file line N"
    unknown_unit: str = "exception"  #: what its gateway does for a unit id nobody has: "exception" (0B) or "silent"
    speed: float = 1.0  #: its seconds per wall second: 1 for real devices (a black-box simulator at --speed N: N)
    rs485: str = ""  #: rfc2217://host:port of a serial device server on its RS-485 line ("" when it has none)

    def station_model(self):
        """A simulator station with this bench's installation, devices it lacks removed (never served: it
        only lends its register maps to the datasheet and the tag table)."""
        from daqlab.plant.clock import PlantClock
        from daqlab.plant.station import Station

        st = Station(self.variant, PlantClock(frozen=True), unknown_unit=self.unknown_unit)
        st.devices = {k: d for k, d in st.devices.items() if k in self.devices}
        st.units = {d.unit: d for d in st.devices.values()}
        return st

    def tags(self) -> list:
        """The bench's tag table (``device.point`` names, as for a simulated station)."""
        from daqlab.plant.tags import station_tags

        return station_tags(self.station_model())

    def datasheet(self) -> str:
        """The bench's datasheet (Markdown), as for a simulated station."""
        from daqlab.plant.datasheet import datasheet

        sheet = datasheet(self.station_model(), endpoint=self.connection)
        apart = [d for d in sorted(self.devices.values(), key=lambda d: d.unit) if d.url != self.connection]
        if not apart:
            return sheet
        head, _, rest = sheet.partition("\n- ")
        lines = "".join(f"- {d.kind}（从站 {d.unit}）单独连接 · connected apart: `{d.url}`\n" for d in apart)
        return f"{head}\n- {rest.split(chr(10), 1)[0]}\n{lines}{rest.split(chr(10), 1)[1]}"

    def urls(self) -> dict:
        """connection URL -> the kinds of device that answer there."""
        out: dict = {}
        for d in self.devices.values():
            out.setdefault(d.url, []).append(d.kind)
        return out


def load_bench(path) -> Bench:
    """Read and check a bench description (see the module docstring). Raises BenchError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BenchError([(str(path), f"cannot read it ({exc.strerror})")]) from None
    return loads_bench(text, source=path.name)


def loads_bench(text: str, source: str = "bench.yaml") -> Bench:
    """As :func:`load_bench`, from YAML text."""
    from daqlab.plant.variants import StationVariant

    problems: list[tuple[str, str]] = []
    try:
        doc = load_lines(text)
    except yaml.YAMLError as exc:
        raise BenchError([yaml_error(exc, source)]) from None
    if not isinstance(doc, dict):
        raise BenchError([(source, "expected a mapping with name, station, connection and devices")])

    def at(node, key=None):
        return where(node, key, source)

    known = {"name", "station", "connection", "serial", "serial_number", "devices", "unknown_unit", "speed",
             "rs485"}
    for key in plain(doc):
        if key not in known:
            problems.append((at(doc, key), f"unknown key {key!r}; use {', '.join(sorted(known))}"))
    station = doc.get("station")
    if not _int(station) or not 1 <= station <= 999:
        problems.append((at(doc, "station"), f"station {station!r}: the station number 1-999 this bench stands for"))
        station = 1
    connection = doc.get("connection")
    if not isinstance(connection, str) or not _URL.match(connection):
        problems.append((at(doc, "connection"), f"connection {connection!r}: tcp://host:port, rtu:///dev/ttyUSB0?... "
                                                "or rfc2217://host:port"))
        connection = ""
    serial = doc.get("serial") or {}
    baud, parity, stop = 9600, "E", 1
    if not isinstance(serial, dict):
        problems.append((at(doc, "serial"), "serial: {baudrate: 9600, parity: E, stopbits: 1}"))
    else:
        baud, parity, stop = serial.get("baudrate", 9600), str(serial.get("parity", "E")).upper(), serial.get("stopbits", 1)
        if not _int(baud) or baud not in (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200):
            problems.append((at(serial, "baudrate"), f"baudrate {baud!r}: 1200 ... 115200"))
            baud = 9600
        if parity not in ("N", "E", "O"):
            problems.append((at(serial, "parity"), f"parity {parity!r}: N, E or O"))
            parity = "E"
        if stop not in (1, 2) or isinstance(stop, bool):
            problems.append((at(serial, "stopbits"), f"stopbits {stop!r}: 1 or 2"))
            stop = 1

    raw = doc.get("devices")
    devices, lines, units = {}, {}, {}
    params = {"meter_order": "ABCD", "th_scale": 10, "pressure_range": (0.0, 10.0), "level_range": (0.0, 2.0)}
    allowed = {"plc": set(), "th": {"resolution"}, "meter": {"word_order"}, "vfd": set(),
               "ai": {"pressure_range", "level_range"}}
    if not isinstance(raw, dict) or not plain(raw):
        problems.append((at(doc, "devices"), f"devices: a mapping of device classes ({', '.join(CLASSES)}) to "
                                             "{unit: N, ...}"))
        raw = {}
    for kind in plain(raw):
        spec, w = raw[kind], at(raw, kind)
        if kind not in CLASSES:
            problems.append((w, f"unknown device class {kind!r}; DAQ Lab models {', '.join(CLASSES)}"))
            continue
        if not isinstance(spec, dict):
            problems.append((w, f"{kind}: a mapping such as {{unit: 3}}"))
            continue
        extra = set(plain(spec)) - {"unit", "connection"} - allowed[kind]
        if extra:
            problems.append((w, f"{kind}: unknown key(s) {sorted(extra)}; it takes unit, connection"
                                + (f", {', '.join(sorted(allowed[kind]))}" if allowed[kind] else "")))
        unit = spec.get("unit")
        if not _int(unit) or not 1 <= unit <= 247:
            problems.append((at(spec, "unit"), f"{kind}: unit {unit!r}: a Modbus unit id 1-247"))
            continue
        if unit in units:
            problems.append((at(spec, "unit"), f"{kind}: unit {unit} is already {units[unit]}'s: two devices on one "
                                               "bus cannot share a unit id"))
            continue
        url = spec.get("connection", connection)
        inherited_bad = "connection" not in spec and not connection  # already reported once, at the top
        if not inherited_bad and (not isinstance(url, str) or not _URL.match(url)):
            problems.append((at(spec, "connection"), f"{kind}: connection {url!r}: tcp://host:port, rtu://... or "
                                                     "rfc2217://host:port"))
            continue
        if kind == "meter":
            order = str(spec.get("word_order", "ABCD")).upper()
            if order not in ("ABCD", "CDAB"):
                problems.append((at(spec, "word_order"), f"meter: word_order {order!r}: ABCD or CDAB"))
            params["meter_order"] = order
        if kind == "th":
            res = spec.get("resolution", 0.1)
            if res not in (0.1, 0.01):
                problems.append((at(spec, "resolution"), f"th: resolution {res!r}: 0.1 or 0.01 (per count)"))
            params["th_scale"] = 100 if res == 0.01 else 10
        if kind == "ai":
            for key in ("pressure_range", "level_range"):
                rng = spec.get(key, params[key])
                if not (isinstance(rng, list | tuple) and len(rng) == 2 and all(_num(x) for x in rng) and rng[0] < rng[1]):
                    problems.append((at(spec, key), f"ai: {key} {rng!r}: [value at 4 mA, value at 20 mA], low < high"))
                    continue
                params[key] = (float(rng[0]), float(rng[1]))
        units[unit] = kind
        devices[kind] = BenchDevice(kind, unit, url)
        lines[kind] = w
    unknown = doc.get("unknown_unit", "exception")
    if unknown not in ("exception", "silent"):
        problems.append((at(doc, "unknown_unit"), f"unknown_unit {unknown!r}: exception (the gateway answers 0B) or "
                                                  "silent (no reply)"))
    speed = doc.get("speed", 1)
    if not _num(speed) or not 0.1 <= speed <= 100:
        problems.append((at(doc, "speed"), f"speed {speed!r}: 1 for real devices (a black-box simulator started "
                                           "with --speed N: N), 0.1-100"))
        speed = 1
    rs485 = doc.get("rs485") or ""
    if rs485 and not (isinstance(rs485, str) and _URL.match(rs485) and rs485.startswith("rfc2217://")):
        problems.append((at(doc, "rs485"), f"rs485 {rs485!r}: rfc2217://host:port (a serial device server on the "
                                           "bench's RS-485 line)"))
        rs485 = ""
    serial_number = str(doc.get("serial_number", f"S{station:02d}-000000"))
    if len(serial_number) > 12:
        problems.append((at(doc, "serial_number"), "serial_number: at most 12 characters (the PLC's nameplate)"))
    if problems:
        raise BenchError(problems)
    base = StationVariant.default(station)
    variant = replace(base, units={**base.units, **{k: d.unit for k, d in devices.items()}},
                      baudrate=baud, parity=parity, stopbits=stop, serial_number=serial_number, **params)
    return Bench(name=str(doc.get("name", f"bench {station}")), station=station, connection=connection,
                 devices=devices, variant=variant, source=source, lines=lines, unknown_unit=unknown,
                 speed=float(speed), rs485=rs485)


def _int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _num(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


#: values every installation of a class must read in this range when its decoding is right (a commissioning check)
PLAUSIBLE = {"meter.frequency": (45.0, 65.0, "mains frequency: check the meter's word_order"),
             "meter.voltage_l1": (0.0, 500.0, "phase voltage: check the meter's word_order")}


def probe(bench: Bench, *, timeout: float = 1.0) -> list[dict]:
    """Read every tag of the bench once, per device: how many read good, which did not and why, and values
    outside what every installation of the class reads (a wrong word order shows there). Nothing is written."""
    from daqlab.acquisition import Reader

    out = []
    tags = bench.tags()
    for url, kinds in bench.urls().items():
        with Reader(url, timeout=timeout) as reader:
            for kind in kinds:
                mine = [t for t in tags if t.meta["device"] == kind]
                sample = reader.read(mine)
                bad = {n: q for n, q in sample.quality.items() if q != "good"}
                odd = [f"{n} = {sample.values[n]:.6g} ({why})" for n, (lo, hi, why) in PLAUSIBLE.items()
                       if n in sample.values and sample.quality.get(n) == "good"
                       and not lo <= float(sample.values[n]) <= hi]
                out.append({"device": kind, "unit": bench.devices[kind].unit, "url": url, "tags": len(mine),
                            "good": len(mine) - len(bad), "bad": bad, "implausible": odd})
    return out
