"""`daqlab hub ...`: the classroom JupyterHub (sub-commands registered by daqlab.cli; logic in daqlab.hub)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from daqlab import paths

CONFIG_FILE = paths.CHECKOUT / "grader" / "jupyterhub" / "jupyterhub_config.py"
Z2JH_DIR = paths.CHECKOUT / "grader" / "jupyterhub" / "z2jh"


def add_parsers(sub, fmt) -> None:
    hub = sub.add_parser("hub", formatter_class=fmt, help="the classroom JupyterHub (accounts, plant, exchange)",
                         description="A JupyterHub for a classroom on one machine: an instructor account and one "
                                     "account per roster row, the plant as a hub service (a station per trainee), "
                                     "the MQTT broker as a hub service (a device account per trainee), "
                                     "the nbgrader exchange, Voila dashboards behind the hub's login, idle culling.",
                         epilog="Examples:\n  daqlab hub serve                      # http://127.0.0.1:8000\n"
                                "  daqlab hub accounts                   # names, stations and passwords (slips)\n"
                                "  daqlab hub publish-results            # after grading: trainees' dashboards")
    hsub = hub.add_subparsers(dest="hub_command", required=True, metavar="ACTION")

    def common(p, *, roster=True):
        p.add_argument("--state", default=None, help="folder for everything the hub writes (default .hub/)")
        if roster:
            p.add_argument("--roster", default=None, help="roster CSV student_id,name,station (default grader/roster.csv)")
            p.add_argument("--instructor", default=None, help="the instructor's account (default grader-daqlab)")

    s = hsub.add_parser("serve", formatter_class=fmt, help="start the hub in the foreground (Ctrl-C stops it)",
                        description="Install configurable-http-proxy from npm (first time), write the settings, "
                                    "print the accounts and run JupyterHub with grader/jupyterhub/jupyterhub_config.py. "
                                    "Ctrl-C stops the hub, the proxy, every user server, the plant and the broker.",
                        epilog="Examples:\n  daqlab hub serve\n"
                               "  daqlab hub serve --port 8000 --roster grader/roster.csv --seed 7\n"
                               "  daqlab hub serve --ip 0.0.0.0 --auth shared   # a classroom LAN, one trainee password\n"
                               "  sudo daqlab hub serve --exam                  # an exam: own OS accounts, no terminals")
    common(s)
    s.add_argument("--course", default=None, help="the instructor's course root (default: this checkout)")
    s.add_argument("--ip", default="127.0.0.1", help="address of the public URL (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8000, help="public port (default 8000)")
    s.add_argument("--hub-port", type=int, default=8081, help="the hub's internal API port (default 8081)")
    s.add_argument("--proxy-api-port", type=int, default=8001, help="the proxy's API port (default 8001)")
    s.add_argument("--base-port", type=int, default=5020, help="plant control API on BASE, station k on BASE+k")
    s.add_argument("--rs485-base-port", type=int, default=7000, metavar="P",
                   help="station k's RS-485 bus (RFC 2217, owner-gated) on P+k; 0 = no RS-485 buses")
    s.add_argument("--seed", type=int, default=0, help="plant seed (default 0)")
    s.add_argument("--no-plant", action="store_true", help="do not start the plant (it runs elsewhere)")
    s.add_argument("--mqtt-port", type=int, default=1883,
                   help="the MQTT broker's port (default 1883; taken by another program: a free port; 0 = a free port)")
    s.add_argument("--no-broker", action="store_true",
                   help="do not start the MQTT broker (one runs elsewhere on --mqtt-port with the hub's secret)")
    s.add_argument("--auth", choices=("roster", "shared"), default="roster",
                   help="roster: a password per account (default); shared: one password for all trainees")
    s.add_argument("--cull-timeout", type=int, default=3600, metavar="SECONDS",
                   help="stop user servers idle this long; 0 = never (default 3600)")
    s.add_argument("--cull-every", type=int, default=300, metavar="SECONDS", help="culler period (default 300)")
    s.add_argument("--exchange-service", action="store_true",
                   help="nbgrader's exchange as a hub service that knows users by their hub token (as on "
                        "Kubernetes) instead of a shared folder")
    s.add_argument("--exam", action="store_true",
                   help="an exam: trainees get no terminal (notebooks only); the banner says whether the hub is "
                        "exam-safe (it must run as root to give every trainee their own OS account)")

    a = hsub.add_parser("accounts", formatter_class=fmt, help="list accounts, stations and passwords",
                        description="Print every account with its station, endpoint, password and MQTT broker "
                                    "account (passwords generated on first use, kept in STATE/secrets.json; the "
                                    "MQTT password derives from the hub's MQTT secret); --csv writes password slips.",
                        epilog="Examples:\n  daqlab hub accounts\n  daqlab hub accounts --csv slips.csv")
    common(a)
    a.add_argument("--csv", default=None, help="also write the accounts to this CSV")

    ip = hsub.add_parser("install-proxy", formatter_class=fmt, help="npm install configurable-http-proxy into STATE",
                         description="Install JupyterHub's proxy locally (STATE/node_modules), as `make hub` does.",
                         epilog="Example:\n  daqlab hub install-proxy")
    common(ip, roster=False)

    pr = hsub.add_parser("publish-results", formatter_class=fmt, help="publish each trainee's own results",
                         description="Cut the graded course to each trainee and write it, with their feedback, to "
                                     "STATE/results/<student>/: the only results a trainee's dashboard reads.",
                         epilog="Example:\n  daqlab course grade practical-1-identify && daqlab hub publish-results")
    common(pr)
    pr.add_argument("--course", default=None, help="the graded course (default $DAQLAB_COURSE_ROOT or this checkout)")
    pr.add_argument("--results", default=None, help="where to publish (default STATE/results)")

    pp = hsub.add_parser("publish-papers", formatter_class=fmt, help="publish each trainee's theory paper",
                         description="Draw every trainee's paper of the given theory assignments with the hub's "
                                     "paper salt and write it to STATE/results/<student>/papers/<assignment>.json, "
                                     "where only that trainee reads it (their notebook shows it). Run it after "
                                     "releasing a theory assignment; publish-results also does it.",
                         epilog="Examples:\n  daqlab hub publish-papers theory-contest\n"
                                "  daqlab hub publish-papers            # every released theory assignment")
    common(pp)
    pp.add_argument("assignments", nargs="*", help="theory assignments (default: every one under release/)")
    pp.add_argument("--course", default=None, help="the course (default $DAQLAB_COURSE_ROOT or this checkout)")

    z = hsub.add_parser("render-z2jh", formatter_class=fmt, help="render the Zero to JupyterHub values from the builder",
                        description="Write grader/jupyterhub/z2jh/values.daqlab.yaml (hub.extraConfig with the "
                                    "accounts, stations and roles; singleuser.extraFiles with the role configs) from "
                                    "the same builder as the single-machine hub. Use it beside values.yaml.",
                        epilog="Examples:\n  daqlab hub render-z2jh --roster grader/roster.csv\n"
                               "  helm upgrade --install daqlab jupyterhub/jupyterhub -f values.yaml -f values.daqlab.yaml")
    z.add_argument("--roster", default=str(paths.grader() / "roster.csv"), help="roster CSV (default grader/roster.csv)")
    z.add_argument("--instructor", default=None, help="the instructor's account (default grader-daqlab)")
    z.add_argument("--seed", type=int, default=0, help="plant seed (default 0)")
    z.add_argument("--out", default=str(Z2JH_DIR / "values.daqlab.yaml"), help="file to write")
    z.add_argument("--exam", action="store_true", help="an exam: trainees get no terminal")


def _settings(args, **extra):
    from dataclasses import asdict

    from daqlab.hub.settings import HubSettings, default_state

    # start from the hub's settings: $DAQLAB_HUB_SETTINGS (inside the hub), else STATE/hub-settings.json (written
    # by the last `daqlab hub serve`), else the defaults
    state = Path(args.state).resolve() if getattr(args, "state", None) else None
    saved = None if os.environ.get("DAQLAB_HUB_SETTINGS") else (state or default_state()) / "hub-settings.json"
    kw = {k: v for k, v in asdict(HubSettings.load(saved)).items()
          if k not in ("exchange", "homes", "results", "jupyter_config", "proxy_command")}
    kw.update({k: v for k, v in extra.items() if v is not None})
    if getattr(args, "state", None):
        kw["state"] = str(Path(args.state).resolve())
    if getattr(args, "roster", None):
        kw["roster"] = str(Path(args.roster).resolve())
    if getattr(args, "instructor", None):
        kw["instructor"] = args.instructor
    return HubSettings(**kw)


def run(args) -> int:
    return {"serve": _serve, "accounts": _accounts, "install-proxy": _install_proxy,
            "publish-results": _publish, "publish-papers": _papers, "render-z2jh": _render}[args.hub_command](args)


def _install_proxy(args) -> int:
    from daqlab.hub.proxy import ProxyUnavailable, ensure_proxy

    try:
        print(ensure_proxy(_settings(args).state))
    except ProxyUnavailable as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


def _rows(settings):
    """(account, endpoint, hub password, environment with the MQTT account) per account, instructor first."""
    from daqlab.hub.accounts import accounts, user_environment
    from daqlab.hub.settings import Secrets

    accts = accounts(settings)
    sec = Secrets.load_or_create(settings.state, [a.name for a in accts.values() if a.station])
    for a in accts.values():
        env = user_environment(settings, a, mqtt_secret=sec.mqtt_secret)
        if a.station:
            pw = sec.passwords[a.name] if settings.auth == "roster" else sec.shared_password
        else:
            pw = sec.instructor_password
        yield a, env.get("DAQLAB_ENDPOINT", ""), pw, env


def _accounts(args) -> int:
    import csv

    settings = _settings(args)
    rows = list(_rows(settings))
    print(f"{'account':<16} {'role':<10} {'station':>7}  {'endpoint':<22} {'password':<14} "
          f"{'mqtt user':<14} {'mqtt password':<16} name")
    for a, endpoint, pw, env in rows:
        print(f"{a.name:<16} {a.role:<10} {a.station or '-':>7}  {endpoint:<22} {pw:<14} "
              f"{env.get('DAQLAB_MQTT_USER', '-'):<14} {env.get('DAQLAB_MQTT_PASSWORD', '-'):<16} {a.display}")
    print(f"MQTT broker: {settings.mqtt_url}" if settings.mqtt else "MQTT broker: off")
    if args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["account", "name", "role", "station", "endpoint", "password", "url", "mqtt_url", "mqtt_user",
                        "mqtt_password"])
            for a, endpoint, pw, env in rows:
                w.writerow([a.name, a.display, a.role, a.station or "", endpoint, pw, settings.url,
                            env.get("DAQLAB_MQTT_URL", ""), env.get("DAQLAB_MQTT_USER", ""),
                            env.get("DAQLAB_MQTT_PASSWORD", "")])
        print(f"wrote {len(rows)} accounts to {args.csv}")
    return 0


def _serve(args) -> int:
    from daqlab.hub import mqtt
    from daqlab.hub.accounts import accounts, plant_stations
    from daqlab.hub.proxy import ProxyUnavailable, ensure_proxy

    settings = _settings(args, course_root=args.course and str(Path(args.course).resolve()), ip=args.ip,
                         port=args.port, hub_port=args.hub_port, proxy_api_port=args.proxy_api_port,
                         plant_base_port=args.base_port, plant_seed=args.seed, manage_plant=not args.no_plant,
                         rs485=args.rs485_base_port > 0, rs485_base_port=args.rs485_base_port,
                         mqtt=True, mqtt_port=args.mqtt_port, manage_broker=not args.no_broker,
                         auth=args.auth, cull_timeout=args.cull_timeout, cull_every=args.cull_every, exam=args.exam,
                         exchange_service=args.exchange_service)
    from daqlab.hub.init import claim
    from daqlab.hub.system import isolation_unavailable

    why = isolation_unavailable()
    if settings.exam and why:  # an exam that is not exam-safe is refused, not warned about
        print(f"daqlab: --exam needs one OS account per trainee, but {why}: start it with sudo "
              "(or leave out --exam for a lesson)", file=sys.stderr)
        return 2
    lock = claim(Path(settings.state))  # early check; the hub's init holds it from start to end
    if lock is None:
        pid = (Path(settings.state) / "hub.lock").read_text().strip()
        print(f"daqlab: a hub already runs with the state folder {settings.state} (pid {pid}): stop it first "
              "(Ctrl-C in its terminal), or give another --state", file=sys.stderr)
        return 2
    try:
        ensure_proxy(settings.state)
    except ProxyUnavailable as exc:
        print(exc, file=sys.stderr)
        return 2
    settings, mqtt_note = mqtt.prepare(settings)  # saved as decided: `daqlab hub accounts` shows the real port
    accts = accounts(settings)  # the roster is checked before anything is saved (a bad one is never kept)
    path = settings.save(Path(settings.state) / "hub-settings.json")
    list(_rows(settings))  # creates the secrets (passwords for new trainees) before the hub starts
    n = len(accts) - 1
    print("=" * 72)
    print("DAQ Lab classroom hub · 数据采集实训 JupyterHub")
    print(f"  open        {settings.url}/")
    print(f"  instructor  {settings.instructor}  (admin; formgrader, course root {settings.course_root})")
    print("  passwords   daqlab hub accounts   (never shown here: a projector may be on)")
    print(f"  trainees    {n} from {settings.roster}")
    if settings.manage_plant:
        print(f"  plant       {plant_stations(accts)} station(s); control API 127.0.0.1:{settings.plant_base_port}, "
              f"station k on {settings.plant_base_port}+k"
              + (f", its RS-485 bus on {settings.rs485_base_port}+k" if settings.rs485 else ""))
    if settings.mqtt:
        print(f"  mqtt        {settings.mqtt_url} ({'hub service' if settings.manage_broker else 'runs elsewhere'}); "
              f"a device account per trainee, instructor = platform; record {settings.mqtt_dir / mqtt.RECORD}")
    if mqtt_note:
        print(f"  {'WARNING' if not settings.mqtt else 'note':<11} {mqtt_note}")
    print(f"  exchange    {'hub service daqlab-exchange, ' + str(settings.exchange_store) if settings.exchange_service else settings.exchange}")
    print(f"  culling     idle servers stopped after {settings.cull_timeout} s" if settings.cull_timeout
          else "  culling     off")
    print(f"  state       {settings.state}   stop: Ctrl-C")
    if why:
        print("!" * 72)
        print(f"  NOT EXAM-SAFE 不可用于考试: {why}.")
        print("  Every user server runs as one OS account: trainees can read each other's work, the course")
        print("  root and the hub's secrets. Fine for a lesson; for an exam start it with sudo.")
        print("!" * 72)
    else:
        print(f"  isolation   one OS account per user (dq-<name>), homes 0700, course root and secrets staff-only, "
              f"stations owned{'; exam: no trainee terminals' if settings.exam else ''}")
    print("=" * 72, flush=True)
    from daqlab.foreground import run_foreground
    from daqlab.hub.init import wrap

    env = dict(os.environ, DAQLAB_HUB_SETTINGS=str(path))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    cmd, note = wrap([sys.executable, "-m", "jupyterhub", "-f", str(CONFIG_FILE)])
    if note:
        print(note, flush=True)  # not wrapped: this process keeps the lock
    else:
        lock.close()  # wrapped: the init takes the lock for the hub's life
    return run_foreground(cmd, env, cwd=settings.state)


def _publish(args) -> int:
    from daqlab.course.roster import load_roster
    from daqlab.hub.results import publish

    settings = _settings(args)
    course = Path(args.course or os.environ.get("DAQLAB_COURSE_ROOT") or settings.course_root)
    roster = load_roster(settings.roster) if Path(settings.roster).exists() else None
    results = Path(args.results or settings.results)
    ids = publish(course, results, roster)
    print(f"published the results of {len(ids)} trainee(s) to {results}")
    return _papers(args)


def _papers(args) -> int:
    from daqlab.course.roster import load_roster
    from daqlab.exam.blueprint import all_blueprints
    from daqlab.hub import papers
    from daqlab.hub.settings import Secrets

    settings = _settings(args)
    course = Path(getattr(args, "course", None) or os.environ.get("DAQLAB_COURSE_ROOT") or settings.course_root)
    names = getattr(args, "assignments", None) or papers.theory_assignments(course)
    unknown = [a for a in names if a not in all_blueprints()]
    if unknown:
        print(f"daqlab: {', '.join(unknown)} is not a theory assignment; one of: {', '.join(all_blueprints())}",
              file=sys.stderr)
        return 2
    students = list(load_roster(settings.roster)) if Path(settings.roster).exists() else []
    # the salt the grading uses: the environment's (the instructor's server on the hub and on Kubernetes), else
    # the hub's secrets (an instructor's terminal without it)
    salt = os.environ.get("DAQLAB_PAPER_SALT") or Secrets.load_or_create(settings.state).paper_salt
    n = papers.publish(getattr(args, "results", None) or settings.results, students, names, salt,
                       course / "source" / "exam" / "bank", settings.course_id)
    print(f"published {n} paper(s): {len(students)} trainee(s) x {', '.join(names) or 'no theory assignment'}")
    return 0


def _render(args) -> int:
    from daqlab.hub.z2jh import render_network_policies, render_values

    out = Path(args.out)
    out.write_text(render_values(Path(args.roster), instructor=args.instructor, seed=args.seed, exam=args.exam),
                   encoding="utf-8")
    policies = out.with_name("networkpolicies.daqlab.yaml")
    policies.write_text(render_network_policies(Path(args.roster), instructor=args.instructor), encoding="utf-8")
    print(f"wrote {policies}")
    print(f"wrote {out}")
    return 0
