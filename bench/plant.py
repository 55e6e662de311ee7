"""Benchmark: the simulated plant against a bare pymodbus server, side by side in one run, plus a
classroom load (many stations polled at a fixed rate).

Every server runs in its own child process (this script in a hidden ``--serve`` mode) and every
client runs in this process, so client and server never share one GIL. Both servers answer the
same request: FC 03, unit 1, holding registers 0x10..0x19 (10 registers; on the plant that is the
PLC nameplate and the start of its serial number, one readable block).

Measurements (all on 127.0.0.1, latency with ``time.perf_counter_ns``, every loop bounded in time
and in count):

1. one synchronous pymodbus client (``ModbusTcpClient``): requests/s, p50 and p99 latency in µs;
2. N concurrent raw asyncio clients (default 50 connections, one request in flight on each,
   MBAP frames built and parsed here, so the client side stays light): aggregate requests/s,
   p50 and p99 in ms;
3. classroom: a plant with 60 stations, one raw poller per station at 10 Hz on a fixed-rate
   schedule (poll i starts at start + phase + i * 0.1 s, no drift; phases spread evenly over the
   period), each poll = one FC 03 (PLC holding 0x10, 10 registers) then one FC 04 (PLC input
   registers 0..7) on the same connection: requests, achieved rate, p50/p99/max latency.

Ratios: plant / bare for throughput and bare / plant for latency, so a ratio above 1 always means
the plant is better. Bare and plant runs alternate (``--rounds``) so drift hits both alike.
``--profile`` instead runs only the plant child under cProfile with the loads 1 and 2 and prints
where its time goes, in µs per request.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pstats
import socket
import struct
import sys
import tempfile
import time
from pathlib import Path

if str(Path(__file__).parent) not in sys.path:  # run as a script or imported: find bench/_common.py
    sys.path.insert(0, str(Path(__file__).parent))
from _common import (  # noqa: E402
    HOST,
    ChildServer,
    Latencies,
    fmt,
    log,
    markdown_table,
    platform_summary,
    ratio,
    report_ready,
    stdin_closed,
)

UNIT = 1  #: PLC unit id, the same on every station variant
HOLDING = (3, 0x10, 10)  #: FC 03, address 0x10, 10 registers: the request compared on both servers
INPUT = (4, 0, 8)  #: FC 04, input registers 0..7: the second request of a classroom poll
SEED = 2024  #: plant seed (station variants)
MAX_REQUESTS = 5_000_000  #: hard cap on requests in any one measurement
IO_TIMEOUT = 3.0  #: seconds a client waits for a reply before counting the run as failed
WARMUP_S = 0.3  #: seconds of requests before measuring (connections, caches, CPU clock)

GOAL_RATIO, AIM_RATIO, GOAL_P99_MS = 0.9, 1.0, 10.0

_MBAP = struct.Struct(">HHHB")
_READ = struct.Struct(">BHH")


# ------------------------------------------------------------------------ server child
def serve(kind: str, stations: int, profile_out: str | None) -> int:
    """Child mode: start the server, print ``READY [ports]``, serve until stdin closes."""

    async def amain() -> None:
        if kind == "static":
            from daqlab.modbus import serve_static

            port = free_port()
            server = await serve_static(HOST, port)
            ports = [port]
        else:
            from daqlab.plant import Plant

            plant = await Plant(stations, base_port=0, seed=SEED).astart()
            ports = [plant.port(k) for k in range(1, stations + 1)]
        report_ready(ports)
        await stdin_closed()
        if kind == "static":
            await server.shutdown()
        else:
            await plant.astop()

    prof = None
    if profile_out:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    asyncio.run(amain())
    if prof is not None:
        prof.disable()
        prof.dump_stats(profile_out)
    return 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server(ChildServer):
    """A server child process: ``with Server("plant", 60) as srv: srv.ports``."""

    def __init__(self, kind: str, stations: int = 1, profile_out: str | None = None):
        args = ["--serve", kind, "--stations", str(stations)]
        if profile_out:
            args += ["--profile-out", profile_out]
        super().__init__(__file__, args, name=kind)


# ------------------------------------------------------------------------------ results
class Run(Latencies):
    """Latencies (ns) of the successful requests and counts of one measurement, possibly merged over rounds."""

    def __init__(self) -> None:
        super().__init__()
        self.errors = 0  #: exception replies, wrong replies

    def merge(self, other: Run) -> Run:
        super().merge(other)
        self.errors += other.errors
        return self


def frame(tid: int, fc: int, address: int, count: int, unit: int = UNIT) -> bytes:
    return _MBAP.pack(tid, 0, 6, unit) + _READ.pack(fc, address, count)


async def exchange(reader, writer, tid: int, fc: int, address: int, count: int) -> bool:
    """Send one read request and await its whole reply; True if it is the expected normal reply."""
    writer.write(frame(tid, fc, address, count))
    head = await reader.readexactly(7)
    rtid, pid, length, _unit = _MBAP.unpack(head)
    body = await reader.readexactly(length - 1)
    return rtid == tid and pid == 0 and body[0] == fc and body[1] == 2 * count and len(body) == 2 + 2 * count


# ------------------------------------------------------------------------- measurements
def sync_client(port: int, seconds: float) -> Run:
    """One pymodbus ModbusTcpClient in a tight loop of FC 03 reads."""
    from daqlab.modbus import ModbusException, ModbusTcpClient

    fc, address, count = HOLDING
    client = ModbusTcpClient(HOST, port=port, timeout=IO_TIMEOUT, retries=0)
    if not client.connect():
        raise RuntimeError(f"cannot connect to port {port}")
    run = Run()
    clock = time.perf_counter_ns
    try:
        warm_end = clock() + int(WARMUP_S * 1e9)
        for _ in range(MAX_REQUESTS):
            if clock() >= warm_end:
                break
            client.read_holding_registers(address, count=count, device_id=UNIT)
        start = clock()
        deadline = start + int(seconds * 1e9)
        t1 = start
        for _ in range(MAX_REQUESTS):
            t0 = clock()
            if t0 >= deadline:
                break
            try:
                rr = client.read_holding_registers(address, count=count, device_id=UNIT)
                ok = not rr.isError() and len(rr.registers) == count
            except ModbusException:
                ok = False
            t1 = clock()
            if ok:
                run.lat.append(t1 - t0)
            else:
                run.errors += 1
        run.elapsed_ns = t1 - start
    finally:
        client.close()
    return run


async def raw_clients(port: int, clients: int, seconds: float) -> Run:
    """``clients`` raw asyncio connections, each with one FC 03 request in flight at a time."""
    fc, address, count = HOLDING
    conns = await asyncio.gather(*(asyncio.open_connection(HOST, port) for _ in range(clients)))
    clock = time.perf_counter_ns
    start = clock() + int(WARMUP_S * 1e9)  # measuring starts after the warm-up
    deadline = start + int(seconds * 1e9)
    run = Run()
    last = [start]

    async def worker(reader, writer) -> None:
        lat = run.lat
        for tid in range(1, MAX_REQUESTS):
            t0 = clock()
            if t0 >= deadline:
                break
            ok = await exchange(reader, writer, tid & 0xFFFF, fc, address, count)
            t1 = clock()
            if t0 >= start:
                if ok:
                    lat.append(t1 - t0)
                else:
                    run.errors += 1
                last[0] = max(last[0], t1)

    try:
        async with asyncio.timeout(WARMUP_S + seconds + IO_TIMEOUT):
            await asyncio.gather(*(worker(r, w) for r, w in conns))
    finally:
        for _r, w in conns:
            w.close()
    run.elapsed_ns = last[0] - start
    return run


async def classroom(ports: list[int], rate_hz: float, seconds: float, progress) -> tuple[Run, dict]:
    """One poller per station at ``rate_hz``, fixed-rate schedule; each poll = FC 03 + FC 04."""
    period = 1.0 / rate_hz
    polls = max(1, round(seconds * rate_hz))
    conns = await asyncio.gather(*(asyncio.open_connection(HOST, p) for p in ports))
    run = Run()
    late = {"polls": 0, "late_polls": 0, "max_late_ms": 0.0}
    clock = time.perf_counter
    start = clock() + 0.2
    done = [0]

    async def poller(k: int, reader, writer) -> None:
        phase = k * period / len(ports)
        tid = 0
        for i in range(polls):
            target = start + phase + i * period  # fixed-rate: no drift, a late poll does not shift the next
            delay = target - clock()
            if delay > 0:
                await asyncio.sleep(delay)
            lateness = clock() - target
            late["polls"] += 1
            late["max_late_ms"] = max(late["max_late_ms"], lateness * 1e3)
            if lateness > period / 2:
                late["late_polls"] += 1
            for fc, address, count in (HOLDING, INPUT):
                tid = (tid + 1) & 0xFFFF
                t0 = time.perf_counter_ns()
                ok = await exchange(reader, writer, tid, fc, address, count)
                if ok:
                    run.lat.append(time.perf_counter_ns() - t0)
                else:
                    run.errors += 1
        done[0] = max(done[0], time.perf_counter_ns())

    async def tick() -> None:
        shown = 0
        while shown < int(seconds):
            await asyncio.sleep(1.0)
            shown += 1
            progress(1)

    ticker = asyncio.create_task(tick())
    t_start_ns = int(start * 1e9)
    try:
        async with asyncio.timeout(seconds + 0.2 + IO_TIMEOUT + 5):
            await asyncio.gather(*(poller(k, r, w) for k, (r, w) in enumerate(conns)))
    finally:
        ticker.cancel()
        for _r, w in conns:
            w.close()
    run.elapsed_ns = done[0] - t_start_ns
    return run, late


# ------------------------------------------------------------------------------- report
def table(res: dict, args, cls: Run, late: dict) -> str:
    b1, p1, bn, pn = res["bare_sync"], res["plant_sync"], res["bare_raw"], res["plant_raw"]
    n = args.clients
    target_rate = args.stations * args.rate * len((HOLDING, INPUT))  # two requests per poll
    rows = [
        ("1 sync pymodbus client: requests/s", fmt(b1.rate), fmt(p1.rate), ratio(p1.rate, b1.rate)),
        ("1 sync pymodbus client: p50 latency (µs)", fmt(b1.pct(.5) / 1e3), fmt(p1.pct(.5) / 1e3),
         ratio(b1.pct(.5), p1.pct(.5))),
        ("1 sync pymodbus client: p99 latency (µs)", fmt(b1.pct(.99) / 1e3), fmt(p1.pct(.99) / 1e3),
         ratio(b1.pct(.99), p1.pct(.99))),
        (f"{n} raw asyncio clients: requests/s", fmt(bn.rate), fmt(pn.rate), ratio(pn.rate, bn.rate)),
        (f"{n} raw asyncio clients: p50 latency (ms)", fmt(bn.pct(.5) / 1e6, 2), fmt(pn.pct(.5) / 1e6, 2),
         ratio(bn.pct(.5), pn.pct(.5))),
        (f"{n} raw asyncio clients: p99 latency (ms)", fmt(bn.pct(.99) / 1e6, 2), fmt(pn.pct(.99) / 1e6, 2),
         ratio(bn.pct(.99), pn.pct(.99))),
        ("errors (all runs above)", str(b1.errors + bn.errors), str(p1.errors + pn.errors), ""),
        (f"classroom {args.stations} stations × {args.rate:g} Hz: requests", "—", fmt(len(cls.lat)), ""),
        ("classroom: achieved rate (requests/s)", "—", f"{fmt(cls.rate)} of {fmt(target_rate)}", ""),
        ("classroom: p50 / p99 / max latency (ms)", "—",
         f"{cls.pct(.5) / 1e6:.2f} / {cls.pct(.99) / 1e6:.2f} / {cls.pct(1) / 1e6:.2f}", ""),
        (f"classroom: p99 < {GOAL_P99_MS:g} ms", "—", "yes" if cls.pct(.99) / 1e6 < GOAL_P99_MS else "NO", ""),
        (f"classroom: errors / polls started > {500 / args.rate:g} ms late", "—",
         f"{cls.errors} / {late['late_polls']}", ""),
    ]
    head = ("Measurement", "bare pymodbus", "plant (1 station)", "ratio (>1: plant better)")
    return markdown_table(head, rows)


def conditions(args) -> str:
    return (f"{platform_summary()}; servers in child processes, clients here; "
            f"{args.seconds:g} s per measurement ({args.rounds} alternating round(s), {WARMUP_S:g} s warm-up), "
            f"request FC 03 unit {UNIT} holding 0x{HOLDING[1]:X} × {HOLDING[2]}; classroom {args.classroom_seconds:g} s, "
            f"each poll = FC 03 (holding 0x{HOLDING[1]:X} × {HOLDING[2]}) + FC 04 (input {INPUT[1]} × {INPUT[2]}), "
            f"phases spread over the {1000 / args.rate:g} ms period.")


def verdict(res: dict, cls: Run) -> str:
    r1 = res["plant_sync"].rate / res["bare_sync"].rate if res["bare_sync"].rate else 0.0
    rn = res["plant_raw"].rate / res["bare_raw"].rate if res["bare_raw"].rate else 0.0
    worst = min(r1, rn)
    p99 = cls.pct(.99) / 1e6
    thr = "PASS" if worst >= GOAL_RATIO else "FAIL"
    aim = "aim met" if worst >= AIM_RATIO else "aim missed"
    cp = "PASS" if p99 < GOAL_P99_MS else "FAIL"
    return (f"Verdict: throughput plant/bare {r1:.2f}× (1 client), {rn:.2f}× (many clients) — goal >= {GOAL_RATIO} "
            f"{thr}, {aim} (>= {AIM_RATIO}); classroom p99 {p99:.2f} ms < {GOAL_P99_MS:g} ms {cp}.")


# --------------------------------------------------------------------------------- main
def compare(args) -> int:
    from tqdm import tqdm

    res = {k: Run() for k in ("bare_sync", "plant_sync", "bare_raw", "plant_raw")}
    each = args.seconds / args.rounds
    with Server("static") as bare, Server("plant") as plant:
        servers = (("bare", bare.ports[0]), ("plant", plant.ports[0]))
        for rnd in range(1, args.rounds + 1):
            for name, port in servers:
                r = sync_client(port, each)
                res[f"{name}_sync"].merge(r)
                log(f"round {rnd}/{args.rounds} {name:5s} 1 sync client      {r.rate:9,.0f} req/s  "
                    f"p50 {r.pct(.5) / 1e3:7.0f} µs  p99 {r.pct(.99) / 1e3:7.0f} µs")
            for name, port in servers:
                r = asyncio.run(raw_clients(port, args.clients, each))
                res[f"{name}_raw"].merge(r)
                log(f"round {rnd}/{args.rounds} {name:5s} {args.clients} raw clients     {r.rate:9,.0f} req/s  "
                    f"p50 {r.pct(.5) / 1e6:7.2f} ms  p99 {r.pct(.99) / 1e6:7.2f} ms")

    log(f"classroom: {args.stations} stations × {args.rate:g} Hz for {args.classroom_seconds:g} s ...")
    with Server("plant", args.stations) as many, \
            tqdm(total=int(args.classroom_seconds), unit="s", desc="classroom", file=sys.stderr,
                 disable=not sys.stderr.isatty(), leave=False) as bar:
        cls, late = asyncio.run(classroom(many.ports, args.rate, args.classroom_seconds, bar.update))
    log(f"classroom: {len(cls.lat):,} requests, {cls.rate:,.0f} req/s, p99 {cls.pct(.99) / 1e6:.2f} ms, "
        f"max {cls.pct(1) / 1e6:.2f} ms, max poll lateness {late['max_late_ms']:.1f} ms")

    print()
    print(conditions(args))
    print()
    print(table(res, args, cls, late))
    print()
    print(verdict(res, cls))
    return 0


def profile(args) -> int:
    """Run the plant child under cProfile with loads 1 and 2; print the top functions per request."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "plant.prof")
        with Server("plant", 1, profile_out=out) as plant:
            port = plant.ports[0]
            r1 = sync_client(port, args.seconds)
            rn = asyncio.run(raw_clients(port, args.clients, args.seconds))
        stats = pstats.Stats(out)
    # requests the child served, warm-up included: the calls of Station.handle
    served = sum(v[1] for (path, _line, name), v in stats.stats.items()
                 if name == "handle" and path.endswith("station.py"))
    served = served or len(r1.lat) + len(rn.lat)
    log(f"profiled plant: 1 sync client {r1.rate:,.0f} req/s, {args.clients} raw clients {rn.rate:,.0f} req/s "
        f"(cProfile slows the server: compare rates only without --profile)")
    print(f"\nPlant child under cProfile: {served:,} requests served (warm-up included); "
          f"µs/request = profiled time / requests served.\n")
    top = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:args.top]
    rows = []
    for (path, line, name), (_cc, nc, tt, ct, _callers) in top:
        where = f"{os.path.basename(path)}:{line}({name})" if line else name
        rows.append((f"`{where}`", f"{nc:,}", f"{tt / served * 1e6:.2f}", f"{ct / served * 1e6:.2f}"))
    print(markdown_table(("function", "calls", "own µs/request", "cumulative µs/request"), rows))
    idle = sum(v[2] for (_p, _l, name), v in stats.stats.items() if "'poll' of 'select" in name)
    total = sum(v[2] for v in stats.stats.values()) - idle
    print(f"\nBusy time in the child (idle epoll.poll excluded): {total / served * 1e6:.1f} µs/request "
          f"(profiler overhead included).")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="bench/plant.py",
        description="The simulated plant vs a bare pymodbus server, side by side (ratios), and a classroom "
                    "load of many stations polled at a fixed rate. Prints a Markdown table for README.",
        epilog="examples:\n"
               "  python bench/plant.py                 # full run (about 1 minute)\n"
               "  python bench/plant.py --quick         # smoke run (about 10 s)\n"
               "  python bench/plant.py --seconds 10 --classroom-seconds 60\n"
               "  python bench/plant.py --profile       # where the plant's time goes (cProfile)",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="short durations (1 s per measurement, classroom 3 s)")
    p.add_argument("--seconds", type=float, default=None, help="seconds per measurement and server (default 5)")
    p.add_argument("--classroom-seconds", type=float, default=None, help="classroom duration (default 30)")
    p.add_argument("--rounds", type=int, default=None, help="alternating bare/plant rounds (default 2)")
    p.add_argument("--clients", type=int, default=50, help="concurrent raw clients (default 50)")
    p.add_argument("--stations", type=int, default=60, help="classroom stations (default 60)")
    p.add_argument("--rate", type=float, default=10.0, help="classroom polls per second per station (default 10)")
    p.add_argument("--profile", action="store_true",
                   help="only profile the plant child (cProfile) under the 1-client and many-client loads")
    p.add_argument("--top", type=int, default=20, help="functions listed by --profile (default 20)")
    # hidden child mode: serve and report the ports
    p.add_argument("--serve", choices=("static", "plant"), help=argparse.SUPPRESS)
    p.add_argument("--profile-out", help=argparse.SUPPRESS)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if args.serve:
        return serve(args.serve, args.stations, args.profile_out)
    if args.seconds is None:
        args.seconds = 1.0 if args.quick else 5.0
    if args.classroom_seconds is None:
        args.classroom_seconds = 3.0 if args.quick else 30.0
    if args.rounds is None:
        args.rounds = 1 if args.quick else 2
    if not (0 < args.seconds <= 600 and 0 < args.classroom_seconds <= 600 and 1 <= args.rounds <= 20
            and 1 <= args.clients <= 1000 and 1 <= args.stations <= 500 and 0 < args.rate <= 100):
        parser().error("out of range: seconds/classroom-seconds 0..600, rounds 1..20, clients 1..1000, "
                       "stations 1..500, rate 0..100")
    return profile(args) if args.profile else compare(args)


if __name__ == "__main__":
    sys.exit(main())
