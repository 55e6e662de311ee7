"""What the exam notebook calls: show the trainee's paper, check answer formats, score per area.

Identity (DESIGN, grading contract): the paper belongs to the student id in the kernel's
environment, never to anything typed in the notebook.

- Grading (``NBGRADER_EXECUTION=autograde``): ``DAQLAB_STUDENT_ID`` and ``DAQLAB_ASSIGNMENT`` are set by
  the course pipeline and required; ``DAQLAB_EXAM_BANK`` points at the instructor-side bank (keys).
- Working: ``DAQLAB_STUDENT_ID``, else ``JUPYTERHUB_USER``, else the OS user. No keys: the grade cells
  only check answer formats and say the paper is scored after submission.

Per-item results are written to ``exam_results.json`` in ``DAQLAB_RESULTS_DIR`` or the working folder
(nbgrader runs the autograde kernel in ``autograded/<student>/<assignment>/``); the results dashboard
reads them for item analysis.
"""

from __future__ import annotations

import getpass
import html
import json
import os
from pathlib import Path

from daqlab.exam.answers import AnswerFormatError, normalise
from daqlab.exam.bank import AREAS, TYPE_NAMES, load_bank, load_public
from daqlab.exam.blueprint import for_assignment
from daqlab.exam.paper import Paper, draw
from daqlab.exam.score import score_paper

RESULTS_FILE = "exam_results.json"


def grading() -> bool:
    return os.environ.get("NBGRADER_EXECUTION") == "autograde"


def identity(assignment: str) -> tuple[str, str, str]:
    """(course, assignment, student) for this kernel."""
    env = os.environ
    course = env.get("DAQLAB_COURSE", "daqlab")
    if grading():
        missing = [v for v in ("DAQLAB_STUDENT_ID", "DAQLAB_ASSIGNMENT") if not env.get(v)]
        if missing:
            raise RuntimeError(f"grading without {', '.join(missing)}: grade with `daqlab course grade`, "
                               "which sets the submission's student id")
        return course, env["DAQLAB_ASSIGNMENT"], env["DAQLAB_STUDENT_ID"]
    student = env.get("DAQLAB_STUDENT_ID") or env.get("JUPYTERHUB_USER") or getpass.getuser()
    return course, env.get("DAQLAB_ASSIGNMENT") or assignment, student


def my_paper(assignment: str) -> Paper:
    course, assignment, student = identity(assignment)
    return draw(load_public(), for_assignment(assignment), course=course, assignment=assignment, student=student)


def _keys():
    path = os.environ.get("DAQLAB_EXAM_BANK")
    if not path:
        return None
    return load_bank(path)


# ------------------------------------------------------------------ showing
def render(paper: Paper) -> str:
    """The paper as HTML (no external assets: works offline and in Voila)."""
    items = load_public()
    bp = paper.blueprint
    h = [f"<h2>{html.escape(bp.title['zh'])} · {html.escape(bp.title['en'])}</h2>",
         f"<p><b>考生 Trainee:</b> {html.escape(paper.student)} &nbsp; <b>时长 Duration:</b> {bp.minutes} min &nbsp; "
         f"<b>总分 Total:</b> {bp.total_points:g} &nbsp; <b>及格 Pass:</b> {bp.pass_mark:g}</p>"]
    current = None
    for pi in paper.items:
        if pi.type != current:
            current = pi.type
            en, zh = TYPE_NAMES[pi.type]
            n = sum(1 for x in paper.items if x.type == pi.type)
            rule = {"single": "选一个选项 · choose one option",
                    "multiple": "选出全部正确选项，错选、多选、少选均不得分 · choose every correct option; "
                                "any wrong, extra or missing option scores 0",
                    "truefalse": "答 对/错（T/F） · answer true or false"}[pi.type]
            h.append(f"<h3>{zh} · {en} ({n} × {pi.points:g})</h3><p><i>{rule}</i></p>")
        item = items[pi.item_id]
        area = AREAS[pi.area]
        h.append(f"<div style='margin:0.6em 0'><b>{pi.number}.</b> {html.escape(item['stem']['zh'])}<br>"
                 f"<span style='color:#555'>{html.escape(item['stem']['en'])}</span> "
                 f"<span style='color:#888;font-size:85%'>[{area[2]} · {area[1]}]</span>")
        if pi.order:
            h.append("<ul style='list-style:none;margin:0.2em 0 0 1em;padding:0'>")
            for shown, letter in zip(pi.shown_letters, pi.order, strict=True):
                o = item["options"][letter]
                h.append(f"<li><b>{shown}.</b> {html.escape(o['zh'])} <span style='color:#555'>/ "
                         f"{html.escape(o['en'])}</span></li>")
            h.append("</ul>")
        h.append("</div>")
    return "\n".join(h)


def show_paper(assignment: str) -> Paper:
    """Display this trainee's paper in the notebook and return it."""
    from IPython.display import HTML, display

    paper = my_paper(assignment)
    display(HTML(render(paper)))
    return paper


