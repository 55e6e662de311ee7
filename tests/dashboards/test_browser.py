"""The dashboards served by `daqlab dashboard` (Voila, for real) and read in Debian's chromium through Playwright.

Plant HMI: a plant on free ports in this process, the page reads it over Modbus. Results: a course graded
for real (nbgrader) in a temp folder; the page's numbers are the gradebook's. Screenshots go to
test-artifacts/. Without chromium or playwright the tests skip (fail when $CI is set: make test installs both).
"""

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..course_helpers import ROOT, make_course, submit
from ..helpers import free_port_block, wait_port

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
ARTIFACTS = ROOT / "test-artifacts"
TOKEN = "hmi-test-token"
A, B = "theory-practice-modbus", "theory-practice-plc"
TRAINEES = {"alice": ("Alice Li", 1), "bob": ("Bob Wang", 2), "carol": ("Carol Zhang", 3)}
KEEP = {  # which questions each trainee answers with the key, per paper: different scores per assignment
    A: {"alice": lambda n: True, "bob": lambda n: n % 3 == 0, "carol": lambda n: n % 2 == 0},
    B: {"alice": lambda n: n % 2 == 0, "bob": lambda n: n % 4 != 0, "carol": lambda n: n % 5 == 0},
}
PAGE_TIMEOUT_MS = 90_000  # a Voila page executes its notebook before it shows anything


def need_browser() -> None:
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright (pip install -e '.[test]')")
    if not os.path.exists(CHROMIUM):
        missing.append("Debian chromium (apt-get install chromium; make test does it)")
    if missing:
        msg = "browser checks need " + " and ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


@pytest.fixture(scope="module")
def browser():
    need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@contextlib.contextmanager
def dashboard(name: str, log: Path, *args, env=None):
    """`daqlab dashboard NAME` on a free port (a real Voila); yields its URL, stops it with SIGTERM."""
    port = free_port_block(0)
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "daqlab.cli", "dashboard", name, "--port", str(port), "--debug",
                                 *map(str, args)], stdout=out, stderr=subprocess.STDOUT,
                                env=dict(os.environ, **(env or {})))
    try:
        wait_port(port, 60)
        yield f"http://127.0.0.1:{port}/"
    except BaseException:
        print(log.read_text(errors="replace")[-6000:])
        raise
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def open_page(browser, url: str, ready: str):
    page = browser.new_page(viewport={"width": 1300, "height": 1400})
    page.set_default_timeout(60_000)  # generous: the suite must pass on a busy machine
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector(ready, timeout=PAGE_TIMEOUT_MS)
    return page


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def text(page, selector: str) -> str:
    return page.locator(selector).first.inner_text().strip()


