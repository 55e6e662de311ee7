"""The contest-day scoreboard: a projector view of the ranking that updates as grading proceeds.

``Scoreboard().show()`` in ``notebooks/dashboards/scoreboard.ipynb`` (``daqlab dashboard scoreboard``): large
type, the top rows of :func:`daqlab.dashboards.analysis.ranking` (weighted theory and practical, ties on the
total broken by the practical, then the theory percent, never a finalist who handed nothing in), how many
papers are graded so far, and the time of the last update in the centre's zone. It reloads the course every
``refresh`` seconds, so it follows ``daqlab course grade`` while it runs. Names can be masked for a projector
in a public hall (张三 -> 张*, Alice -> A****). Settings from the environment (the CLI sets them):
``DAQLAB_COURSE_ROOT``, ``DAQLAB_SCOREBOARD_TOP`` (10), ``DAQLAB_SCOREBOARD_MASK`` ("1": masked),
``DAQLAB_SCOREBOARD_REFRESH`` (seconds, 15), ``DAQLAB_THEORY_WEIGHT`` / ``DAQLAB_PRACTICAL_WEIGHT`` (0.3 / 0.7).
"""

from __future__ import annotations

import html
import os
import time
from pathlib import Path

import pandas as pd

from daqlab import localtime
from daqlab.dashboards.analysis import GRADED, ranking
from daqlab.dashboards.data import load_course

CSS = """<style>
.sb-box{font-family:"Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;max-width:1400px}
.sb-title{font-size:40px;font-weight:700;margin:0 0 6px}
.sb-meta{font-size:20px;color:#444;margin-bottom:12px}
.sb-table{border-collapse:collapse;width:100%;font-size:28px}
.sb-table th{background:#0f172a;color:#fff;padding:10px 14px;text-align:left}
.sb-table td{padding:10px 14px;border-bottom:1px solid #cbd5e1}
.sb-row.sb-finalist td{background:#ecfdf5}
.sb-rank{font-weight:700;width:90px}.sb-total{font-weight:700}
</style>"""


def mask(name: str) -> str:
    """张三 -> 张*, Alice Wang -> A*********: the first character stays, the rest is starred."""
    name = str(name or "")
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""


class Scoreboard:
    def __init__(self, course=None, *, environ=None, top: int | None = None, masked: bool | None = None,
                 refresh: float | None = None, roster: dict | None = None):
        env = os.environ if environ is None else environ
        from daqlab import paths

        self.course = Path(course or env.get("DAQLAB_COURSE_ROOT") or paths.course_root())
        self.top = int(top if top is not None else env.get("DAQLAB_SCOREBOARD_TOP") or 10)
        self.masked = bool(masked) if masked is not None else env.get("DAQLAB_SCOREBOARD_MASK", "") in ("1", "true")
        self.refresh_s = float(refresh if refresh is not None else env.get("DAQLAB_SCOREBOARD_REFRESH") or 15)
        self.weights = (float(env.get("DAQLAB_THEORY_WEIGHT") or 0.3), float(env.get("DAQLAB_PRACTICAL_WEIGHT") or 0.7))
        self.env = env
        self.roster = roster  #: {student_id: Trainee}; default the course's grader/roster.csv
        self.widget = None
        self.updates = 0

    def frame(self) -> tuple[pd.DataFrame, dict]:
        """The rows shown (in order) and the counts of the header."""
        data = load_course(self.course, self.roster)
        sc = data.scores
        counts = {"graded": int(sc["status"].isin(GRADED).sum()),
                  "submitted": int((sc["status"] != "not submitted").sum()), "trainees": sc["student_id"].nunique()}
        if sc.empty or not sc["status"].isin(GRADED).any():
            return pd.DataFrame(), counts
        r = ranking(sc, *self.weights, top_n=self.top)
        r = r.assign(_p=r["practical_pct"].fillna(-1), _t=r["theory_pct"].fillna(-1))
        r = r.sort_values(["total", "_p", "_t", "student_id"], ascending=[False, False, False, True])
        return r.head(self.top).drop(columns=["_p", "_t"]), counts

    def html(self) -> str:
        rows, counts = self.frame()
        stamp = localtime.clock(time.time(), self.env)
        head = (f'<div class="sb-box"><div class="sb-title">竞赛实时排名 · Live ranking</div>'
                f'<div class="sb-meta">已评分 graded <b id="sb-graded">{counts["graded"]}</b> · 已提交 submitted '
                f'{counts["submitted"]} · 学员 trainees {counts["trainees"]} · 更新于 updated '
                f'<span id="sb-updated">{stamp}</span> · 权重 weights 理论 {self.weights[0]:g} / 实操 '
                f'{self.weights[1]:g} · 同分先比实操，再比理论 (ties: practical, then theory)</div>')
        if rows.empty:
            return CSS + head + '<p class="sb-empty" style="font-size:28px">评分进行中… grading in progress</p></div>'
        body = []
        for _, r in rows.iterrows():
            if self.masked:  # a projector in a public hall: neither the name nor the id in full
                who = html.escape(mask(r["name"] or r["student_id"]))
            else:
                who = html.escape(f"{r['name']} ({r['student_id']})" if r["name"] else r["student_id"])
            cls = "sb-row sb-finalist" if r["finalist"] else "sb-row"
            body.append(f'<tr class="{cls}" data-rank="{int(r["rank"])}"><td class="sb-rank">{int(r["rank"])}</td>'
                        f'<td class="sb-name">{who}</td><td>{_pct(r["theory_pct"])}</td>'
                        f'<td>{_pct(r["practical_pct"])}</td><td class="sb-total">{r["total"]:.1f}</td>'
                        f'<td>{"★" if r["finalist"] else ""}</td></tr>')
        table = ('<table class="sb-table"><tr><th>名次 rank</th><th>学员 trainee</th><th>理论 theory %</th>'
                 '<th>实操 practical %</th><th>总评 total</th><th>入围 finalist</th></tr>' + "".join(body) + "</table>")
        return CSS + head + table + "</div>"

    def update(self) -> None:
        if self.widget is not None:
            self.widget.value = self.html()
        self.updates += 1

    def _tick(self) -> None:
        try:
            self.update()
        finally:
            import asyncio

            try:
                asyncio.get_event_loop().call_later(self.refresh_s, self._tick)
            except RuntimeError:
                pass

    def show(self):
        import ipywidgets as w
        from IPython.display import display

        self.widget = w.HTML(self.html())
        display(self.widget)
        import asyncio

        try:
            asyncio.get_event_loop().call_later(self.refresh_s, self._tick)
        except RuntimeError:
            pass
        return self


def _pct(v) -> str:
    return "—" if v is None or v != v else f"{v:.1f}"
