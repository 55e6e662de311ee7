"""`daqlab lessons build|check`: the student edition of the lessons from the teacher edition (daqlab.editions)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from daqlab import paths


def add_parsers(sub, fmt) -> None:
    p = sub.add_parser("lessons", formatter_class=fmt, help="build the student edition of the lessons",
                       description="teacher/lessons/ holds the teacher edition (solutions, teaching notes, typical "
                                   "wrong answers) and is the only source; notebooks/ holds the student edition "
                                   "generated from it: exercises blank, self-checks kept, teaching notes left out.",
                       epilog="Examples:\n  daqlab lessons build          # after editing teacher/lessons/\n"
                              "  daqlab lessons build 02 11     # only lessons 02 and 11\n"
                              "  daqlab lessons check          # exit 1 when notebooks/ is not up to date\n"
                              "  daqlab lessons build --teacher my/lessons --student /srv/student-lessons")
    lsub = p.add_subparsers(dest="lessons_command", required=True, metavar="ACTION")
    st = lsub.add_parser("stats", formatter_class=fmt, help="a Markdown table of the lessons (README's)",
                         description="Per lesson: suggested minutes, exercises, wrong answers tried by the tests, "
                                     "Chinese characters and English words of the student edition's prose.",
                         epilog="Example:\n  daqlab lessons stats")
    st.add_argument("only", nargs="*", help=argparse.SUPPRESS)
    st.add_argument("--teacher", default=str(paths.CHECKOUT / "teacher" / "lessons"), help="teacher edition")
    st.add_argument("--student", default=str(paths.notebooks()), help=argparse.SUPPRESS)
    for name, text in (("build", "write the student edition"), ("check", "is the student edition up to date?")):
        a = lsub.add_parser(name, formatter_class=fmt, help=text, description=text,
                            epilog=f"Example:\n  daqlab lessons {name}")
        a.add_argument("only", nargs="*", metavar="LESSON", help="only these lessons (number or name prefix, e.g. 02)")
        a.add_argument("--teacher", default=str(paths.CHECKOUT / "teacher" / "lessons"),
                       help="teacher edition, the source (default teacher/lessons/ of this checkout)")
        a.add_argument("--student", default=str(paths.notebooks()),
                       help="student edition, written (default notebooks/ of this checkout)")


def run(args) -> int:
    from daqlab.editions import EditionError, build, stats_table

    teacher, student = Path(args.teacher), Path(args.student)
    if not teacher.is_dir():
        print(f"daqlab: {teacher}: no such folder (the teacher edition: --teacher)", file=sys.stderr)
        return 2
    try:
        if args.lessons_command == "stats":
            print(stats_table(teacher))
            return 0
        changed = build(teacher, student, check_only=args.lessons_command == "check", only=tuple(args.only))
    except EditionError as exc:
        print(f"daqlab: {exc}", file=sys.stderr)
        return 2
    if args.lessons_command == "check":
        if changed:
            print(f"student edition out of date: {', '.join(changed)} (run `daqlab lessons build`)")
            return 1
        print(f"student edition up to date ({student})")
        return 0
    print(f"{len(changed)} lesson(s) written to {student}" + (f": {', '.join(changed)}" if changed else ""))
    return 0
