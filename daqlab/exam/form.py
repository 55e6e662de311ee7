"""The answer form of a theory paper: click to answer, an answer sheet, a countdown; every click saved as data.

Shown by the paper cell of a theory notebook (``answer_form("theory-contest")``), in JupyterLab or served by
Voila for a browser-only exam room:

- one item per screen (default) or the whole paper as a list; the stem and options in Chinese, the English
  on demand; radio buttons for single choice and true/false, check boxes for multiple choice;
- "标记 flag" on every item; the answer sheet (答题卡) shows each number as answered (green), open (grey) or
  flagged (orange) and jumps to it when clicked;
- every change is written at once to ``answers.json`` in the assignment folder (:mod:`daqlab.exam.sheetfile`):
  a reload, a kernel restart or a server restart finds every answer; ``nbgrader submit`` collects it and the
  grader reads it as data;
- a timed paper (``exam.json``, :mod:`daqlab.exam.clock`) counts down from the start the server recorded and
  locks the form at zero (answers already saved stay; a submission after the deadline is flagged late);
- "交卷 Submit" runs ``nbgrader submit`` for the assignment (asks once more first);
- a practice paper has "确认并看答案 Check" on every item: the key and explanation at once, the item locked,
  and only the first checked answer counts (:mod:`daqlab.exam.practice`); an exam paper shows nothing.

Typing into the answer cells keeps working; the grader combines both (the form's answer wins for a question
answered in both) and says so.
"""

from __future__ import annotations

import html
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from daqlab.exam import clock, sheetfile
from daqlab.exam.bank import TYPE_NAMES

GREEN, ORANGE = "success", "warning"
TF = [("对 True", True), ("错 False", False)]


def _texts(paper) -> dict:
    from daqlab.exam.bank import load_public
    from daqlab.exam.notebook import _instructor_texts

    items = paper.texts or load_public()
    if any(pi.item_id not in items for pi in paper.items):
        items = _instructor_texts() or items
    return items


