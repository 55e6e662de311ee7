"""The classroom hub end to end: a real JupyterHub on loopback, driven over its REST API.

The instructor releases a practical assignment and a theory paper through the formgrader API; two trainees
fetch them, answer (one well, one badly) by editing the notebooks through the contents API, and submit
through the assignment-list API; the instructor collects, grades (DAQ Lab pipeline, its own grading plant,
while the classroom plant runs as a hub service), generates and releases feedback and publishes results
from a kernel in their own server; the trainees fetch feedback. Scores are checked exactly. Then Debian's
chromium (Playwright) signs in as a trainee with the password from the roster authenticator and sees the
assignment list and their own results dashboard (Voila behind the hub's login), and no one else's.

A trainee's kernel also publishes with its own MQTT account to the hub's broker (Mosquitto, a hub service):
its own topic reaches the platform's record, a neighbour's is refused; stopping the hub leaves no Mosquitto.

Real parts only: JupyterHub, configurable-http-proxy from npm, jupyterhub-singleuser servers, nbgrader's
server extensions, kernels, the plant, Mosquitto, chromium. Without npm (or chromium/playwright) the test skips
(fails when $CI is set: `make test` installs them). Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import pytest

from daqlab.hub.mqtt import mosquitto_missing
from daqlab.hub.settings import HubSettings, Secrets, default_state
from daqlab.northbound.recorder import load_records

from ..course_helpers import ROOT, make_course
from ..dashboards.test_browser import CHROMIUM, CHROMIUM_ARGS, need_browser
from ..exam.test_exam_nbgrader import as_answer
from ..helpers import free_port_block, wait_port
from .hub_helpers import Hub, HubError

pytestmark = pytest.mark.slow

P, T = "practical-1-identify", "theory-practice-modbus"
GRADER = "grader-daqlab"
TRAINEES = {"alice": ("Alice Wang", 2, "perfect"), "bob": ("Bob Li", 3, "missing_scaling")}
KEEP = {"alice": lambda n: True, "bob": lambda n: n % 3 == 0}  # theory: which questions are answered with the key
ARTIFACTS = ROOT / "test-artifacts"


def need_npm_proxy():
    from daqlab.hub.proxy import ProxyUnavailable, ensure_proxy

    try:
        return ensure_proxy(default_state())  # the same install `make hub` uses (.hub/, gitignored)
    except ProxyUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))


def need_mosquitto():
    missing = mosquitto_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)


def mosquittos(folder) -> list[str]:
    """Command lines of the running Mosquitto processes whose config lives under ``folder``."""
    out = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        text = b" ".join(args).decode(errors="replace")
        if args and args[0].endswith(b"mosquitto") and str(folder) in text:
            out.append(text)
    return out


# from a trainee's kernel, with the account the hub gave it: a QoS 1 post on its own topic, then on bob's;
# prints the two PUBACK reason codes (MQTT 5)
MQTT_PROBE = """
import json, time, paho.mqtt.client as mqtt
from daqlab.station import my_platform
from daqlab.northbound.thingmodel import ThingTopics, property_post
p = my_platform()
now = int(time.time() * 1000)
acks = {}
c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5, client_id=f"e2e-{p.username}")
c.username_pw_set(p.username, p.password)
c.on_publish = lambda cl, u, mid, rc, props: acks.__setitem__(mid, str(rc))
c.connect(p.host, p.port); c.loop_start()
mine = c.publish(p.topics.post, json.dumps(property_post({"temperature": 21.5}, now, 1)), qos=1)
theirs = c.publish(ThingTopics(p.product_key, "bob").post, json.dumps(property_post({"temperature": 99.0}, now, 2)), qos=1)
mine.wait_for_publish(5); theirs.wait_for_publish(5)
c.disconnect(); c.loop_stop()
print(p.username, acks[mine.mid], "|", acks[theirs.mid])
"""


def listed(reply) -> list:
    """The assignments of an assignment-list reply ({"success": true, "value": [...]}); fails on an error."""
    assert isinstance(reply, dict) and reply.get("success"), reply
    return reply["value"]


def practical_answers(nb: dict, sample: str) -> dict:
    """The released notebook with its answer cells replaced by those of a sample submission (grader/samples)."""
    ref = json.loads((ROOT / "grader" / "samples" / P / f"{sample}.ipynb").read_text(encoding="utf-8"))
    answers = {c["metadata"]["nbgrader"]["grade_id"]: c["source"] for c in ref["cells"]
               if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell["source"] = answers[gid]
    return nb


def theory_answers(nb: dict, student: str, salt: str = "") -> tuple[dict, float, float]:
    """``nb`` with the student's paper answered (KEEP decides which questions get the key); the expected
    score and the paper's maximum."""
    from daqlab.exam.bank import load_bank
    from daqlab.exam.blueprint import for_assignment
    from daqlab.exam.paper import draw
    from daqlab.exam.score import shown_key

    bank = load_bank(ROOT / "source" / "exam" / "bank")
    paper = draw(bank, for_assignment(T), course="daqlab", assignment=T, student=student, salt=salt)
    sheet = {pi.number: as_answer(pi, shown_key(pi, bank[pi.item_id])) for pi in paper.items if KEEP[student](pi.number)}
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "").startswith("answers-"):
            text = "".join(cell["source"])
            for n, v in sheet.items():
                text = text.replace(f'    {n}: "",', f"    {n}: {json.dumps(v, ensure_ascii=False)},")
            cell["source"] = text
    expected = sum(pi.points for pi in paper.items if KEEP[student](pi.number))
    return nb, float(expected), float(sum(pi.points for pi in paper.items))


