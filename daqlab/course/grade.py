"""`daqlab course grade`: autograde every submission of an assignment, in parallel, trusted, losing nothing.

What happens, in order:

1. The grader checks itself first: the sandbox works (practical), the exam bank loads (theory);
   otherwise it stops with one clear line and grades nothing (never a 0 "graded").
2. Each submission is looked at: not a notebook -> "not gradable" (with the reason); test cells
   edited or deleted -> "flagged" (graded with the release's cells: nbgrader restores edited ones,
   deleted ones are put back here).
3. A plant is started for grading (practical assignments): every trainee's station from the roster,
   reset and set to the assignment's scenario just before their notebook runs. An assignment whose
   metadata says ``"mqtt": true`` also gets DAQ Lab's MQTT broker (one account per trainee) and a
   platform recorder (grading/mqtt-<assignment>.jsonl) that daqlab.grading.publish checks against; one whose
   metadata says ``"rs485": true`` gets each station's RS-485 bus behind a serial device server (RFC 2217, the
   kernel's DAQLAB_RS485_URL), which judges the client's serial settings. A trainee at a **real bench** (the roster's
   ``bench`` column) gets no simulated station and no scenario (a bench is graded as it stands): before the run the
   grader reads the bench itself (daqlab.grading.context.survey: the meter's unit and word order), during it the
   sandbox's relay records the Modbus TCP frames, and an RS-485 task goes through the grader's recording relay to
   the bench's serial device server (daqlab.course.serialtap; a bench that names none is "not gradable" for it).
   The scenario's wire faults (a PLC dropping requests), which nobody sets on a real line, are made by a relay of
   the grader's in front of the bench (daqlab.wirerelay; daqlab.plant.scenarios.WIRE_FAULTS).
4. Workers (one process per CPU core; nbgrader imported once each) autograde the submissions with
   nbgrader's Execute step replaced by daqlab.course.trusted: a practical notebook runs in a sandbox
   (daqlab.course.sandbox: its own user, folder, station and limits; the kernel gets only its identity,
   station and own MQTT account) and its grade cells hand back evidence as data, which trusted checks
   score against the plant's truth and request log; a theory notebook is not run: its literal answers
   are scored against the keys. The plant's control API, the bank and the course never reach a kernel.
5. A cell that kills the kernel or ignores the interrupt is skipped and the notebook run again, so the
   rest still counts ("graded with errors", with the cell). Forged or missing evidence, answers written
   as code and processes left running make the submission "flagged", with the reason.
6. Every outcome is stored in ``grading/status.json`` (daqlab.course.status: atomic, locked);
   ``daqlab course export`` joins it with the gradebook, so an error is never shown as a plain 0.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from daqlab.course.inspect import notebook_problem, restore_deleted, tampering
from daqlab.course.nbg import nbgrader_env
from daqlab.course.status import (  # noqa: F401  (re-exported: the pipeline's vocabulary)
    FLAGGED,
    GRADED,
    NOT_GRADABLE,
    WITH_ERRORS,
    Outcome,
    load_status,
    save_status,
    status_path,
)

JOB_SLACK_S = 120  #: a job may take this much longer than (cells x timeout) before its worker is killed


class GradingError(RuntimeError):
    """The grader cannot grade this assignment (message says what to do); nothing was recorded."""


@dataclass
class Settings:
    workers: int = max(1, os.cpu_count() or 1)  #: parallel grading processes
    timeout: int = 60  #: seconds per cell
    memory_mb: int = 3072  #: address-space limit of each submission's sandbox
    seed: int = 0  #: plant seed of the course
    salt: str = ""  #: instructor-side scenario salt
    speed: float = 1.0  #: grading plant speed
    progress: bool = True  #: tqdm bar
    sandbox: bool = True  #: False only for bench/grading.py's comparison (never to grade a class)


# ------------------------------------------------------------------ helpers
def submissions(course: Path, assignment: str) -> list[str]:
    base = Path(course) / "submitted"
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if (p / assignment).is_dir())


def notebook_name(course: Path, assignment: str) -> str:
    found = sorted((Path(course) / "release" / assignment).glob("*.ipynb"))
    if not found:
        raise GradingError(f"release/{assignment} has no notebook: generate it first (daqlab course generate {assignment})")
    return found[0].name


def assignment_meta(course: Path, assignment: str) -> dict:
    path = Path(course) / "source" / assignment / notebook_name(course, assignment)
    if not path.exists():
        raise GradingError(f"source/{assignment}/{path.name} is missing: grade in the course folder that holds source/")
    nb = json.loads(path.read_text("utf-8"))
    return nb.get("metadata", {}).get("daqlab", {})


def bank_path(course: Path) -> Path:
    return (Path(course) / "source" / "exam" / "bank").resolve()


def base_env(course: Path, assignment: str, student: str, course_id: str = "daqlab") -> dict:
    """The job's environment on the trusted side (the worker's); the kernel gets only its own part."""
    return {"DAQLAB_STUDENT_ID": student, "DAQLAB_ASSIGNMENT": assignment, "DAQLAB_COURSE": course_id,
            "DAQLAB_EXAM_BANK": str(bank_path(course))}


def preflight(course: Path, assignment: str, meta: dict, s: Settings) -> str:
    """What kind of grading this is ("theory" | "practical"); GradingError when the grader cannot grade."""
    if meta.get("exam"):
        from daqlab.course.trusted import GraderError, bank

        try:
            keys = bank(str(bank_path(course)))
        except GraderError as exc:
            raise GradingError(f"{exc}; fix the bank (daqlab exam check-bank) before grading") from exc
        if not keys:
            raise GradingError(f"the exam bank {bank_path(course)} is empty: nothing to grade against")
        return "theory"
    if s.sandbox:
        from daqlab.course.sandbox import unavailable

        why = unavailable()
        if why:
            raise GradingError(f"cannot grade {assignment} safely: {why}")
    return "practical"


def _die_with_parent() -> None:
    """In a worker, before exec: SIGKILL when the grader dies (even by kill -9), so no orphan keeps grading;
    its sandbox dies with it (bubblewrap --die-with-parent)."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL


