"""Threat-model properties 1 and 2, attacked from inside a graded notebook (real nbgrader, real sandbox).

One trainee's notebook tries everything a curious, competent trainee would: read source/, the gradebook,
another trainee's submission, the exam bank; find an instructor secret in its environment; write the
gradebook and the grading status; reach the plant's control API or another station; leave a process
running; escape the memory limit. It prints what happened as JSON (that output comes back to the
grader as data). An honest trainee is graded in the same run. Every attempt must fail, the honest
score must be exact, and nothing of the course may change but what the grader writes.
"""

import json
import os
import shutil
import socket
import subprocess

import pytest

from daqlab.course.generate import generate_all
from daqlab.course.grade import Settings, grade, load_status
from daqlab.course.roster import Trainee
from daqlab.course.sandbox import unavailable

from ..course_helpers import ROOT, make_course

A = "practical-1-identify"
pytestmark = [pytest.mark.slow, pytest.mark.skipif(bool(unavailable()), reason=unavailable() or "sandbox ok")]

ATTACK = r'''
import json, os, socket, subprocess, resource
course = {course!r}
report = {{}}
def attempt(name, fn):
    try:
        report[name] = ["SUCCEEDED", str(fn())[:80]]
    except BaseException as exc:
        report[name] = ["failed", type(exc).__name__]
read = lambda p: open(p, "rb").read(64)
attempt("read source/", lambda: read(f"{{course}}/source/{a}/{a}.ipynb"))
attempt("read the gradebook", lambda: read(f"{{course}}/gradebook.db"))
attempt("read another submission", lambda: read(f"{{course}}/submitted/honest/{a}/{a}.ipynb"))
attempt("read the exam bank", lambda: os.listdir(f"{{course}}/source/exam/bank"))
attempt("read the repository's bank", lambda: os.listdir({bank!r}))
attempt("write the gradebook", lambda: open(f"{{course}}/gradebook.db", "ab").write(b"x"))
attempt("write the status", lambda: open(f"{{course}}/grading/status.json", "w").write("{{}}"))
attempt("list the course", lambda: os.listdir(course))
secrets = [k for k in os.environ if k in ("DAQLAB_CONTROL_URL", "DAQLAB_CONTROL_TOKEN", "DAQLAB_EXAM_BANK",
           "DAQLAB_MQTT_RECORD", "DAQLAB_SANDBOX") or "TOKEN" in k or "SECRET" in k]
def no_secret():
    if secrets:
        return secrets
    raise LookupError("no secret in the environment")
attempt("an instructor secret in the environment", no_secret)
me = int(os.environ["DAQLAB_ENDPOINT"].rsplit(":", 1)[1])
# sockets listening in this network namespace are the sandbox's own (the kernel's, the station relay)
own = {{int(line.split()[1].split(":")[1], 16) for line in open("/proc/net/tcp").read().splitlines()[1:]
        if line.split()[3] == "0A"}}
report["own station reachable"] = socket.create_connection(("127.0.0.1", me), timeout=5).close() is None
def scan():
    found = []
    for port in range(1, 65536):
        s = socket.socket(); s.settimeout(0.2)
        if port != me and port not in own and s.connect_ex(("127.0.0.1", port)) == 0 \
                and s.getsockname() != s.getpeername():  # (a socket can connect to its own ephemeral port)
            found.append(port)
        s.close()
    if found:
        return found
    raise ConnectionRefusedError("only my own station answers")
attempt("reach another port (control API, other stations, other services)", scan)
attempt("reach the grader's host service", lambda: socket.create_connection(("127.0.0.1", {host_port}), timeout=2))
attempt("run as root", lambda: os.getuid() == 0 or (_ for _ in ()).throw(PermissionError(os.getuid())))
def hog():
    return len(bytearray(16 * 1024 ** 3))
attempt("allocate 16 GB", hog)
report["process limit"] = resource.getrlimit(resource.RLIMIT_NPROC)
subprocess.Popen(["sleep", "4242"], start_new_session=True)
print("ATTACKS " + json.dumps(report))
'''


