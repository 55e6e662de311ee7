"""`daqlab broker serve|accounts|schema`: the platform's MQTT broker for a classroom (sub-commands registered by daqlab.cli).

The broker is DAQ Lab's own Mosquitto (daqlab.northbound.broker): one device account per trainee of the
roster (user name = device name = student id, password derived from the secret), the platform account,
anonymous access off, ACLs that keep each trainee to ``/sys/<productKey>/<id>/#``.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import os
import signal
import sys
import threading
from pathlib import Path

from daqlab import paths

DEFAULT_PORT = 1883


def add_parsers(sub, fmt) -> None:
    b = sub.add_parser("broker", formatter_class=fmt, help="the platform's MQTT broker (Mosquitto) with per-trainee accounts",
                       description="Run DAQ Lab's own Mosquitto with accounts and ACLs from the roster, or print the "
                                   "accounts. Needs the Debian package mosquitto (make lab / make test install it).",
                       epilog="Examples:\n  daqlab broker serve --secret-file grader/.mqtt-secret --record mqtt.jsonl\n"
                              "  daqlab broker accounts --secret-file grader/.mqtt-secret > mqtt-accounts.csv")
    bsub = b.add_subparsers(dest="broker_command", required=True, metavar="ACTION")

    def common(p):
        p.add_argument("--roster", default=str(paths.grader() / "roster.csv"),
                       help="roster CSV (student_id,name,station); default grader/roster.csv")
        p.add_argument("--device", action="append", default=[], metavar="NAME",
                       help="an extra device account besides the roster's (repeatable), e.g. --device trainee")
        p.add_argument("--secret", default=os.environ.get("DAQLAB_MQTT_SECRET"),
                       help="secret the passwords derive from (default $DAQLAB_MQTT_SECRET)")
        p.add_argument("--secret-file", default=None,
                       help="read the secret from this file, creating it (mode 0600) when missing")
        p.add_argument("--product-key", default="daqlab", help="productKey of the device topics (default daqlab)")

    s = bsub.add_parser("serve", formatter_class=fmt, help="run the broker in the foreground (Ctrl-C stops it)",
                        description="Run Mosquitto on HOST:PORT with the roster's accounts; optionally record every "
                                    "message (and answer property posts as the platform) into a JSONL file.",
                        epilog="Examples:\n  daqlab broker serve --secret-file grader/.mqtt-secret\n"
                               "  daqlab broker serve --port 1884 --device trainee --secret s3cret --record mqtt.jsonl")
    common(s)
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 = a free port)")
    s.add_argument("--workdir", default=None, help="folder for the generated config, passwords, ACL and log")
    s.add_argument("--persistence", action="store_true", help="keep sessions and queued messages across restarts")
    s.add_argument("--platform-port", type=int, default=None, metavar="PORT",
                   help="a second listener for the platform accounts only (0 = a free port); devices then connect "
                        "with their user name as client id (the classroom hub does this)")
    s.add_argument("--record", default=None, metavar="FILE.jsonl",
                   help="record every message under /sys/# into this file and reply to property posts")

    a = bsub.add_parser("accounts", formatter_class=fmt, help="print every account (CSV: user, password, topics)",
                        description="Print the broker accounts as CSV (instructor only: it contains passwords).",
                        epilog="Example:\n  daqlab broker accounts --secret-file grader/.mqtt-secret > mqtt-accounts.csv")
    common(a)

    bsub.add_parser("schema", formatter_class=fmt, help="print the JSON Schema of a property post",
                    description="Print the JSON Schema (draft 2020-12) of the thing-model property post DAQ Lab uses "
                                "(daqlab.northbound.thingmodel), e.g. to validate payloads with other tools.",
                    epilog="Example:\n  daqlab broker schema > property-post.schema.json")


def secret_from(args) -> str:
    if args.secret_file:
        p = Path(args.secret_file)
        if not p.exists():
            from daqlab.atomic import write_atomic
            from daqlab.northbound.accounts import new_secret

            write_atomic(p, new_secret() + "\n", mode=0o600)
        return p.read_text().strip()
    if args.secret:
        return args.secret
    raise SystemExit("give --secret, --secret-file or $DAQLAB_MQTT_SECRET (passwords derive from it)")


def accounts_from(args) -> list:
    from daqlab.course.roster import load_roster
    from daqlab.northbound import roster_accounts

    secret = secret_from(args)
    ids = list(load_roster(args.roster)) if args.roster and Path(args.roster).exists() else []
    ids += [d for d in args.device if d not in ids]
    if not ids:
        raise SystemExit(f"no accounts: {args.roster} does not exist and no --device was given")
    return roster_accounts(ids, secret, args.product_key)


def run(args) -> int:
    if args.broker_command == "schema":
        import json

        from daqlab.northbound.thingmodel import SCHEMA

        print(json.dumps(SCHEMA, indent=2, ensure_ascii=False))
        return 0
    accts = accounts_from(args)
    if args.broker_command == "accounts":
        w = csv.writer(sys.stdout)
        w.writerow(["username", "password", "role", "topics"])
        for a in accts:
            w.writerow([a.username, a.password, a.role, "/sys/#" if a.role == "platform" else a.topics.base + "#"])
        return 0
    return _serve(args, accts)


def _serve(args, accts) -> int:
    from daqlab.northbound import Broker, Recorder
    from daqlab.northbound.broker import BrokerError

    broker = Broker(accts, host=args.host, port=args.port, workdir=args.workdir, persistence=args.persistence,
                    platform_port=args.platform_port)
    try:
        broker.start()
    except BrokerError as exc:
        raise SystemExit(str(exc)) from None
    rec = None
    try:
        if args.record:
            plat = next(a for a in accts if a.role == "platform")
            # a client id nobody can guess (stable across restarts: the persistent session is the record's)
            rid = "rec-" + hmac.new(secret_from(args).encode(), b"recorder", hashlib.sha256).hexdigest()[:20]
            rec = Recorder.connect(broker, plat, path=args.record, client_id=rid)
        devices = [a.username for a in accts if a.role == "device"]
        print(f"DAQ Lab broker (Mosquitto) on {broker.url}: {len(devices)} device account(s)"
              f" ({', '.join(devices[:5])}{' ...' if len(devices) > 5 else ''}) + platform")
        print(f"  topics   /sys/{args.product_key}/<device>/thing/event/property/post (each device only its own)")
        if broker.platform_port:
            print(f"  platform {broker.platform_url} (platform accounts only; devices: client id = user name)")
        print(f"  files    {broker.workdir}")
        if rec:
            print(f"  record   {args.record} (replies to property posts)")
        print("Ctrl-C to stop.", flush=True)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        while not stop.wait(1.0):
            if not broker.running:
                print(f"mosquitto stopped unexpectedly; see {broker.log_path}", file=sys.stderr)
                return 1
        return 0
    finally:
        if rec:
            rec.close()
        broker.close()