def recover_originals(course: Path, assignment: str) -> list[str]:
    """Put back submissions a killed grader left modified (deleted test cells restored in place): the
    original waits in grading/originals/<student>/<assignment>/. Returns the students restored."""
    base = Path(course) / "grading" / "originals"
    restored = []
    for nb in sorted(base.glob(f"*/{assignment}/*.ipynb")) if base.is_dir() else []:
        student = nb.parent.parent.name
        dst = Path(course) / "submitted" / student / assignment / nb.name
        if dst.parent.is_dir():
            shutil.copy(nb, dst)
            restored.append(student)
        nb.unlink()
    return restored


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
            env=nbgrader_env(), start_new_session=True, preexec_fn=_die_with_parent)
        self._ready = False

    def ready(self) -> Worker:
        if not self._ready:
            if not self.proc.stdout.readline():
                raise GradingError("a grading worker failed to start: run `daqlab course grade --debug` to see why")
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
                    "log": "", "seconds": limit, "flags": [], "errors": [], "grader_error": ""}
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
    """Grade ``students`` (default: every submission); returns one Outcome per submission.

    Raises GradingError (and records nothing) when the grader itself cannot grade the assignment.
    """
    from tqdm.auto import tqdm

    s = settings or Settings()
    if progress is not None:
        s.progress = progress
    course = Path(course).resolve()
    if not (course / "source" / assignment).is_dir():
        known = sorted(p.name for p in (course / "source").iterdir() if p.is_dir() and p.name != "exam") \
            if (course / "source").is_dir() else []
        raise GradingError(f"no assignment {assignment!r} in {course / 'source'}; "
                           + (f"one of: {', '.join(known)}" if known else "run it in the course folder (--course)"))
    meta = assignment_meta(course, assignment)
    kind = preflight(course, assignment, meta, s)
    recover_originals(course, assignment)  # a grader killed mid-run may have left a submission modified
    students = list(students or submissions(course, assignment))
    # workers import nbgrader (~2 s each) in parallel with everything below
    pool = [Worker(course, assignment, s) for _ in range(min(s.workers, max(1, len(students))))]
    practical = kind == "practical" and bool(meta.get("scenario"))
    nb_name = notebook_name(course, assignment)
    released = course / "release" / assignment / nb_name
    outcomes: dict[str, Outcome] = {}
    flags: dict[str, list[str]] = {st: [] for st in students}
    errors: dict[str, list[str]] = {st: [] for st in students}
    stations: dict[str, int] = {}
    benches: dict[str, str] = {}  # trainee -> real bench description (graded without the simulator)
    todo = []
    for st in students:
        path = course / "submitted" / st / assignment / nb_name
        problem = notebook_problem(path)
        if problem:
            outcomes[st] = Outcome(st, assignment, NOT_GRADABLE, problem, None, None, 0.0)
            continue
        deleted, edited = tampering(path, released)
        if edited:
            flags[st].append(f"test cells edited ({', '.join(edited)}): graded with the released cells")
        if deleted:
            flags[st].append(f"test cells deleted ({', '.join(deleted)}): put back and graded")
        if practical:
            station = (roster or {}).get(st)
            if station is None:
                outcomes[st] = Outcome(st, assignment, NOT_GRADABLE, "no station in the roster for this trainee",
                                       None, None, 0.0)
                continue
            stations[st] = station.station if hasattr(station, "station") else int(station)
            if getattr(station, "bench", ""):
                benches[st] = station.bench
                why = _bench_problem(station.bench, meta)
                if why:
                    outcomes[st] = Outcome(st, assignment, NOT_GRADABLE, why, None, None, 0.0, stations[st])
                    continue
        todo.append((st, path, deleted))

    plant = None
    if practical and any(job[0] not in benches for job in todo):
        from daqlab.plant import Plant

        token = secrets.token_hex(16)
        plant = Plant(max(stations.values()), seed=s.seed, speed=s.speed, control=True, control_token=token,
                      scenario_salt=s.salt).start()
        if meta.get("rs485"):  # each station's RS-485 bus behind a serial device server (judges the settings)
            for k in sorted(set(stations.values())):
                plant.serve_rfc2217(k, 0)
    platform = _start_platform(course, assignment, [job[0] for job in todo]) if meta.get("mqtt") and todo else None
    cells = len(json.loads(released.read_text("utf-8"))["cells"])
    limit = cells * s.timeout + JOB_SLACK_S
    free = list(pool)
    lock = threading.Lock()
    stop: list[str] = []
    bar = tqdm(total=len(todo), desc=f"grade {assignment}", unit="submission", disable=not s.progress)

    def env_for(st: str, tap=None, relay=None) -> dict:
        env = base_env(course, assignment, st)
        env.update(DAQLAB_GRADING=kind, DAQLAB_MEMORY_MB=str(s.memory_mb), DAQLAB_JOB_LIMIT=str(limit - 60))
        if not s.sandbox:
            env["DAQLAB_SANDBOX"] = "off"
        if st in benches:  # a real bench: its own connection; the grader records the wire, no control API
            from daqlab.benches import load_bench
            from daqlab.grading.context import survey

            bench = load_bench(benches[st])
            env.update(DAQLAB_ENDPOINT=bench.connection, DAQLAB_STATION=str(stations[st]),
                       DAQLAB_SEED=str(s.seed), DAQLAB_BENCH=benches[st], DAQLAB_WIRE="1",
                       DAQLAB_BENCH_YAML=Path(benches[st]).read_text(encoding="utf-8"),  # for the kernel's my_tags()
                       # the served facts (the meter's unit and word order) as the grader itself reads them now:
                       # the bench is graded as it stands, and its description is what the trainees were given
                       DAQLAB_BENCH_SURVEY=json.dumps(survey(bench)))
            if tap is not None:  # its RS-485 line, relayed and recorded by the grader (daqlab.course.serialtap)
                env.update(DAQLAB_RS485_URL=tap.url, DAQLAB_RS485_WIRE_LOG=tap.path)
            if relay is not None:  # the task's wire faults, made by the grader in front of the bench
                from daqlab.plant.scenarios import wire_faults_text

                env.update(DAQLAB_ENDPOINT=relay.url, DAQLAB_WIRE_FAULTS=wire_faults_text(meta["scenario"]))
        elif plant is not None:
            k = stations[st]
            env.update(plant.environment(k), DAQLAB_CONTROL_URL=f"http://127.0.0.1:{plant.control_port}",
                       DAQLAB_CONTROL_TOKEN=plant.control_token)
        if platform is not None:
            broker, _rec, record = platform
            env.update(broker.environment(st), DAQLAB_MQTT_RECORD=str(record), DAQLAB_MQTT_SINCE=f"{time.time():.3f}")
        return env

    def one(job) -> None:
        st, path, deleted = job
        if stop:
            return
        t0 = time.monotonic()
        with lock:
            worker = free.pop()
        try:
            backup = None
            if deleted:
                backup = _backup(course, assignment, st, path)
                restore_deleted(path, released, deleted)
            if plant is not None and st not in benches:  # a real bench is as it is: no scenario can be set
                plant.apply_scenario(stations[st], meta["scenario"])
            with ExitStack() as held:
                tap = relay = None
                if st in benches and meta.get("rs485"):
                    tap = _rs485_tap(benches[st], stations[st])
                    held.callback(Path(tap.path).unlink, missing_ok=True)
                    held.callback(tap.close)
                if st in benches:
                    relay = _fault_relay(benches[st], meta["scenario"], s.seed)
                    if relay is not None:
                        held.callback(relay.close)
                res = worker.run(st, env_for(st, tap, relay), limit)
            if backup:
                shutil.copy(backup, path)
                backup.unlink()
            if res.get("grader_error"):
                stop.append(res["grader_error"])
                return
            flags[st].extend(res.get("flags") or [])
            errors[st].extend(res.get("errors") or [])
            took = time.monotonic() - t0
            if res.get("success"):
                status = FLAGGED if flags[st] else (WITH_ERRORS if errors[st] else GRADED)
                outcomes[st] = Outcome(st, assignment, status, "; ".join(flags[st] + errors[st]), None, None, took,
                                       stations.get(st))
            else:
                reason = "; ".join(flags[st] + errors[st]) or _last_line(res)
                outcomes[st] = Outcome(st, assignment, NOT_GRADABLE, reason, None, None, took, stations.get(st))
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
    if stop:
        raise GradingError(f"grading of {assignment} stopped, nothing recorded: {stop[0]}")
    result = [outcomes[st] for st in students]
    _attach_scores(course, assignment, result)
    save_status(course, result)
    return result


