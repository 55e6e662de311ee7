"""`daqlab ...`: a thin shell over the library. Every command has --help with an example."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import urllib.request

DEFAULT_BASE_PORT = 5020


def _parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    p = argparse.ArgumentParser(prog="daqlab", formatter_class=fmt,
                                description="DAQ Lab: industrial data-acquisition courseware (工业互联网技术·数据采集).",
                                epilog="Examples:\n  daqlab lab                       # plant + JupyterLab with the lessons\n"
                                       "  daqlab plant serve --stations 30 # a classroom plant\n"
                                       "  daqlab plant datasheet --station 3\n"
                                       "  daqlab exam build && daqlab course generate\n"
                                       "  daqlab dashboard results         # results dashboard (Voila)\n"
                                       "  daqlab hub serve                 # the classroom JupyterHub\n"
                                       "  daqlab --debug course grade practical-1-identify   # a traceback on errors")
    p.add_argument("--debug", action="store_true", dest="show_traceback",
                   help="show the full traceback when a command fails (put it before the command)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    lab = sub.add_parser("lab", formatter_class=fmt, help="start the plant and JupyterLab on the lessons",
                         description="Start a plant (station 1 is yours) and JupyterLab on notebooks/, on 127.0.0.1.",
                         epilog="Examples:\n  daqlab lab --stations 2 --port 8888\n"
                                "  daqlab lab --bench benches/bench-01.yaml   # the trainee sits at a real bench")
    lab.add_argument("--stations", type=int, default=2, help="stations to simulate (default 2)")
    lab.add_argument("--base-port", type=int, default=DEFAULT_BASE_PORT, help="station k listens on BASE+k (default 5020)")
    lab.add_argument("--seed", type=int, default=0, help="plant seed (default 0)")
    lab.add_argument("--port", type=int, default=8888, help="JupyterLab port (default 8888)")
    lab.add_argument("--bench", default=None, metavar="FILE",
                     help="the trainee's station is this real bench (a description, see `daqlab bench check`)")
    lab.add_argument("--notebooks", default=None, help="folder to open (default: notebooks/ of this checkout)")
    lab.add_argument("--token", default=None, help="JupyterLab token (default: a random one, printed)")
    lab.add_argument("--opcua-port", type=int, default=4840,
                     help="OPC UA port of station 1 (default 4840; a free port if taken; 0 = a free port)")

    plant = sub.add_parser("plant", formatter_class=fmt, help="serve, inspect and drive the simulated plant",
                           description="The simulated production cell: serve it, print datasheets, switch faults.",
                           epilog="Examples:\n  daqlab plant serve --stations 30 --base-port 5020 --seed 7\n"
                                  "  daqlab plant fault --station 3 --device meter --mode offline")
    psub = plant.add_subparsers(dest="plant_command", required=True, metavar="ACTION")

    serve = psub.add_parser("serve", formatter_class=fmt, help="serve N stations over Modbus TCP (foreground)",
                            description="Serve N stations, station k on TCP port BASE+k, and the control API on BASE. "
                                        "Ctrl-C stops cleanly.",
                            epilog="Examples:\n  daqlab plant serve --stations 30 --base-port 5020 --seed 7\n"
                                   "  daqlab plant serve --stations 1 --speed 10 --log requests.jsonl\n"
                                   "  daqlab plant serve --fault 2:th:broken --fault 1:meter:latency=300\n"
                                   "  daqlab plant serve --rtu 1:/dev/ttyUSB0\n"
                                   "  daqlab plant serve --rfc2217 1:7001 --wiring 1:no_termination   # a judging RS-485 bus\n"
                                   "  daqlab plant serve --stations 2 --opcua-base-port 4840   # OPC UA on 4841, 4842")
    serve.add_argument("--stations", type=int, default=1, help="number of stations (default 1)")
    serve.add_argument("--base-port", type=int, default=DEFAULT_BASE_PORT, help="station k on BASE+k (default 5020)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--seed", type=int, default=0, help="plant seed: variants, noise, events (default 0)")
    serve.add_argument("--speed", type=float, default=1.0, help="plant seconds per wall second (default 1)")
    serve.add_argument("--frozen", action="store_true", help="freeze plant time (advance with `daqlab plant advance`)")
    serve.add_argument("--textbook", action="store_true", help="every station uses the textbook variant (units 1-5, ABCD, x10)")
    serve.add_argument("--log", default=None, help="append the served-request log to this JSONL file")
    serve.add_argument("--unknown-unit", choices=("exception", "silent"), default="exception",
                       help="answer unknown unit ids with exception 0B (default) or not at all")
    serve.add_argument("--fault", action="append", default=[], metavar="ST:DEVICE:MODE[=VALUE]",
                       help="switch a fault on at start (repeatable)")
    serve.add_argument("--rtu", action="append", default=[], metavar="ST:DEVICE_PATH",
                       help="also serve station ST as Modbus RTU on a serial device (repeatable)")
    serve.add_argument("--rfc2217", action="append", default=[], metavar="ST:PORT",
                       help="also serve station ST's RS-485 bus behind a serial device server: RFC 2217 on TCP PORT "
                            "(0 = free), judging the client's baud rate, parity, data and stop bits (repeatable)")
    serve.add_argument("--wiring", action="append", default=[], metavar="ST:STATE",
                       help="wire station ST's RS-485 bus: ok, ab_swapped or no_termination (repeatable)")
    serve.add_argument("--token", default=os.environ.get("DAQLAB_CONTROL_TOKEN"),
                       help="require this X-DAQLab-Token on the control API (default $DAQLAB_CONTROL_TOKEN)")
    serve.add_argument("--black-box", action="store_true",
                       help="serve Modbus only, as a real device: no control API (no truth, no request log, no "
                            "faults from outside) — to rehearse grading against a real bench")
    serve.add_argument("--owners", default=None, metavar="FILE",
                       help="station owners (JSON written by `daqlab hub serve`): a station accepts Modbus TCP "
                            "(and its --rfc2217 bus) only from its owner's OS account, the staff and root")
    serve.add_argument("--opcua-base-port", type=int, default=None, metavar="P",
                       help="also serve every station over OPC UA, station k on port P+k (0 = free ports; "
                            "default: no OPC UA). Security None: for 127.0.0.1 training only")

    ds = psub.add_parser("datasheet", formatter_class=fmt, help="print a station's datasheet (Markdown)",
                         description="Print the datasheet of a station: unit ids, register maps with PDU addresses "
                                     "and manual references, data types, byte orders, scaling, serial settings.",
                         epilog="Example:\n  daqlab plant datasheet --station 3 --seed 7 > station3.md")
    ds.add_argument("--station", type=int, default=1, help="station number (default 1)")
    ds.add_argument("--seed", type=int, default=0, help="plant seed (default 0)")
    ds.add_argument("--textbook", action="store_true", help="the textbook variant")
    ds.add_argument("--base-port", type=int, default=DEFAULT_BASE_PORT, help="to print the endpoint (default 5020)")
    ds.add_argument("--host", default="127.0.0.1", help="to print the endpoint")

    def control(name, help_, example):
        c = psub.add_parser(name, formatter_class=fmt, help=help_, description=help_ + " (talks to a running plant's "
                            "control API on 127.0.0.1:BASE).", epilog="Example:\n  " + example)
        c.add_argument("--base-port", type=int, default=DEFAULT_BASE_PORT, help="the plant's base port (default 5020)")
        c.add_argument("--host", default="127.0.0.1", help="the plant's host (default 127.0.0.1)")
        c.add_argument("--token", default=os.environ.get("DAQLAB_CONTROL_TOKEN"), help="control token, if the plant has one")
        return c

    control("status", "show plant time, stations, ports and active faults", "daqlab plant status")
    f = control("fault", "switch a fault on (or off) on a device of a running plant",
                "daqlab plant fault --station 3 --device meter --mode drop --value 20\n"
                "  daqlab plant fault --station 3 --device bus --mode ab_swapped   # RS-485 wiring (rfc2217/rtu lines)\n"
                "  daqlab plant fault --station 3 --clear   # clear all faults of station 3")
    f.add_argument("--station", type=int, required=True, help="station number")
    f.add_argument("--device", default=None, help="plc, th, meter, vfd, ai (or a unit id); bus: the RS-485 wiring")
    f.add_argument("--mode", default=None, help="offline, latency (ms), drop (%%), exception (code), broken, stuck, "
                                                "spikes (%%); for --device bus: ab_swapped, no_termination")
    f.add_argument("--value", default="on", help="value for the mode; 0/off switches it off (default on)")
    f.add_argument("--clear", action="store_true", help="clear the device's (or the station's) faults")
    lg = control("log", "print the last served requests of a station", "daqlab plant log --station 1 --limit 20")
    lg.add_argument("--station", type=int, default=1, help="station number (default 1)")
    lg.add_argument("--limit", type=int, default=20, help="entries (default 20)")
    sc = control("scenario", "reset stations and switch a drill scenario on",
                 "daqlab plant scenario troubleshoot --station all\n  daqlab plant scenario clean --station 3")
    sc.add_argument("name", choices=("clean", "decode", "acquire", "troubleshoot", "final", "mock"),
                    help="clean, decode, acquire, troubleshoot, final or mock (see daqlab.plant.scenarios)")
    sc.add_argument("--station", default="all", help="station number or 'all' (default all)")
    adv = control("advance", "advance a frozen plant's clock", "daqlab plant advance --seconds 10")
    adv.add_argument("--seconds", type=float, required=True, help="plant seconds to advance")
    from daqlab.cli import bench as cli_bench
    from daqlab.cli import broker as cli_broker
    from daqlab.cli import dashboard as cli_dashboard
    from daqlab.cli import exam as cli_exam
    from daqlab.cli import gateway as cli_gateway
    from daqlab.cli import hub as cli_hub
    from daqlab.cli import lessons as cli_lessons

    cli_exam.add_parsers(sub, fmt)
    cli_dashboard.add_parsers(sub, fmt)
    cli_hub.add_parsers(sub, fmt)
    cli_broker.add_parsers(sub, fmt)
    cli_lessons.add_parsers(sub, fmt)
    cli_gateway.add_parsers(sub, fmt)
    cli_bench.add_parsers(sub, fmt)
    return p


def main(argv=None) -> int:
    """Run one command. An error is one line on stderr (what is wrong, what to do) and exit code 2;
    ``--debug`` shows the traceback instead."""
    args = _parser().parse_args(argv)
    if args.show_traceback:
        return _dispatch(args)
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        print("stopped (Ctrl-C)", file=sys.stderr)
        return 130
    except SystemExit:
        raise
    except Exception as exc:  # one clear line, never a traceback (--debug shows it)
        print(f"daqlab: {_one_line(exc)}", file=sys.stderr)
        return 2


def _one_line(exc: BaseException) -> str:
    known = ("GradingError", "StatusError", "RosterError", "BankError", "GraderError", "SandboxUnavailable",
             "SecretsError", "BenchError")
    text = " ".join(str(exc).split()) or type(exc).__name__
    if type(exc).__name__ in known:
        return text
    if isinstance(exc, FileNotFoundError):
        why = exc.strerror if exc.strerror and exc.strerror != "No such file or directory" else \
            "no such file or folder (check the path)"
        return f"{exc.filename or text}: {why}"
    if isinstance(exc, PermissionError):
        return f"{exc.filename or text}: permission denied"
    if isinstance(exc, OSError) and exc.errno == 98:
        import re

        m = re.search(r"\('([^']+)', (\d+)\)", text)
        where = f"port {m.group(2)} on {m.group(1)}" if m else "a port"
        return (f"{where} is already in use by another program: stop it, or choose other ports "
                "(e.g. --base-port 6020 for the plant, --port for JupyterLab; see --help)")
    return f"{type(exc).__name__}: {text} (run `daqlab --debug ...` for the traceback)"


def _dispatch(args) -> int:
    if args.command == "lab":
        from daqlab.lab import run_lab

        return run_lab(args)
    if args.command in ("exam", "course"):
        from daqlab.cli import exam as cli_exam

        return cli_exam.run(args)
    if args.command == "dashboard":
        from daqlab.cli import dashboard as cli_dashboard

        return cli_dashboard.run(args)
    if args.command == "hub":
        from daqlab.cli import hub as cli_hub

        return cli_hub.run(args)
    if args.command == "broker":
        from daqlab.cli import broker as cli_broker

        return cli_broker.run(args)
    if args.command == "lessons":
        from daqlab.cli import lessons as cli_lessons

        return cli_lessons.run(args)
    if args.command == "gateway":
        from daqlab.cli import gateway as cli_gateway

        return cli_gateway.run(args)
    if args.command == "bench":
        from daqlab.cli import bench as cli_bench

        return cli_bench.run(args)
    return PLANT_ACTIONS[args.plant_command](args)


# --------------------------------------------------------------------- plant
def _serve(args) -> int:
    from daqlab.plant import Plant

    faults = [_parse_fault(s) for s in args.fault]
    rtus = []
    for spec in args.rtu:
        st, _, path = spec.partition(":")
        if not st.isdigit() or not path:
            raise SystemExit(f"--rtu {spec!r}: use STATION:DEVICE_PATH, e.g. 1:/dev/ttyUSB0")
        rtus.append((int(st), path))
    servers = []
    for spec in args.rfc2217:
        st, _, port = spec.partition(":")
        if not st.isdigit() or not port.isdigit():
            raise SystemExit(f"--rfc2217 {spec!r}: use STATION:TCP_PORT, e.g. 1:7001")
        servers.append((int(st), int(port)))
    from daqlab.plant.rtu import WIRING

    wirings = []
    for spec in args.wiring:
        st, _, state = spec.partition(":")
        if not st.isdigit() or state not in WIRING:
            raise SystemExit(f"--wiring {spec!r}: use STATION:STATE with STATE one of {', '.join(WIRING)}")
        wirings.append((int(st), state))
    owners = None
    if args.owners:
        from daqlab.plant.peers import Owners

        try:
            owners = Owners.load(args.owners)
        except ValueError as exc:
            raise SystemExit(f"daqlab: {exc}") from None
        # Owners are checked per TCP peer (the trainee's OS account): Modbus TCP and the RS-485 device servers
        # (RFC 2217 is TCP too). OPC UA and a real serial line are not guarded, so either would let every trainee
        # reach every station.
        unguarded = [name for name, on in (("OPC UA (--opcua-base-port)", args.opcua_base_port is not None),
                                           ("serial lines (--rtu)", bool(rtus))) if on]
        if unguarded:
            raise SystemExit(f"daqlab: --owners guards TCP peers only: do not serve {', '.join(unguarded)} "
                             "with it (run those on a separate plant for the bench)")
    plant = Plant(args.stations, seed=args.seed, host=args.host, base_port=args.base_port, speed=args.speed,
                  frozen=args.frozen, log_path=args.log, unknown_unit=args.unknown_unit, textbook=args.textbook,
                  control=not args.black_box, control_token=args.token, opcua_base_port=args.opcua_base_port,
                  owners=owners)

    async def run():
        await plant.astart()
        for st, dev, mode, value in faults:
            plant.set_fault(st, dev, mode, value)
        for st, path in rtus:
            plant.serve_rtu(st, path)
        urls = [(st, plant.serve_rfc2217(st, port, host=args.host)) for st, port in servers]
        for st, state in wirings:
            plant.set_wiring(st, state)
        print(f"DAQ Lab plant: {args.stations} station(s), seed {args.seed}, speed {args.speed:g}"
              f"{' (frozen)' if args.frozen else ''}")
        print(f"  control API  http://{args.host}:{plant.control_port}/status" if plant.control_port else
              "  black box: Modbus only (no control API)")
        for k in list(plant.stations)[:10]:
            units = ", ".join(f"{d.kind}={d.unit}" for d in plant.stations[k].devices.values())
            print(f"  station {k:>3}  {plant.endpoint(k)}   units: {units}")
            if args.opcua_base_port is not None:
                print(f"               {plant.opcua_endpoint(k)}")
        if args.stations > 10:
            print(f"  ... station {args.stations} on {plant.endpoint(args.stations)}")
        for st, path in rtus:
            print(f"  station {st} also on RTU {path}")
        for st, url in urls:
            v = plant.stations[st].variant
            print(f"  station {st} RS-485 bus at {url} ({v.baudrate} 8{v.parity}{v.stopbits}; settings judged)")
        print("Ctrl-C to stop.", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await plant.astop()
        print("plant stopped.")

    asyncio.run(run())
    return 0


def _parse_fault(spec: str):
    parts = spec.split(":")
    if len(parts) != 3 or not parts[0].isdigit():
        raise SystemExit(f"--fault {spec!r}: use STATION:DEVICE:MODE[=VALUE], e.g. 2:th:broken or 1:meter:latency=300")
    mode, _, value = parts[2].partition("=")
    return int(parts[0]), parts[1], mode, value or "on"


def _datasheet(args) -> int:
    from daqlab.plant import Plant

    plant = Plant(max(1, args.station), seed=args.seed, textbook=args.textbook, base_port=args.base_port,
                  host=args.host, control=False)
    from daqlab.plant.datasheet import datasheet

    print(datasheet(plant.station(args.station), endpoint=f"tcp://{args.host}:{args.base_port + args.station}"))
    return 0


def _control(args, method: str, path: str, body: dict | None = None) -> dict:
    url = f"http://{args.host}:{args.base_port}{path}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    if args.token:
        req.add_header("X-DAQLab-Token", args.token)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"plant refused: {json.loads(exc.read()).get('error', exc.reason)}") from None
    except OSError as exc:
        raise SystemExit(f"no plant control API at {url}: {exc} (is `daqlab plant serve` running?)") from None


def _status(args) -> int:
    s = _control(args, "GET", "/status")
    print(f"plant time {s['plant_time']:.1f} s, speed {s['speed']:g}{' (frozen)' if s['frozen'] else ''}, seed {s['seed']}")
    for st in s["stations"]:
        faults = "; ".join(f"{d}: {f}" for d, f in st["faults"].items()) or "-"
        print(f"  station {st['station']:>3}  port {st['port']}  requests {st['requests']:>7}  "
              f"connections {st['connections']:>3}  faults {faults}")
    return 0


def _fault(args) -> int:
    if args.clear:
        _control(args, "POST", "/clear", {"station": args.station, "device": args.device})
        print(f"station {args.station}: faults cleared" + (f" on {args.device}" if args.device else ""))
        return 0
    if not args.device or not args.mode:
        raise SystemExit("give --device and --mode (or --clear)")
    r = _control(args, "POST", "/fault", {"station": args.station, "device": args.device, "mode": args.mode,
                                          "value": args.value})
    print(f"station {args.station} {args.device}: {r['faults'] or 'no faults'}")
    return 0


def _log(args) -> int:
    r = _control(args, "GET", f"/log?station={args.station}&limit={args.limit}")
    for e in r["entries"]:
        what = f"exception {e['exception']:02X}" if e["exception"] else e["status"]
        vals = "" if e["values"] is None else " " + str(e["values"][:8]) + ("..." if len(e["values"]) > 8 else "")
        print(f"{e['plant_time']:9.1f}s {e['client']:>21} unit {e['unit']:>3} FC {e['function']:02d} "
              f"addr {e['address']} count {e['count']} {what}{vals}")
    return 0


def _scenario(args) -> int:
    station = args.station if args.station == "all" else int(args.station)
    r = _control(args, "POST", "/scenario", {"station": station, "name": args.name})
    print(f"scenario {r['scenario']} on station(s) {', '.join(map(str, r['stations']))}")
    return 0


def _advance(args) -> int:
    r = _control(args, "POST", "/advance", {"seconds": args.seconds})
    print(f"plant time {r['plant_time']:.1f} s")
    return 0


PLANT_ACTIONS = {"serve": _serve, "datasheet": _datasheet, "status": _status, "fault": _fault, "log": _log,
                 "advance": _advance, "scenario": _scenario}

