"""Plumbing shared by the benchmark scripts in ``bench/``.

A script serves from a child process of itself (its hidden ``--serve`` mode): the child starts its
server(s), calls :func:`report_ready` and awaits :func:`stdin_closed`; the parent runs it as a
:class:`ChildServer`. :class:`Latencies` collects the timings of one measurement, :func:`fmt`,
:func:`ratio` and :func:`markdown_table` format the report. Nothing here measures anything itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import platform
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Self

HOST = "127.0.0.1"  #: every server and client of the benchmarks, loopback only
START_TIMEOUT = 30.0  #: seconds a server child may take to report ready
_READY = "READY "  #: first line of a child's stdout, followed by its ports as a JSON list


# ------------------------------------------------------------------------ server child
def report_ready(ports: list[int]) -> None:
    """Child side: tell the parent the server listens on ``ports`` (``READY [ports]`` on stdout)."""
    print(_READY + json.dumps(ports), flush=True)


async def stdin_closed() -> None:
    """Child side: return once stdin ends, i.e. the parent closed it (or died): time to stop."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def wait_eof() -> None:
        with contextlib.suppress(Exception):
            sys.stdin.read()
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=wait_eof, daemon=True).start()
    await stop.wait()


class ChildServer:
    """Parent side: ``script`` run again with ``args`` (its hidden serve mode) as a context manager.

    On enter: start the child, read its ``READY`` line (at most :data:`START_TIMEOUT` s), wait until
    every reported port accepts connections; ``ports`` then lists them. On exit: close the child's
    stdin so it stops by itself, kill it if it has not after 15 s.
    """

    def __init__(self, script: str, args: list[str], name: str):
        self.script, self.args, self.name = script, args, name  #: name: for the error message
        self.ports: list[int] = []
        self.proc: subprocess.Popen | None = None
        self._err = None

    def __enter__(self) -> Self:
        cmd = [sys.executable, os.path.abspath(self.script), *self.args]
        self._err = tempfile.TemporaryFile()  # a file, not a pipe: a chatty child can never block
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._err,
                                     text=True)
        try:
            ready, _, _ = select.select([self.proc.stdout], [], [], START_TIMEOUT)
            line = self.proc.stdout.readline() if ready else ""
            if not line.startswith(_READY):
                raise RuntimeError(f"{self.name} server did not start: {line!r} {self.stderr()}")
            self.ports = json.loads(line[len(_READY):])
            for port in self.ports:
                wait_port(port)
        except BaseException:
            self.__exit__()
            raise
        return self

    def stderr(self) -> str:
        """The last 2000 characters the child wrote to stderr."""
        self._err.seek(0)
        return self._err.read().decode(errors="replace")[-2000:]

    def __exit__(self, *exc) -> None:
        proc = self.proc
        if proc is None:
            return
        with contextlib.suppress(OSError):
            proc.stdin.close()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        proc.stdout.close()
        self._err.close()
        self.proc = None


def wait_port(port: int, timeout: float = 10.0) -> None:
    """Return once ``port`` accepts a TCP connection."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((HOST, port), timeout=1.0):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"port {port} does not accept connections") from None
            time.sleep(0.02)


# ------------------------------------------------------------------------------ results
class Latencies:
    """Latencies (ns) and wall time of one measurement, possibly merged over rounds.

    Scripts subclass it to add their own counts (and extend :meth:`merge` for them).
    """

    def __init__(self) -> None:
        self.lat: list[int] = []  #: latency of every counted operation, ns
        self.elapsed_ns = 0  #: measured wall time
        self._sorted: list[int] = []

    def merge(self, other: Latencies) -> Self:
        """Add ``other``'s latencies and wall time to this one; returns self."""
        self.lat += other.lat
        self.elapsed_ns += other.elapsed_ns
        return self

    @property
    def rate(self) -> float:
        """Counted operations per second of measured wall time."""
        return len(self.lat) / (self.elapsed_ns / 1e9) if self.elapsed_ns else 0.0

    def pct(self, q: float) -> float:
        """Nearest-rank percentile in ns (q in 0..1; 1 = max)."""
        if not self.lat:
            return math.nan
        if len(self._sorted) != len(self.lat):
            self._sorted = sorted(self.lat)
        s = self._sorted
        return float(s[max(0, min(len(s), math.ceil(q * len(s))) - 1)])


# ------------------------------------------------------------------------------- report
def fmt(x: float, digits: int = 0) -> str:
    """``x`` with thousands separators and ``digits`` decimals; "—" for NaN."""
    if math.isnan(x):
        return "—"
    return f"{x:,.{digits}f}"


def ratio(num: float, den: float) -> str:
    """``num / den`` as "1.23×"; "—" where it is undefined (zero or NaN)."""
    return f"{num / den:.2f}×" if den and not math.isnan(num) and not math.isnan(den) else "—"


def markdown_table(head: Sequence[str], rows: Iterable[Sequence[str]], left: int = 1) -> str:
    """A Markdown table: the first ``left`` columns left-aligned (labels), the others right-aligned."""
    align = ["---"] * left + ["--:"] * (len(head) - left)
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def platform_summary() -> str:
    """Python and pymodbus versions, CPU count and OS, for the conditions line of a report."""
    import pymodbus

    return (f"Python {platform.python_version()}, pymodbus {pymodbus.__version__}, {os.cpu_count()} CPU(s), "
            f"{platform.system()} {platform.release()}")


def mosquitto_version() -> str:
    """The first line of ``mosquitto -h`` ("mosquitto 2.0.11"), for the conditions line of an MQTT report."""
    from daqlab.northbound.broker import find_tool

    out = subprocess.run([find_tool("mosquitto"), "-h"], capture_output=True, text=True).stdout
    first = out.splitlines()[0] if out else "mosquitto"
    return first.replace("version ", "")


def log(msg: str) -> None:
    """Progress for the operator: on stderr, so stdout holds only the report."""
    print(msg, file=sys.stderr, flush=True)
