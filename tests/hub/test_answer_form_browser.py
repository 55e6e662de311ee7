"""The contest paper as a trainee takes it: in Debian's chromium, on the real hub, through Voila.

cara signs in with her password, opens her contest paper in Voila, answers all 85 items by clicking (some
flagged, some changed, some left open), reloads the page halfway and finds every answer, and submits from
the form. dan's clock (recorded by the exchange service) ran out before he opened the paper: his form is
locked, and his submission is flagged late. The instructor collects and grades: cara's score is exactly the
one her clicks earn; an item left open scores 0.

Own user names (cara, dan, teacher-form): this test shares no OS account with the other hub tests.
"""

from __future__ import annotations

import json
import os
import re
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from daqlab.course.status import load_status
from daqlab.exam.bank import load_bank
from daqlab.exam.blueprint import contest
from daqlab.exam.paper import draw
from daqlab.exam.score import shown_key
from daqlab.hub.settings import Secrets

from ..course_helpers import ROOT
from ..dashboards.test_browser import CHROMIUM, CHROMIUM_ARGS, need_browser
from .hub_helpers import Hub, service_hub_settings
from .test_hub_e2e import ARTIFACTS, need_npm_proxy
from .test_isolation import need_root

pytestmark = pytest.mark.slow

A = "theory-contest"
TEACHER = "teacher-form"


def plan(paper, bank):
    """cara's clicks: the key where n % 4 != 0, a wrong answer otherwise; every 11th left open; every 13th
    flagged; every 17th first answered wrong, then changed to the key (which counts). Returns {n: (clicks, final)} and the
    expected score."""
    out, expected = {}, 0.0
    for pi in paper.items:
        n = pi.number
        if n % 11 == 0:
            continue
        key = shown_key(pi, bank[pi.item_id])
        if pi.type == "truefalse":
            right, wrong = key, not key
        elif pi.type == "single":
            right, wrong = key, next(s for s in pi.shown_letters if s != key)
        else:
            right = ",".join(key)
            wrong = next(s for s in pi.shown_letters if s not in key)
        clicks = [wrong, right] if n % 17 == 0 else [right if n % 4 != 0 else wrong]
        out[n] = (pi.type, clicks)
        expected += pi.points if clicks[-1] == right else 0
    return out, expected


def click_answer(page, n, kind, value):
    item = page.locator(f".daqlab-item-{n}")
    if kind == "truefalse":
        item.locator("label", has_text="对 True" if value else "错 False").click()
    elif kind == "single":
        item.locator("label", has_text=re.compile(rf"^\s*{value}\.")).click()
    else:
        boxes = item.locator("input[type=checkbox]")  # one per option, in the order shown: A, B, C ...
        for i in range(boxes.count()):
            if boxes.nth(i).is_checked() != (chr(ord("A") + i) in value.split(",")):
                boxes.nth(i).click()


def wait_saved(path, n, value, timeout=30):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if json.loads(path.read_text())["answers"].get(str(n)) == value:
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"answer {n} = {value!r} was not saved to {path}")