INSTRUCTOR_PIPELINE = """
import subprocess, sys
def daqlab(*args):
    r = subprocess.run([sys.executable, "-m", "daqlab.cli", *args], capture_output=True, text=True)
    print("$ daqlab", *args, "->", r.returncode)
    print(r.stdout[-3000:])
    if r.returncode:
        print(r.stderr[-3000:])
        raise SystemExit(f"daqlab {' '.join(args)} failed")
for a in ASSIGNMENTS:
    daqlab("course", "collect", a)
    daqlab("course", "grade", a, "--timeout", "30")
    daqlab("course", "feedback", a)
daqlab("hub", "publish-results")
"""


def test_hub_release_fetch_submit_grade_feedback_and_trainee_dashboard(tmp_path):
    t_start = time.monotonic()
    proxy = need_npm_proxy()
    need_browser()
    need_mosquitto()
    timings = {}

    course = make_course(tmp_path, [P, T])
    (course / "grader").mkdir()
    roster = course / "grader" / "roster.csv"
    roster.write_text("student_id,name,station\n" + "".join(f"{s},{n},{k}\n" for s, (n, k, _) in TRAINEES.items()),
                      encoding="utf-8")
    ports = free_port_block(3)
    base = free_port_block(len(TRAINEES) + 2)
    settings = HubSettings(course_root=str(course), roster=str(roster), state=str(tmp_path / "hub"),
                           port=ports, hub_port=ports + 1, proxy_api_port=ports + 2, rs485_base_port=free_port_block(3), plant_base_port=base,
                           plant_seed=7, cull_timeout=600, cull_every=60, proxy_command=str(proxy),
                           mqtt_port=ports + 3)
    hub = Hub(settings, tmp_path / "hub.log")
    try:
        timings["hub start"] = hub.start()
        wait_port(base + 3, 30)  # the hub-managed plant: station 3 (bob's) answers on BASE+3
        wait_port(settings.mqtt_port, 30)  # the hub-managed broker
        running = {s["name"]: s for s in hub.api("GET", "/hub/api/services").values()}
        assert running["plant"]["pid"] and running["idle-culler"]["pid"] and running["broker"]["pid"], running
        users = [GRADER, *TRAINEES]
        with ThreadPoolExecutor(len(users)) as ex:
            spawn = dict(zip(users, ex.map(hub.start_server, users), strict=True))
        timings["user servers (3 in parallel)"] = max(spawn.values())

        # --- what a trainee's server is given: identity, station (env + file), hub plant reachable, no grading UI;
        # MQTT (the same kernel): alice's own account publishes on her topic (the platform records it), not on bob's
        t0 = time.monotonic()
        out = hub.run_code("alice", "import daqlab, json, os\ns = daqlab.my_station()\n"
                                    "from daqlab.modbus import ModbusTcpClient\n"
                                    "c = ModbusTcpClient(s.host, port=s.port); c.connect()\n"
                                    "rr = c.read_holding_registers(0, count=1, device_id=1); c.close()\n"
                                    "card = json.load(open(os.path.expanduser('~/daqlab-station.json')))\n"
                                    "print(os.environ['JUPYTERHUB_USER'], s.station, s.port, card['station'], "
                                    "rr.isError(), 'DAQLAB_CONTROL_TOKEN' in os.environ)\n" + MQTT_PROBE)
        station, mqtt = out.splitlines()
        assert station.split() == ["alice", "2", str(base + 2), "2", "False", "False"], out
        assert mqtt.split() == ["alice", "Success", "|", "Not", "authorized"], out
        record = settings.mqtt_dir / "platform.jsonl"
        deadline = time.monotonic() + 5
        while not [r for r in load_records(record) if r.kind == "post"] and time.monotonic() < deadline:
            time.sleep(0.05)
        posts = [r for r in load_records(record) if r.kind == "post"]
        assert [(r.device, r.errors) for r in posts] == [("alice", [])], posts
        card = json.loads((settings.home("alice") / "daqlab-station.json").read_text())
        assert card["mqtt"]["username"] == "alice" and card["mqtt"]["url"] == settings.mqtt_url
        timings["trainee kernel: station + mqtt"] = time.monotonic() - t0
        assert hub.user("alice", "GET", "api/contents/lessons")["type"] == "directory", "lessons copied on first start"
        with pytest.raises(HubError, match="404"):
            hub.user("alice", "GET", "formgrader/api/assignments")

        # --- instructor releases through the formgrader API (generate + release to the exchange)
        t0 = time.monotonic()
        for a in (P, T):
            for step in ("assign", "release"):
                r = hub.user(GRADER, "POST", f"formgrader/api/assignment/{a}/{step}")
                assert r["success"], r
        released = (course / "release" / T / f"{T}.ipynb").read_text(encoding="utf-8")
        assert "在此作答" in released, "the course's own nbgrader_config.py (code stub) was used"
        timings["release 2 assignments"] = time.monotonic() - t0

        # --- trainees fetch, answer through the contents API, submit
        t0 = time.monotonic()
        expected_theory = {}

        def trainee(student):
            for a in (P, T):
                listing = listed(hub.user(student, "POST", "assignments/fetch", {"course_id": "daqlab",
                                                                                  "assignment_id": a}))
                assert any(x["assignment_id"] == a and x["status"] == "fetched" for x in listing), listing
            path = f"{P}/{P}.ipynb"
            hub.put_notebook(student, path, practical_answers(hub.get_notebook(student, path), TRAINEES[student][2]))
            path = f"{T}/{T}.ipynb"
            nb, expected, top = theory_answers(hub.get_notebook(student, path), student,
                                               Secrets.load_or_create(settings.state).paper_salt)
            expected_theory[student] = (expected, top)
            hub.put_notebook(student, path, nb)
            for a in (P, T):
                r = listed(hub.user(student, "POST", "assignments/submit", {"course_id": "daqlab", "assignment_id": a}))
                assert any(x["assignment_id"] == a and x["status"] == "submitted" for x in r), r

        with ThreadPoolExecutor(2) as ex:
            list(ex.map(trainee, TRAINEES))
        inbound = sorted(p.name.split("+")[0] for p in (tmp_path / "hub" / "exchange" / "daqlab" / "inbound").iterdir())
        assert inbound == ["alice", "alice", "bob", "bob"], "submissions carry the hub user name, not the OS user"
        timings["fetch + answer + submit (2 trainees)"] = time.monotonic() - t0

        # --- instructor: collect, grade (pipeline + grading plant), feedback, publish, all from their kernel
        t0 = time.monotonic()
        log = hub.run_code(GRADER, f"ASSIGNMENTS = {[P, T]!r}\n" + INSTRUCTOR_PIPELINE, timeout=400)
        (tmp_path / "pipeline.log").write_text(log)
        timings["collect + grade + feedback + publish"] = time.monotonic() - t0

        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
            scores = {(a, s): (gb.find_submission(a, s).score, gb.find_submission(a, s).max_score)
                      for a in (P, T) for s in TRAINEES}
        assert scores[(P, "alice")] == (16.0, 16.0) and scores[(P, "bob")] == (11.0, 16.0), scores
        for s in TRAINEES:
            assert scores[(T, s)] == expected_theory[s], (s, scores[(T, s)], expected_theory[s])
        assert expected_theory["alice"][0] > expected_theory["bob"][0]
        status = json.loads((course / "grading" / "status.json").read_text())
        assert {o["status"] for a in (P, T) for o in status[a].values()} == {"graded"}, status

        # --- trainees fetch their feedback
        t0 = time.monotonic()
        for s in TRAINEES:
            for a in (P, T):
                hub.user(s, "POST", "assignments/fetch_feedback", {"course_id": "daqlab", "assignment_id": a})
            fb = hub.user(s, "GET", f"api/contents/{P}/feedback")["content"]
            assert fb, f"{s} has no feedback folder"
            html = hub.user(s, "GET", "api/contents/" + quote(f"{fb[0]['path']}/{P}.html") + "?content=1")["content"]
            assert ("apply the scaling" in html) == (s == "bob")
        timings["fetch feedback"] = time.monotonic() - t0

        # --- the browser: sign in as bob, the assignment list, then his results dashboard only
        t0 = time.monotonic()
        password = Secrets.load_or_create(settings.state).passwords["bob"]
        browser_check(settings, password, scores, expected_theory)
        timings["browser (login, assignment list, dashboard)"] = time.monotonic() - t0
    except BaseException:
        print(hub.tail())
        raise
    finally:
        t0 = time.monotonic()
        hub.stop()
        timings["hub stop"] = time.monotonic() - t0
        left = mosquittos(settings.mqtt_dir)
        total = time.monotonic() - t_start
        timings["TOTAL"] = total
        print("\n".join(f"{k:<45} {v:6.1f} s" for k, v in timings.items()))
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "hub-e2e-timings.json").write_text(json.dumps(timings, indent=2))
        shutil.copy(tmp_path / "hub.log", ARTIFACTS / "hub-e2e-hub.log")
    assert not left, f"stopping the hub left its Mosquitto running: {left}"


