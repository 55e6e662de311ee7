"""`daqlab course grade`: autograde every submission of an assignment, in parallel, losing nothing.

What happens, in order:

1. Each submission is looked at first: not a notebook -> "not gradable" (with the reason); test cells
   edited or deleted -> graded with the release's cells (nbgrader restores edited ones, deleted ones
   are put back here) and "graded with errors".
2. A plant is started for grading (practical assignments): every trainee's station from the roster,
   reset and set to the assignment's scenario just before their notebook runs. An assignment whose
   metadata says ``"mqtt": true`` also gets DAQ Lab's MQTT broker (one account per trainee) and a
   platform recorder (grading/mqtt-<assignment>.jsonl) that daqlab.grading.publish checks against.
3. Workers (one process per CPU core; nbgrader imported once each) autograde the submissions. Each
   kernel gets the submission's identity and station in its environment (DAQLAB_STUDENT_ID,
   DAQLAB_ASSIGNMENT, DAQLAB_ENDPOINT, DAQLAB_STATION, DAQLAB_SEED, DAQLAB_CONTROL_URL/TOKEN and the
   instructor-side DAQLAB_EXAM_BANK), a per-cell timeout, and a memory limit (RLIMIT_AS on the worker,
   inherited by its kernels).
4. When nbgrader gives up on a submission (its kernel died, or a cell ignored the interrupt after the
   timeout), the cell that did it is found by running the notebook cell by cell, replaced by a cell
   that raises, and the submission is graded again: everything else still counts, and the status says
   "graded with errors" with the cell number. The original submission is put back afterwards.
5. Every outcome is stored in ``grading/status.json`` (status, reason, score); ``daqlab course export``
   joins it with the gradebook, so an error is never shown as a plain 0.
"""

from __future__ import annotations

import json
import os
import resource
import secrets
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from daqlab.course.inspect import notebook_problem, restore_deleted, tampering
from daqlab.course.nbg import nbgrader_env

GRADED, WITH_ERRORS, NOT_GRADABLE = "graded", "graded with errors", "not gradable"
JOB_SLACK_S = 120  #: a job may take this much longer than (cells x timeout) before its worker is killed


@dataclass
class Outcome:
    student: str  #: student id
    assignment: str  #: assignment id
    status: str  #: "graded" | "graded with errors" | "not gradable"
    reason: str  #: why not plainly graded (empty when graded)
    score: float | None  #: points from the gradebook (None when not gradable)
    max_score: float | None  #: points available
    seconds: float  #: wall time spent on this submission
    station: int | None = None  #: the station it was graded against (practical assignments)


@dataclass
class Settings:
    workers: int = max(1, os.cpu_count() or 1)  #: parallel grading processes
    timeout: int = 60  #: seconds per cell
    memory_mb: int = 3072  #: address-space limit per worker and its kernels
    seed: int = 0  #: plant seed of the course
    salt: str = ""  #: instructor-side scenario salt
    speed: float = 1.0  #: grading plant speed
    progress: bool = True  #: tqdm bar


# ------------------------------------------------------------------ helpers
def submissions(course: Path, assignment: str) -> list[str]:
    base = Path(course) / "submitted"
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if (p / assignment).is_dir())


def notebook_name(course: Path, assignment: str) -> str:
    (nb,) = sorted((Path(course) / "release" / assignment).glob("*.ipynb"))[:1]
    return nb.name


def assignment_meta(course: Path, assignment: str) -> dict:
    nb = json.loads((Path(course) / "source" / assignment / notebook_name(course, assignment)).read_text("utf-8"))
    return nb.get("metadata", {}).get("daqlab", {})


def base_env(course: Path, assignment: str, student: str, course_id: str = "daqlab") -> dict:
    return {"DAQLAB_STUDENT_ID": student, "DAQLAB_ASSIGNMENT": assignment, "DAQLAB_COURSE": course_id,
            "DAQLAB_EXAM_BANK": str((Path(course) / "source" / "exam" / "bank").resolve())}


