"""`daqlab gateway check|plan|run|status`: the point-table gateway from the command line (daqlab.gateway)."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path

EXAMPLE_CONFIG = """\
# gateway.yaml — 网关配置（DAQ Lab gateway）
name: ${DAQLAB_MQTT_USER}
scan_period_s: 1.0
southbound:
  - name: station
    url: ${DAQLAB_ENDPOINT}
    timeout_s: 1.0
points: points.csv
northbound:
  broker: env
  qos: 1
  spool: gateway-spool.jsonl
"""


def add_parsers(sub, fmt) -> None:
    p = sub.add_parser("gateway", formatter_class=fmt, help="a headless gateway configured by a point table",
                       description="Read a point table from southbound devices (Modbus TCP/RTU, coalesced by the "
                                   "planner) and publish it northbound in the thing model over MQTT (property posts, "
                                   "point-status events, store-and-forward). The configuration is one YAML file "
                                   "(see `daqlab gateway example`).",
                       epilog="Examples:\n  daqlab gateway example > gateway.yaml\n"
                              "  daqlab gateway check gateway.yaml\n"
                              "  daqlab gateway plan gateway.yaml\n"
                              "  daqlab gateway run gateway.yaml --status-file gw-status.json   # until Ctrl-C\n"
                              "  daqlab gateway status gw-status.json")
    gsub = p.add_subparsers(dest="gateway_command", required=True, metavar="ACTION")
    ex = gsub.add_parser("example", formatter_class=fmt, help="print an example configuration",
                         description="An example gateway.yaml for a trainee's station (its ${...} come from the "
                                     "kernel's environment: DAQLAB_ENDPOINT, DAQLAB_MQTT_*).",
                         epilog="Example:\n  daqlab gateway example > gateway.yaml")
    ex.set_defaults(config=None)
    for name, text, extra in (
            ("check", "check a configuration and its point table (every problem, with file and line/row)",
             "  daqlab gateway check gateway.yaml"),
            ("plan", "show each device's read plan: requests per scan, against one request per point",
             "  daqlab gateway plan gateway.yaml")):
        a = gsub.add_parser(name, formatter_class=fmt, help=text, description=text, epilog=f"Example:\n{extra}")
        a.add_argument("config", help="gateway YAML file")
    r = gsub.add_parser("run", formatter_class=fmt, help="run the gateway (until Ctrl-C, or --count/--duration)",
                        description="Scan at scan_period_s, publish northbound, write the status file after each "
                                    "scan. SIGTERM or Ctrl-C stops it cleanly: what the broker has not taken yet goes "
                                    "to the spool file (northbound.spool) and is sent at the next start.",
                        epilog="Examples:\n  daqlab gateway run gateway.yaml\n"
                               "  daqlab gateway run gateway.yaml --count 10 --status-file gw-status.json")
    r.add_argument("config", help="gateway YAML file")
    r.add_argument("--count", type=int, default=None, help="stop after this many scans")
    r.add_argument("--duration", type=float, default=None, metavar="S", help="stop after this many seconds")
    r.add_argument("--status-file", default=None, metavar="FILE", help="write the status here (JSON) after each scan")
    s = gsub.add_parser("status", formatter_class=fmt, help="show a running gateway's status file",
                        description="Per-device statistics and per-point status from the file `run --status-file` "
                                    "writes.",
                        epilog="Example:\n  daqlab gateway status gw-status.json")
    s.add_argument("file", help="status file (JSON)")


def run(args) -> int:
    from daqlab.gateway import ConfigError, load

    cmd = args.gateway_command
    if cmd == "example":
        print(EXAMPLE_CONFIG, end="")
        return 0
    if cmd == "status":
        return _status(args.file)
    try:
        config = load(args.config)
    except ConfigError as exc:
        print(f"daqlab: {exc}", file=sys.stderr)
        return 2
    if cmd == "check":
        devices = ", ".join(f"{s.name} ({len(config.points_of(s.name))} points, {s.url})" for s in config.southbound)
        north = f"{config.northbound.host}:{config.northbound.port} as {config.name}" if config.northbound else "none"
        print(f"{args.config}: OK — {len(config.points)} points; southbound {devices}; northbound {north}")
        return 0
    if cmd == "plan":
        return _plan(config)
    return _run(config, args)


def _plan(config) -> int:
    from daqlab.acquisition.planner import naive, plan

    for s in config.southbound:
        points = config.points_of(s.name)
        p = plan(points, max_gap=s.max_gap)
        print(f"# {s.name} ({s.url}): {len(p)} request(s) per scan for {len(points)} points "
              f"(one request per point: {len(naive(points))})")
        if len(p):
            print(p.table().to_string(index=False))
    return 0


def _run(config, args) -> int:
    from daqlab.gateway import Gateway
    from daqlab.northbound.uplink import UplinkError

    try:
        gw = Gateway(config, status_file=args.status_file)
    except UplinkError as exc:
        print(f"daqlab: {exc}", file=sys.stderr)
        return 2
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: gw.stop(timeout=0))
    devices = ", ".join(f"{s.name} {s.url}" for s in config.southbound)
    print(f"gateway {config.name}: {len(config.points)} points from {devices}, every {config.scan_period_s:g} s"
          + (f"; publishing to {gw.uplink.topics.post}" if gw.uplink else "; not publishing (no northbound)"),
          flush=True)
    try:
        gw.run(count=args.count, duration=args.duration, progress=False)
    finally:
        gw.close()
    bad = [p for p in gw.points.values() if p.quality != "good"]
    print(f"stopped after {gw.scans} scan(s); {len(bad)} point(s) not good"
          + (f": {', '.join(f'{p.name} ({p.quality})' for p in bad[:5])}" if bad else "")
          + (f"; northbound sent {gw.uplink.sent}, dropped {gw.uplink.dropped}" if gw.uplink else ""))
    return 0


def _status(path) -> int:
    from daqlab.gateway import devices_frame, points_frame
    from daqlab.localtime import stamp

    try:
        status = json.loads(Path(path).read_text(encoding="utf-8"))
        status["devices"], status["points"]  # noqa: B018 (a status file has both)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"daqlab: {path}: not a gateway status file ({exc}); write one with "
              "`daqlab gateway run CONFIG --status-file FILE`", file=sys.stderr)
        return 2
    nb = status.get("northbound")
    print(f"gateway {status['gateway']}: {status['scans']} scan(s), last at {stamp(status['time_ms'] / 1000)}"
          + ("" if not nb else f"; northbound {'connected' if nb['connected'] else 'NOT connected'}, "
             f"sent {nb['sent']}, pending {nb['pending']}, dropped {nb['dropped']}"))
    print(devices_frame(status).to_string())
    print(points_frame(status).to_string())
    return 0
