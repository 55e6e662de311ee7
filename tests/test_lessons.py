"""The lessons' two editions (daqlab.editions): the student edition is up to date, holds no solution, runs in a
fresh kernel at a (black-box) bench with only its self-checks failing (each with a Chinese message); the teacher
edition runs top to bottom on the lesson's own simulated station; every exercise's typical wrong answers are fed to
its self-check, which must reject each of them. So every lesson runs both ways (daqlab.lesson).

Run one lesson: ``pytest tests/test_lessons.py -k 02``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from daqlab.editions import (
    CHECK,
    EXERCISE,
    TEACHER,
    build,
    exercises,
    solution_lines,
    source_text,
    student_edition,
    tags,
)

ROOT = Path(__file__).resolve().parents[1]
TEACHER_DIR = ROOT / "teacher" / "lessons"
SOURCES = sorted(TEACHER_DIR.glob("[0-9][0-9]-*.ipynb"))
CJK = re.compile(r"[\u4e00-\u9fff]")
CELL_TIMEOUT = 100  # generous: a busy machine; a cell that gets no reply in 100 s is a hang


def test_there_are_fourteen_lessons_and_the_student_edition_is_up_to_date():
    assert len(SOURCES) >= 14
    assert build(TEACHER_DIR, ROOT / "notebooks", check_only=True) == [], "run `daqlab lessons build`"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name[:2])
def test_every_exercise_has_a_check_and_two_wrong_answers_and_the_student_edition_hides_the_solution(path):
    exs = exercises(path)  # raises EditionError when a convention is broken
    assert exs, f"{path.name}: no exercise (a code cell tagged {EXERCISE!r})"
    nb = json.loads(path.read_text(encoding="utf-8"))
    student = student_edition(nb, path.name)
    text = "\n".join(source_text(c) for c in student["cells"])
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    assert not any(TEACHER in tags(c) for c in student["cells"]), "teaching notes stay in the teacher edition"
    assert any(TEACHER in tags(c) for c in nb["cells"]), f"{path.name}: no teaching note (markdown tagged teacher)"
    for ex in exs:
        student_cell = text  # no line of a solution survives in the student edition
        shown = [ln for ln in solution_lines(ex) if ln in {s.strip() for s in student_cell.splitlines()}]
        assert not shown, f"{path.name} cell {ex.index}: solution lines in the student edition: {shown}"
    assert not any(o for c in student["cells"] if c["cell_type"] == "code" for o in c.get("outputs", []))


def _run(codes_and_roles, tmp_path, env=None):
    """Execute code strings in one fresh kernel (``env``: its environment); yields (role, code, error output or
    None, text output)."""
    nb = nbformat.v4.new_notebook()
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(tmp_path)}})
    results = []
    with client.setup_kernel(**({"env": env} if env is not None else {})):
        for role, code in codes_and_roles:
            cell = nbformat.v4.new_code_cell(code)
            nb.cells.append(cell)
            client.execute_cell(cell, len(nb.cells) - 1)
            errors = [o for o in cell.outputs if o.get("output_type") == "error"]
            out = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
            results.append((role, code, errors[0] if errors else None, out))
    return results


def _where(path, code):
    return f"{path.name}: {code.strip().splitlines()[0] if code.strip() else '(empty)'}"


@pytest.mark.slow
@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name[:2])
def test_the_student_edition_runs_on_a_black_box_bench_and_only_its_self_checks_fail_with_a_chinese_message(
        path, tmp_path):
    """The trainee's lesson at a real bench: the kernel's environment names the bench (DAQLAB_BENCH), here a black-box
    station (Modbus only, no control API: nothing but the wire). Every cell runs on it — the fault drills injected on
    the relay, the truth read from the bench — and only the self-checks of the blank exercises fail, each with a
    Chinese message. A lesson that needs what only a simulator has says so and runs on its own simulated station.
    (The teacher edition runs on the lesson's own simulated station below: both paths run every lesson.)"""
    student = student_edition(json.loads(path.read_text(encoding="utf-8")), path.name)
    codes = [("check" if CHECK in tags(c) else "code", source_text(c)) for c in student["cells"]
             if c["cell_type"] == "code"]
    results, setup, needs_simulator, served = _run_on_a_black_box(path, codes, tmp_path)
    for role, code, err, _out in results:
        if role != "check":
            assert err is None, f"{_where(path, code)} fails in the student edition on a bench: " \
                                f"{err and err['ename']}: {err and err['evalue']}"
        else:
            assert err is not None, f"{_where(path, code)}: a self-check passes with the exercise left blank"
            assert err["ename"] == "AssertionError" and CJK.search(err["evalue"]), \
                f"{_where(path, code)}: a blank answer should fail the check with a Chinese message, got " \
                f"{err['ename']}: {err['evalue']!r}"
    _assert_it_followed_the_bench(results, setup, needs_simulator, served)


@pytest.mark.slow
@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name[:2])
def test_the_teacher_edition_runs_and_every_wrong_answer_fails_its_check(path, tmp_path):
    """One kernel: the teacher edition top to bottom; before each exercise's solution, each typical wrong answer
    is run in its place and the self-check must reject it (AssertionError, Chinese message)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    by_index = {ex.index: ex for ex in exercises(path)}
    plan = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        if i in by_index:
            check = source_text(nb["cells"][i + 1])
            for k, w in enumerate(by_index[i].wrong):
                plan += [(f"wrong-{k}", by_index[i].with_answer(w["code"])), (f"wrong-check-{k}:{w['why']}", check)]
        plan.append(("check" if CHECK in tags(cell) else "code", source_text(cell)))
    for role, code, err, out in _run(plan, tmp_path):
        if role.startswith("wrong-check"):
            why = role.split(":", 1)[1]
            assert err is not None, f"{_where(path, code)}: the self-check passes a wrong answer ({why})"
            assert err["ename"] == "AssertionError" and CJK.search(err["evalue"]), \
                f"{_where(path, code)}: wrong answer ({why}) should fail with a Chinese message, got " \
                f"{err['ename']}: {err['evalue']!r}"
        elif role.startswith("wrong-"):
            continue  # a wrong answer may itself raise: the check after it must still reject it
        else:
            assert err is None, f"{_where(path, code)}: {err and err['ename']}: {err and err['evalue']}"
            if role == "check":
                assert "✔" in out, f"{_where(path, code)}: a passing self-check prints ✔"


def _run_on_a_black_box(path, codes, tmp_path):
    """Run ``codes`` in a kernel whose environment names a black-box bench: the installation the lesson is written for
    (the textbook station, or station 1 of its seed), as a training centre sets its bench up for the course, served at
    10x with a serial device server on its bus. A lesson that needs what only a simulator has runs its first cell only
    (the rest is the simulated lesson the teacher-edition test runs). Returns (results, index of the first cell,
    whether it needs a simulator, what the bench served)."""
    from daqlab.plant import Plant

    from .course_helpers import bench_yaml

    setup = next(i for i, (_, code) in enumerate(codes) if "daqlab.lesson.station(" in code)
    needs = re.search(r"needs=\(([^)]*)\)", codes[setup][1])
    # the bench names its serial device server (rs485:), so it meets "bus"; nothing else only a simulator has
    needs_simulator = bool(needs and set(re.findall(r'"(\w+)"', needs.group(1))) - {"bus"})
    if needs_simulator:
        codes = codes[:setup + 1]
    codes = [*codes, ("probe", "print(type(plant).__name__, plant.simulated)\nplant.stop()")]
    seed = re.search(r"\bseed=(\d+)", codes[setup][1])
    textbook = "textbook=True" in codes[setup][1] or seed is None
    box = Plant(1, textbook=textbook, seed=0 if textbook else int(seed.group(1)), speed=10, control=False).start()
    try:
        assert box.control_port is None
        bench = tmp_path / "bench.yaml"
        bench.write_text(bench_yaml(box.station(1).variant, box.endpoint(1), rs485=box.serve_rfc2217(1), speed=10),
                         encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("DAQLAB_")} | {"DAQLAB_BENCH": str(bench)}
        results = _run(codes, tmp_path, env=env)
        served = box.log(1)
    finally:
        box.stop()
    return results, setup, needs_simulator, served


def _assert_it_followed_the_bench(results, setup, needs_simulator, served) -> None:
    setup_out, probe_out = results[setup][3], results[-1][3]
    if needs_simulator:
        assert "本课改用自己的仿真工位" in setup_out and probe_out.split() == ["Plant", "True"]
        assert served == [], "a lesson on its own simulated station sends nothing to the bench"
    else:
        assert "实训台（real bench）" in setup_out and probe_out.split() == ["BenchStation", "False"]
        assert len(served) >= 10, "the lesson talked to the bench"


#: lessons whose solutions also run on a bench in CI: the troubleshooting drills (every fault on the relay, the truth
#: from the bench) and the gateway (its bus the bench's serial device server). Every lesson's teacher edition passed on
#: a bench when the relay was built; DAQLAB_ALL_LESSONS_ON_BENCH=1 runs this test for all of them.
SOLUTIONS_ON_A_BENCH = [p for p in SOURCES if p.name[:2] in ("10", "14") or os.environ.get("DAQLAB_ALL_LESSONS_ON_BENCH")]


@pytest.mark.slow
@pytest.mark.parametrize("path", SOLUTIONS_ON_A_BENCH, ids=lambda p: p.name[:2])
def test_the_solutions_pass_their_self_checks_on_a_black_box_bench(path, tmp_path):
    """The teacher edition on a black-box bench: every self-check passes with the bench's truth."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    codes = [("check" if CHECK in tags(c) else "code", source_text(c)) for c in nb["cells"] if c["cell_type"] == "code"]
    results, setup, needs_simulator, served = _run_on_a_black_box(path, codes, tmp_path)
    for role, code, err, out in results:
        assert err is None, f"{_where(path, code)} on a bench: {err and err['ename']}: {err and err['evalue']}"
        if role == "check":
            assert "✔" in out, f"{_where(path, code)}: a passing self-check prints ✔"
    _assert_it_followed_the_bench(results, setup, needs_simulator, served)
