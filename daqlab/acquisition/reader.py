"""Read tags from a device (or the plant) into timestamped samples and pandas DataFrames.

    from daqlab.acquisition import Reader
    with Reader("tcp://127.0.0.1:5021") as r:
        sample = r.read(tags)                    # one scan: values + per-tag quality
        df = r.poll(tags, period=0.5, count=20)  # fixed-rate polling into a DataFrame

Contract:

- Connections by URL: ``tcp://host:port`` or ``rtu:///dev/ttyUSB0?baudrate=9600&parity=E&stopbits=1``.
- A scan never raises because of one bad tag: every tag gets a quality, ``"good"``, ``"timeout"``,
  ``"exception 02"`` (the Modbus exception code in hex), ``"decode error"`` or ``"invalid"`` (NaN or
  infinity, e.g. a broken meter input). Values of bad tags are None.
- Reads follow a :func:`~daqlab.acquisition.planner.plan`; when a coalesced request is refused with
  exception 02 (a hole the device will not serve), the reader splits it into its contiguous runs (then,
  if a run is refused too, into one request per tag) and remembers the split for the next scans.
- After a timeout the connection is closed and reopened on the next request (``reconnect``).
- The synchronous API uses blocking sockets, so it works in a notebook whose event loop is already
  running; :class:`AsyncReader` offers the same calls as coroutines.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field

import pandas as pd

from daqlab.acquisition.planner import Plan, ReadRequest, plan
from daqlab.acquisition.tags import BIT_AREAS, Tag
from daqlab.modbus import ModbusException, client_from_url, quiet

GOOD, TIMEOUT, DECODE_ERROR, INVALID = "good", "timeout", "decode error", "invalid"
_READ = {"coil": "read_coils", "discrete": "read_discrete_inputs", "holding": "read_holding_registers",
         "input": "read_input_registers"}


def exception_quality(code: int) -> str:
    return f"exception {code:02X}"


class WriteError(RuntimeError):
    """A write that the device refused, or whose read-back differs from what was written."""


@dataclass
class Sample:
    time: pd.Timestamp  #: when the scan started (local time)
    values: dict  #: tag name -> engineering value (None when the quality is not good)
    quality: dict  #: tag name -> "good" | "timeout" | "exception NN" | "decode error" | "invalid"
    requests: int = 0  #: Modbus requests this scan sent
    epoch: float = 0.0  #: scan start, seconds since the epoch (to match the plant's request log)
    errors: dict = field(default_factory=dict)  #: tag name -> detail for bad qualities

    @property
    def ok(self) -> bool:
        return all(q == GOOD for q in self.quality.values())

    def to_series(self) -> pd.Series:
        return pd.Series(self.values, name=self.time)


def _decode_into(req: ReadRequest, words, values: dict, quality: dict, errors: dict) -> None:
    for t in req.tags:
        try:
            v = t.decode(req.words_for(t, words))
        except Exception as exc:  # a value the type cannot represent: flag it, keep scanning
            values[t.name], quality[t.name], errors[t.name] = None, DECODE_ERROR, str(exc)
            continue
        if isinstance(v, float) and not math.isfinite(v):
            values[t.name], quality[t.name] = None, INVALID
        else:
            values[t.name], quality[t.name] = v, GOOD


def _mark(req: ReadRequest, q: str, detail: str, values, quality, errors) -> None:
    for t in req.tags:
        values[t.name], quality[t.name], errors[t.name] = None, q, detail


class _Base:
    def __init__(self, url: str, *, timeout: float = 1.0, retries: int = 0, pause: float = 0.0, max_gap: int = 0,
                 max_registers: int = 125, max_bits: int = 2000, reconnect: bool = True):
        self.url = url
        self.timeout = timeout
        self.retries = retries
        self.pause = pause  #: seconds between two requests (slow serial devices)
        self.max_gap = max_gap
        self.max_registers = max_registers
        self.max_bits = max_bits
        self.reconnect = reconnect
        self.client = None
        self._plans: dict[tuple, Plan] = {}
        self._split: dict[tuple, list] = {}  # requests a device refused (exception 02) -> their replacement
        self.requests_sent = 0
        quiet()

    def plan(self, tags) -> Plan:
        """The read plan for ``tags`` (cached), with requests the device refused split per tag."""
        key = tuple(tags)
        p = self._plans.get(key)
        if p is None:
            p = plan(tags, max_registers=self.max_registers, max_bits=self.max_bits, max_gap=self.max_gap)
            self._plans[key] = p
        if not self._split:
            return p
        out = Plan()
        for req in p:
            out.extend(self._replace(req))
        return out

    def _replace(self, req: ReadRequest) -> list:
        parts = self._split.get(_req_key(req))
        if parts is None:
            return [req]
        return [x for part in parts for x in self._replace(part)]

    def _refused(self, req: ReadRequest) -> list:
        """Split a request the device refused with 02: contiguous runs first, then one per tag."""
        runs = list(plan(req.tags, max_registers=self.max_registers, max_bits=self.max_bits, max_gap=0))
        if len(runs) == 1:
            runs = [ReadRequest(t.unit, t.area, t.address, t.count, (t,)) for t in req.tags]
        self._split[_req_key(req)] = runs
        return runs

    def _scan(self, tags):
        """One scan as a generator (no I/O): yields requests, receives their replies, returns the Sample.

        A reply is the list of registers/bits, or ``("exception", code)`` / ``("timeout", detail)``.
        Both readers drive it, the sync one with blocking calls, the async one with awaits.
        """
        tags = list(tags)
        t0, stamp = time.time(), pd.Timestamp.now()
        values, quality, errors = {}, {}, {}
        sent = 0
        queue = list(self.plan(tags))
        while queue:
            req = queue.pop(0)
            reply = yield req
            sent += 1
            if isinstance(reply, tuple):
                kind, detail = reply
                if kind == "exception" and detail == 2 and len(req.tags) > 1:
                    queue[:0] = self._refused(req)
                    continue
                q = TIMEOUT if kind == "timeout" else exception_quality(detail)
                _mark(req, q, str(detail), values, quality, errors)
            else:
                _decode_into(req, reply, values, quality, errors)
        order = [t.name for t in tags]
        return Sample(stamp, {n: values[n] for n in order}, {n: quality[n] for n in order}, sent, t0, errors)

    @staticmethod
    def _words(req, rr):
        return rr.bits[: req.count] if req.area in BIT_AREAS else rr.registers


def _req_key(req: ReadRequest) -> tuple:
    return (req.unit, req.area, req.address, req.count)


class Reader(_Base):
    """Synchronous reader (blocking sockets): safe in notebooks and scripts."""

    def connect(self) -> Reader:
        if self.client is None:
            self.client = client_from_url(self.url, timeout=self.timeout, retries=self.retries)
        if not self.client.connected:
            self.client.connect()
        return self

    def close(self) -> None:
        if self.client is not None:
            self.client.close()

    def __enter__(self) -> Reader:
        return self.connect()

    def __exit__(self, *exc) -> None:
        self.close()

    def _execute(self, req: ReadRequest):
        """Reply of one request: registers/bits, or ('exception', code) / ('timeout', detail)."""
        if self.client is None or not self.client.connected:
            try:
                self.connect()
            except Exception as exc:
                return ("timeout", f"no connection: {exc}")
            if not self.client.connected:
                return ("timeout", f"no connection to {self.url}")
        if self.pause and self.requests_sent:
            time.sleep(self.pause)
        self.requests_sent += 1
        try:
            rr = getattr(self.client, _READ[req.area])(req.address, count=req.count, device_id=req.unit)
        except ModbusException as exc:
            if self.reconnect:
                self.client.close()
            return ("timeout", str(exc))
        if rr.isError():
            return ("exception", getattr(rr, "exception_code", 4))
        return self._words(req, rr)

    def read(self, tags) -> Sample:
        """One scan of ``tags``: values and quality per tag; never raises for a bad tag."""
        scan = self._scan(tags)
        reply = None
        try:
            while True:
                reply = self._execute(scan.send(reply))
        except StopIteration as done:
            return done.value

    def poll(self, tags, period: float, *, duration: float | None = None, count: int | None = None,
             progress: bool = True, to=None, on_sample=None) -> pd.DataFrame:
        """Scan every ``period`` seconds for ``duration`` seconds or ``count`` scans.

        Keeps its period without drift (scan i starts at start + i x period; a scan that is
        late by more than a period is skipped and counted in ``df.attrs["skipped"]``).
        Returns a DataFrame (DatetimeIndex, one column per tag); ``df.attrs`` holds ``units``,
        ``quality`` (per-tag lists; :func:`quality_frame` gives it as a DataFrame of the same shape)
        and ``requests``. ``to=`` writes CSV or Parquet. ``on_sample`` is called with each Sample as soon
        as it is read (a gateway publishes while it polls: ``on_sample=uplink.publish_sample``); its time
        counts against the period.
        """
        n = _scan_count(period, duration, count)
        tags = list(tags)
        samples, skipped = [], 0
        bar = _progress(n, progress)
        start = time.monotonic()
        for i in range(n):
            target = start + i * period
            delay = target - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif -delay > period:
                skipped += 1
                bar.update(1)
                continue
            samples.append(self.read(tags))
            if on_sample is not None:
                on_sample(samples[-1])
            bar.update(1)
        bar.close()
        return _frame(tags, samples, skipped, to)

    def write(self, tag: Tag, value, *, verify: bool = True):
        """Encode and write ``value`` with the right function code; read it back when ``verify``.

        Coils: FC 05. One holding register: FC 06. Several registers: FC 16. A bit of a holding
        register: FC 22 (mask write). Returns the value read back (or ``value``).
        """
        self.connect()
        kind, args = _write_call(tag, value)
        try:
            rr = getattr(self.client, kind)(**args, device_id=tag.unit)
        except ModbusException as exc:
            raise WriteError(f"{tag.name}: no reply to the write ({exc})") from None
        if rr.isError():
            raise WriteError(f"{tag.name}: device refused the write with exception "
                             f"{getattr(rr, 'exception_code', 0):02X}")
        if not verify:
            return value
        sample = self.read([tag])
        return _verify(tag, value, sample)


class AsyncReader(_Base):
    """The same API as coroutines (``await reader.read(tags)``), on pymodbus' async clients."""

    async def connect(self) -> AsyncReader:
        if self.client is None:
            self.client = client_from_url(self.url, timeout=self.timeout, retries=self.retries, asynchronous=True)
        if not self.client.connected:
            await self.client.connect()
        return self

    def close(self) -> None:
        if self.client is not None:
            self.client.close()

    async def __aenter__(self) -> AsyncReader:
        return await self.connect()

    async def __aexit__(self, *exc) -> None:
        self.close()

    async def _execute(self, req: ReadRequest):
        if self.client is None or not self.client.connected:
            try:
                await self.connect()
            except Exception as exc:
                return ("timeout", f"no connection: {exc}")
            if not self.client.connected:
                return ("timeout", f"no connection to {self.url}")
        if self.pause and self.requests_sent:
            await asyncio.sleep(self.pause)
        self.requests_sent += 1
        try:
            rr = await getattr(self.client, _READ[req.area])(req.address, count=req.count, device_id=req.unit)
        except ModbusException as exc:
            if self.reconnect:
                self.client.close()
            return ("timeout", str(exc))
        if rr.isError():
            return ("exception", getattr(rr, "exception_code", 4))
        return self._words(req, rr)

    async def read(self, tags) -> Sample:
        """One scan of ``tags`` (see Reader.read)."""
        scan = self._scan(tags)
        reply = None
        try:
            while True:
                reply = await self._execute(scan.send(reply))
        except StopIteration as done:
            return done.value

    async def poll(self, tags, period: float, *, duration: float | None = None, count: int | None = None,
                   progress: bool = False, to=None, on_sample=None) -> pd.DataFrame:
        """As :meth:`Reader.poll`; ``on_sample`` may be a plain function or a coroutine function."""
        n = _scan_count(period, duration, count)
        tags = list(tags)
        samples, skipped = [], 0
        bar = _progress(n, progress)
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i in range(n):
            delay = start + i * period - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif -delay > period:
                skipped += 1
                bar.update(1)
                continue
            samples.append(await self.read(tags))
            if on_sample is not None:
                res = on_sample(samples[-1])
                if asyncio.iscoroutine(res):
                    await res
            bar.update(1)
        bar.close()
        return _frame(tags, samples, skipped, to)

    async def write(self, tag: Tag, value, *, verify: bool = True):
        await self.connect()
        kind, args = _write_call(tag, value)
        try:
            rr = await getattr(self.client, kind)(**args, device_id=tag.unit)
        except ModbusException as exc:
            raise WriteError(f"{tag.name}: no reply to the write ({exc})") from None
        if rr.isError():
            raise WriteError(f"{tag.name}: device refused the write with exception "
                             f"{getattr(rr, 'exception_code', 0):02X}")
        if not verify:
            return value
        return _verify(tag, value, await self.read([tag]))