# ------------------------------------------------------------------------------------------ plant HMI
def test_plant_hmi_trends_faults_and_station_switch(browser, tmp_path):
    from daqlab.plant import run

    base = free_port_block(3)
    with run(stations=2, base_port=base, speed=5, control_token=TOKEN) as plant, \
            dashboard("plant", tmp_path / "voila.log", "--base-port", base, "--token", TOKEN) as url:
        page = open_page(browser, url, "#hmi-counter")
        try:
            assert text(page, "#hmi-station") == "1"
            assert page.locator("tr.hmi-device[data-state='online']").count() == 5, "every device answers"

            # the line runs after the page's Start button (a Modbus coil write); the counter then counts
            page.locator("button.hmi-start").click()
            page.wait_for_function("Number(document.querySelector('#hmi-counter').textContent) > 0", timeout=60_000)
            first = int(text(page, "#hmi-counter"))
            time.sleep(2.5)
            second = int(text(page, "#hmi-counter"))
            assert second > first, f"part counter did not increase: {first} -> {second}"
            assert float(text(page, "#hmi-freq")) > 0
            # the process picture: the line running, every device healthy, the drive's frequency on the VFD
            page.wait_for_selector("svg.hmi-mimic g[data-device='conveyor'][data-state='running']")
            assert page.locator("svg.hmi-mimic g[data-state='online']:not([data-device='motor'])").count() == 5
            assert " Hz" in page.locator("svg.hmi-mimic g[data-device='vfd']").text_content()
            shot(page, "plant-hmi-mimic")

            # a fault switched from the page's fault panel reaches the plant and shows as a fault and an alarm
            page.locator(".hmi-device-select select").select_option("meter")
            page.locator(".hmi-mode-select select").select_option("offline")
            page.locator("button.hmi-apply").click()
            page.wait_for_selector("tr.hmi-device[data-device='meter'][data-state='offline']")
            page.wait_for_selector("svg.hmi-mimic g[data-device='meter'][data-state='offline']")
            page.wait_for_selector("tr.hmi-alarm[data-key='device:meter'][data-active='1']")
            assert plant.status()["stations"][0]["faults"] == {"meter": {"offline": True}}
            assert text(page, "#hmi-power") == "—", "no value shown for a device that does not answer"
            # ... and one switched over the control API from elsewhere: the PLC's alarm word, decoded
            plant.set_fault(1, "ai", "broken")
            page.wait_for_selector(".hmi-flag[data-flag='sensor_fault'][data-on='1']")
            page.wait_for_selector("svg.hmi-mimic g[data-device='ai']:not([data-state='online'])")  # red in the picture
            page.wait_for_selector("tr.hmi-alarm[data-key='alarm:sensor_fault'][data-active='1']")
            assert int(text(page, "#hmi-alarm-word"), 16) & 0x20, "bit 5 (sensor_fault) of the alarm word"
            page.wait_for_function("document.querySelector('#hmi-motor-temp').textContent === '—'")  # not 177 °C
            assert "sensor fault" in text(page, ".hmi-alarms")
            shot(page, "plant-hmi-faults")

            page.locator("button.hmi-clear-all").click()
            page.wait_for_selector("tr.hmi-device[data-device='meter'][data-state='online']")
            page.wait_for_selector("tr.hmi-alarm[data-key='device:meter'][data-active='0']")
            assert plant.status()["stations"][0]["faults"] == {}

            # another station: other numbers (its line is stopped), its own endpoint
            page.locator(".hmi-station-select select").select_option(label="station 2 工位 2")
            page.wait_for_function("document.querySelector('#hmi-station').textContent === '2'")
            page.wait_for_function(f"document.querySelector('.hmi-info').textContent.includes(':{base + 2}')")
            assert text(page, "#hmi-counter") == "0" and text(page, "#hmi-state") == "stopped"
            shot(page, "plant-hmi-station-2")
        except BaseException:
            shot(page, "plant-hmi-failure")
            raise
        finally:
            page.close()
        # the tab is closed: its kernel stops polling the plant within seconds (no heartbeat from the page)
        deadline, served = time.monotonic() + 120, -1
        while time.monotonic() < deadline:
            time.sleep(3)
            now = len(plant.log(2))
            if now == served:
                break
            served = now
        time.sleep(3)
        assert served >= 0 and len(plant.log(2)) == served, "a closed HMI page keeps polling the plant"


# ------------------------------------------------------------------------------------------ results
@pytest.fixture(scope="module")
def course(tmp_path_factory):
    from daqlab.course.exchange import feedback
    from daqlab.course.generate import generate_all
    from daqlab.course.grade import Settings, grade
    from daqlab.exam.bank import load_bank
    from daqlab.exam.blueprint import for_assignment
    from daqlab.exam.paper import draw
    from daqlab.exam.score import shown_key

    from ..exam.test_exam_nbgrader import as_answer, fill

    need_browser()  # no point grading a course for a browser that is not there
    course = make_course(tmp_path_factory.mktemp("results"), [A, B])
    (course / "grader").mkdir()
    (course / "grader" / "roster.csv").write_text(
        "student_id,name,station\n" + "".join(f"{s},{n},{k}\n" for s, (n, k) in TRAINEES.items()), encoding="utf-8")
    assert all(r.ok for r in generate_all(course).values())
    bank = load_bank(ROOT / "source" / "exam" / "bank")
    for a in (A, B):
        for student, keep in KEEP[a].items():
            paper = draw(bank, for_assignment(a), course="daqlab", assignment=a, student=student)
            sheet = {pi.number: as_answer(pi, shown_key(pi, bank[pi.item_id])) for pi in paper.items if keep(pi.number)}
            submit(course, a, student, fill(sheet))
        assert {o.status for o in grade(course, a, settings=Settings(timeout=30, workers=2, progress=False))} == {"graded"}
    assert all(r.ok for r in feedback(course, A, release_to_exchange=False))
    return course