def _bench_problem(bench_file: str, meta: dict) -> str:
    """Why a trainee's real bench cannot be graded for this assignment ("" when it can)."""
    from daqlab.benches import BenchError, load_bench

    try:
        bench = load_bench(bench_file)
    except BenchError as exc:
        return f"the bench description cannot be used: {exc}"
    if meta.get("rs485") and not bench.rs485:
        return (f"{bench_file}: the assignment has a task over RS-485 and the bench description names no serial device "
                "server on its RS-485 line (rs485: rfc2217://host:port); add it, or grade on a simulated station")
    return ""


def _fault_relay(bench_file: str, scenario: str, seed: int):
    """The grader's relay in front of a real bench making the faults the scenario puts on the wire (a PLC that drops
    requests: daqlab.plant.scenarios.WIRE_FAULTS), which no organiser sets on a real line; None when the scenario has
    none (or the bench is reached over RTU only, which the sandbox does not relay)."""
    from daqlab.benches import load_bench
    from daqlab.plant.scenarios import WIRE_FAULTS
    from daqlab.wirerelay import WireRelay

    faults = WIRE_FAULTS.get(scenario, ())
    bench = load_bench(bench_file)
    if not faults or not bench.connection.startswith("tcp://"):
        return None
    relay = WireRelay.for_bench(bench, seed=seed)
    for kind, mode, value in faults:
        if kind in bench.devices:
            relay.set_fault(bench.devices[kind].unit, mode, value)
    return relay


def _rs485_tap(bench_file: str, station: int):
    """The grader's relay to the bench's serial device server, recording to a file of the grader's."""
    import tempfile

    from daqlab.benches import load_bench
    from daqlab.course.serialtap import SerialTap

    fd, path = tempfile.mkstemp(prefix="daqlab-rs485-", suffix=".jsonl")
    os.close(fd)
    return SerialTap(load_bench(bench_file).rs485, path, station)


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


def _backup(course: Path, assignment: str, student: str, path: Path) -> Path:
    dst = course / "grading" / "originals" / student / assignment / path.name
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, dst)
    return dst


def _last_line(res: dict) -> str:
    text = (res.get("error") or "") + "\n" + (res.get("log") or "")
    lines = [x for x in text.strip().splitlines() if x.strip()]
    return lines[-1][:300] if lines else "nbgrader could not grade this submission"


# ------------------------------------------------------------ scores
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
