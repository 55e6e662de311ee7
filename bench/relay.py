"""Benchmark: what a lesson at a real bench pays for its relay — scans direct to the station against scans through
the lesson's relay (daqlab.wirerelay: every frame parsed, recorded, checked for faults), side by side in one run.

A trainee at a bench runs the lessons through a relay on 127.0.0.1 (daqlab.lesson.BenchStation). What they wait for
is a lesson's read: one scan of the station's whole tag table (77 tags, ``Reader(url, max_gap=8).read(tags)``,
9 requests) and one single-register read (``read_input_registers``, the lessons' first steps). The station is the
textbook one served by a child process (bench/acquisition.py's serve mode: client and server never share one GIL);
the relay runs in this process, as in a lesson's kernel. Variants alternate (``--rounds``, the order reversed every
other round). Reported: p50/p99 latency and rate per variant, and relay/direct ratios of the p50 latencies (1.0 = no
cost). A real bench answers in milliseconds over its gateway; the relay's cost is to be read against that.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if str(Path(__file__).parent) not in sys.path:  # run as a script or imported: find bench/_common.py
    sys.path.insert(0, str(Path(__file__).parent))
from _common import Latencies, fmt, log, markdown_table, platform_summary, ratio  # noqa: E402
from acquisition import Server  # noqa: E402

MAX_OPS = 1_000_000  #: hard cap on operations in any one measurement
VARIANTS = ("direct", "relay")


def measure(op, seconds: float) -> Latencies:
    lat = Latencies()
    t_end = time.perf_counter() + seconds
    t0 = time.perf_counter_ns()
    n = 0
    while time.perf_counter() < t_end and n < MAX_OPS:
        t = time.perf_counter_ns()
        op()
        lat.lat.append(time.perf_counter_ns() - t)
        n += 1
    lat.elapsed_ns = time.perf_counter_ns() - t0
    return lat


def compare(args) -> int:
    from daqlab.acquisition import Reader
    from daqlab.benches import loads_bench
    from daqlab.modbus import ModbusTcpClient
    from daqlab.wirerelay import WireRelay

    with Server(textbook=True) as srv:
        bench = loads_bench((Path(__file__).resolve().parents[1] / "benches" / "textbook.yaml").read_text(
            encoding="utf-8").replace("tcp://127.0.0.1:5021", srv.url))
        tags = bench.tags()
        relay = WireRelay(("127.0.0.1", srv.port), bench.station_model())
        ports = {"direct": srv.port, "relay": relay.port}
        readers = {v: Reader(f"tcp://127.0.0.1:{p}", max_gap=8, timeout=3.0).connect() for v, p in ports.items()}
        clients = {v: ModbusTcpClient("127.0.0.1", port=p, timeout=3.0, retries=0) for v, p in ports.items()}
        for c in clients.values():
            c.connect()
        ops = {"scan": {v: (lambda r=readers[v]: r.read(tags)) for v in VARIANTS},
               "read": {v: (lambda c=clients[v]: c.read_input_registers(1, count=2, device_id=2)) for v in VARIANTS}}
        runs = {(kind, v): Latencies() for kind in ops for v in VARIANTS}
        per = args.seconds / args.rounds / 2
        for k in range(args.rounds):
            order = VARIANTS if k % 2 == 0 else tuple(reversed(VARIANTS))
            for kind in ops:
                for v in order:
                    measure(ops[kind][v], min(0.2, per))  # warm-up
                    runs[(kind, v)].merge(measure(ops[kind][v], per))
                    log(f"round {k + 1}/{args.rounds} {kind} {v}: {len(runs[(kind, v)].lat)} so far")
        bad = sum(1 for s in [readers["relay"].read(tags)] for q in s.quality.values() if q != "good")
        recorded = len(relay.wire.entries())
        for r in readers.values():
            r.close()
        for c in clients.values():
            c.close()
        relay.close()
    rows = []
    for kind, what in (("scan", "whole tag table (77 tags, 9 requests)"), ("read", "one read (2 registers)")):
        d, r = runs[(kind, "direct")], runs[(kind, "relay")]
        for v, lat in (("direct", d), ("relay", r)):
            rows.append((what if v == "direct" else "", v, str(len(lat.lat)), fmt(lat.pct(0.5) / 1e3, 0),
                         fmt(lat.pct(0.99) / 1e3, 0), fmt(lat.rate, 0),
                         ratio(r.pct(0.5), d.pct(0.5)) if v == "relay" else ""))
    print(markdown_table(("what the lesson waits for", "path", "n", "p50 µs", "p99 µs", "per s",
                          "relay/direct p50"), rows, left=2))
    print(f"\n{platform_summary()}; {args.rounds} rounds, {args.seconds:g} s per operation; "
          f"the relay recorded {recorded} requests; last relayed scan: {77 - bad}/77 tags good")
    return 0 if bad == 0 else 1


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="bench/relay.py", description=__doc__.split("\n\n")[0],
        epilog="Examples:\n  python bench/relay.py            # 4 s per operation, 2 rounds (about 20 s)\n"
               "  python bench/relay.py --quick    # smoke run (about 5 s)",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="short durations (0.5 s per operation)")
    p.add_argument("--seconds", type=float, default=None, help="seconds per operation, over all rounds (default 4)")
    p.add_argument("--rounds", type=int, default=2, help="alternating rounds (default 2)")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if args.seconds is None:
        args.seconds = 0.5 if args.quick else 4.0
    if not (0 < args.seconds <= 600 and 1 <= args.rounds <= 20):
        parser().error("out of range: seconds 0..600, rounds 1..20")
    return compare(args)


if __name__ == "__main__":
    sys.exit(main())
