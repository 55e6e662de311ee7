"""Benchmark: the results dashboard's first full render on a synthetic course of 500 trainees × 8 assignments.

A course is generated in a temporary folder (generation is not timed):

- ``gradebook.db`` written with :class:`nbgrader.api.Gradebook`: assignments, notebooks and grade cells
  through its API; students, submissions, submitted notebooks and grades by bulk inserts into its tables
  (the same rows nbgrader's autograder writes, a few hundred times faster than one API call each);
- 4 theory assignments ``theory-mock-1..4``: each trainee's paper drawn from the real bank with the
  contest blueprint (85 items, 14 areas, 100 points); right or wrong from a one-parameter logistic model
  (trainee ability ~ N(0, 1), item difficulty from the bank's 1..3), 3 % blank, 0.5 % unreadable; one
  grade cell ``area-<area>`` per area, and ``autograded/<student>/<assignment>/exam_results.json``;
- 4 practical assignments ``practical-1..4``: two grade cells of three checks each, passed with a
  probability rising with ability; ``practical_results.json`` per submission;
- ``grading/status.json``: 2 % not submitted, 1 % not gradable (no gradebook entry), 3 % graded with
  errors, the rest graded; ``grader/roster.csv`` with names and stations.

Timed, ``--rounds`` times in this process (median and worst reported): :func:`load_course` (roster read
from the course), :func:`item_analysis` over every theory paper, :func:`mastery`, :func:`ranking`,
:func:`failed_checks`, and the four figures each drawn and rendered to PNG: the work of the results
dashboard's first full render. Side by side (once, same course): the scores table read the per-row way
(``daqlab.course.export.rows``: one gradebook lookup per trainee and assignment) and a per-item loop of
item analysis (one boolean filter and ``numpy.corrcoef`` per item), which must agree with the vectorised
results (checked).

``--browser``: what a teacher waits for, ``daqlab dashboard results`` opened in Debian's chromium (navigation to the
first figure and to the last widget of the first screen), side by side: plain Voila (a kernel started per visit),
the pre-heated kernel (``daqlab.dashboards.preheat``) with visits 15 s apart, and back-to-back visits.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import asdict
from pathlib import Path

import numpy as np

if str(Path(__file__).parent) not in sys.path:  # run as a script or imported: find bench/_common.py
    sys.path.insert(0, str(Path(__file__).parent))
from _common import fmt, log, markdown_table, ratio  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
COURSE_ID = "daqlab"
GOAL_S = 5.0  #: first full render of the results dashboard, seconds
BLANK, UNREADABLE = 0.03, 0.005  #: shares of theory answers left blank / written unreadably
NOT_SUBMITTED, NOT_GRADABLE, WITH_ERRORS = 0.02, 0.01, 0.03  #: shares of (trainee, assignment) outcomes
PRACTICAL_CELLS = {"test-a": ((3, 0.8), (3, 0.0), (2, -0.8)), "test-b": ((4, 0.4), (2, -0.4), (2, -1.2))}
#: practical grade cell -> its checks (points, easiness): passed with p = sigmoid(1.5 ability + easiness)


# ------------------------------------------------------------------------------ generation
def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def generate(course: Path, trainees: int, theory: int, practical: int, seed: int) -> dict:
    """Write the synthetic course under ``course``; returns counts for the report."""
    from nbgrader.api import Grade, Gradebook, Student, SubmittedAssignment, SubmittedNotebook
    from sqlalchemy import insert

    from daqlab.course.grade import Outcome
    from daqlab.exam.bank import load_bank
    from daqlab.exam.blueprint import contest
    from daqlab.exam.paper import draw

    rng = np.random.default_rng(seed)
    bank = load_bank(ROOT / "source" / "exam" / "bank")
    bp = contest()
    difficulty = {iid: (it.difficulty - 2) * 1.2 + rng.normal(0, 0.5) for iid, it in bank.items()}
    students = [f"t{i:03d}" for i in range(1, trainees + 1)]
    ability = dict(zip(students, rng.normal(0, 1, trainees), strict=True))
    (course / "grader").mkdir(parents=True)
    with open(course / "grader" / "roster.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["student_id", "name", "station"])
        w.writerows((s, f"学员 Trainee {s[1:]}", k) for k, s in enumerate(students, start=1))

    theories = [f"theory-mock-{k}" for k in range(1, theory + 1)]
    practicals = [f"practical-{k}" for k in range(1, practical + 1)]
    counts = {"submissions": 0, "grades": 0, "items": 0, "checks": 0}
    status: dict[str, dict] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id=COURSE_ID) as gb:
        cells: dict[str, dict[str, tuple[str, float]]] = {}  # assignment -> cell name -> (cell id, max)
        nb_ids: dict[str, str] = {}
        for a in theories + practicals:
            gb.add_assignment(a)
            nb = gb.add_notebook(a, a)
            nb_ids[a] = nb.id
            spec = ({f"area-{ar}": bp.area_points(ar) for ar in bp.areas} if a in theories else
                    {c: float(sum(p for p, _ in checks)) for c, checks in PRACTICAL_CELLS.items()})
            cells[a] = {}
            for name, points in spec.items():
                gc = gb.add_grade_cell(name, a, a, max_score=points, cell_type="code")
                cells[a][name] = (gc.id, points)
        ids = {x.name: x.id for x in gb.assignments}
        gb.db.execute(insert(Student.__table__), [{"id": s, "first_name": "", "last_name": s} for s in students])
        subs, notebooks, grades = [], [], []
        for a in theories + practicals:
            status[a] = {}
            for s in students:
                r = rng.random()
                if r < NOT_SUBMITTED:
                    continue
                if r < NOT_SUBMITTED + NOT_GRADABLE:
                    status[a][s] = asdict(Outcome(s, a, "not gradable", "not a notebook: JSON decode error",
                                                  None, None, 0.1))
                    continue
                errors = r < NOT_SUBMITTED + NOT_GRADABLE + WITH_ERRORS
                folder = course / "autograded" / s / a
                folder.mkdir(parents=True)
                if a in theories:
                    per_cell, n = _theory_paper(folder, draw(bank, bp, course=COURSE_ID, assignment=a, student=s),
                                                bank, difficulty, ability[s], rng)
                    counts["items"] += n
                else:
                    per_cell, n = _practical(folder, s, a, ability[s], rng)
                    counts["checks"] += n
                sub_id, snb_id = uuid.uuid4().hex, uuid.uuid4().hex
                subs.append({"id": sub_id, "assignment_id": ids[a], "student_id": s})
                notebooks.append({"id": snb_id, "assignment_id": sub_id, "notebook_id": nb_ids[a]})
                for name, (cell_id, _points) in cells[a].items():
                    grades.append({"id": uuid.uuid4().hex, "notebook_id": snb_id, "cell_id": cell_id,
                                   "auto_score": per_cell.get(name, 0.0), "needs_manual_grade": False})
                score = float(sum(per_cell.values()))
                status[a][s] = asdict(Outcome(s, a, "graded with errors" if errors else "graded",
                                              "cell 7 was interrupted" if errors else "", score,
                                              float(sum(p for _, p in cells[a].values())), 2.0))
        gb.db.execute(insert(SubmittedAssignment.__table__), subs)
        gb.db.execute(insert(SubmittedNotebook.__table__), notebooks)
        gb.db.execute(insert(Grade.__table__), grades)
        gb.db.commit()
        counts.update(submissions=len(subs), grades=len(grades))
    (course / "grading").mkdir()
    (course / "grading" / "status.json").write_text(json.dumps(status, indent=1, ensure_ascii=False), "utf-8")
    counts.update(trainees=trainees, assignments=len(theories) + len(practicals), first_theory=theories[0])
    return counts


def _theory_paper(folder: Path, paper, bank, difficulty, ability, rng) -> tuple[dict, int]:
    """exam_results.json of one simulated paper; returns ({area cell: score}, items)."""
    n = len(paper.items)
    right = rng.random(n) < sigmoid(1.2 * (ability - np.array([difficulty[pi.item_id] for pi in paper.items])))
    fate = rng.random(n)
    out, per_cell = [], {}
    for pi, ok, f in zip(paper.items, right, fate, strict=True):
        item = bank[pi.item_id]
        if f < BLANK:
            chosen, status, ok = None, "blank", False
        elif f < BLANK + UNREADABLE:
            chosen, status, ok = None, "unreadable", False
        elif ok:
            chosen, status = (sorted(item.key) if pi.type == "multiple" else item.key), "correct"
        else:
            status = "wrong"
            if pi.type == "truefalse":
                chosen = not item.key
            elif pi.type == "single":
                chosen = str(rng.choice([x for x in item.options if x != item.key]))
            else:
                letters = list(item.options)
                while True:
                    pick = sorted(str(x) for x in rng.choice(letters, int(rng.integers(1, 4)), replace=False))
                    if pick != sorted(item.key):
                        break
                chosen = pick
        score = pi.points if ok else 0.0
        per_cell[f"area-{pi.area}"] = per_cell.get(f"area-{pi.area}", 0.0) + score
        out.append({"number": pi.number, "item_id": pi.item_id, "area": pi.area, "type": pi.type,
                    "points": pi.points, "score": score, "answer": "" if chosen is None else str(chosen),
                    "chosen": chosen, "correct": bool(ok), "status": status,
                    "message": "cannot read 'Q'" if status == "unreadable" else "", "key": item.key})
    data = {"course": COURSE_ID, "assignment": paper.assignment, "student": paper.student,
            "blueprint": paper.blueprint.name, "items": out}
    (folder / "exam_results.json").write_text(json.dumps(data, ensure_ascii=False, indent=1, default=list),
                                             encoding="utf-8")
    return per_cell, n


def _practical(folder: Path, student: str, assignment: str, ability, rng) -> tuple[dict, int]:
    """practical_results.json of one simulated submission; returns ({grade cell: score}, checks)."""
    checks, per_cell = [], {}
    for cell, spec in PRACTICAL_CELLS.items():
        for k, (points, easy) in enumerate(spec, start=1):
            passed = bool(rng.random() < sigmoid(1.5 * ability + easy))
            earned = float(points if passed else 0)
            per_cell[cell] = per_cell.get(cell, 0.0) + earned
            checks.append({"name": f"{cell} check {k}", "points": float(points), "passed": passed,
                           "message": "ok" if passed else "expected 23.5, got 235", "earned": -1.0,
                           "score": earned, "cell": f"Report {cell}"})
    data = {"student": student, "assignment": assignment, "checks": checks}
    (folder / "practical_results.json").write_text(json.dumps(data, ensure_ascii=False, indent=1), "utf-8")
    return per_cell, len(checks)


# --------------------------------------------------------------------------------- timing
STEPS = ("load_course", "item_analysis", "mastery", "ranking", "failed_checks", "figure: distribution",
         "figure: mastery heat map", "figure: item map", "figure: ranking bar")


def render(fig) -> None:
    """Draw ``fig`` to PNG, as the dashboard does when it shows it."""
    fig.savefig(io.BytesIO(), format="png")


def first_render(course: Path, theory: str) -> tuple[dict, dict]:
    """The results dashboard's first full render once: ({step: seconds}, the results)."""
    from daqlab.dashboards import failed_checks, item_analysis, load_course, mastery, ranking
    from daqlab.dashboards.figures import distribution, item_map, mastery_heatmap, ranking_bar

    t: dict[str, float] = {}
    res: dict = {}

    def timed(name, fn, *args):
        t0 = time.perf_counter()
        out = fn(*args)
        t[name] = time.perf_counter() - t0
        return out

    from daqlab.dashboards import data as data_module

    data_module._PARSED.clear()  # a first render: every results file parsed (a kernel's later reads parse changed ones)
    data = res["data"] = timed("load_course", load_course, course)
    t0 = time.perf_counter()
    load_course(course)  # what a pre-heated kernel does after the request: not part of the first render
    res["again_s"] = time.perf_counter() - t0
    res["items"] = ia = timed("item_analysis", item_analysis, data.items, data.scores)
    m = timed("mastery", mastery, data.areas)
    r = timed("ranking", ranking, data.scores)
    timed("failed_checks", failed_checks, data.checks)
    for name, make in (("figure: distribution", lambda: distribution(data.scores, theory, 60)),
                       ("figure: mastery heat map", lambda: mastery_heatmap(m)),
                       ("figure: item map", lambda: item_map(ia)),
                       ("figure: ranking bar", lambda: ranking_bar(r))):
        timed(name, lambda make=make: render(make()))
    return t, res


