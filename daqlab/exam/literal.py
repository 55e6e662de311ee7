"""Read a theory submission's answers as literal data, without running the notebook.

The answer cells assign plain dict literals (``single = {1: "B", ...}``, ``multiple``, ``truefalse``).
The grader parses every code cell with :mod:`ast` and evaluates only literals
(:func:`ast.literal_eval`): nothing the trainee wrote is executed. An answer variable assigned from
anything but a dict literal, or changed by code (``single[3] = "B"``, ``single.update(...)``), cannot be
read: its items score 0 and the problem is reported (the submission is flagged for the instructor).
When a variable is assigned several times, the last literal counts, as it would when the cells run in
order.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

ANSWER_VARS = ("single", "multiple", "truefalse")  #: the answer cells' variables, one per item type


@dataclass
class Sheet:
    answers: dict = field(default_factory=dict)  #: question number -> raw answer, from the literals
    unreadable: dict = field(default_factory=dict)  #: variable -> why it could not be read
    problems: list = field(default_factory=list)  #: one line per problem, for the instructor and trainee


def _stores(node: ast.AST) -> set[str]:
    """Answer variables a statement changes other than by plain assignment."""
    hit = set()
    for n in ast.walk(node):
        if isinstance(n, (ast.Subscript, ast.Attribute)) and isinstance(n.ctx, (ast.Store, ast.Del)) \
                and isinstance(n.value, ast.Name) and n.value.id in ANSWER_VARS:
            hit.add(n.value.id)
        elif isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name) and n.target.id in ANSWER_VARS:
            hit.add(n.target.id)
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name) \
                and n.func.value.id in ANSWER_VARS:
            hit.add(n.func.value.id)
        elif isinstance(n, (ast.Global, ast.Nonlocal)) and set(n.names) & set(ANSWER_VARS):
            hit.update(set(n.names) & set(ANSWER_VARS))
        elif isinstance(n, (ast.FunctionDef, ast.Lambda, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        elif isinstance(n, (ast.Name,)) and isinstance(n.ctx, ast.Store) and n.id in ANSWER_VARS:
            hit.add(n.id)
    return hit


def read_cells(cells: list) -> Sheet:
    """The answer sheet of a notebook's ``cells`` (nbformat cells or dicts), read as literals only."""
    sheets: dict[str, dict] = {}
    sheet = Sheet()
    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else str(src)
        try:
            tree = ast.parse(src)
        except SyntaxError as exc:
            named = [v for v in ANSWER_VARS if v in src]
            for v in named:
                sheet.unreadable[v] = f"第 {index + 1} 个单元格第 {exc.lineno} 行有语法错误（cell {index + 1}: syntax error）"
            continue
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) \
                    and stmt.targets[0].id in ANSWER_VARS:
                var = stmt.targets[0].id
                try:
                    value = ast.literal_eval(stmt.value)
                except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                    sheet.unreadable[var] = (f"第 {index + 1} 个单元格用代码给 `{var}` 赋值（cell {index + 1} assigns `{var}` "
                                             "from code, not a plain literal）")
                    continue
                if not isinstance(value, dict):
                    sheet.unreadable[var] = f"第 {index + 1} 个单元格：`{var}` 必须是字典，如 {{1: \"B\"}}（must be a dict）"
                    continue
                sheets[var] = value
                sheet.unreadable.pop(var, None)
            else:
                for var in _stores(stmt):
                    sheet.unreadable[var] = (f"第 {index + 1} 个单元格用代码修改 `{var}`（cell {index + 1} changes `{var}` "
                                             "with code; only literal answers count）")
    for var in ANSWER_VARS:
        if var in sheet.unreadable:
            sheets.pop(var, None)
            sheet.problems.append(f"答案必须直接写成字面值（literal），该类题目不得分：{sheet.unreadable[var]}")
    for var, values in sheets.items():
        for k, v in values.items():
            try:
                number = int(k)
            except (TypeError, ValueError):
                sheet.problems.append(f"`{var}`：{k!r} 不是题号（not a question number）")
                continue
            sheet.answers[number] = v
    return sheet
