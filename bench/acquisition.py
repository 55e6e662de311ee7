"""Benchmark: naive reads (one request per tag) against planned, coalesced reads, side by side in one run.

One plant station (``Plant(1, seed=7)``, or the textbook station with ``--textbook``) runs in a child
process (this script in a hidden ``--serve`` mode, on a free port), so client and server never share one
GIL. This process scans the station's full tag table (77 tags: every point of its five devices) in three
ways, each on its own connection:

1. **naive**: one read request per tag (``daqlab.acquisition.planner.naive``), sent with the same
   reader, client and error handling as the planned scans (``Reader._execute``) and decoded tag by tag;
2. **planned, max_gap=0**: ``Reader(url, max_gap=0).read(tags)``, only touching tags share a request;
3. **planned, max_gap=8**: ``Reader(url, max_gap=8).read(tags)``, holes of up to 8 registers inside a
   block are read and thrown away (the plant serves them; a real device's datasheet must allow it).

Per variant: requests per scan, scans/s, p50/p99 scan latency (``time.perf_counter_ns`` around each
whole scan) and scans in which a tag was missing or its quality was not ``"good"``. Ratios are against
naive: requests naive/planned and scans/s planned/naive, so a ratio above 1 means the planner helps.
Variants alternate (``--rounds``, the order reversed every other round) so drift hits them alike; every
loop is bounded in time and in count. The read plan for max_gap=8 is printed under the table because
trainees learn from it (what was coalesced, how many registers were filled).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
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

STATION = 1  #: the station served and scanned
SEED = 7  #: plant seed (station variant)
GAP = 8  #: max_gap of the coalescing variant: the plant serves holes of up to 8 registers inside a block
MAX_SCANS = 1_000_000  #: hard cap on scans in any one measurement
IO_TIMEOUT = 3.0  #: seconds the reader waits for a reply before the tag's quality becomes "timeout"
WARMUP_S = 0.3  #: seconds of scans before measuring (connections, caches, CPU clock)

GOAL_REQUESTS, GOAL_RATE = 5.0, 4.0  #: max_gap=8 vs naive: >= 5x fewer requests, >= 4x the scan rate

VARIANTS = ("naive", "gap0", f"gap{GAP}")
LABELS = {"naive": "naive (1 request per tag)", "gap0": "planned, max_gap=0", f"gap{GAP}": f"planned, max_gap={GAP}"}
PLAN_COLUMNS = ("unit", "FC", "area", "address", "count", "tags", "filled")


# ------------------------------------------------------------------------ server child
def serve(textbook: bool) -> int:
    """Child mode: start one plant station on a free port, print ``READY [port]``, serve until stdin closes."""

    async def amain() -> None:
        from daqlab.plant import Plant

        plant = await Plant(STATION, seed=SEED, textbook=textbook, base_port=0).astart()
        report_ready([plant.port(STATION)])
        await stdin_closed()
        await plant.astop()

    asyncio.run(amain())
    return 0


class Server(ChildServer):
    """The plant child process: ``with Server(textbook=False) as srv: srv.port``."""

    def __init__(self, textbook: bool = False):
        super().__init__(__file__, ["--serve"] + (["--textbook"] if textbook else []), name="plant")

    @property
    def port(self) -> int:
        return self.ports[0]

    @property
    def url(self) -> str:
        return f"tcp://{HOST}:{self.port}"


# ------------------------------------------------------------------------------ results
class Run(Latencies):
    """Scan latencies (ns, failed scans too) and counts of one variant, possibly merged over rounds.

    ``rate`` is scans per second.
    """

    def __init__(self) -> None:
        super().__init__()
        self.requests = 0  #: Modbus requests sent by the measured scans
        self.failed = 0  #: scans in which a tag was missing or not "good"
        self.bad: dict[str, str] = {}  #: tag name -> last bad quality seen (for the log)

    def merge(self, other: Run) -> Run:
        super().merge(other)
        self.requests += other.requests
        self.failed += other.failed
        self.bad.update(other.bad)
        return self

    @property
    def scans(self) -> int:
        return len(self.lat)

    @property
    def per_scan(self) -> float:
        """Requests per scan."""
        return self.requests / self.scans if self.scans else math.nan


# ---------------------------------------------------------------------------- the scans
def naive_scan(reader, requests) -> tuple[int, dict]:
    """One scan with one request per tag: (requests sent, tag name -> quality).

    Uses the reader's own request path (same client, same timeout and reconnect handling) but no
    planner; qualities follow the reader's rules (exception/timeout, decode error, non-finite = invalid).
    """
    quality = {}
    for req in requests:
        reply = reader._execute(req)
        tag = req.tags[0]
        if isinstance(reply, tuple):
            kind, detail = reply
            quality[tag.name] = "timeout" if kind == "timeout" else f"exception {detail:02X}"
            continue
        try:
            value = tag.decode(req.words_for(tag, reply))
        except Exception:  # a value the type cannot represent: flag it, keep scanning
            quality[tag.name] = "decode error"
            continue
        quality[tag.name] = "invalid" if isinstance(value, float) and not math.isfinite(value) else "good"
    return len(requests), quality


def scanner(variant: str, reader, tags):
    """A function that runs one scan of ``tags`` and returns (requests sent, tag name -> quality)."""
    if variant == "naive":
        from daqlab.acquisition.planner import naive

        requests = list(naive(tags))
        return lambda: naive_scan(reader, requests)

    def planned() -> tuple[int, dict]:
        sample = reader.read(tags)
        return sample.requests, sample.quality

    return planned


def measure(scan, names: list[str], seconds: float) -> Run:
    """Warm up, then scan in a tight loop for ``seconds``; check every tag of every scan."""
    clock = time.perf_counter_ns
    warm_end = clock() + int(WARMUP_S * 1e9)
    for _ in range(MAX_SCANS):
        if clock() >= warm_end:
            break
        scan()
    expected = set(names)
    run = Run()
    start = clock()
    deadline = start + int(seconds * 1e9)
    t1 = start
    for _ in range(MAX_SCANS):
        t0 = clock()
        if t0 >= deadline:
            break
        sent, quality = scan()
        t1 = clock()
        run.lat.append(t1 - t0)
        run.requests += sent
        if quality.keys() != expected or any(q != "good" for q in quality.values()):
            run.failed += 1
            run.bad.update({n: quality.get(n, "missing") for n in names if quality.get(n) != "good"})
    run.elapsed_ns = t1 - start
    return run


# ------------------------------------------------------------------------------- report
def table(res: dict[str, Run]) -> str:
    base = res["naive"]
    head = ("Variant", "requests/scan", "scans/s", "p50 scan (ms)", "p99 scan (ms)", "failed scans / scans",
            "requests: naive/this", "scans/s: this/naive")
    rows = []
    for v in VARIANTS:
        r = res[v]
        rows.append((LABELS[v], fmt(r.per_scan, 1), fmt(r.rate), fmt(r.pct(.5) / 1e6, 2), fmt(r.pct(.99) / 1e6, 2),
                     f"{r.failed:,} / {r.scans:,}", ratio(base.per_scan, r.per_scan), ratio(r.rate, base.rate)))
    return markdown_table(head, rows)


def plan_table(plan) -> str:
    """The read plan as a Markdown table (columns of ``Plan.table()`` without the tag names)."""
    df = plan.table()
    rows = []
    for row in df.itertuples(index=False):
        d = row._asdict()
        rows.append([str(d[c]) for c in PLAN_COLUMNS])
    filled = int(df["filled"].sum()) if len(df) else 0
    read = int(df["count"].sum()) if len(df) else 0
    return (markdown_table(PLAN_COLUMNS, rows, left=0) + f"\n\n{len(plan)} requests for {plan.tags} tags; "
            f"{read} registers/bits read, {filled} of them gap fill (read and thrown away).")


def conditions(args, tags) -> str:
    station = "textbook station" if args.textbook else f"Plant(1, seed={SEED}) station {STATION}"
    return (f"{platform_summary()}; {station} in a child process, readers here (sync "
            f"ModbusTcpClient, one connection per variant); full tag table {len(tags)} tags; {args.seconds:g} s "
            f"per variant ({args.rounds} alternating round(s), {WARMUP_S:g} s warm-up each).")


def verdict(res: dict[str, Run]) -> str:
    base, best = res["naive"], res[f"gap{GAP}"]
    req = base.per_scan / best.per_scan if best.per_scan else 0.0
    rate = best.rate / base.rate if base.rate else 0.0
    failed = sum(r.failed for r in res.values())
    ok = (req >= GOAL_REQUESTS, rate >= GOAL_RATE, failed == 0)
    word = ("PASS", "FAIL")
    return (f"Verdict: planned (max_gap={GAP}) vs naive: {req:.2f}× fewer requests (goal >= {GOAL_REQUESTS:g}×) "
            f"{word[not ok[0]]}, {rate:.2f}× the scan rate (goal >= {GOAL_RATE:g}×) {word[not ok[1]]}; "
            f"every scan decoded every tag good: {'yes' if ok[2] else f'NO ({failed:,} failed scans)'}.")


# --------------------------------------------------------------------------------- main
def compare(args) -> int:
    from daqlab.acquisition.reader import Reader
    from daqlab.plant.tags import tag_table

    # the same table the child's plant.tags(1) gives: stations are deterministic by seed
    tags = tag_table(STATION, seed=SEED, textbook=args.textbook)
    names = [t.name for t in tags]
    res = {v: Run() for v in VARIANTS}
    each = args.seconds / args.rounds
    with Server(args.textbook) as srv:
        readers = {"naive": Reader(srv.url, timeout=IO_TIMEOUT),
                   "gap0": Reader(srv.url, timeout=IO_TIMEOUT, max_gap=0),
                   f"gap{GAP}": Reader(srv.url, timeout=IO_TIMEOUT, max_gap=GAP)}
        try:
            for r in readers.values():
                r.connect()
            scans = {v: scanner(v, readers[v], tags) for v in VARIANTS}
            for rnd in range(1, args.rounds + 1):
                order = VARIANTS if rnd % 2 else VARIANTS[::-1]
                for v in order:
                    r = measure(scans[v], names, each)
                    res[v].merge(r)
                    log(f"round {rnd}/{args.rounds} {LABELS[v]:26s} {r.per_scan:5.1f} req/scan "
                        f"{r.rate:8,.0f} scans/s  p50 {r.pct(.5) / 1e6:6.2f} ms  p99 {r.pct(.99) / 1e6:6.2f} ms  "
                        f"failed {r.failed}")
            final_plan = readers[f"gap{GAP}"].plan(tags)  # with any request the device refused split per tag
        finally:
            for r in readers.values():
                r.close()
    for v in VARIANTS:
        if res[v].bad:
            shown = ", ".join(f"{n}: {q}" for n, q in list(res[v].bad.items())[:5])
            log(f"{LABELS[v]}: bad tags seen: {shown}")

    print()
    print(conditions(args, tags))
    print()
    print(table(res))
    print()
    print(verdict(res))
    print()
    print(f"Read plan, max_gap={GAP} (FC 01 coils, 02 discrete inputs, 03 holding, 04 input registers; "
          f"0-based addresses; filled = registers read that no tag uses):")
    print()
    print(plan_table(final_plan))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="bench/acquisition.py",
        description="Naive reads (one request per tag) vs planned, coalesced reads (max_gap=0 and "
                    f"max_gap={GAP}) of one plant station's full tag table, side by side (ratios). Prints a "
                    f"Markdown table for README and the max_gap={GAP} read plan.",
        epilog="examples:\n"
               "  python bench/acquisition.py               # full run (about 20 s)\n"
               "  python bench/acquisition.py --quick       # smoke run (about 6 s)\n"
               "  python bench/acquisition.py --textbook    # the textbook station instead of seed 7's\n"
               "  python bench/acquisition.py --seconds 10 --rounds 4",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="short durations (1 s per variant)")
    p.add_argument("--seconds", type=float, default=None, help="seconds per variant, over all rounds (default 5)")
    p.add_argument("--rounds", type=int, default=2, help="alternating rounds (default 2)")
    p.add_argument("--textbook", action="store_true",
                   help="serve the textbook station (default unit ids and layout) instead of a seeded variant")
    # hidden child mode: serve the station and report its port
    p.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if args.serve:
        return serve(args.textbook)
    if args.seconds is None:
        args.seconds = 1.0 if args.quick else 5.0
    if not (0 < args.seconds <= 600 and 1 <= args.rounds <= 20):
        parser().error("out of range: seconds 0..600, rounds 1..20")
    return compare(args)


if __name__ == "__main__":
    sys.exit(main())
