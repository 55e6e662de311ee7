"""What a trainee waits for in the theory paper, measured in Debian's chromium through Voila.

Side by side in one run, the 85-item contest paper served by Voila from the released notebook:

The trainee's paper is the one the hub publishes for them (``daqlab hub publish-papers``: drawn with the
instructor's salt, texts in the file), read as on the hub (``DAQLAB_PAPERS=published``).

- **paper on screen**: navigation start -> the paper visible. (a) the answer form (``answer_form``: widgets,
  answer sheet, the first item) vs (b) the paper as one HTML block (``show_paper``: what the notebook showed
  before the form: nothing to click). Goal: the form ≤ 2 s.
- **a click saved**: a radio button clicked -> the answer in ``answers.json`` on disk (the kernel received it
  over the widget comm and wrote the file atomically). Goal ≤ 100 ms (median and p95 of ``--clicks``).

Nothing is mocked: Voila, a real kernel, chromium (Playwright). Usage::

    python bench/exam_form.py              # 3 rounds, 40 clicks
    python bench/exam_form.py --rounds 5 --clicks 60
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import HOST, markdown_table, wait_port  # noqa: E402

A = "theory-contest"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def folder_with(variant: str, tmp: Path, name: str) -> Path:
    """A copy of the released paper in ``tmp/name``; ``html``: the paper cell shows the HTML paper instead of
    the form."""
    import nbformat

    dest = tmp / name / A
    shutil.copytree(ROOT / "release" / A, dest)
    if variant == "html":
        nb = nbformat.read(dest / f"{A}.ipynb", as_version=4)
        for cell in nb.cells:
            if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "paper":
                cell.source = ("from daqlab.exam.notebook import area_score, check_answers, show_paper\n\n"
                               f'paper = show_paper("{A}")')
        nbformat.write(nb, dest / f"{A}.ipynb")
    return dest


def publish(tmp: Path) -> Path:
    """The paper as the hub gives it to a trainee: drawn with a salt, published into their results folder."""
    from daqlab.hub.papers import publish as publish_papers

    results = tmp / "results"
    publish_papers(results, ["bench"], [A], "bench-salt", ROOT / "source" / "exam" / "bank")
    return results / "bench"


def serve(folder: Path, port: int, results: Path) -> subprocess.Popen:
    env = dict(os.environ, DAQLAB_STUDENT_ID="bench", PYTHONUNBUFFERED="1", DAQLAB_PAPERS="published",
               DAQLAB_COURSE_ROOT=str(results))
    env.pop("DAQLAB_EXCHANGE_URL", None)
    return subprocess.Popen([sys.executable, "-m", "voila", f"{A}.ipynb", "--no-browser", f"--port={port}",
                             f"--Voila.ip={HOST}", "--show_tracebacks=True"], cwd=folder, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def on_screen(page, url: str, selector: str) -> float:
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.wait_for_selector(selector, timeout=120_000)
    return time.perf_counter() - t0


def clicks(page, folder: Path, n: int) -> list[float]:
    """Click radio options of single-choice items, alternating, and time each until it is on disk."""
    sheet = folder / "answers.json"
    out = []
    numbers = [int(t) for t in page.locator(".daqlab-answer-form .jupyter-button").all_inner_texts() if t.strip().isdigit()]
    singles = []
    for m in numbers:  # single-choice items are numbered first on every paper
        page.locator(f".daqlab-n-{m}").click()
        page.wait_for_selector(f".daqlab-item-{m}")
        if page.locator(f".daqlab-item-{m} input[type=radio]").count() >= 4:
            singles.append(m)
        if len(singles) >= 3:
            break
    for i in range(n):
        m = singles[i % len(singles)]
        page.locator(f".daqlab-n-{m}").click()
        page.wait_for_selector(f".daqlab-item-{m}")
        letter = "ABCD"[i % 4]
        radio = page.locator(f".daqlab-item-{m} input[type=radio]").nth(i % 4)
        t0 = time.perf_counter()
        radio.click()
        while True:
            try:
                if json.loads(sheet.read_text())["answers"].get(str(m)) == letter:
                    break
            except (OSError, ValueError, KeyError):
                pass
            if time.perf_counter() - t0 > 30:
                raise RuntimeError(f"click {i} was not saved within 30 s")
            time.sleep(0.002)
        out.append(time.perf_counter() - t0)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="example: python bench/exam_form.py --rounds 3 --clicks 40")
    ap.add_argument("--rounds", type=int, default=3, help="page loads per variant (default 3)")
    ap.add_argument("--clicks", type=int, default=40, help="clicks timed per round (default 40)")
    args = ap.parse_args(argv)
    if not os.path.exists(CHROMIUM):
        print("bench/exam_form.py: needs Debian's chromium (apt-get install chromium)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="daqlab-bench-form-"))
    loads = {"form": [], "html": []}
    saves: list[float] = []
    results = publish(tmp)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for r in range(args.rounds):
                for variant, selector in (("form", ".daqlab-answer-form .daqlab-item"), ("html", "h3:has-text(\"单选题\")")):
                    folder = folder_with(variant, tmp, f"{variant}{r}")
                    port = free_port()
                    proc = serve(folder, port, results)
                    try:
                        wait_port(port, 60)
                        page = browser.new_page()
                        page.goto(f"http://{HOST}:{port}/", wait_until="commit")  # warm: Voila's first import
                        page.wait_for_selector(selector, timeout=120_000)
                        page.close()
                        page = browser.new_page()
                        loads[variant].append(on_screen(page, f"http://{HOST}:{port}/", selector))
                        if variant == "form":
                            saves += clicks(page, folder, args.clicks)
                        page.close()
                    finally:
                        proc.terminate()
                        proc.wait(30)
            browser.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    med = {k: statistics.median(v) for k, v in loads.items()}
    saves.sort()
    p95 = saves[max(0, int(len(saves) * 0.95) - 1)]
    rows = [[f"paper on screen (median of {args.rounds} loads)", f"{med['form']:.2f} s", f"{med['html']:.2f} s",
             f"{med['form'] / med['html']:.2f}×", "≤ 2 s: " + ("met" if med["form"] <= 2 else "NOT met")],
            ["a click saved to answers.json", f"median {statistics.median(saves) * 1000:.0f} ms, "
             f"p95 {p95 * 1000:.0f} ms ({len(saves)} clicks)", "(nothing to click)", "",
             "≤ 100 ms: " + ("met" if p95 <= 0.1 else "NOT met")]]
    print(f"cpus {os.cpu_count()}, load {os.getloadavg()[0]:.1f}")
    print(markdown_table(["measure", "(a) answer form", "(b) HTML paper", "(a)/(b)", "goal"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
