"""`daqlab bench check|datasheet|tags|probe`: a real bench's description (daqlab.benches)."""

from __future__ import annotations

import sys


def add_parsers(sub, fmt) -> None:
    p = sub.add_parser("bench", formatter_class=fmt, help="describe a real bench (devices, connections, maps)",
                       description="A real bench (PLC, meter, T/H transmitter, VFD, analog module behind Modbus TCP "
                                   "or RS-485) described in one YAML file whose register maps are the simulator's "
                                   "device classes (see daqlab.benches and benches/example-bench.yaml).",
                       epilog="Examples:\n  daqlab bench check benches/example-bench.yaml\n"
                              "  daqlab bench datasheet benches/example-bench.yaml > bench3.md\n"
                              "  daqlab bench tags benches/example-bench.yaml > bench3-tags.csv\n"
                              "  daqlab bench probe benches/example-bench.yaml    # read every tag once")
    bsub = p.add_subparsers(dest="bench_command", required=True, metavar="ACTION")
    for name, text in (("check", "check a description: every problem with its file and line"),
                       ("datasheet", "print the bench's datasheet (Markdown), as for a simulated station"),
                       ("tags", "print the bench's tag table (CSV: 0-based addresses, manual references beside)"),
                       ("probe", "read every tag once and report per device what answered (exit 1 if anything "
                                 "did not, or read implausibly)")):
        a = bsub.add_parser(name, formatter_class=fmt, help=text, description=text,
                            epilog=f"Example:\n  daqlab bench {name} benches/example-bench.yaml")
        a.add_argument("file", help="bench description (YAML)")
        if name == "probe":
            a.add_argument("--timeout", type=float, default=1.0, metavar="S", help="reply timeout per request")


def run(args) -> int:
    from daqlab.benches import BenchError, load_bench, probe

    try:
        bench = load_bench(args.file)
    except BenchError as exc:
        print(f"daqlab: {exc}", file=sys.stderr)
        return 2
    cmd = args.bench_command
    if cmd == "check":
        kinds = ", ".join(f"{d.kind}={d.unit}" for d in sorted(bench.devices.values(), key=lambda d: d.unit))
        print(f"{args.file}: OK — {bench.name}, station {bench.station}: {kinds}; {len(bench.tags())} tags on "
              f"{len(bench.urls())} connection(s)")
        return 0
    if cmd == "datasheet":
        print(bench.datasheet())
        return 0
    if cmd == "tags":
        import csv

        from daqlab.acquisition.tags import to_rows

        rows = to_rows(bench.tags())
        w = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        return 0
    report = probe(bench, timeout=args.timeout)
    ok = True
    for r in report:
        line = f"{r['device']:<6} unit {r['unit']:<3} {r['url']}: {r['good']}/{r['tags']} good"
        if r["bad"]:
            ok = False
            first = next(iter(r["bad"].items()))
            line += f"; {len(r['bad'])} not ({first[0]}: {first[1]}" + (", ..." if len(r["bad"]) > 1 else "") + ")"
        for odd in r["implausible"]:
            ok = False
            line += f"; implausible: {odd}"
        print(line)
    return 0 if ok else 1
