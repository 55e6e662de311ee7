"""`daqlab dashboard results|plant|scoreboard`: serve a Voila dashboard on 127.0.0.1 (sub-commands registered by daqlab.cli).

Voila runs one kernel per open page. A page left open keeps its kernel (and its memory) forever unless
idle kernels are culled, so the command turns jupyter_server's culler on by default:
``--MappingKernelManager.cull_idle_timeout`` (seconds without kernel activity, default 600),
``--MappingKernelManager.cull_interval`` (how often to check, default 60) and
``--MappingKernelManager.cull_connected=True`` (cull even when a browser tab is still connected: a forgotten
tab is the usual case). Every update the plant HMI pushes counts as kernel activity, so the HMI pauses its live
updates after 15 minutes without interaction (``--live-minutes``): its kernel then falls idle too and is culled
10 minutes later, even if the tab was closed. Reloading the page starts a fresh kernel.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from daqlab import paths

DEFAULT_PORT = 8866
CULL_IDLE_S = 600  #: default idle timeout of a dashboard kernel (seconds)
CULL_INTERVAL_S = 60  #: default period of the culler's check (seconds)
HMI_LIVE_MINUTES = 15  #: the plant HMI's default (daqlab.dashboards.hmi.LIVE_MINUTES)
NOTEBOOKS = {"results": "results.ipynb", "plant": "plant.ipynb", "scoreboard": "scoreboard.ipynb"}
PREHEATED = ("results", "scoreboard")  #: dashboards served from a pre-heated kernel (the plant HMI polls: not before a visit)
PREHEAT_REFILL_S = 2  #: seconds after a pre-heated kernel is taken before the next is started


def add_parsers(sub, fmt) -> None:
    dash = sub.add_parser("dashboard", formatter_class=fmt, help="serve a Voila dashboard (results, plant HMI)",
                          description="Serve a dashboard notebook with Voila on 127.0.0.1 and print its URL. Idle "
                                      "kernels are culled (default after 600 s) so pages left open do not exhaust "
                                      "memory.",
                          epilog="Examples:\n  daqlab dashboard results --course /srv/daqlab-2026\n"
                                 "  daqlab dashboard plant --base-port 5020 --port 8867")
    dsub = dash.add_subparsers(dest="dashboard_command", required=True, metavar="DASHBOARD")

    def common(p):
        p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"Voila port (default {DEFAULT_PORT})")
        p.add_argument("--cull-idle", type=int, default=CULL_IDLE_S, metavar="SECONDS",
                       help=f"shut a dashboard kernel down after this many idle seconds; 0 = never (default {CULL_IDLE_S})")
        p.add_argument("--cull-interval", type=int, default=CULL_INTERVAL_S, metavar="SECONDS",
                       help=f"how often idle kernels are looked for (default {CULL_INTERVAL_S})")
        p.add_argument("--keep-open-pages", action="store_true",
                       help="never cull the kernel of a page that is still open in a browser "
                            "(default: open pages are culled too once idle)")
        p.add_argument("--debug", action="store_true", help="show Python tracebacks on the page")

    r = dsub.add_parser("results", formatter_class=fmt, help="results dashboard (instructor and trainee views)",
                        description="Scores, distributions, mastery, item analysis, failed checks and the contest "
                                    "ranking of a graded course; a trainee (JUPYTERHUB_USER not the instructor) "
                                    "sees only their own results.",
                        epilog="Examples:\n  daqlab dashboard results\n"
                               "  daqlab dashboard results --course /srv/daqlab-2026 --port 8870\n"
                               "  daqlab dashboard results --as-trainee t03   # preview what trainee t03 sees")
    r.add_argument("--course", default=str(paths.course_root()), help="course folder (default: this checkout)")
    r.add_argument("--instructor", default=os.environ.get("DAQLAB_INSTRUCTOR", "grader-daqlab"),
                   help="the instructor's hub user name (default $DAQLAB_INSTRUCTOR or grader-daqlab)")
    r.add_argument("--as-trainee", default=None, metavar="STUDENT",
                   help="show the trainee view of STUDENT (sets JUPYTERHUB_USER for the dashboard kernels)")
    r.add_argument("--exports", default=None, help="folder for the CSV/PNG exports (default COURSE/exports)")
    r.add_argument("--no-preheat", action="store_true",
                   help="start each page's kernel when the page is asked for (default: one kernel is kept started, "
                        "with the course read, so the page opens in about half the time; it holds memory meanwhile)")
    common(r)

    sb = dsub.add_parser("scoreboard", formatter_class=fmt, help="contest-day ranking for a projector",
                         description="The live ranking in large type (weighted theory and practical; ties on the total "
                                     "broken by the practical, then the theory percent; nobody who handed nothing in is "
                                     "a finalist), refreshed while grading proceeds; names can be masked.",
                         epilog="Examples:\n  daqlab dashboard scoreboard --top 10\n"
                                "  daqlab dashboard scoreboard --course /srv/daqlab-2026 --mask-names --refresh 10")
    sb.add_argument("--course", default=str(paths.course_root()), help="course folder (default: this checkout)")
    sb.add_argument("--top", type=int, default=10, help="rows shown and finalists (default 10)")
    sb.add_argument("--mask-names", action="store_true", help="张三 -> 张* (a projector in a public hall)")
    sb.add_argument("--refresh", type=float, default=15, metavar="SECONDS", help="reload period (default 15)")
    sb.add_argument("--weights", default="0.3,0.7", metavar="THEORY,PRACTICAL", help="weights (default 0.3,0.7)")
    sb.add_argument("--no-preheat", action="store_true",
                    help="start the page's kernel when it is asked for (default: one kept started and warmed)")
    common(sb)

    p = dsub.add_parser("plant", formatter_class=fmt, help="plant HMI: live trends, device status, alarms, faults",
                        description="Live HMI of a running plant (`daqlab plant serve`), read over Modbus; "
                                    "instructors switch faults through the control API.",
                        epilog="Examples:\n  daqlab plant serve --stations 30 &   # the plant\n"
                               "  daqlab dashboard plant --base-port 5020\n"
                               "  DAQLAB_CONTROL_TOKEN=s3cret daqlab dashboard plant --plant-host 10.0.0.5\n"
                               "  daqlab dashboard plant --bench benches/bench-1.yaml --bench benches/bench-2.yaml")
    p.add_argument("--plant-host", default=os.environ.get("DAQLAB_PLANT_HOST", "127.0.0.1"),
                   help="the plant's host (default $DAQLAB_PLANT_HOST or 127.0.0.1)")
    p.add_argument("--base-port", type=int, default=int(os.environ.get("DAQLAB_BASE_PORT", "5020")),
                   help="control API on BASE, station k on BASE+k (default $DAQLAB_BASE_PORT or 5020)")
    p.add_argument("--token", default=os.environ.get("DAQLAB_CONTROL_TOKEN"),
                   help="control API token (default $DAQLAB_CONTROL_TOKEN)")
    p.add_argument("--seed", type=int, default=None, help="plant seed (default: asked from the control API)")
    p.add_argument("--bench", action="append", default=[], metavar="FILE",
                   help="show this real bench (a description, see `daqlab bench check`) instead of a plant's "
                        "stations; repeat for several benches")
    p.add_argument("--live-minutes", type=float, default=None, metavar="MINUTES",
                   help="pause live updates after this long without interaction, so the kernel of a forgotten "
                        f"or closed page falls idle and is culled (default {HMI_LIVE_MINUTES:g})")
    common(p)


def voila_command(notebook: Path, port: int, *, cull_idle: int = CULL_IDLE_S, cull_interval: int = CULL_INTERVAL_S,
                  cull_connected: bool = True, debug: bool = False, preheat: bool = False) -> list[str]:
    """The Voila command line for ``notebook`` on 127.0.0.1:``port`` with idle-kernel culling; ``preheat``: keep
    one kernel started and warmed before anyone asks (see daqlab.dashboards.preheat), refilled 2 s after use."""
    voila = shutil.which("voila", path=os.path.dirname(sys.executable)) or shutil.which("voila") or "voila"
    cmd = [voila, str(notebook), "--no-browser", "--Voila.ip=127.0.0.1", f"--port={port}", "--Voila.port_retries=0"]
    if cull_idle > 0:
        cmd += [f"--MappingKernelManager.cull_idle_timeout={cull_idle}",
                f"--MappingKernelManager.cull_interval={max(1, cull_interval)}",
                f"--MappingKernelManager.cull_connected={cull_connected}"]
    if preheat:
        cmd += ["--VoilaConfiguration.preheat_kernel=True", "--VoilaConfiguration.default_pool_size=1",
                f"--VoilaKernelManager.fill_delay={PREHEAT_REFILL_S}"]
    if debug:
        cmd.append("--VoilaConfiguration.show_tracebacks=True")
    return cmd


def dashboard_env(args, environ=None) -> dict:
    """The environment the dashboard kernels inherit (where the course or the plant is, who is looking)."""
    env = dict(os.environ if environ is None else environ)
    if args.dashboard_command == "scoreboard":
        theory, practical = (x.strip() for x in (args.weights.split(",") + ["", ""])[:2])
        env.update(DAQLAB_COURSE_ROOT=str(Path(args.course).resolve()), DAQLAB_SCOREBOARD_TOP=str(args.top),
                   DAQLAB_SCOREBOARD_MASK="1" if args.mask_names else "0", DAQLAB_SCOREBOARD_REFRESH=f"{args.refresh:g}",
                   DAQLAB_THEORY_WEIGHT=theory or "0.3", DAQLAB_PRACTICAL_WEIGHT=practical or "0.7")
    elif args.dashboard_command == "results":
        env["DAQLAB_COURSE_ROOT"] = str(Path(args.course).resolve())
        env["DAQLAB_INSTRUCTOR"] = args.instructor
        if args.as_trainee:
            env["JUPYTERHUB_USER"] = args.as_trainee
        if args.exports:
            env["DAQLAB_EXPORT_DIR"] = str(Path(args.exports).resolve())
    else:
        env["DAQLAB_PLANT_HOST"] = args.plant_host
        env["DAQLAB_BASE_PORT"] = str(args.base_port)
        if args.token:
            env["DAQLAB_CONTROL_TOKEN"] = args.token
        if args.seed is not None:
            env["DAQLAB_SEED"] = str(args.seed)
        if args.live_minutes is not None:
            env["DAQLAB_HMI_LIVE_MINUTES"] = f"{args.live_minutes:g}"
        if args.bench:  # checked here, so a wrong description is one line before Voila starts
            from daqlab.benches import load_bench

            for f in args.bench:
                load_bench(f)
            env["DAQLAB_HMI_BENCHES"] = os.pathsep.join(str(Path(f).resolve()) for f in args.bench)
    return env


def run(args) -> int:
    notebook = paths.dashboards() / NOTEBOOKS[args.dashboard_command]
    if not notebook.exists():
        print(f"no dashboard notebook at {notebook}", file=sys.stderr)
        return 1
    if args.dashboard_command in ("results", "scoreboard") and not (Path(args.course) / "gradebook.db").exists():
        print(f"note: {args.course} has no gradebook.db yet (nothing graded): the dashboard will be empty",
              file=sys.stderr)
    if args.dashboard_command == "scoreboard":
        try:
            ws = [float(x) for x in args.weights.split(",")]
            if len(ws) != 2 or min(ws) < 0 or sum(ws) <= 0:
                raise ValueError
        except ValueError:
            print(f"daqlab: --weights {args.weights!r} must be two non-negative numbers THEORY,PRACTICAL, e.g. 0.3,0.7",
                  file=sys.stderr)
            return 2
    cmd = voila_command(notebook, args.port, cull_idle=args.cull_idle, cull_interval=args.cull_interval,
                        cull_connected=not args.keep_open_pages, debug=args.debug,
                        preheat=args.dashboard_command in PREHEATED and not args.no_preheat)
    env = dashboard_env(args)
    print(f"DAQ Lab {args.dashboard_command} dashboard: http://127.0.0.1:{args.port}/", flush=True)
    if args.cull_idle > 0:
        print(f"  idle kernels are shut down after {args.cull_idle} s (checked every {args.cull_interval} s); "
              "reload the page to start again", flush=True)
    print("  Ctrl-C to stop.", flush=True)
    from daqlab.foreground import run_foreground

    return run_foreground(cmd, env, cwd=notebook.parent)
