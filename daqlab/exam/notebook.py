"""What the exam notebook calls while a trainee works: show their paper, check answer formats.

No key exists here (nor anywhere a kernel can reach): the grader reads the answer cells as literals
without running the notebook and scores them in its own process (daqlab.exam.grade, daqlab.course.trusted).
The grade cells' ``area_score`` only checks that area's answer formats and says the paper is scored
after submission.

Identity (DESIGN, grading contract): the paper shown belongs to ``DAQLAB_STUDENT_ID``, else
``JUPYTERHUB_USER``, else the OS user; the paper that is graded is the one of the student id the
submission was collected under, whatever the notebook says. On the hub the paper shown is the file the
instructor published for this trainee (:func:`my_paper`), drawn with the instructor's salt.
"""

from __future__ import annotations

import functools
import getpass
import html
import os
from dataclasses import replace
from pathlib import Path

from daqlab.exam.answers import AnswerFormatError, normalise
from daqlab.exam.bank import AREAS, TYPE_NAMES, load_public
from daqlab.exam.blueprint import for_assignment
from daqlab.exam.paper import Paper, draw

RESULTS_FILE = "exam_results.json"  #: per-item results the grader writes beside the autograded notebook


def identity(assignment: str) -> tuple[str, str, str]:
    """(course, assignment, student) for this kernel."""
    env = os.environ
    student = env.get("DAQLAB_STUDENT_ID") or env.get("JUPYTERHUB_USER") or getpass.getuser()
    return env.get("DAQLAB_COURSE", "daqlab"), env.get("DAQLAB_ASSIGNMENT") or assignment, student


PAPERS_ENV = "DAQLAB_PAPERS"  #: "published" on the hub: a trainee's paper comes from the instructor's file


class PaperNotPublished(RuntimeError):
    """On the hub a paper is drawn with the instructor's secret salt and published to each trainee."""


def published_paper_path(assignment: str):
    """Where the hub publishes this trainee's paper (``$DAQLAB_COURSE_ROOT/papers/<assignment>.json``)."""
    from pathlib import Path

    root = os.environ.get("DAQLAB_COURSE_ROOT")
    return Path(root) / "papers" / f"{assignment}.json" if root else None


def my_paper(assignment: str) -> Paper:
    """This trainee's paper: on the hub the one the instructor published for them (drawn with a salt only the
    instructor has, so no trainee can compute anyone's paper); elsewhere (a lab, practice at home) drawn here."""
    import json

    course, assignment, student = identity(assignment)
    path = published_paper_path(assignment)
    if path is not None and path.exists():
        from daqlab.exam.paper import from_json

        return from_json(json.loads(path.read_text(encoding="utf-8")), for_assignment(assignment))
    if os.environ.get(PAPERS_ENV) == "published":
        raise PaperNotPublished(f"试卷尚未发布，请举手告诉老师（paper not published yet: the instructor runs "
                                f"`daqlab hub publish-papers {assignment}`）")
    bp = for_assignment(assignment)
    if bp.pool == "practice":
        return draw(load_public(), bp, course=course, assignment=assignment, student=student)
    texts = _instructor_texts()  # a contest paper outside the hub: the lab of whoever holds the bank
    if texts is None:
        raise PaperNotPublished("竞赛试卷只由老师发布，本机没有题库（a contest paper is published by the instructor; "
                                "this machine has no item bank)")
    paper = draw(texts, bp, course=course, assignment=assignment, student=student)
    return replace(paper, texts=texts)


def _instructor_texts() -> dict | None:
    """Every item's text (no keys) from the instructor's bank, when this process can read it; else None.
    Read once per kernel while the bank's files are unchanged (a paper notebook asks for it in every cell)."""
    from daqlab import paths

    folder = Path(os.environ.get("DAQLAB_EXAM_BANK") or paths.source() / "exam" / "bank")
    try:
        stamp = tuple((f.name, f.stat().st_mtime_ns) for f in sorted(folder.glob("*.yaml")))
    except OSError:
        return None
    return _texts_of(str(folder), stamp)


@functools.lru_cache(maxsize=4)
def _texts_of(folder: str, _stamp: tuple) -> dict | None:
    from daqlab.exam.bank import BankError, item_text, load_bank

    try:
        return {iid: item_text(it) for iid, it in load_bank(folder).items()}
    except (BankError, OSError):
        return None


# ------------------------------------------------------------------ showing
def render(paper: Paper) -> str:
    """The paper as HTML (no external assets: works offline and in Voila)."""
    items = paper.texts or load_public()
    if any(pi.item_id not in items for pi in paper.items):  # a contest paper drawn here: the bank's texts
        items = _instructor_texts() or items
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
    from daqlab.exam import sheetfile

    paper = my_paper(assignment)
    answers = _merge(*sheets)
    try:  # the answer form's sheet counts too, as the grader combines them
        got = sheetfile.read(Path.cwd())
    except sheetfile.SheetError as exc:
        print("  ✗", exc)
        got = None
    if got:
        answers, source = sheetfile.merge(got[0], answers)
        print(source)
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


def area_score(assignment: str, area: str, *sheets) -> None:
    """Grade cell body while working: check this area's answer formats; the score comes at grading."""
    paper = my_paper(assignment)
    answers = _merge(*sheets)
    _, en, zh = AREAS[area]
    bad = []
    for pi in paper.items:
        if pi.area == area:
            try:
                normalise(answers.get(pi.number), pi.type, pi.shown_letters)
            except AnswerFormatError as exc:
                bad.append(f"{pi.number}: {exc}")
    print(f"{zh} · {en}: 提交后评分 (scored after submission)" + ("" if not bad else "\n  ✗ " + "\n  ✗ ".join(bad)))