def gradebook_scores(course) -> dict:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course}/gradebook.db") as gb:
        return {(a, s): (gb.find_submission(a, s).score, gb.find_submission(a, s).max_score)
                for a in (A, B) for s in TRAINEES}


def test_results_instructor_view_shows_the_gradebook(browser, course, tmp_path):
    want = gradebook_scores(course)
    assert len({want[(A, s)] for s in TRAINEES}) == 3, "the fixture should give three different scores"
    exports = tmp_path / "exports"
    with dashboard("results", tmp_path / "voila.log", "--course", course, "--exports", exports,
                   env={"JUPYTERHUB_USER": "grader-daqlab"}) as url:
        page = open_page(browser, url, "#res-mean")
        try:
            def check(assignment):
                page.wait_for_selector(f"table.res-trainees th[data-assignment='{assignment}']")
                for s in TRAINEES:
                    cell = f"tr.res-row[data-student='{s}'] .res-score[data-assignment='{assignment}']"
                    assert text(page, cell) == f"{want[(assignment, s)][0]:g}", (assignment, s)
                mean = sum(100 * sc / mx for (a, _), (sc, mx) in want.items() if a == assignment) / len(TRAINEES)
                assert text(page, "#res-mean") == f"{mean:.1f}"

            assert text(page, "#res-n") == "3" and text(page, "#res-not-gradable") == "0"
            check(A)
            assert page.locator(".res-tabs").count() == 1 and text(page, "#res-n") == "3", "overview first, then tabs"
            shot(page, "results-overview")
            page.get_by_text("试题分析 Items", exact=True).click()  # a tab is drawn when it is opened
            page.wait_for_selector(".res-items-table tr[data-item]")
            page.get_by_text("掌握度 Mastery", exact=True).click()
            page.wait_for_selector("img.res-mastery-fig")
            shot(page, "results-instructor")
            page.get_by_text("学员 Trainees", exact=True).click()

            # another assignment: other columns, other numbers
            page.locator(".res-assign-select select").select_option(B)
            page.wait_for_function(
                f"!document.querySelector(\"table.res-trainees th[data-assignment='{A}']\")")
            check(B)

            # ranking and its CSV export (written to --exports, offered as a download)
            page.get_by_text("排名 Ranking", exact=True).click()
            best = max(TRAINEES, key=lambda s: want[(B, s)][0])
            page.wait_for_selector(f"tr.res-rank-row[data-student='{best}'][data-rank='1']")
            page.locator("button.res-export-csv").click()
            page.wait_for_selector(".res-export-path")
            csv = Path(text(page, ".res-export-path"))
            assert csv.parent == exports and csv.read_text(encoding="utf-8-sig").splitlines()[1].startswith(best + ",")
            assert page.locator("a.res-download[download$='.csv']").count() == 1

            # the search box filters the table
            page.get_by_text("学员 Trainees", exact=True).click()
            page.locator(".res-search input").fill("carol")
            page.wait_for_function("document.querySelectorAll('tr.res-row').length === 1")
            shot(page, "results-instructor-plc")
        except BaseException:
            shot(page, "results-instructor-failure")
            raise
        finally:
            page.close()


def test_results_trainee_view_shows_only_that_trainee(browser, course, tmp_path):
    want = gradebook_scores(course)
    with dashboard("results", tmp_path / "voila.log", "--course", course, env={"JUPYTERHUB_USER": "bob"}) as url:
        page = open_page(browser, url, "#res-student")
        try:
            assert text(page, "#res-student") == "bob"
            for a in (A, B):
                assert text(page, f"tr.res-row[data-assignment='{a}'] .res-score") == f"{want[(a, 'bob')][0]:g}"
            assert page.locator(".res-my-mastery tr").count() == 3, "header + the two areas examined"
            assert page.locator(f".res-feedback-item[data-assignment='{A}'] a.res-download").count() == 1
            html = re.sub(r"data:[^\"']+", "", page.content())  # embedded figures and files: base64, not text
            for other in ("alice", "carol", *(TRAINEES[s][0] for s in ("alice", "carol"))):
                assert other not in html, f"the trainee view leaks {other!r}"
            assert page.locator("#res-mean, table.res-trainees, .res-ranking").count() == 0
            shot(page, "results-trainee")
        except BaseException:
            shot(page, "results-trainee-failure")
            raise
        finally:
            page.close()