# ---------------------------------------------------------------- helpers
def _write_call(tag: Tag, value) -> tuple[str, dict]:
    if tag.area in ("discrete", "input"):
        raise WriteError(f"{tag.name}: {tag.area} {'inputs' if tag.area == 'discrete' else 'registers'} are read-only")
    if tag.area == "coil":
        return "write_coil", dict(address=tag.address, value=bool(value))
    if tag.dtype == "BIT":
        mask = 1 << tag.bit
        return "mask_write_register", dict(address=tag.address, and_mask=0xFFFF ^ mask, or_mask=mask if value else 0)
    try:
        words = tag.encode(value)
    except ValueError as exc:
        raise WriteError(f"{tag.name}: {exc}") from None
    if len(words) == 1:
        return "write_register", dict(address=tag.address, value=words[0])
    return "write_registers", dict(address=tag.address, values=words)


def _verify(tag: Tag, value, sample: Sample):
    q = sample.quality[tag.name]
    if q != GOOD:
        raise WriteError(f"{tag.name}: written, but the read-back failed ({q})")
    got = sample.values[tag.name]
    if isinstance(got, float) or isinstance(value, float):
        tol = abs(tag.scale) / 2 + 1e-6 * max(1.0, abs(float(value)))
        same = abs(float(got) - float(value)) <= tol
    else:
        same = got == value
    if not same:
        raise WriteError(f"{tag.name}: wrote {value!r} but read back {got!r}")
    return got


