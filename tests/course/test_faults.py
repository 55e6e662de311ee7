"""kill -9 of the grader in the middle of a run loses nothing: the next run grades everything exactly.

A real `daqlab course grade` (CLI, workers, sandboxes, grading plant) is killed with SIGKILL while it
grades; then: no worker, sandbox or kernel of it is left running; every submission is byte-for-byte what
the trainee submitted (a submission whose deleted test cells were put back in place is restored); the
gradebook and grading/status.json still open; a second run grades every submission to its expected score.
"""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
import yaml

from daqlab.course.generate import generate_all
from daqlab.course.grade import load_status
from daqlab.course.sandbox import UID_BASE, unavailable

from ..course_helpers import ROOT, make_course

A = "practical-1-identify"
SAMPLES = ["perfect", "deleted_tests", "off_by_one", "missing_scaling", "fc03_instead_of_fc04", "edited_tests"]
EXPECTED = yaml.safe_load((ROOT / "grader" / "samples" / "expected.yaml").read_text(encoding="utf-8"))[A]
pytestmark = [pytest.mark.slow, pytest.mark.skipif(bool(unavailable()), reason=unavailable() or "sandbox ok")]


def _grade_cmd(course):
    return [sys.executable, "-m", "daqlab.cli", "course", "grade", A, "--course", str(course),
            "--roster", str(course / "roster.csv"), "--workers", "2", "--timeout", "60"]


def _ps() -> list[tuple[int, int, str]]:
    out = subprocess.run(["ps", "-ww", "-eo", "pid=,uid=,args="], capture_output=True, text=True).stdout.splitlines()
    return [(int(p), int(u), a) for p, u, a in (line.split(None, 2) for line in out if len(line.split(None, 2)) == 3)]


def _ours(course, job_uids) -> list[str]:
    """This grader's processes still alive: its workers (the course in their command line) and everything
    running as one of its sandboxes' job users (the notebook runners and kernels)."""
    return [a for _p, u, a in _ps() if (str(course) in a and "daqlab" in a) or u in job_uids]


def test_kill_9_of_the_grader_mid_run_loses_nothing(tmp_path, request):
    course = make_course(tmp_path, [A])
    assert generate_all(course)[A].ok
    rows = ["student_id,name,station"]
    for k, name in enumerate(SAMPLES, start=1):
        dst = course / "submitted" / name / A
        dst.mkdir(parents=True)
        shutil.copy(ROOT / "grader" / "samples" / A / f"{name}.ipynb", dst / f"{A}.ipynb")
        rows.append(f"{name},{name},{k}")
    (course / "roster.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    before = {n: (course / "submitted" / n / A / f"{A}.ipynb").read_bytes() for n in SAMPLES}

    proc = subprocess.Popen(_grade_cmd(course), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    request.addfinalizer(lambda: proc.poll() is None and proc.kill())
    deadline = time.monotonic() + 600
    workers, job_uids = [], set()
    while time.monotonic() < deadline:  # kill it once a first submission is graded and others are under way
        done = list((course / "autograded").glob(f"*/{A}/{A}.ipynb")) if (course / "autograded").is_dir() else []
        procs = _ps()
        workers = [p for p, _u, a in procs if "daqlab.course.worker" in a and str(course) in a]
        job_uids = {UID_BASE + p % 20000 for p in workers}  # one snapshot: a sandbox of one of these workers runs
        if (done and any(u in job_uids for _p, u, _a in procs)) or proc.poll() is not None:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the grader was still running when it was killed"
    assert workers and job_uids, "killed while a sandboxed notebook ran"
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    deadline = time.monotonic() + 60
    while _ours(course, job_uids) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _ours(course, job_uids) == [], "no worker, sandbox or kernel outlives a killed grader"

    for n in SAMPLES:  # the one modified in place is put back by the next run at the latest
        if n != "deleted_tests":
            assert (course / "submitted" / n / A / f"{A}.ipynb").read_bytes() == before[n], n
    with sqlite3.connect(course / "gradebook.db") as db:
        assert db.execute("pragma integrity_check").fetchone() == ("ok",)
    assert isinstance(load_status(course), dict)

    again = subprocess.run(_grade_cmd(course), capture_output=True, text=True, timeout=1200)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    status = load_status(course)[A]
    for n in SAMPLES:
        assert (course / "submitted" / n / A / f"{A}.ipynb").read_bytes() == before[n], f"{n} restored"
        assert (status[n]["score"], status[n]["status"]) == (EXPECTED[n]["score"], EXPECTED[n]["status"]), n
    assert not list((course / "grading" / "originals").glob("*/*/*.ipynb"))
    assert json.loads((course / "grading" / "status.json").read_text(encoding="utf-8"))
    assert os.path.exists(course / "gradebook.db")