def test_a_trainee_answers_the_contest_paper_by_clicking_and_a_late_one_is_flagged(tmp_path):
    need_root()
    need_browser()
    proxy = need_npm_proxy()
    from playwright.sync_api import sync_playwright

    settings = service_hub_settings(tmp_path, [A], "cara,Cara Zhou,1\ndan,Dan Wu,2\n", proxy, instructor=TEACHER)
    course = Path(settings.course_root)
    hub = Hub(settings, tmp_path / "hub.log")
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        hub.start()
        for u in (TEACHER, "cara", "dan"):
            hub.start_server(u)
        for step in ("assign", "release"):
            assert hub.user(TEACHER, "POST", f"formgrader/api/assignment/{A}/{step}")["success"]
        out = hub.run_code(TEACHER, "import subprocess, sys\nr = subprocess.run([sys.executable, '-m', 'daqlab.cli', "
                                    f"'hub', 'publish-papers', {A!r}], capture_output=True, text=True)\n"
                                    "print(r.returncode, r.stdout, r.stderr)")
        assert out.startswith("0 published 2 paper(s)"), out
        for s in ("cara", "dan"):
            assert hub.user(s, "POST", "assignments/fetch", {"course_id": "daqlab", "assignment_id": A})["success"]
        # dan opened his paper two hours ago (as the service recorded it): his time is up
        ledger = settings.exchange_store / "daqlab" / "clock" / f"{A}.json"
        ledger.parent.mkdir(parents=True, exist_ok=True)
        ledger.write_text(json.dumps({"dan": (datetime.now(UTC) - timedelta(hours=2)).isoformat()}))

        sec = Secrets.load_or_create(settings.state)
        bank = load_bank(ROOT / "source" / "exam" / "bank")
        paper = draw(bank, contest(), course="daqlab", assignment=A, student="cara", salt=sec.paper_salt)
        clicks, expected = plan(paper, bank)
        sheet = settings.home("cara") / A / "answers.json"
        url = f"{settings.url}/user/{{}}/voila/render/{A}/{A}.ipynb"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(60_000)
            try:
                for who in ("cara", "dan"):
                    if who == "dan":
                        page.context.clear_cookies()
                    page.goto(f"{settings.url}/hub/login")
                    page.fill("input[name=username]", who)
                    page.fill("input[name=password]", sec.passwords[who])
                    page.click("input[type=submit], button[type=submit]")
                    page.wait_for_url(re.compile(rf".*/user/{who}/lab.*"), timeout=90_000)
                    page.wait_for_selector("#jp-main-dock-panel", timeout=90_000)  # as a trainee lands
                    page.goto(url.format(who))
                    page.wait_for_selector(".daqlab-answer-form", timeout=120_000)
                    if who == "dan":
                        assert "时间到" in page.locator(".daqlab-status").inner_text()
                        page.screenshot(path=str(ARTIFACTS / "answer-form-locked.png"))
                        assert page.locator(".daqlab-item input").first.is_disabled()
                        break
                    numbers = [pi.number for pi in paper.items]
                    for i, n in enumerate(numbers):
                        if i == len(numbers) // 2:  # halfway: reload; every answer and flag comes back
                            page.reload()
                            page.wait_for_selector(".daqlab-answer-form", timeout=120_000)
                            for m in numbers[:i]:
                                cls = page.locator(f".daqlab-n-{m}").get_attribute("class")
                                want = "mod-warning" if m % 13 == 0 else "mod-success" if m in clicks else None
                                assert (want in cls) if want else ("mod-success" not in cls and "mod-warning" not in cls), (m, cls)
                        page.locator(f".daqlab-n-{n}").click()
                        page.wait_for_selector(f".daqlab-item-{n}")
                        if n in clicks:
                            kind, values = clicks[n]
                            for v in values:
                                click_answer(page, n, kind, v)
                                wait_saved(sheet, n, v)
                        if n % 13 == 0:
                            page.locator(f".daqlab-item-{n} .daqlab-flag").click()
                    assert f"已答 answered {len(clicks)}" in page.locator(".daqlab-status").inner_text().replace("\n", " ")
                    page.screenshot(path=str(ARTIFACTS / "answer-form.png"))
                    page.locator(".daqlab-submit").click()
                    page.locator(".daqlab-submit").click()  # "确认交卷 Confirm"
                    page.wait_for_selector("text=已交卷", timeout=120_000)
                # dan submits after his time is up (from the same form, still allowed)
                page.locator(".daqlab-submit").click()
                page.locator(".daqlab-submit").click()
                page.wait_for_selector("text=已交卷", timeout=120_000)
            except Exception:
                page.screenshot(path=str(ARTIFACTS / "answer-form-failure.png"), full_page=True)
                raise
            finally:
                browser.close()

        saved = json.loads(sheet.read_text())
        assert {int(k) for k in saved["answers"]} == set(clicks)
        assert saved["flags"] == [n for n in sorted(clicks.keys() | {pi.number for pi in paper.items}) if n % 13 == 0]

        code = textwrap.dedent(f"""
            import subprocess, sys
            for step in (["collect", {A!r}], ["grade", {A!r}, "--timeout", "30"]):
                r = subprocess.run([sys.executable, "-m", "daqlab.cli", "course", *step], capture_output=True, text=True)
                print(step[0], r.returncode, r.stdout[-1500:], r.stderr[-1500:])
        """)
        out = hub.run_code(TEACHER, code)
        assert "collect 0" in out and "grade 0" in out, out
        rows = load_status(course)[A]
        assert rows["cara"]["status"] == "graded" and rows["cara"]["score"] == expected, rows["cara"]
        results = json.loads((course / "autograded" / "cara" / A / "exam_results.json").read_text(encoding="utf-8"))
        assert sum(r["score"] for r in results["items"]) == expected
        opened = [r for r in results["items"] if r["number"] % 11 == 0]
        assert opened and all(r["status"] == "blank" and r["score"] == 0 for r in opened)
        assert results["timing"]["late_minutes"] == 0 and results["timing"]["used_minutes"] is not None
        dan = json.loads((course / "autograded" / "dan" / A / "exam_results.json").read_text(encoding="utf-8"))
        assert dan["timing"]["late_minutes"] >= 59, dan["timing"]
        assert rows["dan"]["status"] == "flagged" and "迟交" in rows["dan"]["reason"], rows["dan"]
        assert os.path.exists(ARTIFACTS / "answer-form.png")
    finally:
        hub.stop()
