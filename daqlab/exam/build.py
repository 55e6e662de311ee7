"""Write nbgrader source assignments for the theory papers (``daqlab exam build``).

One notebook per blueprint, ``source/<blueprint>/<blueprint>.ipynb``:

1. instructions (bilingual), locked;
2. a locked cell that opens the answer form of the trainee's own paper (``answer_form``,
   :mod:`daqlab.exam.form`): click to answer, saved to ``answers.json`` on every click;
3. three answer cells (single, multiple, true/false) holding the same numbered template of plain
   dict literals for every trainee (an empty solution region, so the release shows the blank template).
   The grader reads these literals without running the notebook (daqlab.exam.literal); no key exists
   anywhere a kernel can reach;
4. a locked cell that checks answer formats (trainees can run it before submitting);
5. one locked grade cell per knowledge area worth that area's points: in the kernel it only checks that
   area's answer formats; the grader (daqlab.course.trusted) writes the area's score into it, so the
   gradebook holds the area subtotals.

An exam paper (no feedback) also gets ``exam.json`` beside it: the blueprint's duration, no closing time
(:mod:`daqlab.exam.clock`; ``daqlab exam window`` changes both). It also refreshes the trainee-side copy of
the bank (stems and options only).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import nbformat

from daqlab.exam.bank import AREAS, TYPE_NAMES, load_bank, write_public
from daqlab.exam.blueprint import Blueprint, all_blueprints
from daqlab.exam.clock import EXAM_FILE
from daqlab.exam.notebook import answer_template
from daqlab.exam.paper import draw


def _meta(grade_id: str, *, solution=False, grade=False, locked=False, points=None) -> dict:
    m = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution,
         "task": False}
    if points is not None:
        m["points"] = points
    return {"nbgrader": m}


def notebook(bp: Blueprint, public: dict) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    sample = draw(public, bp, course="daqlab", assignment=bp.name, student="template")
    counts = {k: bp.count(k) for k in TYPE_NAMES}
    lines = [f"# {bp.title['zh']} · {bp.title['en']}", "",
             f"**时长 Duration:** {bp.minutes} min · **总分 Total:** {bp.total_points:g} · **及格 Pass mark:** {bp.pass_mark:g}",
             ""]
    for k, (en, zh) in TYPE_NAMES.items():
        if counts[k]:
            lines.append(f"- {zh} {en}: {counts[k]} × {bp.points[k]:g}")
    lines += ["",
              "**作答方法**：运行下一个单元格，打开**你自己的**答题表单（每位考生抽题不同）。点击选项作答：单选、判断点一个，"
              "多选勾选全部正确选项（错选、多选、少选均不得分）。“标记”可把没把握的题标出来，答题卡上的题号可以跳转："
              "绿色已答、灰色未答、橙色已标记。每点一次都会自动保存（answers.json），刷新页面或重启也不会丢失。"
              + ("计时从你第一次打开试卷开始，时间到表单锁定；超时交卷会被标记为迟交。" if not bp.feedback else "")
              + "答完按“交卷 Submit”。也可以在下方三个作答单元格中直接填写答案（单选 `\"B\"`，多选 `\"A,C\"`，判断 "
              "`\"对\"`/`\"错\"`）；同一题两处都答时以表单为准。",
              "",
              "**How to answer**: run the next cell to open the answer form for *your own* paper (every trainee gets a "
              "different draw). Click to answer: one option for single choice and true/false, every correct option "
              "for multiple choice (any wrong, extra or missing option scores 0). Flag items to come back to; the "
              "answer sheet jumps to any number (green answered, grey open, orange flagged). Every click is saved at "
              "once (answers.json) and survives a reload or a restart."
              + (" Your clock starts when you first open the paper; the form locks at zero and a late submission "
                 "is flagged." if not bp.feedback else "")
              + " Press \"交卷 Submit\" when done. Typing into the three answer cells below also works "
              "(`\"B\"`, `\"A,C\"`, `\"对\"`/`\"错\"` or `True`/`False`); where both answer a question, the form counts."]
    if not bp.feedback:
        lines += ["", "*Exam mode: feedback shows your score per knowledge area only. · 考试模式：反馈仅显示各知识领域得分。*"]
    cells = [md("\n".join(lines), metadata=_meta("instructions", locked=True)),
             code(f'from daqlab.exam.form import answer_form\n'
                  f'from daqlab.exam.notebook import area_score, check_answers\n\n'
                  f'form = answer_form("{bp.name}")', metadata=_meta("paper", locked=True)),
             md("## 作答 · Answers", metadata=_meta("heading-answers", locked=True))]
    for kind in TYPE_NAMES:
        if counts[kind]:
            cells.append(code(f"{answer_template(sample, kind)}\n### BEGIN SOLUTION\n### END SOLUTION",
                              metadata=_meta(f"answers-{kind}", solution=True)))
    sheets = ", ".join(k for k in TYPE_NAMES if counts[k])
    cells.append(code(f'check_answers("{bp.name}", {sheets})', metadata=_meta("check", locked=True)))
    cells.append(md("## 评分 · Scoring (per knowledge area · 按知识领域)", metadata=_meta("heading-scoring", locked=True)))
    for area in bp.areas:
        cells.append(code(f'area_score("{bp.name}", "{area}", {sheets})',
                          metadata=_meta(f"area-{area}", grade=True, locked=True, points=bp.area_points(area))))
    for cell in cells:  # stable cell ids: rebuilding an unchanged paper changes no byte of source/ or release/
        gid = cell.metadata["nbgrader"]["grade_id"]
        cell.id = hashlib.sha1(f"{bp.name}/{gid}".encode()).hexdigest()[:8]
    nb.cells = cells
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["daqlab"] = {"exam": bp.name}
    return nb


def build(bank_dir, source_dir, names=None) -> list[Path]:
    """Write the source notebooks of ``names`` (default: every blueprint); returns the paths."""
    from daqlab.exam.bank import item_text

    bank = load_bank(bank_dir)
    write_public(bank)
    public = {iid: item_text(it) for iid, it in bank.items()}  # every pool: the contest template needs its own
    out = []
    for name, bp in all_blueprints().items():
        if names and name not in names:
            continue
        folder = Path(source_dir) / name
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.ipynb"
        nbformat.write(notebook(bp, public), path)
        out.append(path)
        timed = folder / EXAM_FILE  # an exam paper is timed (daqlab.exam.clock); practice papers are not
        if not bp.feedback and not timed.exists():  # kept when it exists: `daqlab exam window` may have set it
            timed.write_text(json.dumps({"minutes": bp.minutes, "closes": None}, indent=1) + "\n", encoding="utf-8")
            out.append(timed)
    return out


__all__ = ["AREAS", "build", "notebook"]