BROWSER_GOALS = (3.0, 5.0)  #: 500 trainees: first figure and the last widget on screen, seconds


MODES = (("plain", "plain Voila (a kernel per visit)"),
         ("visit", "pre-heated: a visit"),
         ("back-to-back", "pre-heated: back-to-back visits"))
VISIT_GAP_S = 15  #: seconds between two teachers' visits: time for the pool's next kernel to warm up


def browser_times(course: Path, rounds: int, mode: str) -> list[tuple[float, float]]:
    """What a teacher waits for: ``daqlab dashboard results`` (a real Voila) opened in Debian's chromium;
    per round (navigation -> first figure visible, navigation -> the trainee table, the last widget of the first
    screen: the other tabs are drawn when opened). ``mode``: "plain" (``--no-preheat``: Voila starts a kernel
    for each visit), "visit" (pre-heated, a visit every ``VISIT_GAP_S`` s), "back-to-back" (pre-heated, each visit
    as soon as the previous page is complete: the pool's next kernel may still be warming up)."""
    import socket
    import subprocess

    from playwright.sync_api import sync_playwright

    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        port = so.getsockname()[1]
    extra = ["--no-preheat"] if mode == "plain" else []
    proc = subprocess.Popen([sys.executable, "-m", "daqlab.cli", "dashboard", "results", "--course", str(course),
                             "--port", str(port), *extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, JUPYTERHUB_USER="grader-daqlab"))
    out = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                   args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"])
            warm = b.new_page()  # the browser's and Voila's first page (static files cached): not what is compared
            warm.goto(f"http://127.0.0.1:{port}/", wait_until="commit")
            warm.wait_for_selector("table.res-trainees", state="attached", timeout=600_000)
            warm.close()
            for _ in range(rounds):
                if mode != "back-to-back":
                    time.sleep(VISIT_GAP_S)
                page = b.new_page(viewport={"width": 1400, "height": 1000})
                t0 = time.perf_counter()
                page.goto(f"http://127.0.0.1:{port}/", wait_until="commit")
                page.wait_for_selector("img.res-fig", timeout=600_000)
                first = time.perf_counter() - t0
                page.wait_for_selector("table.res-trainees", state="attached", timeout=600_000)
                out.append((first, time.perf_counter() - t0))
                page.close()
            b.close()
    finally:
        proc.terminate()
        proc.wait(30)
    return out