def _notebook(course, edits):
    nb = json.loads((course / "release" / A / f"{A}.ipynb").read_text("utf-8"))
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in edits:
            cell["source"] = edits[gid]
    return nb


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    course = make_course(tmp_path_factory.mktemp("trust"), [A])
    assert generate_all(course)[A].ok
    honest = json.loads((ROOT / "grader" / "samples" / A / "perfect.ipynb").read_text("utf-8"))
    host = socket.create_server(("127.0.0.1", 0))  # a service on the grader's machine, e.g. a plant's control API
    attack = _notebook(course, {"answer1": ATTACK.format(course=str(course), a=A, host_port=host.getsockname()[1],
                                                         bank=str(ROOT / "source" / "exam" / "bank"))})
    for name, nb in (("honest", honest), ("mallory", attack)):
        dst = course / "submitted" / name / A
        dst.mkdir(parents=True)
        (dst / f"{A}.ipynb").write_text(json.dumps(nb), "utf-8")
    (course / "grading").mkdir(exist_ok=True)
    outcomes = grade(course, A, roster={"honest": Trainee("honest", "honest", 1), "mallory": Trainee("mallory", "m", 2)},
                     settings=Settings(workers=2, timeout=120, progress=False))
    host.close()
    out = json.loads((course / "autograded" / "mallory" / A / f"{A}.ipynb").read_text("utf-8"))
    text = "".join("".join(o.get("text", "")) for c in out["cells"] if c["cell_type"] == "code" for o in c["outputs"])
    line = next(x for x in text.splitlines() if x.startswith("ATTACKS "))
    return course, {o.student: o for o in outcomes}, json.loads(line[len("ATTACKS "):])


def test_every_attack_from_a_graded_notebook_fails(attacked):
    _, _, report = attacked
    limit = report.pop("process limit")
    assert report.pop("own station reachable") is True, "the scan is not vacuous: the own station answers"
    assert report, "the attack cell ran"
    assert {k: v for k, v in report.items() if v[0] != "failed"} == {}
    assert 0 < limit[0] <= 1024, "a process-count limit holds in the sandbox"


def test_the_sandboxed_run_never_touched_the_course(attacked):
    course, outcomes, _ = attacked
    status = load_status(course)[A]
    assert set(status) == {"honest", "mallory"} and status["mallory"]["status"] == outcomes["mallory"].status
    assert not (course / "submitted" / "honest" / A / "station_log.csv").exists()


def test_the_honest_trainee_in_the_same_run_scores_exactly(attacked):
    _, outcomes, _ = attacked
    assert (outcomes["honest"].score, outcomes["honest"].status) == (16, "graded")


def test_a_process_left_behind_is_killed_and_flagged(attacked):
    _, outcomes, _ = attacked
    assert outcomes["mallory"].status == "flagged" and "sleep 4242" in outcomes["mallory"].reason
    assert outcomes["mallory"].score == 0
    ps = subprocess.run(["ps", "-ww", "-eo", "args"], capture_output=True, text=True).stdout
    assert "sleep 4242" not in ps


def test_the_grader_refuses_to_run_unsandboxed_when_bubblewrap_is_missing(tmp_path, monkeypatch):
    from daqlab.course.grade import GradingError

    course = make_course(tmp_path, [A])
    assert generate_all(course)[A].ok
    (course / "submitted" / "x" / A).mkdir(parents=True)
    shutil.copy(ROOT / "grader" / "samples" / A / "perfect.ipynb", course / "submitted" / "x" / A / f"{A}.ipynb")
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(shutil, "which", lambda *a, **k: None)
    with pytest.raises(GradingError, match="bubblewrap"):
        grade(course, A, roster={"x": Trainee("x", "x", 1)}, settings=Settings(workers=1, progress=False))
    assert not (course / "grading" / "status.json").exists(), "nothing recorded"
    assert os.environ.get("PATH") == "/nonexistent"
