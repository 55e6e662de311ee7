"""The trusted half of autograding: nbgrader's Execute step replaced by "run sandboxed, score outside".

:class:`TrustedGrade` takes the place of nbgrader's ``Execute`` preprocessor in the grading workers
(daqlab.course.worker). nbgrader still does everything around it: it restores edited test cells from the
release (OverwriteCells), saves the scores into the gradebook (SaveAutoGrades) and writes the autograded
notebook that feedback is made from. What changes is where scores come from:

- **practical**: the notebook runs in the sandbox (daqlab.course.sandbox) as its own unprivileged user;
  its cells' outputs come back as data. Each grade cell's *evidence* (daqlab.grading.evidence) is read
  and checked here, in the grader's process, by the check named in daqlab.grading.cells against the
  grading plant's truth and request log. The grade cell's outputs are then replaced by the trusted
  report and the score, which is what nbgrader saves: nothing the trainee's code printed is scored.
- **theory**: the notebook is not run at all. The answers are read as literals (daqlab.exam.literal)
  and scored per area against the keys (daqlab.exam.grade).

Problems are of two kinds. ``flags`` need the instructor's eye (a grade cell that handed in no or
forged evidence, processes left running, answers written as code); ``errors`` are the submission's own
failures (a cell that ran past its limit, a crash). A :class:`GraderError` (a broken bank, a missing
check, an oracle that fails) is the grader's failure: grading of the assignment stops with the message.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_grade

from daqlab.atomic import write_atomic

RESERVED = ("practical_results.json", "exam_results.json", "timestamp.txt")  #: written by the grader only
LAST: dict[str, dict] = {}  #: student -> {"flags", "errors", "grader_error"} of the last job (read by the worker)
_BANKS: dict[str, dict] = {}


class GraderError(RuntimeError):
    """The grader itself cannot score this assignment (bank, check table or oracle broken)."""


def _score_outputs(text: str, score: float) -> list:
    from nbformat.v4 import new_output

    return [new_output("stream", name="stdout", text=text.rstrip("\n") + "\n"),
            new_output("execute_result", data={"text/plain": repr(float(score))}, execution_count=None)]


def _clean_outputs(outputs) -> list | None:
    """The untrusted outputs of one cell, if they are valid nbformat outputs (else None)."""
    import nbformat

    if not isinstance(outputs, list):
        return None
    probe = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("")])
    probe.cells[0]["outputs"] = outputs
    try:
        nbformat.validate(nbformat.from_dict(json.loads(json.dumps(probe))))
    except Exception:
        return None
    return nbformat.from_dict(outputs)


def bank(path: str) -> dict:
    if path not in _BANKS:
        from daqlab.exam.bank import load_bank

        try:
            _BANKS[path] = load_bank(path)
        except Exception as exc:
            raise GraderError(f"the exam bank {path} does not load: {exc}") from exc
    return _BANKS[path]


class TrustedGrade(NbGraderPreprocessor):
    """Replaces nbgrader's Execute: sandboxed run (practical) or no run (theory), then trusted scores."""

    def preprocess(self, nb, resources):
        env = dict(os.environ)
        student = resources["nbgrader"]["student"]
        folder = Path(resources["metadata"]["path"])
        state = LAST[student] = {"flags": [], "errors": [], "grader_error": ""}
        for name in RESERVED[:2]:  # a trainee's file of the same name never stands for the grader's
            (folder / name).unlink(missing_ok=True)
        try:
            if env.get("DAQLAB_GRADING") == "theory":
                self._theory(nb, resources, env, state)
            else:
                self._practical(nb, resources, env, state, folder)
        except GraderError as exc:
            state["grader_error"] = str(exc)
            raise
        return nb, resources

    # -------------------------------------------------------------- theory
    def _theory(self, nb, resources, env, state) -> None:
        from daqlab.exam.bank import AREAS
        from daqlab.exam.grade import grade_cells

        keys = bank(env.get("DAQLAB_EXAM_BANK", ""))
        assignment, student = resources["nbgrader"]["assignment"], resources["nbgrader"]["student"]
        folder = Path(resources["metadata"]["path"])  # autograded/<student>/<assignment>: the submission's files
        try:
            tg = grade_cells(nb.cells, assignment=assignment, student=student, bank=keys,
                             course=env.get("DAQLAB_COURSE", "daqlab"), folder=folder, course_root=folder.parents[2])
        except (KeyError, ValueError) as exc:
            raise GraderError(f"cannot score {assignment}: {exc}") from exc
        state["flags"] += tg.problems
        if tg.timing.get("late_minutes"):
            from daqlab.localtime import stamp

            state["flags"].append(f"迟交 {tg.timing['late_minutes']} 分钟（late by {tg.timing['late_minutes']} min: "
                                  f"deadline {stamp(tg.timing['deadline'])}, submitted {stamp(tg.timing['submitted'])}）")
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
            if not is_grade(cell) or cell.cell_type != "code":
                continue
            gid = cell.metadata.nbgrader["grade_id"]
            area = gid.removeprefix("area-")
            if area not in AREAS:
                raise GraderError(f"{assignment}: grade cell {gid} is not a knowledge area")
            cell.outputs = _score_outputs(tg.area_text(area, keys), tg.area(area)[0])
        out = Path(resources["metadata"]["path"]) / "exam_results.json"
        write_atomic(out, json.dumps({"course": tg.paper.course, "assignment": assignment, "student": student,
                                      "blueprint": tg.paper.blueprint.name, "answer_source": tg.source,
                                      "timing": tg.timing,
                                      "items": [r.to_dict() for r in tg.results]}, ensure_ascii=False, indent=1))

    # ----------------------------------------------------------- practical
    def _practical(self, nb, resources, env, state, folder: Path) -> None:
        import nbformat

        from daqlab.course import sandbox
        from daqlab.grading.cells import CELLS

        grade_cells = [c for c in nb.cells if is_grade(c) and c.cell_type == "code"]
        unknown = [c.metadata.nbgrader["grade_id"] for c in grade_cells if c.metadata.nbgrader["grade_id"] not in CELLS]
        if unknown:
            raise GraderError(f"no trusted check for grade cell(s) {unknown} (daqlab.grading.cells)")
        nb_name = resources["nbgrader"]["notebook"] + ".ipynb"
        limits = sandbox.Limits(cell_timeout=int(env.get("DAQLAB_CELL_TIMEOUT", "60")),
                                job_s=float(env.get("DAQLAB_JOB_LIMIT", "900")),
                                memory_mb=int(env.get("DAQLAB_MEMORY_MB", "3072")))
        job_env = dict(env, DAQLAB_NOTEBOOK=nb_name)
        if env.get("DAQLAB_SANDBOX") == "off":  # benchmarks only: the same run without the sandbox
            res = sandbox.run_unconfined(nbformat.writes(nb), folder, job_env, limits=limits)
        else:
            try:
                res = sandbox.run(nbformat.writes(nb), folder, job_env, slot=int(env.get("DAQLAB_SLOT", "0")),
                                  limits=limits, out_dir=folder)
            except sandbox.SandboxUnavailable as exc:
                raise GraderError(str(exc)) from exc
        if res.leftovers:
            state["flags"].append(f"left {len(res.leftovers)} process(es) running after its job, killed: "
                                  f"{', '.join(res.leftovers[:3])}")
        if res.timed_out:
            state["errors"].append(f"the whole job ran past {limits.job_s:.0f} s and was stopped")
        elif res.error:
            state["errors"].append(res.error)
        for e in res.events:
            where = f"cell {e['cell'] + 1} " if isinstance(e.get("cell"), int) else ""
            state["errors"].append(f"{where}{str(e.get('what', ''))[:200]}")
        back = (res.notebook or {}).get("cells") if isinstance(res.notebook, dict) else None
        if back is not None and (len(back) != len(nb.cells) or any(
                not isinstance(b, dict) or b.get("cell_type") != c.cell_type for b, c in zip(back, nb.cells, strict=False))):
            state["flags"].append("the notebook came back from its run with different cells")
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            theirs = back[i] if back is not None and i < len(back) and isinstance(back[i], dict) else {}
            cell.outputs = _clean_outputs(theirs.get("outputs", [])) or []
            cell.execution_count = theirs.get("execution_count") if isinstance(theirs.get("execution_count"), int) else None
        os.environ["DAQLAB_FILES"] = str(folder)
        os.environ["DAQLAB_RESULTS_DIR"] = str(folder)
        os.environ.pop("DAQLAB_WIRE_LOG", None)
        wire_dir = None
        if res.wire is not None:  # a real bench: the oracles read what the grader recorded on the wire
            import tempfile

            wire_dir = tempfile.mkdtemp(prefix="daqlab-wire-")  # the grader's own, outside the submission's folder
            wire_file = Path(wire_dir) / "wire.jsonl"
            write_atomic(wire_file, "".join(json.dumps(e.to_dict()) + "\n" for e in res.wire))
            os.environ["DAQLAB_WIRE_LOG"] = str(wire_file)
        try:
            self._score(nb, grade_cells, back, state)
        finally:
            if wire_dir is not None:
                import shutil

                shutil.rmtree(wire_dir, ignore_errors=True)
                os.environ.pop("DAQLAB_WIRE_LOG", None)

    def _score(self, nb, grade_cells, back, state) -> None:
        from daqlab.grading.cells import CELLS
        from daqlab.grading.context import truth_note
        from daqlab.grading.evidence import read

        for cell in grade_cells:
            gid = cell.metadata.nbgrader["grade_id"]
            spec = CELLS[gid]
            evidence, problem = read(cell.outputs) if back is not None else (None, "")
            if evidence is None:
                why = problem or "笔记本未运行到此单元格（the notebook did not run to this cell）"
                if back is not None:
                    state["flags"].append(f"unscorable grade cell {gid}: {why}")
                cell.outputs = _score_outputs(f"{gid}: 0 分，无法评分 — {why}", 0.0)
                continue
            buf = io.StringIO()
            try:
                with contextlib.redirect_stdout(buf):
                    score = float(spec.check(dict(evidence["values"])))
                    print(truth_note())
            except Exception as exc:  # an oracle failure is the grader's, never the trainee's 0
                raise GraderError(f"the check for {gid} failed: {type(exc).__name__}: {exc}") from exc
            cell.outputs = _score_outputs(buf.getvalue(), score)