def naive_scores(course: Path) -> float:
    """Seconds to build the scores table the per-row way (``daqlab course export``)."""
    from daqlab.course.export import rows
    from daqlab.course.roster import load_roster

    t0 = time.perf_counter()
    rows(course, load_roster(course / "grader" / "roster.csv"))
    return time.perf_counter() - t0


def naive_item_analysis(items, scores, group: float = 0.27) -> tuple[float, dict]:
    """A per-item loop (boolean filter + numpy.corrcoef per item): (seconds, {item_id: (n, p, D, r_pb)})."""
    t0 = time.perf_counter()
    totals = {(s, a): v for s, a, v in zip(scores.student_id, scores.assignment, scores.score, strict=True)}
    maxima = {(s, a): v for s, a, v in zip(scores.student_id, scores.assignment, scores.max_score, strict=True)}
    upper, lower = set(), set()
    for a, rows in items.groupby("assignment"):
        papers = sorted({(s,) for s in rows.student_id})
        ranked = sorted((-totals[(s, a)], s) for (s,) in papers)
        k = math.floor(group * len(ranked) + 0.5) if len(ranked) >= 2 else 0
        upper |= {(s, a) for _, s in ranked[:k]}
        lower |= {(s, a) for _, s in ranked[len(ranked) - k:]} if k else set()
    out = {}
    for iid in items.item_id.unique():
        rows = items[items.item_id == iid]
        x = rows.correct.to_numpy(float)
        key = list(zip(rows.student_id, rows.assignment, strict=True))
        rest = np.array([100 * (totals[k] - s) / (maxima[k] - p) for k, s, p in
                         zip(key, rows.score, rows.points, strict=True)])
        up = [c for c, k in zip(x, key, strict=True) if k in upper]
        lo = [c for c, k in zip(x, key, strict=True) if k in lower]
        d = (np.mean(up) if up else math.nan) - (np.mean(lo) if lo else math.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.corrcoef(x, rest)[0, 1] if x.std() > 0 and rest.std() > 0 else math.nan
        out[iid] = (len(x), x.mean(), d, r)
    return time.perf_counter() - t0, out


def agree(ia, naive: dict) -> bool:
    got = ia.set_index("item_id")
    for iid, (n, p, d, r) in naive.items():
        row = got.loc[iid]
        if row["n"] != n or not all(math.isclose(u, v, abs_tol=1e-9) or (math.isnan(u) and math.isnan(v))
                                    for u, v in ((row["p"], p), (row["D"], d), (row["r_pb"], r))):
            log(f"disagree on {iid}: {row[['n', 'p', 'D', 'r_pb']].tolist()} vs {(n, p, d, r)}")
            return False
    return len(naive) == len(got)


# ------------------------------------------------------------------------------- report
def conditions(args, counts: dict, gen_s: float) -> str:
    import matplotlib
    import nbgrader
    import pandas as pd

    return (f"Python {platform.python_version()}, pandas {pd.__version__}, matplotlib {matplotlib.__version__}, "
            f"nbgrader {nbgrader.__version__}, {os.cpu_count()} CPU(s), {platform.system()} {platform.release()}; "
            f"synthetic course: {counts['trainees']} trainees × {counts['assignments']} assignments "
            f"({args.theory} theory × 85 items, {args.practical} practical × 6 checks): "
            f"{counts['submissions']:,} submissions, {counts['grades']:,} grades, {counts['items']:,} item rows, "
            f"{counts['checks']:,} check rows (generated in {gen_s:.1f} s, not timed); "
            f"{args.rounds} round(s) in one process, files in the page cache.")


def table(rounds: list[dict], naive: dict, again: list[float] | None = None) -> str:
    rows = []
    for step in STEPS:
        vals = [r[step] for r in rounds]
        med = statistics.median(vals)
        alt = naive.get(step)
        rows.append((step, fmt(med * 1e3, 1), fmt(max(vals) * 1e3, 1),
                     "—" if alt is None else fmt(alt * 1e3, 0), "—" if alt is None else ratio(alt, med)))
    totals = [sum(r.values()) for r in rounds]
    rows.append(("**first full render (all steps)**", f"**{fmt(statistics.median(totals) * 1e3, 1)}**",
                 f"**{fmt(max(totals) * 1e3, 1)}**", "", ""))
    if again:
        rows.append(("load_course again, files unchanged (a pre-heated kernel after the request)",
                     fmt(statistics.median(again) * 1e3, 1), fmt(max(again) * 1e3, 1), "—", "—"))
    head = ("Step", "vectorised median (ms)", "worst round (ms)", "naive per-row (ms)", "speed-up")
    return markdown_table(head, rows)


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if args.trainees is None:
        args.trainees = 100 if args.quick else 500
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    if not (2 <= args.trainees <= 5000 and 1 <= args.theory <= 8 and 0 <= args.practical <= 8
            and 1 <= args.rounds <= 20):
        parser().error("out of range: trainees 2..5000, theory 1..8, practical 0..8, rounds 1..20")
    with tempfile.TemporaryDirectory(prefix="daqlab-dash-") as tmp:
        course = Path(args.keep) if args.keep else Path(tmp) / "course"
        if course.exists() and any(course.iterdir()):
            parser().error(f"{course} is not empty")
        log(f"generating {args.trainees} trainees × {args.theory + args.practical} assignments in {course} ...")
        t0 = time.perf_counter()
        counts = generate(course, args.trainees, args.theory, args.practical, args.seed)
        gen_s = time.perf_counter() - t0
        log(f"generated in {gen_s:.1f} s: {counts['submissions']:,} submissions, {counts['items']:,} item rows")
        import daqlab.dashboards.figures  # noqa: F401  (the dashboard's import cell, not its render)

        rounds, again = [], []
        for k in range(1, args.rounds + 1):
            t, res = first_render(course, counts["first_theory"])
            rounds.append(t)
            again.append(res["again_s"])
            log(f"round {k}/{args.rounds}: {sum(t.values()):.2f} s "
                f"(load_course {t['load_course']:.2f} s, item_analysis {t['item_analysis']:.2f} s)")
        naive: dict[str, float] = {}
        if not args.no_naive:
            log("naive: scores table per row (daqlab.course.export.rows) ...")
            naive["load_course"] = naive_scores(course)
            log("naive: item analysis per item ...")
            naive["item_analysis"], per_item = naive_item_analysis(res["data"].items, res["data"].scores)
            if not agree(res["items"], per_item):
                print("Verdict: FAIL — the per-item loop and item_analysis disagree (see stderr).")
                return 1
        print()
        print(conditions(args, counts, gen_s))
        if naive:
            print("Naive per-row column: load_course row = only the scores table built by `daqlab course export` "
                  "(one gradebook lookup per trainee × assignment); item_analysis row = a loop over items "
                  "(results checked equal).")
        print()
        print(table(rounds, naive, again))
        if args.browser:
            sizes = [(args.small, None), (args.trainees, course)]
            brow = []
            for n, folder in sizes:
                if folder is None:
                    folder = Path(tmp) / f"course-{n}"
                    log(f"generating {n} trainees for the browser comparison ...")
                    generate(folder, n, args.theory, args.practical, args.seed)
                py = sum(first_render(folder, counts["first_theory"])[0].values())
                row = [n, py]
                for mode, _title in MODES:
                    log(f"chromium: {n} trainees, {mode} ...")
                    times = browser_times(folder, args.rounds, mode)
                    row += [statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)]
                brow.append(row)
            print()
            print(f"In chromium, navigation to the first figure / to the last widget of the first screen (median of "
                  f"{args.rounds} visits after one warm-up visit; a visit every {VISIT_GAP_S} s unless back-to-back):")
            print("| trainees × assignments | Python-side render | " + " | ".join(t for _, t in MODES)
                  + " | plain ÷ pre-heated (first figure) |")
            print("|--:|--:|" + "--:|" * (len(MODES) + 1))
            for n, py, *ms in brow:
                cells = [f"{ms[2 * i]:.2f} s / {ms[2 * i + 1]:.2f} s" for i in range(len(MODES))]
                print(f"| {n} × {args.theory + args.practical} | {py:.2f} s | " + " | ".join(cells)
                      + f" | {ratio(ms[0], ms[2])} |")
            big = brow[-1]
            print(f"Goal for {big[0]} trainees (pre-heated, a visit): first figure <= {BROWSER_GOALS[0]:g} s "
                  f"({'met' if big[4] <= BROWSER_GOALS[0] else 'NOT met'}), complete <= {BROWSER_GOALS[1]:g} s "
                  f"({'met' if big[5] <= BROWSER_GOALS[1] else 'NOT met'}).")
        print()
        worst = max(sum(r.values()) for r in rounds)
        verdict = "PASS" if worst <= GOAL_S else "FAIL"
        print(f"Verdict: first full render of the results dashboard {worst:.2f} s (worst of {len(rounds)}) for "
              f"{args.trainees} trainees × {args.theory + args.practical} assignments — goal <= {GOAL_S:g} s "
              f"{verdict}.")
        return 0 if verdict == "PASS" else 1


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="bench/dashboards.py",
        description="Time the results dashboard's first full render (load_course, item analysis, mastery, "
                    "ranking, four figures) on a synthetic graded course, step by step, beside naive per-row "
                    "versions of the two heaviest steps. Prints a Markdown table for README.",
        epilog="examples:\n"
               "  python bench/dashboards.py                  # 500 trainees × 8 assignments, 3 rounds (~1.5 min)\n"
               "  python bench/dashboards.py --quick          # 100 trainees, 1 round (smoke run, ~15 s)\n"
               "  python bench/dashboards.py --trainees 1000 --no-naive\n"
               "  python bench/dashboards.py --keep /tmp/big-course   # keep the generated course to explore",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="100 trainees, 1 round")
    p.add_argument("--trainees", type=int, default=None, help="trainees (default 500)")
    p.add_argument("--theory", type=int, default=4, help="theory assignments, 85 items each (default 4)")
    p.add_argument("--practical", type=int, default=4, help="practical assignments, 6 checks each (default 4)")
    p.add_argument("--rounds", type=int, default=None, help="timed rounds in this process (default 3)")
    p.add_argument("--seed", type=int, default=2024, help="seed of the synthetic course (default 2024)")
    p.add_argument("--no-naive", action="store_true", help="skip the naive per-row comparison")
    p.add_argument("--keep", metavar="DIR", help="generate into DIR (must be empty or new) and keep it")
    p.add_argument("--browser", action="store_true",
                   help="also time the real page in Debian's chromium for --small and --trainees trainees: plain "
                        "Voila (--no-preheat), the pre-heated kernel (visits 15 s apart) and back-to-back visits")
    p.add_argument("--small", type=int, default=40, help="the small class of the browser comparison (default 40)")
    return p


if __name__ == "__main__":
    sys.exit(main())