def wait_lines(path: Path, n: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not (path.exists() and len(path.read_text().splitlines()) >= n):
        assert time.monotonic() < deadline, f"no {n} warmed kernel(s) after {timeout:g} s"
        time.sleep(0.2)


def test_a_pre_heated_results_page_reads_the_course_when_it_is_asked_for(browser, course, tmp_path):
    """The pooled kernel reads the course before anyone asks; what the page shows is read after the request."""
    copy = tmp_path / "course"
    shutil.copytree(course, copy)
    ready = tmp_path / "warmed"
    with dashboard("results", tmp_path / "voila.log", "--course", copy,
                   env={"JUPYTERHUB_USER": "grader-daqlab", "DAQLAB_PREHEAT_READY": str(ready)}) as url:
        wait_lines(ready, 1)  # a kernel is warm (it read the course) and waits for a visitor
        roster = copy / "grader" / "roster.csv"
        roster.write_text(roster.read_text(encoding="utf-8").replace("Carol Zhang", "张晓晨"), encoding="utf-8")
        page = open_page(browser, url, "table.res-trainees")
        try:
            row = text(page, "tr.res-row[data-student='carol']")
            assert "张晓晨" in row and "Carol Zhang" not in page.content(), row
        finally:
            page.close()
        wait_lines(ready, 2)  # the pool is refilled for the next visitor
        assert len(set(ready.read_text().split())) == 2, "two kernels, one per visit"


def test_dashboard_command_turns_idle_kernel_culling_on():
    from daqlab.cli.dashboard import voila_command

    cmd = voila_command(Path("results.ipynb"), 8866)
    assert "--MappingKernelManager.cull_idle_timeout=600" in cmd and "--MappingKernelManager.cull_connected=True" in cmd
    assert "--Voila.ip=127.0.0.1" in cmd and "--no-browser" in cmd and "--port=8866" in cmd
    assert not any("cull" in c for c in voila_command(Path("x.ipynb"), 1, cull_idle=0))
    assert not any("preheat" in c for c in cmd), "pre-heating is asked for, never implied"
    hot = voila_command(Path("results.ipynb"), 8866, preheat=True)
    assert "--VoilaConfiguration.preheat_kernel=True" in hot and "--VoilaConfiguration.default_pool_size=1" in hot
    from daqlab.cli.dashboard import PREHEATED

    assert set(PREHEATED) == {"results", "scoreboard"}, "the plant HMI polls Modbus: never before a visit"
    assert shutil.which(cmd[0]), "voila is installed next to this Python"


def test_scoreboard_for_a_projector_ranks_and_masks_names(browser, course, tmp_path):
    from daqlab.dashboards.analysis import ranking
    from daqlab.dashboards.data import load_course

    want = ranking(load_course(course).scores, top_n=10)
    with dashboard("scoreboard", tmp_path / "voila.log", "--course", course, "--mask-names", "--refresh", "2") as url:
        page = open_page(browser, url, ".sb-table")
        try:
            ranks = [int(x) for x in page.locator("tr.sb-row").evaluate_all("rs => rs.map(r => r.dataset.rank)")]
            assert ranks == sorted(want["rank"].tolist()) and len(ranks) == len(TRAINEES)
            names = page.locator(".sb-name").all_inner_texts()
            assert all(n.endswith("*") for n in names)
            html = page.content()
            assert not any(full in html for full, _ in TRAINEES.values()), "masked: no full name on the projector"
            before = text(page, "#sb-updated")
            page.wait_for_function(f"document.querySelector('#sb-updated').textContent !== '{before}'",
                                   timeout=60_000)  # it reloads by itself while grading goes on
            shot(page, "scoreboard")
        finally:
            page.close()
