"""The instructor's path through the CLI: roster, release, fetch/submit, collect, grade, feedback, export."""

import csv
import json
import shutil
import subprocess
import sys

import pytest

from daqlab.course.nbg import nbgrader

from ..course_helpers import ROOT, make_course

A = "practical-1-identify"
pytestmark = pytest.mark.slow


def daqlab(*args, cwd=None):
    r = subprocess.run([sys.executable, "-m", "daqlab.cli", *map(str, args)], capture_output=True, text=True,
                       timeout=600, cwd=cwd)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    return r.stdout


def test_release_fetch_submit_collect_grade_feedback_export(tmp_path):
    course = make_course(tmp_path, [A])
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name,station\nalice,Alice Wang,3\nbob,Bob Li,4\ncarol,Carol Chen,5\n")
    assert "3 trainees in the gradebook" in daqlab("course", "roster", roster, "--course", course)
    daqlab("course", "generate", A, "--course", course)
    assert "release practical-1-identify: ok" in daqlab("course", "release", A, "--course", course, "--exchange", exchange)
    answers = {"alice": "perfect", "bob": "missing_scaling"}  # carol never submits
    for student, sample in answers.items():
        home = tmp_path / student
        home.mkdir()
        assert nbgrader(home, "fetch_assignment", A, "--course", "daqlab", f"--Exchange.root={exchange}").ok
        shutil.copy(ROOT / "grader" / "samples" / A / f"{sample}.ipynb", home / A / f"{A}.ipynb")
        assert nbgrader(home, "submit", A, "--course", "daqlab", f"--Exchange.root={exchange}",
                        f"--CourseDirectory.student_id={student}").ok
    daqlab("course", "collect", A, "--course", course, "--exchange", exchange)
    out = daqlab("course", "grade", A, "--course", course, "--roster", roster, "--timeout", "10")
    assert "alice" in out and "16/16" in out and "11/16" in out
    daqlab("course", "feedback", A, "--course", course, "--exchange", exchange)
    assert (course / "feedback" / "alice" / A / f"{A}.html").exists()
    html = (course / "feedback" / "bob" / A / f"{A}.html").read_text(encoding="utf-8")
    assert "apply the scaling" in html, "feedback carries the checks' messages"
    assert html.index("DAQ Lab: tables in feedback pages") > html.index("bootstrap"), "table style after Bootstrap's"
    assert_tables_are_padded(course / "feedback" / "bob" / A / f"{A}.html")
    home = tmp_path / "alice"
    assert nbgrader(home, "fetch_feedback", A, "--course", "daqlab", f"--Exchange.root={exchange}",
                    "--CourseDirectory.student_id=alice").ok
    daqlab("course", "export", "--course", course, "--roster", roster, "--out", tmp_path / "grades.csv")
    rows = {r["student_id"]: r for r in csv.DictReader(open(tmp_path / "grades.csv", encoding="utf-8"))}
    assert (rows["alice"]["score"], rows["alice"]["status"], rows["alice"]["station"]) == ("16", "graded", "3")
    assert (rows["bob"]["score"], rows["bob"]["status"]) == ("11", "graded")
    assert (rows["carol"]["score"], rows["carol"]["status"]) == ("", "not submitted")
    results = json.loads((course / "autograded" / "bob" / A / "practical_results.json").read_text(encoding="utf-8"))
    assert any(not c["passed"] and "temperature (°C)" in c["name"] for c in results["checks"])


def assert_tables_are_padded(page_file) -> None:
    """The datasheet table of a feedback page, as chromium draws it: cells with padding and rules."""
    from ..dashboards.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, need_browser

    need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = b.new_page(viewport={"width": 1100, "height": 900})
            page.goto(page_file.as_uri())
            cells = page.evaluate("""() => [...document.querySelectorAll('.rendered_html td')].slice(0, 8).map(td => {
                const s = getComputedStyle(td);
                return [parseFloat(s.paddingLeft), parseFloat(s.paddingTop), parseFloat(s.borderBottomWidth)];
            })""")
            assert cells, "the practical's datasheet is a table in the feedback page"
            assert all(left >= 6 and top >= 3 and rule >= 1 for left, top, rule in cells), cells
            ARTIFACTS.mkdir(exist_ok=True)
            page.locator(".rendered_html table").first.screenshot(path=str(ARTIFACTS / "feedback-datasheet.png"))
        finally:
            b.close()