def _limit_memory(mb: int):
    def apply():
        os.setsid()
        if mb:
            resource.setrlimit(resource.RLIMIT_AS, (mb * 1024 * 1024, mb * 1024 * 1024))
    return apply


class Worker:
    """One nbgrader worker process (see daqlab.course.worker). Spawning returns at once; ``ready()``
    waits for nbgrader to be imported, so several workers start in parallel."""

    def __init__(self, course: Path, assignment: str, settings: Settings):
        self.args = (course, assignment, settings)
        self.proc = None
        self.spawn()

    def spawn(self) -> None:
        course, assignment, s = self.args
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "daqlab.course.worker", str(course), assignment, str(s.timeout)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1,
            env=nbgrader_env(), preexec_fn=_limit_memory(s.memory_mb))
        self._ready = False

    def ready(self) -> Worker:
        if not self._ready:
            if not self.proc.stdout.readline():
                raise RuntimeError("a grading worker failed to start")
            self._ready = True
        return self

    def run(self, student: str, env: dict, limit: float) -> dict:
        """Autograde one submission; kill and restart the worker if it overruns ``limit`` seconds."""
        self.ready()
        self.proc.stdin.write(json.dumps({"student": student, "env": env}) + "\n")
        self.proc.stdin.flush()
        result: list = []
        reader = threading.Thread(target=lambda: result.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(limit)
        if reader.is_alive() or not result or not result[0]:
            self.kill()
            self.spawn()
            return {"success": False, "error": f"grading took longer than {limit:.0f} s and was stopped",
                    "log": "", "seconds": limit}
        return json.loads(result[0])

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 9)
            except OSError:
                self.proc.kill()
            self.proc.wait(10)

    def close(self) -> None:
        """Ask the worker to finish (it exits when its stdin closes); see ``join``."""
        if self.proc and self.proc.poll() is None:
            self.proc.stdin.close()

    def join(self) -> None:
        if self.proc and self.proc.poll() is None:
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