def answer_template(paper: Paper, kind: str) -> str:
    """Source text of an answer cell for one item type (same numbers for every trainee)."""
    en, zh = TYPE_NAMES[kind]
    name = {"single": "single", "multiple": "multiple", "truefalse": "truefalse"}[kind]
    hint = {"single": '"B"', "multiple": '"A,C"', "truefalse": '"对" / "错" (or True / False)'}[kind]
    lines = [f"# {zh} · {en}: e.g. {hint}", f"{name} = {{"]
    lines += [f"    {pi.number}: \"\"," for pi in paper.items if pi.type == kind]
    lines.append("}")
    return "\n".join(lines)


# ------------------------------------------------------------- answering
def _merge(*sheets) -> dict:
    answers: dict = {}
    for sheet in sheets:
        if sheet is None:
            continue
        if not isinstance(sheet, dict):
            raise TypeError("answers must be dicts like {1: 'B'}")
        for k, v in sheet.items():
            try:
                answers[int(k)] = v
            except (TypeError, ValueError):
                continue
    return answers


def check_answers(assignment: str, *sheets) -> list[str]:
    """Format problems in the answer dicts (empty list = every answer readable). Prints a summary."""
    paper = my_paper(assignment)
    answers = _merge(*sheets)
    problems, blank = [], 0
    for pi in paper.items:
        a = answers.get(pi.number)
        try:
            if normalise(a, pi.type, pi.shown_letters) is None:
                blank += 1
        except AnswerFormatError as exc:
            problems.append(f"{pi.number}: {exc}")
    extra = sorted(set(answers) - {pi.number for pi in paper.items})
    if extra:
        problems.append(f"numbers {extra} are not on your paper · 试卷中没有这些题号")
    print(f"{len(paper.items) - blank - len(problems)} answered, {blank} blank · 已答 {len(paper.items) - blank}，未答 {blank}")
    for p in problems:
        print("  ✗", p)
    return problems


def solution(assignment: str, kind: str) -> dict:
    """The key of this kernel's paper as an answer dict (instructor side: source notebooks only)."""
    bank = _keys()
    if bank is None:
        raise RuntimeError("the answer key is instructor-side: set DAQLAB_EXAM_BANK to the bank folder")
    from daqlab.exam.score import shown_key

    paper = my_paper(assignment)
    out = {}
    for pi in paper.items:
        if pi.type == kind:
            k = shown_key(pi, bank[pi.item_id])
            out[pi.number] = ("对" if k else "错") if kind == "truefalse" else (",".join(k) if kind == "multiple" else k)
    return out


def area_score(assignment: str, area: str, *sheets):
    """Grade cell body: the points earned in ``area`` (nbgrader takes the number as partial credit).

    Without the keys (a trainee's kernel) it checks that area's answer formats and returns None.
    """
    paper = my_paper(assignment)
    answers = _merge(*sheets)
    bank = _keys()
    _, en, zh = AREAS[area]
    if bank is None:
        if grading():
            raise RuntimeError("autograding needs DAQLAB_EXAM_BANK (the instructor-side bank)")
        bad = []
        for pi in paper.items:
            if pi.area == area:
                try:
                    normalise(answers.get(pi.number), pi.type, pi.shown_letters)
                except AnswerFormatError as exc:
                    bad.append(f"{pi.number}: {exc}")
        print(f"{zh} · {en}: scored after submission · 提交后评分" + ("" if not bad else "\n  ✗ " + "\n  ✗ ".join(bad)))
        return None
    results = score_paper(paper, bank, answers, areas={area})
    earned = sum(r.score for r in results)
    available = sum(r.points for r in results)
    print(f"{zh} · {en}: {earned:g} / {available:g}")
    feedback = paper.blueprint.feedback
    for r in results:
        if r.status == "unreadable":
            print(f"  {r.number:>3} ✗ {r.message}")
        elif feedback:
            mark = "✓" if r.correct else "✗"
            item = bank[r.item_id]
            print(f"  {r.number:>3} {mark} your answer {r.answer or '-'}, key {_fmt_key(r.key)}. "
                  f"{item.explanation['en']} {item.explanation['zh']}")
    _record(paper, area, results)
    return earned


def _fmt_key(key) -> str:
    if isinstance(key, bool):
        return "对/True" if key else "错/False"
    return ",".join(key) if len(key) > 1 else key


def _record(paper: Paper, area: str, results) -> None:
    """Append per-item results, only while grading (or into an explicit DAQLAB_RESULTS_DIR)."""
    if not (grading() or os.environ.get("DAQLAB_RESULTS_DIR")):
        return
    folder = Path(os.environ.get("DAQLAB_RESULTS_DIR") or ".")
    path = folder / RESULTS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except (OSError, ValueError):
        data = {}
    data.update(course=paper.course, assignment=paper.assignment, student=paper.student,
                blueprint=paper.blueprint.name)
    kept = [r for r in data.get("items", []) if r["area"] != area]
    data["items"] = sorted(kept + [r.to_dict() for r in results], key=lambda r: r["number"])
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
