"""`daqlab exam ...` and `daqlab course generate`: sub-commands registered by daqlab.cli."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from daqlab import paths


def add_parsers(sub, fmt) -> None:
    exam = sub.add_parser("exam", formatter_class=fmt, help="theory exam: item bank, papers, notebooks",
                          description="The theory exam: validate the bilingual item bank, build nbgrader source "
                                      "notebooks from the blueprints, preview a trainee's paper.",
                          epilog="Examples:\n  daqlab exam check-bank\n  daqlab exam build\n"
                                 "  daqlab exam paper --assignment theory-contest --student alice")
    esub = exam.add_subparsers(dest="exam_command", required=True, metavar="ACTION")
    chk = esub.add_parser("check-bank", formatter_class=fmt, help="validate the item bank and print its counts",
                          description="Validate every item (schema, keys, languages, duplicates) and print counts "
                                      "per area and type.", epilog="Example:\n  daqlab exam check-bank --bank source/exam/bank")
    chk.add_argument("--bank", default=str(paths.source() / "exam" / "bank"), help="bank folder (default source/exam/bank)")
    b = esub.add_parser("build", formatter_class=fmt, help="write nbgrader source notebooks for the exam blueprints",
                        description="Write source/<blueprint>/<blueprint>.ipynb for the contest paper and the 14 "
                                    "practice papers, and refresh the trainee-side copy of the bank (no keys). "
                                    "Then run `daqlab course generate` to make release/.",
                        epilog="Examples:\n  daqlab exam build\n  daqlab exam build --only theory-contest")
    b.add_argument("--bank", default=str(paths.source() / "exam" / "bank"), help="bank folder")
    b.add_argument("--source", default=str(paths.source()), help="nbgrader source/ folder")
    b.add_argument("--only", action="append", default=None, metavar="NAME", help="only this blueprint (repeatable)")
    pp = esub.add_parser("paper", formatter_class=fmt, help="print a trainee's paper (and, with --key, its key)",
                         description="Print the paper a trainee gets for an assignment, as the grader rebuilds it. "
                                     "On the hub papers are drawn with the instructor's salt ($DAQLAB_PAPER_SALT in "
                                     "the instructor's terminal): without it the paper printed is not the trainee's.",
                         epilog="Example:\n  daqlab exam paper --assignment theory-practice-modbus --student alice --key")
    pp.add_argument("--assignment", required=True, help="exam assignment id, e.g. theory-contest")
    pp.add_argument("--student", required=True, help="student id")
    pp.add_argument("--course", default="daqlab", help="course id (default daqlab)")
    pp.add_argument("--salt", default=os.environ.get("DAQLAB_PAPER_SALT", ""),
                    help="the instructor's paper salt (default $DAQLAB_PAPER_SALT; none: the unsalted lab paper)")
    pp.add_argument("--key", action="store_true", help="also print the key (reads the instructor-side bank)")
    pp.add_argument("--bank", default=str(paths.source() / "exam" / "bank"), help="bank folder for --key")

    win = esub.add_parser("window", formatter_class=fmt, help="set a timed paper's duration and closing time",
                          description="Set the clock of a timed (exam) paper: each trainee's time starts when they "
                                      "first open it and ends after MINUTES or at the closing time, whichever comes "
                                      "first; the form locks then and later submissions are flagged late. Writes "
                                      "exam.json in source/ and release/; release the assignment again to apply.",
                          epilog="Examples:\n  daqlab exam window theory-contest --minutes 60\n"
                                 "  daqlab exam window theory-contest --minutes 60 --closes 2026-12-05T11:00+08:00\n"
                                 "  daqlab exam window theory-contest --show")
    win.add_argument("assignment", help="a theory assignment, e.g. theory-contest")
    win.add_argument("--minutes", type=float, default=None, help="the duration of each trainee's paper")
    win.add_argument("--closes", default=None, help="ISO time after which no one has time left ('none' to clear)")
    win.add_argument("--show", action="store_true", help="print the current settings only")
    win.add_argument("--course", default=str(paths.course_root()), help="course folder (default: this checkout)")

    course = sub.add_parser("course", formatter_class=fmt, help="instructor pipeline over nbgrader",
                            description="Instructor pipeline over nbgrader on this course folder.",
                            epilog="Example:\n  daqlab course generate theory-contest")
    csub = course.add_subparsers(dest="course_command", required=True, metavar="ACTION")
    g = csub.add_parser("generate", formatter_class=fmt, help="source/ -> release/ with nbgrader generate_assignment",
                        description="Generate release/ from source/ with nbgrader (never edit release/ by hand).",
                        epilog="Examples:\n  daqlab course generate            # every assignment\n"
                               "  daqlab course generate theory-contest")
    g.add_argument("assignments", nargs="*", help="assignment ids (default: all under source/)")
    g.add_argument("--course", default=str(paths.course_root()), help="course folder (default: this checkout)")
    gr = csub.add_parser("grade", formatter_class=fmt, help="autograde the submissions of an assignment",
                         description="Autograde submitted/<student>/<ASSIGNMENT> in parallel. Practical notebooks "
                                     "run in a sandbox (bubblewrap: own user, own folder, only their own station on "
                                     "a plant started for grading) and hand back evidence that trusted checks score; "
                                     "theory notebooks are not run: their literal answers are scored against the "
                                     "keys. Crashing, looping, memory-hungry or tampered submissions are graded as "
                                     "far as possible and recorded with a status (graded, graded with errors, "
                                     "flagged, not gradable) and reason in grading/status.json; nothing is dropped. "
                                     "Needs root (per-job users) and bubblewrap.",
                         epilog="Examples:\n  daqlab course grade practical-1-identify\n"
                                "  daqlab course grade theory-contest --workers 4 --timeout 30")
    gr.add_argument("assignment", help="assignment id")
    gr.add_argument("--student", action="append", default=None, help="only this student (repeatable)")
    gr.add_argument("--course", default=str(paths.course_root()), help="course folder (default: this checkout)")
    gr.add_argument("--roster", default=str(paths.grader() / "roster.csv"), help="roster CSV (student_id,name,station)")
    gr.add_argument("--workers", type=int, default=None, help="parallel graders (default: CPU cores)")
    gr.add_argument("--timeout", type=int, default=60, help="seconds per cell (default 60)")
    gr.add_argument("--memory-mb", type=int, default=3072, help="memory limit per kernel in MB (default 3072)")
    gr.add_argument("--seed", type=int, default=int(os.environ.get("DAQLAB_SEED", "0")), help="plant seed (default 0)")
    gr.add_argument("--salt", default=os.environ.get("DAQLAB_SCENARIO_SALT", ""),
                    help="scenario salt (default $DAQLAB_SCENARIO_SALT): keep it secret from trainees")

    def exch(name, help_, example):
        c = csub.add_parser(name, formatter_class=fmt, help=help_, description=help_ + " (nbgrader exchange).",
                            epilog="Example:\n  " + example)
        c.add_argument("assignment", help="assignment id")
        c.add_argument("--course", default=str(paths.course_root()), help="course folder (default: this checkout)")
        c.add_argument("--exchange", default=None, help="exchange root (default: nbgrader's configured one)")
        return c

    exch("release", "release an assignment to the trainees", "daqlab course release practical-1-identify")
    exch("collect", "collect the latest submissions", "daqlab course collect practical-1-identify")
    fb = exch("feedback", "generate feedback and return it to the trainees", "daqlab course feedback theory-contest")
    fb.add_argument("--no-release", action="store_true", help="only generate feedback/ (no exchange)")
    ex = csub.add_parser("export", formatter_class=fmt, help="export grades with their grading status (CSV)",
                         description="Write one row per trainee and assignment: score, max score, status "
                                     "(graded / graded with errors / not gradable / not submitted) and reason.",
                         epilog="Example:\n  daqlab course export --out grades.csv")
    ex.add_argument("--course", default=str(paths.course_root()), help="course folder (default: this checkout)")
    ex.add_argument("--roster", default=str(paths.grader() / "roster.csv"), help="roster CSV for names and stations")
    ex.add_argument("--out", default="grades.csv", help="CSV to write (default grades.csv)")
    ro = csub.add_parser("roster", formatter_class=fmt, help="check a roster and add its trainees to the gradebook",
                         description="Validate a roster CSV (student_id,name,station: unique ids and stations) and "
                                     "add every trainee to nbgrader's gradebook.",
                         epilog="Example:\n  daqlab course roster grader/roster.csv")
    ro.add_argument("path", help="roster CSV")
    ro.add_argument("--course", default=str(paths.course_root()), help="course folder (default: this checkout)")


def run(args) -> int:
    if args.command == "exam":
        return {"check-bank": _check_bank, "build": _build, "paper": _paper,
                "window": _window}[args.exam_command](args)
    return {"generate": _generate, "grade": _grade, "release": _exchange, "collect": _exchange,
            "feedback": _exchange, "export": _export, "roster": _roster}[args.course_command](args)


def _check_bank(args) -> int:
    from collections import Counter

    from daqlab.exam.bank import AREAS, BankError, load_bank

    try:
        items = load_bank(args.bank)
    except BankError as exc:
        print(exc, file=sys.stderr)
        return 2
    counts = Counter((i.area, i.type) for i in items.values())
    print(f"{len(items)} items OK")
    print(f"{'area':<16}{'single':>8}{'multiple':>10}{'true/false':>12}{'total':>8}")
    for area in AREAS:
        row = [counts[(area, t)] for t in ("single", "multiple", "truefalse")]
        print(f"{area:<16}{row[0]:>8}{row[1]:>10}{row[2]:>12}{sum(row):>8}")
    return 0


def _build(args) -> int:
    from daqlab.exam.build import build

    for path in build(args.bank, args.source, args.only):
        print(f"wrote {path}")
    print("next: daqlab course generate   (source/ -> release/)")
    return 0


def _window(args) -> int:
    import json

    from daqlab.atomic import write_atomic
    from daqlab.exam.clock import EXAM_FILE, parse_time, settings

    course = Path(args.course)
    src = course / "source" / args.assignment
    if not src.is_dir():
        print(f"daqlab: no assignment {args.assignment} under {course / 'source'}: name a theory paper, "
              "e.g. theory-contest", file=sys.stderr)
        return 2
    conf = settings(src) or {"minutes": None, "closes": None}
    if args.show or (args.minutes is None and args.closes is None):
        print(json.dumps(conf, ensure_ascii=False))
        return 0
    if args.minutes is not None:
        if args.minutes <= 0:
            print("daqlab: --minutes must be more than 0", file=sys.stderr)
            return 2
        conf["minutes"] = args.minutes
    if args.closes is not None:
        if args.closes.lower() == "none":
            conf["closes"] = None
        elif parse_time(args.closes) is None or parse_time(args.closes).tzinfo is None:
            print(f"daqlab: --closes {args.closes!r} is not an ISO time, e.g. 2026-12-05T11:00+08:00", file=sys.stderr)
            return 2
        else:
            conf["closes"] = parse_time(args.closes).isoformat()
    if not conf.get("minutes"):
        print("daqlab: a timed paper needs --minutes", file=sys.stderr)
        return 2
    for folder in (src, course / "release" / args.assignment):
        if folder.is_dir():
            write_atomic(folder / EXAM_FILE, json.dumps(conf, indent=1) + "\n")
    print(f"{args.assignment}: {conf['minutes']:g} min per trainee" + (f", closes {conf['closes']}" if conf["closes"]
                                                                      else "") + f"\nnext: daqlab course release {args.assignment}")
    return 0


def _paper(args) -> int:
    from daqlab.exam.bank import item_text, load_bank, load_public
    from daqlab.exam.blueprint import all_blueprints, for_assignment
    from daqlab.exam.paper import draw
    from daqlab.exam.score import shown_key

    if args.assignment not in all_blueprints():
        print(f"daqlab: {args.assignment!r} is not an exam; one of: {', '.join(all_blueprints())}", file=sys.stderr)
        return 2
    if not args.student.strip():
        print("daqlab: --student is empty: give the trainee's student id", file=sys.stderr)
        return 2
    bp = for_assignment(args.assignment)
    bank = load_bank(args.bank) if args.key or bp.pool == "contest" else None  # contest texts: the bank only
    public = load_public() if bank is None else {iid: item_text(it) for iid, it in bank.items()}
    paper = draw(public, bp, course=args.course, assignment=args.assignment, student=args.student, salt=args.salt)
    bank = bank if args.key else None
    for pi in paper.items:
        item = public[pi.item_id]
        key = f"   key: {shown_key(pi, bank[pi.item_id])}" if bank else ""
        print(f"{pi.number:>3}. [{pi.item_id} {pi.type} {pi.points:g}] {item['stem']['zh']} / {item['stem']['en']}{key}")
        for shown, letter in zip(pi.shown_letters, pi.order, strict=False):
            print(f"       {shown}. {item['options'][letter]['en']}")
    return 0


def _generate(args) -> int:
    from daqlab.course.generate import generate_all

    course = Path(args.course)
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    print("generating release/ with nbgrader ...", flush=True)
    results = generate_all(course, args.assignments or None)
    failed = [n for n, r in results.items() if not r.ok]
    for name, r in results.items():
        print(f"{'ok    ' if r.ok else 'FAILED'} {name} ({r.seconds:.1f} s)")
        if not r.ok:
            print(r.output[-3000:], file=sys.stderr)
    return 1 if failed else 0


def _load_roster(path):
    from daqlab.course.roster import load_roster

    return load_roster(path) if Path(path).exists() else {}


def _grade(args) -> int:
    from daqlab.course.grade import Settings, grade

    if os.geteuid() != 0 and os.environ.get("DAQLAB_GRADER_SOCKET"):  # the instructor on the hub: not root
        from daqlab.hub.gradeservice import forward

        fwd = [args.assignment, *[f"--student={x}" for x in args.student or []], f"--timeout={args.timeout}",
               f"--memory-mb={args.memory_mb}", f"--seed={args.seed}"]
        fwd += [f"--workers={args.workers}"] if args.workers else []
        fwd += [f"--salt={args.salt}"] if args.salt else []
        return forward(os.environ["DAQLAB_GRADER_SOCKET"], fwd)
    s = Settings(timeout=args.timeout, memory_mb=args.memory_mb, seed=args.seed, salt=args.salt)
    if args.workers:
        s.workers = args.workers
    outcomes = grade(Path(args.course), args.assignment, args.student, roster=_load_roster(args.roster), settings=s)
    if not outcomes:
        print(f"no submissions of {args.assignment} under {args.course}/submitted/")
        return 1
    for o in outcomes:
        score = "-" if o.score is None else f"{o.score:g}/{o.max_score:g}"
        print(f"{o.student:<20} {score:>9}  {o.status:<19} {o.seconds:5.1f} s  {o.reason}")
    from daqlab.course.status import STATUSES

    counts = {k: sum(o.status == k for o in outcomes) for k in STATUSES}
    print(", ".join(f"{v} {k}" for k, v in counts.items()))
    return 0


def _exchange(args) -> int:
    from daqlab.course import exchange

    course = Path(args.course)
    if args.course_command == "feedback":
        runs = exchange.feedback(course, args.assignment, args.exchange, release_to_exchange=not args.no_release)
    else:
        runs = [getattr(exchange, args.course_command)(course, args.assignment, args.exchange)]
    for r in runs:
        if not r.ok:
            print(r.output[-3000:], file=sys.stderr)
            return 1
    print(f"{args.course_command} {args.assignment}: ok")
    return 0


def _export(args) -> int:
    from daqlab.course.export import export

    n = export(Path(args.course), Path(args.out), _load_roster(args.roster))
    print(f"wrote {n} rows to {args.out}")
    return 0


def _roster(args) -> int:
    from daqlab.course.roster import RosterError, load_roster

    try:
        roster = load_roster(args.path)
    except RosterError as exc:
        print(exc, file=sys.stderr)
        return 2
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{Path(args.course).resolve() / 'gradebook.db'}") as gb:
        for t in roster.values():
            first, _, last = t.name.partition(" ")
            gb.update_or_create_student(t.student_id, first_name=first, last_name=last)
    print(f"{len(roster)} trainees in the gradebook (stations {min(t.station for t in roster.values())}-"
          f"{max(t.station for t in roster.values())})")
    return 0
