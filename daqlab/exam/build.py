"""Write nbgrader source assignments for the theory papers (``daqlab exam build``).

One notebook per blueprint, ``source/<blueprint>/<blueprint>.ipynb``:

1. instructions (bilingual), locked;
2. a locked cell that shows the trainee's own paper (``show_paper``);
3. three answer cells (single, multiple, true/false) holding the same numbered template of plain
   dict literals for every trainee (an empty solution region, so the release shows the blank template).
   The grader reads these literals without running the notebook (daqlab.exam.literal); no key exists
   anywhere a kernel can reach;
4. a locked cell that checks answer formats (trainees can run it before submitting);
5. one locked grade cell per knowledge area worth that area's points: in the kernel it only checks that
   area's answer formats; the grader (daqlab.course.trusted) writes the area's score into it, so the
   gradebook holds the area subtotals.

It also refreshes the trainee-side copy of the bank (stems and options only).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import nbformat

from daqlab.exam.bank import AREAS, TYPE_NAMES, load_bank, write_public
from daqlab.exam.blueprint import Blueprint, all_blueprints
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
              "**How to answer · 作答方法**: run the next cell to see *your own* paper (every trainee gets a different "
              "draw). Write your answers in the three answer cells below: `\"B\"` for single choice, `\"A,C\"` for "
              "multiple choice (every correct option; any wrong, extra or missing option scores 0), `\"对\"`/`\"错\"` "
              "or `True`/`False` for true/false. Run the check cell before you submit. Answers are read as written "
              "(plain values, not code): the notebook is not run when it is graded.",
              "",
              "运行下一个单元格查看**你自己的**试卷（每位考生抽题不同）。在下方三个作答单元格中填写答案：单选填 `\"B\"`，"
              "多选填 `\"A,C\"`（错选、多选、少选均不得分），判断填 `\"对\"`/`\"错\"` 或 `True`/`False`。提交前请运行检查单元格。"
              "评分时按字面值（literal）读取答案，不运行代码：请直接填写答案，不要用代码生成。"]
    if not bp.feedback:
        lines += ["", "*Exam mode: feedback shows your score per knowledge area only. · 考试模式：反馈仅显示各知识领域得分。*"]
    cells = [md("\n".join(lines), metadata=_meta("instructions", locked=True)),
             code(f'from daqlab.exam.notebook import area_score, check_answers, show_paper\n\n'
                  f'paper = show_paper("{bp.name}")', metadata=_meta("paper", locked=True)),
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
    return out


__all__ = ["AREAS", "build", "notebook"]