# -------------------------------------------------------------- the pipeline
def grade(course: Path, assignment: str, students=None, *, roster=None, settings: Settings | None = None,
          progress: bool | None = None) -> list[Outcome]:
    """Grade ``students`` (default: every submission); returns one Outcome per submission."""
    from tqdm.auto import tqdm

    s = settings or Settings()
    if progress is not None:
        s.progress = progress
    course = Path(course).resolve()
    students = list(students or submissions(course, assignment))
    # workers import nbgrader (~2 s each) in parallel with everything below
    pool = [Worker(course, assignment, s) for _ in range(min(s.workers, max(1, len(students))))]
    meta = assignment_meta(course, assignment)
    practical = bool(meta.get("scenario"))
    nb_name = notebook_name(course, assignment)
    released = course / "release" / assignment / nb_name
    outcomes: dict[str, Outcome] = {}
    notes: dict[str, list[str]] = {st: [] for st in students}
    stations: dict[str, int] = {}
    todo = []
    for st in students:
        path = course / "submitted" / st / assignment / nb_name
        problem = notebook_problem(path)
        if problem:
            outcomes[st] = Outcome(st, assignment, NOT_GRADABLE, problem, None, None, 0.0)
            continue
        deleted, edited = tampering(path, released)
        if edited:
            notes[st].append(f"test cells edited ({', '.join(edited)}): graded with the released cells")
        if deleted:
            notes[st].append(f"test cells deleted ({', '.join(deleted)}): put back and graded")
        if practical:
            station = (roster or {}).get(st)
            if station is None:
                outcomes[st] = Outcome(st, assignment, NOT_GRADABLE, "no station in the roster for this trainee",
                                       None, None, 0.0)
                continue
            stations[st] = station.station if hasattr(station, "station") else int(station)
        todo.append((st, path, deleted))

    plant = None
    if practical and todo:
        from daqlab.plant import Plant

        token = secrets.token_hex(16)
        plant = Plant(max(stations.values()), seed=s.seed, speed=s.speed, control=True, control_token=token,
                      scenario_salt=s.salt).start()
    platform = _start_platform(course, assignment, [job[0] for job in todo]) if meta.get("mqtt") and todo else None
    cells = len(json.loads(released.read_text("utf-8"))["cells"])
    limit = cells * s.timeout + JOB_SLACK_S
    free = list(pool)
    lock = threading.Lock()
    bar = tqdm(total=len(todo), desc=f"grade {assignment}", unit="submission", disable=not s.progress)

    def env_for(st: str) -> dict:
        env = base_env(course, assignment, st)
        if plant is not None:
            k = stations[st]
            env.update(plant.environment(k), DAQLAB_CONTROL_URL=f"http://127.0.0.1:{plant.control_port}",
                       DAQLAB_CONTROL_TOKEN=plant.control_token)
        if platform is not None:
            broker, _rec, record = platform
            env.update(broker.environment(st), DAQLAB_MQTT_RECORD=str(record), DAQLAB_MQTT_SINCE=f"{time.time():.3f}")
        return env

    def prepare(st: str) -> None:
        if plant is not None:
            plant.apply_scenario(stations[st], meta["scenario"])

    def one(job) -> None:
        st, path, deleted = job
        t0 = time.monotonic()
        with lock:
            worker = free.pop()
        try:
            backup = None
            if deleted:
                backup = _backup(course, assignment, st, path)
                restore_deleted(path, released, deleted)
            prepare(st)
            res = worker.run(st, env_for(st), limit)
            if not res.get("success"):
                res, note = _recover(course, assignment, st, path, worker, env_for, prepare, limit, s, backup)
                backup = backup or note.get("backup")
                notes[st].append(note["reason"])
            if backup:
                shutil.copy(backup, path)
            if res.get("success"):
                notes[st].extend(_grader_level_errors(course / "autograded" / st / assignment / nb_name, s.timeout))
                status = WITH_ERRORS if notes[st] else GRADED
                outcomes[st] = Outcome(st, assignment, status, "; ".join(notes[st]), None, None,
                                       time.monotonic() - t0, stations.get(st))
            else:
                reason = "; ".join(notes[st]) or _last_line(res)
                outcomes[st] = Outcome(st, assignment, NOT_GRADABLE, reason, None, None, time.monotonic() - t0,
                                       stations.get(st))
        finally:
            with lock:
                free.append(worker)
            bar.update(1)

    try:
        with ThreadPoolExecutor(max_workers=len(pool)) as ex:
            list(ex.map(one, todo))
    finally:
        bar.close()
        for w in pool:
            w.close()
        for w in pool:
            w.join()
        if plant is not None:
            plant.stop()
        if platform is not None:
            platform[1].close()
            platform[0].close()
    result = [outcomes[st] for st in students]
    _attach_scores(course, assignment, result)
    save_status(course, result)
    return result


def _start_platform(course: Path, assignment: str, students: list[str]):
    """Broker with one device account per trainee being graded (fresh secret) and a platform recorder
    whose JSONL file (grading/mqtt-<assignment>.jsonl, appended) stays as the instructor's evidence."""
    from daqlab.northbound import Broker, Recorder, roster_accounts
    from daqlab.northbound.accounts import new_secret

    accounts = roster_accounts(students, new_secret())
    broker = Broker(accounts).start()
    record = course / "grading" / f"mqtt-{assignment}.jsonl"
    record.parent.mkdir(parents=True, exist_ok=True)
    try:
        rec = Recorder.connect(broker, accounts[-1], path=record)
    except Exception:
        broker.close()
        raise
    return broker, rec, record


