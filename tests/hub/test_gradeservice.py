"""The hub's grading service: only the staff may grade, only the hub's course with the hub's roster."""

import grp
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from daqlab.hub.gradeservice import check_args, forward


def test_arguments_that_would_grade_another_course_or_read_another_roster_are_refused():
    assert check_args(["practical-1-identify", "--timeout=30"]) == ""
    assert "leave out --course" in check_args(["p", "--course", "/etc"])
    assert "leave out --roster=/etc/shadow" in check_args(["p", "--roster=/etc/shadow"])
    assert check_args([]) and check_args("p") and check_args([1])


def test_a_caller_outside_the_staff_is_refused_and_the_staff_is_served(tmp_path):
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("the grading service runs as root (CI runs as root)")
        pytest.skip("the grading service runs as root")
    from daqlab.hub.system import STAFF, ensure_group

    ensure_group()
    sock = tmp_path / "grader.sock"
    course = tmp_path / "course"
    course.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "daqlab.hub.gradeservice", "--socket", str(sock), "--course",
                             str(course), "--roster", str(tmp_path / "roster.csv")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert oct(sock.stat().st_mode & 0o777) == "0o660" and sock.stat().st_gid == grp.getgrnam(STAFF).gr_gid
        from daqlab.hub.system import traversable

        for d in (tmp_path, Path(sys.executable).parent, Path(sys.executable).resolve().parent):
            traversable(d)  # the socket's folder and the interpreter are reachable, as the hub makes them
        # nobody (not staff): may not even connect through the file's mode; with it opened, the uid check says no
        sock.chmod(0o666)
        code = (f"from daqlab.hub.gradeservice import forward; import sys; "
                f"sys.exit(forward({str(sock)!r}, ['practical-1-identify']))")
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                             preexec_fn=lambda: (os.setgid(65534), os.setgroups([]), os.setuid(65534)))
        assert res.returncode == 2 and "only the instructor may grade" in res.stdout, (res.stdout, res.stderr)
        # root (staff): served; the course has no submissions, and grading says so with its own exit code
        from io import StringIO

        out = StringIO()
        rc = forward(str(sock), ["practical-1-identify", "--course=/etc"], out=out)
        assert rc == 2 and "leave out --course=/etc" in out.getvalue()
        out = StringIO()
        rc = forward(str(sock), ["practical-1-identify"], out=out)
        assert rc != 0 and "practical-1-identify" in out.getvalue(), out.getvalue()
    finally:
        proc.terminate()
        proc.wait(30)