def _scan_count(period: float, duration, count) -> int:
    if period <= 0:
        raise ValueError("period must be positive (seconds)")
    if (duration is None) == (count is None):
        raise ValueError("give either duration (seconds) or count (scans)")
    if (count is not None and count < 0) or (duration is not None and duration < 0):
        raise ValueError("count and duration cannot be negative")
    return int(count) if count is not None else max(1, int(round(duration / period)))


def _progress(n: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=n, desc="polling", unit="scan", disable=not enabled, leave=False)


def _frame(tags, samples, skipped, to) -> pd.DataFrame:
    names = [t.name for t in tags]
    index = pd.DatetimeIndex([s.time for s in samples], name="time")
    df = pd.DataFrame([s.values for s in samples], index=index, columns=names)
    quality = pd.DataFrame([s.quality for s in samples], index=index, columns=names)
    for t in tags:  # numeric columns stay numeric even with gaps
        if t.dtype not in ("STRING", "BOOL", "BIT") and t.area not in BIT_AREAS:
            df[t.name] = pd.to_numeric(df[t.name], errors="coerce")
    df.attrs["units"] = {t.name: t.eng_unit for t in tags}
    # plain lists, not a DataFrame: attrs must compare and copy cheaply (pd.concat compares them)
    df.attrs["quality"] = {c: list(quality[c]) for c in names}
    df.attrs["requests"] = sum(s.requests for s in samples)
    df.attrs["skipped"] = skipped
    df.attrs["epoch"] = [s.epoch for s in samples]
    if to is not None:
        write_frame(df, to)
    return df


def quality_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The quality flags of a polled DataFrame, as a DataFrame of the same shape and index."""
    q = df.attrs.get("quality")
    if q is None:
        raise ValueError("this DataFrame carries no quality flags (it did not come from Reader.poll)")
    return pd.DataFrame(q, index=df.index)[list(q)]


def write_frame(df: pd.DataFrame, path) -> None:
    """Write a polled DataFrame to ``.csv`` or ``.parquet`` (index = time)."""
    from pathlib import Path

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    plain = pd.DataFrame(df)
    plain.attrs = {}
    if path.suffix.lower() == ".csv":
        plain.to_csv(path, index_label="time")
    elif path.suffix.lower() == ".parquet":
        plain.to_parquet(path)
    else:
        raise ValueError(f"{path}: write .csv or .parquet")