def _grader_level_errors(autograded: Path, timeout: int) -> list[str]:
    """Cells the grader had to stop (timeout -> interrupt) or that ran out of memory."""
    try:
        nb = json.loads(autograded.read_text("utf-8"))
    except (OSError, ValueError):
        return []
    found = []
    code_cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    for i, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []):
            if out.get("output_type") != "error":
                continue
            if out.get("ename") == "KeyboardInterrupt" and cell in code_cells:
                found.append(f"cell {i + 1} ran past the {timeout} s limit and was interrupted")
            elif out.get("ename") == "MemoryError":
                found.append(f"cell {i + 1} ran out of memory (limit per kernel)")
    return found


def _backup(course: Path, assignment: str, student: str, path: Path) -> Path:
    dst = course / "grading" / "originals" / student / assignment / path.name
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, dst)
    return dst


def _last_line(res: dict) -> str:
    text = (res.get("error") or "") + "\n" + (res.get("log") or "")
    lines = [x for x in text.strip().splitlines() if x.strip()]
    return lines[-1][:300] if lines else "nbgrader could not grade this submission"


def _recover(course, assignment, st, path, worker, env_for, prepare, limit, s, backup):
    """Find the cell that killed or hung the kernel, neutralise it, grade again (up to 3 cells)."""
    backup = backup or _backup(course, assignment, st, path)
    removed = []
    res = {"success": False}
    for _ in range(3):
        prepare(st)
        bad = _find_bad_cell(path, env_for(st), s.timeout)
        if bad is None:
            break
        index, why = bad
        _neutralise(path, index, why)
        removed.append(f"cell {index + 1} {why}")
        prepare(st)
        res = worker.run(st, env_for(st), limit)
        if res.get("success"):
            break
    reason = ("; ".join(removed) + ": not run, the rest graded") if removed else _last_line(res)
    return res, {"reason": reason, "backup": backup}


def _find_bad_cell(path: Path, env: dict, timeout: int):
    """(index, why) of the first cell that kills the kernel or outlives the timeout and interrupt."""
    import tempfile

    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(path.parent, tmp, dirs_exist_ok=True)
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                                interrupt_on_timeout=False, resources={"metadata": {"path": tmp}})
        full_env = dict(os.environ, **env)
        full_env["NBGRADER_EXECUTION"] = "autograde"
        try:
            with client.setup_kernel(env=full_env, cwd=tmp):
                for i, cell in enumerate(nb.cells):
                    if cell.cell_type != "code":
                        continue
                    try:
                        client.execute_cell(cell, i)
                    except DeadKernelError:
                        return i, "killed the kernel"
                    except CellTimeoutError:
                        return i, f"ran past the {timeout} s limit and ignored the interrupt"
        except DeadKernelError:
            return None
        except Exception:
            return None
    return None


def _neutralise(path: Path, index: int, why: str) -> None:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    cell = nb.cells[index]
    cell.source = f'raise RuntimeError("DAQ Lab grader: this cell {why}; it was not run")'
    cell.outputs = []
    nbformat.write(nb, path)


# ------------------------------------------------------------ scores, status
def _attach_scores(course: Path, assignment: str, outcomes: list[Outcome]) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    db = course / "gradebook.db"
    if not db.exists():
        return
    with Gradebook(f"sqlite:///{db}") as gb:
        for o in outcomes:
            if o.status == NOT_GRADABLE:
                continue
            try:
                sub = gb.find_submission(assignment, o.student)
                o.score, o.max_score = float(sub.score), float(sub.max_score)
            except MissingEntry:
                o.status, o.reason = NOT_GRADABLE, (o.reason + "; " if o.reason else "") + "no gradebook entry"


def status_path(course: Path) -> Path:
    return Path(course) / "grading" / "status.json"


def load_status(course: Path) -> dict:
    p = status_path(course)
    return json.loads(p.read_text("utf-8")) if p.exists() else {}


def save_status(course: Path, outcomes: list[Outcome]) -> None:
    data = load_status(course)
    for o in outcomes:
        data.setdefault(o.assignment, {})[o.student] = asdict(o)
    p = status_path(course)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