def _fmt(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


class AnswerForm:
    """The form's state and widgets (see the module docstring). ``folder``: the assignment folder."""

    def __init__(self, assignment: str, folder: Path | None = None, paper=None):
        import ipywidgets as w

        from daqlab.exam.notebook import my_paper

        self.w = w
        self.assignment = assignment
        self.folder = Path(folder or os.getcwd())
        self.paper = paper or my_paper(assignment)
        self.texts = _texts(self.paper)
        self.by_number = {pi.number: pi for pi in self.paper.items}
        self.notes: list[str] = []
        try:
            got = sheetfile.read(self.folder)
        except sheetfile.SheetError as exc:
            bad = self.folder / f"{sheetfile.ANSWERS_FILE}.unreadable-{datetime.now():%H%M%S}"
            os.replace(self.folder / sheetfile.ANSWERS_FILE, bad)
            self.notes.append(f"{exc} · 已另存为 {bad.name}，请重新作答（kept as {bad.name}）")
            got = None
        self.answers, self.flags = ({}, set()) if got is None else (dict(got[0]), set(got[1]))
        self.answers = {n: v for n, v in self.answers.items() if n in self.by_number}
        self.practice = bool(self.paper.blueprint.feedback)  # instant feedback (daqlab.exam.practice)
        self.checked = sheetfile.read_checked(self.folder) if self.practice else {}
        self._local_keys = None
        try:
            self.clock = clock.start(assignment, self.folder, self.paper.course)
        except OSError as exc:  # the service does not answer: the form still works, untimed
            self.clock = None
            self.notes.append(f"计时服务无法连接，本页不计时（the exam clock service does not answer: {exc}）")
        self.locked = False
        self.current = self.paper.items[0].number
        self.groups: dict[int, object] = {}
        self.inputs: dict[int, list] = {}
        self.choices: dict[int, list] = {}  #: the answer widgets of a question (radio, or its check boxes)
        self.flag_buttons: dict[int, object] = {}
        self._verdicts: dict[int, object] = {}
        self._checks: dict[int, object] = {}
        self._build()
        self._tick()

    # ------------------------------------------------------------------ widgets
    def _build(self) -> None:
        w = self.w
        bp = self.paper.blueprint
        self.header = w.HTML(f"<h2 style='margin:0.2em 0'>{html.escape(bp.title['zh'])} · "
                             f"{html.escape(bp.title['en'])}</h2><div><b>考生 Trainee:</b> "
                             f"{html.escape(self.paper.student)} · <b>共 {len(self.paper.items)} 题</b> · "
                             f"<b>总分 Total</b> {bp.total_points:g}</div>")
        self.status = w.HTML()
        self.status.add_class("daqlab-status")
        self.view = w.ToggleButtons(options=[("逐题 One by one", "one"), ("列表 List", "list")], value="one")
        self.english = w.Checkbox(value=False, description="显示英文 English", indent=False)
        self.view.observe(lambda _: self._show(), "value")
        self.english.observe(lambda _: self._refresh_english(), "value")
        self.buttons = {}
        for pi in self.paper.items:
            b = w.Button(description=str(pi.number), layout=w.Layout(width="46px", height="30px", padding="0"),
                         tooltip=f"第 {pi.number} 题 · {TYPE_NAMES[pi.type][1]}")
            b.on_click(lambda _, n=pi.number: self.go(n))
            b.add_class(f"daqlab-n-{pi.number}")
            self.buttons[pi.number] = b
        self.sheet = w.GridBox(list(self.buttons.values()),
                               layout=w.Layout(grid_template_columns="repeat(auto-fill, 48px)", grid_gap="3px"))
        self.prev = w.Button(description="上一题 Prev", icon="arrow-left")
        self.next = w.Button(description="下一题 Next", icon="arrow-right")
        self.prev.on_click(lambda _: self._step(-1))
        self.next.on_click(lambda _: self._step(+1))
        self.nav = w.HBox([self.prev, self.next])
        self.body = w.VBox()
        self.submit = w.Button(description="交卷 Submit", button_style="danger", icon="paper-plane")
        self.submit.on_click(self._submit)
        self.submit.add_class("daqlab-submit")
        self.submit_out = w.HTML()
        self.note = w.HTML("<br>".join(f"<span style='color:#b45309'>⚠ {html.escape(n)}</span>" for n in self.notes))
        self.widget = w.VBox([self.header, self.status, self.note, w.HBox([self.view, self.english]),
                              w.HTML("<b>答题卡 Answer sheet</b>（绿色已答 · 灰色未答 · 橙色已标记；点击题号跳转）"),
                              self.sheet, self.body, self.nav, w.HBox([self.submit, self.submit_out])],
                             layout=w.Layout(max_width="1100px"))
        self.widget.add_class("daqlab-answer-form")
        for n in self.buttons:
            self._paint(n)
        self._show()

    def _group(self, n: int):
        if n in self.groups:
            return self.groups[n]
        w = self.w
        pi = self.by_number[n]
        item = self.texts[pi.item_id]
        stem = w.HTML(f"<div style='font-size:1.2em;line-height:1.6'><b>{n}.</b> "
                      f"{html.escape(item['stem']['zh'])}</div>")
        en = w.HTML(self._english(pi, item))
        en.layout.display = "" if self.english.value else "none"
        current = self.answers.get(n)
        if pi.type == "multiple":
            chosen = set(str(current).replace(" ", "").split(",")) if current else set()
            boxes = [w.Checkbox(value=s in chosen, description=f"{s}. {item['options'][b]['zh']}", indent=False,
                                layout=w.Layout(width="auto")) for s, b in zip(pi.shown_letters, pi.order, strict=True)]
            for box in boxes:
                box.observe(lambda _, n=n: self._multiple_changed(n), "value")
            choice = w.VBox(boxes)
            inputs = boxes
        else:
            opts = TF if pi.type == "truefalse" else [
                (f"{s}. {item['options'][b]['zh']}", s) for s, b in zip(pi.shown_letters, pi.order, strict=True)]
            choice = w.RadioButtons(options=opts, value=current if current in [v for _, v in opts] else None,
                                    layout=w.Layout(width="auto"))
            choice.observe(lambda ch, n=n: self.set(n, ch["new"]), "value")
            inputs = [choice]
        flag = w.ToggleButton(value=n in self.flags, description="标记 Flag", icon="flag",
                              tooltip="标记为待检查 · flag for review", layout=w.Layout(width="110px"))
        flag.observe(lambda ch, n=n: self.set_flag(n, ch["new"]), "value")
        kind = TYPE_NAMES[pi.type]
        rule = {"single": "单选：选一个", "multiple": "多选：选出全部正确选项（错选、多选、少选均不得分）",
                "truefalse": "判断：对或错"}[pi.type]
        head = w.HTML(f"<span style='color:#555'>{kind[1]} {kind[0]} · {pi.points:g} 分 · {rule}</span>")
        parts = [head, stem, en, choice, flag]
        if self.practice:
            check = w.Button(description="确认并看答案 Check", icon="check", layout=w.Layout(width="170px"))
            check.add_class("daqlab-check")
            verdict = w.HTML()
            verdict.add_class("daqlab-verdict")
            check.on_click(lambda _, n=n: self.check(n))
            parts[-1:] = [w.HBox([flag, check]), verdict]
            self._verdicts[n], self._checks[n] = verdict, check
        box = w.VBox(parts, layout=w.Layout(border="1px solid #ddd", padding="8px", margin="4px 0"))
        box.add_class("daqlab-item")
        box.add_class(f"daqlab-item-{n}")
        flag.add_class("daqlab-flag")
        self.groups[n], self.inputs[n] = box, [*inputs, flag]
        self.choices[n], self.flag_buttons[n] = inputs, flag
        box._daqlab_en = en
        if self.practice:
            self.inputs[n].append(self._checks[n])
            if n in self.checked:
                self._show_verdict(n, self.checked[n])
        if self.locked:
            for x in self.inputs[n]:
                x.disabled = True
        return box

    # ------------------------------------------------------------------ practice feedback
    def check(self, n: int) -> None:
        """Practice: send this answer once, show the key and explanation, lock the question."""
        if n in self.checked or self.locked:
            return
        answer = self.answers.get(n)
        if answer in (None, ""):
            self._verdicts[n].value = "<span style='color:#b45309'>请先作答 · answer first</span>"
            return
        try:
            result = self._ask(n, answer)
        except Exception as exc:  # the service down, a bank missing: say so, keep the answer
            self._verdicts[n].value = f"<span style='color:#b91c1c'>无法核对 cannot check: {html.escape(str(exc))}</span>"
            return
        self.checked[n] = result
        if result.get("answer") not in (None, "") and result["answer"] != answer:
            self.answers[n] = result["answer"]  # the service keeps the first checked answer
        self._save()
        self._show_verdict(n, result)
        self._paint(n)
        self._update_status()

    def _ask(self, n: int, answer) -> dict:
        import json
        import urllib.error
        import urllib.parse
        import urllib.request

        url, token = os.environ.get("DAQLAB_EXCHANGE_URL"), os.environ.get("JUPYTERHUB_API_TOKEN")
        if url and token:
            query = urllib.parse.urlencode({"course": self.paper.course, "assignment": self.assignment})
            req = urllib.request.Request(f"{url.rstrip('/')}/api/practice?{query}", method="POST",
                                         data=json.dumps({"number": n, "answer": answer}).encode())
            req.add_header("Authorization", f"token {token}")
            try:
                with urllib.request.urlopen(req, timeout=30) as resp:
                    return json.loads(resp.read())
            except urllib.error.HTTPError as exc:
                raise RuntimeError(json.loads(exc.read() or b"{}").get("error", f"HTTP {exc.code}")) from None
        from daqlab.exam import practice

        if self._local_keys is None:
            self._local_keys = practice.local_payload(self.assignment) or {}
        if not self._local_keys:
            raise RuntimeError("这台机器没有题库，即时反馈需在 JupyterHub 上使用（no item bank here: use the hub）")
        return practice.check(self._local_keys, self.paper.student, n, answer)

    def _show_verdict(self, n: int, r: dict) -> None:
        key = r.get("key")
        key = ("对 True" if key else "错 False") if isinstance(key, bool) else key
        head = ("<b style='color:#15803d'>✔ 正确 correct</b>" if r.get("correct") else
                f"<b style='color:#b91c1c'>✘ 错误 wrong</b> · 正确答案 key: <b>{html.escape(str(key))}</b>")
        if r.get("message"):
            head += f" · {html.escape(r['message'])}"
        ex = r.get("explanation") or {}
        self._verdicts[n].value = (f"<div style='background:#f8fafc;padding:6px'>{head}<br>{html.escape(ex.get('zh', ''))}"
                                   f"<br><span style='color:#555'>{html.escape(ex.get('en', ''))}</span></div>")
        for x in self.inputs.get(n, []):
            x.disabled = True

    @staticmethod
    def _english(pi, item) -> str:
        opts = "".join(f"<div>{s}. {html.escape(item['options'][b]['en'])}</div>"
                       for s, b in zip(pi.shown_letters, pi.order, strict=True)) if pi.order else ""
        return f"<div style='color:#555'>{html.escape(item['stem']['en'])}{opts}</div>"

    def _refresh_english(self) -> None:
        for box in self.groups.values():
            box._daqlab_en.layout.display = "" if self.english.value else "none"

    def _show(self) -> None:
        if self.view.value == "list":
            self.body.children = [self._group(pi.number) for pi in self.paper.items]
            self.nav.layout.display = "none"
        else:
            self.body.children = [self._group(self.current)]
            self.nav.layout.display = ""
        self._update_status()

    def go(self, n: int) -> None:
        self.current = n
        if self.view.value == "list":
            self.view.value = "one"  # jumping means looking at that one item
        self._show()

    def _step(self, d: int) -> None:
        numbers = [pi.number for pi in self.paper.items]
        i = min(max(numbers.index(self.current) + d, 0), len(numbers) - 1)
        self.go(numbers[i])

    # ------------------------------------------------------------------ state
    def _multiple_changed(self, n: int) -> None:
        pi = self.by_number[n]
        boxes = self.choices[n]
        chosen = [s for s, box in zip(pi.shown_letters, boxes, strict=True) if box.value]
        self.set(n, ",".join(chosen))

    def set(self, n: int, value) -> None:
        if self.locked or n in self.checked:
            return
        if value in (None, ""):
            self.answers.pop(n, None)
        else:
            self.answers[n] = value
        self._save()
        self._paint(n)
        self._update_status()

    def set_flag(self, n: int, on: bool) -> None:
        if self.locked:
            return
        (self.flags.add if on else self.flags.discard)(n)
        self._save()
        self._paint(n)
        self._update_status()

    def _save(self) -> None:
        sheetfile.write(self.folder, self.assignment, self.answers, self.flags, self.checked)

    def _paint(self, n: int) -> None:
        b = self.buttons[n]
        b.button_style = ORANGE if n in self.flags else GREEN if n in self.answers else ""

    def remaining(self) -> float | None:
        if not self.clock or not self.clock.get("deadline"):
            return None
        now = datetime.now(UTC).timestamp() + self.clock["offset_s"]
        return self.clock["deadline"].timestamp() - now

    def _update_status(self) -> None:
        total = len(self.paper.items)
        done = len(self.answers)
        left = self.remaining()
        timer = ""
        if left is not None:
            colour = "#b91c1c" if left < 300 else "#111"
            trust = "" if self.clock["trusted"] else "（本机计时 local clock）"
            timer = (f" · <b style='color:{colour}'>剩余时间 {_fmt(left)}</b> remaining{trust}"
                     if left > 0 else " · <b style='color:#b91c1c'>时间到，答题已锁定（time is up: answers locked）</b>")
        self.status.value = (f"<div style='font-size:1.1em'>已答 answered <b>{done}</b> / {total} · 未答 open "
                             f"<b>{total - done}</b> · 标记 flagged <b>{len(self.flags)}</b>{timer}</div>")

    def lock(self) -> None:
        self.locked = True
        for inputs in self.inputs.values():
            for x in inputs:
                x.disabled = True
        self._update_status()

    def _tick(self) -> None:
        left = self.remaining()
        if left is None:
            return
        if left <= 0:
            self.lock()
            return
        self._update_status()
        try:
            import asyncio

            asyncio.get_event_loop().call_later(1.0, self._tick)
        except RuntimeError:  # no event loop (a plain script): no live countdown
            pass

    # ------------------------------------------------------------------ submit
    def _submit(self, _=None) -> None:
        if self.submit.description.startswith("交卷"):
            open_n = len(self.paper.items) - len(self.answers)
            self.submit.description = "确认交卷 Confirm"
            self.submit_out.value = (f"<span>还有 {open_n} 题未答，{len(self.flags)} 题已标记。再按一次交卷"
                                     f"（{open_n} open, {len(self.flags)} flagged: click again to submit）</span>")
            return
        self.submit.description = "交卷 Submit"
        self.submit_out.value = self.submit_now()

    def submit_now(self) -> str:
        """``nbgrader submit`` of this assignment (from the folder above it); the result as HTML."""
        self._save()
        r = subprocess.run([sys.executable, "-m", "nbgrader", "submit", self.assignment], cwd=self.folder.parent,
                           capture_output=True, text=True, timeout=300)
        if r.returncode == 0:
            return (f"<b style='color:#15803d'>✔ 已交卷 submitted</b> "
                    f"{datetime.now().strftime('%H:%M:%S')}（可再次交卷，以最后一次为准 · you may submit again; "
                    f"the last one counts）")
        last = [x for x in (r.stdout + r.stderr).splitlines() if x.strip()][-1:] or ["(no output)"]
        return f"<b style='color:#b91c1c'>✗ 交卷失败 not submitted:</b> {html.escape(last[0][-300:])}"


def answer_form(assignment: str, folder: Path | None = None) -> AnswerForm:
    """Display the form for this trainee's paper of ``assignment`` and return it."""
    from IPython.display import display

    form = AnswerForm(assignment, folder)
    display(form.widget)
    return form