def browser_check(settings, password, scores, expected_theory):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        page.set_default_timeout(60_000)
        try:
            page.goto(f"{settings.url}/hub/login")
            page.fill("input[name=username]", "bob")
            page.fill("input[name=password]", password)
            page.click("input[type=submit], button[type=submit]")
            page.wait_for_url(re.compile(r".*/user/bob/lab/tree/WELCOME.ipynb.*"), timeout=60_000)
            page.wait_for_selector("#jp-main-dock-panel", timeout=60_000)

            # the landing page: bob's own welcome (his station, where to start), no "Jupyter news?" prompt
            page.locator(".jp-RenderedMarkdown h1").first.wait_for(timeout=60_000)
            welcome = page.locator(".jp-RenderedMarkdown").first.inner_text()
            assert "欢迎，Bob Li！" in welcome, welcome
            assert "工位 (station)：3" in welcome.replace("**", "") and "01 数据链路" in welcome, welcome
            page.wait_for_timeout(1500)  # the news prompt, when on, shows within a second of the page
            assert page.get_by_text("official Jupyter news").count() == 0
            page.screenshot(path=str(ARTIFACTS / "hub-trainee-welcome.png"))

            # the nbgrader Assignments list (the Lab plugin), with both assignments submitted
            page.get_by_text("Nbgrader", exact=True).first.click()
            items = page.locator(".lm-Menu-itemLabel").all_inner_texts()
            assert "Assignment List" in items, items
            assert not any(x in items for x in ("Formgrader", "Course List")), f"grading UI shown to a trainee: {items}"
            page.get_by_text("Assignment List", exact=True).first.click()
            listing = page.locator("#submitted_assignments_list")
            listing.get_by_text(P).first.wait_for()
            listing.get_by_text(T).first.wait_for()
            page.screenshot(path=str(ARTIFACTS / "hub-trainee-assignments.png"))

            # the results dashboard (Voila in bob's server, behind the hub's login): bob's rows only
            page.goto(f"{settings.url}/user/bob/voila/render/dashboards/results.ipynb")
            page.wait_for_selector("#res-student", timeout=90_000)
            assert page.locator("#res-student").inner_text().strip() == "bob"
            for a in (P, T):
                cell = page.locator(f"tr.res-row[data-assignment='{a}'] .res-score").first.inner_text().strip()
                assert cell == f"{scores[(a, 'bob')][0]:g}", (a, cell)
            assert page.locator(f".res-feedback-item[data-assignment='{P}']").count() == 1
            html = re.sub(r"data:[^\"']+", "", page.content())
            for other in ("alice", "Alice Wang"):
                assert other not in html, f"bob's dashboard shows {other!r}"
            page.screenshot(path=str(ARTIFACTS / "hub-trainee-results.png"), full_page=True)
        except BaseException:
            page.screenshot(path=str(ARTIFACTS / "hub-trainee-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
