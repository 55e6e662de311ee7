"""Trusted scoring of a theory submission: literal answers + the trainee's paper + the keys -> points per area.

Runs in the grader only (daqlab.course.trusted), never in a kernel: the keys come from the bank folder
the grader is given, the paper from the submission's student id (the folder nbgrader collected it in),
and the answers from the notebook's text (daqlab.exam.literal), so nothing the trainee's code does can
change a score.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from daqlab.exam import clock, sheetfile
from daqlab.exam.bank import AREAS, load_public
from daqlab.exam.blueprint import for_assignment
from daqlab.exam.literal import ANSWER_VARS, read_cells
from daqlab.exam.paper import SALT_ENV, Paper, draw
from daqlab.exam.score import ItemResult, score_paper

TYPE_OF_VAR = {"single": "single", "multiple": "multiple", "truefalse": "truefalse"}


@dataclass
class TheoryGrade:
    paper: Paper  #: the submission's paper
    results: list[ItemResult]  #: one per item
    problems: list[str] = field(default_factory=list)  #: unreadable answer cells and keys
    source: str = ""  #: where the answers came from (the form's answers.json, the typed cells, both)
    timing: dict = field(default_factory=dict)  #: deadline, late_minutes, used_minutes (timed papers)

    def area(self, area: str) -> tuple[float, float]:
        rs = [r for r in self.results if r.area == area]
        return sum(r.score for r in rs), sum(r.points for r in rs)

    def area_text(self, area: str, bank: dict) -> str:
        """The feedback text of one area's grade cell (keys and explanations only in practice mode)."""
        _, en, zh = AREAS[area]
        earned, available = self.area(area)
        lines = [f"{zh} · {en}: {earned:g} / {available:g}"]
        if self.source and area == self.results[0].area:  # said once, in the first area's cell
            lines.append(f"  {self.source}")
        for r in (r for r in self.results if r.area == area):
            if r.status == "unreadable":
                lines.append(f"  {r.number:>3} ✗ {r.message}")
            elif self.paper.blueprint.feedback:
                item = bank[r.item_id]
                key = ("对/True" if r.key else "错/False") if isinstance(r.key, bool) else (
                    ",".join(r.key) if len(r.key) > 1 else r.key)
                lines.append(f"  {r.number:>3} {'✓' if r.correct else '✗'} your answer {r.answer or '-'}, key {key}. "
                             f"{item.explanation['en']} {item.explanation['zh']}")
        return "\n".join(lines)


def paper_for(assignment: str, student: str, course: str = "daqlab", bank: dict | None = None) -> Paper:
    """The paper the grader scores: drawn again here from the instructor's ``bank`` (the trainee-side copy has
    no contest item), with the instructor's salt when there is one."""
    return draw(bank if bank is not None else load_public(), for_assignment(assignment), course=course,
                assignment=assignment, student=student, salt=os.environ.get(SALT_ENV, ""))


def grade_cells(cells: list, *, assignment: str, student: str, bank: dict, course: str = "daqlab",
                folder: Path | None = None, course_root: Path | None = None) -> TheoryGrade:
    """Score the notebook ``cells`` of ``student``'s ``assignment`` against ``bank`` (the keys). ``folder``: the
    submission's folder (its ``answers.json`` from the form, its ``timestamp.txt``); ``course_root``: the
    instructor's course (the paper's clock settings in ``release/``, the recorded starts in ``exam-clocks/``)."""
    paper = paper_for(assignment, student, course, bank)
    sheet = read_cells(cells)
    problems = list(sheet.problems)
    form = None
    if folder is not None:
        try:
            got = sheetfile.read(folder)
            form = got[0] if got else None
        except sheetfile.SheetError as exc:
            problems.append(str(exc))
    answers, source = sheetfile.merge(form, sheet.answers)
    if course_root is not None and paper.blueprint.feedback:  # practice: a checked question counts as first answered
        from daqlab.exam.practice import first_answers

        firsts = first_answers(course_root, assignment, student)
        if firsts:
            answers.update(firsts)
            source += (f"；即时反馈过的 {len(firsts)} 题按第一次确认的答案计分"
                       f"（{len(firsts)} checked question(s) scored on the first checked answer）")
    results = score_paper(paper, bank, answers)
    lost = {TYPE_OF_VAR[v]: why for v, why in sheet.unreadable.items() if v in ANSWER_VARS}
    if lost:
        results = [ItemResult(r.number, r.item_id, r.area, r.type, r.points, 0.0, "", None, False, "unreadable",
                              f"答案不是字面值，不得分：{lost[r.type]}", r.key)
                   if r.type in lost and not (form and r.number in form) else r for r in results]
    return TheoryGrade(paper, results, problems, source, timing(assignment, student, folder, course_root))


def timing(assignment: str, student: str, folder: Path | None, course_root: Path | None) -> dict:
    """Deadline, lateness and time used of a timed paper's submission ({} for an untimed one)."""
    if folder is None or course_root is None:
        return {}
    conf = clock.settings(Path(course_root) / "release" / assignment)
    if conf is None:
        return {}
    try:
        submitted = clock.parse_time((Path(folder) / "timestamp.txt").read_text())
    except OSError:
        submitted = None
    started = clock.started_by_service(course_root, assignment, student)
    out = clock.lateness(submitted, started, conf)
    out.update(started=started.isoformat() if started else None,
               submitted=submitted.isoformat() if submitted else None)
    return out
