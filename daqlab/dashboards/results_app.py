"""The results dashboard behind ``notebooks/dashboards/results.ipynb`` (Voila): instructor and trainee views.

Contract:

- The course folder comes from ``DAQLAB_COURSE_ROOT`` (default: this checkout); everything is read with
  :func:`daqlab.dashboards.data.load_course` (gradebook, grading status, per-item and per-check results,
  roster), analysed with :mod:`daqlab.dashboards.analysis` and drawn with :mod:`daqlab.dashboards.figures`.
- **Trainee view**: when ``JUPYTERHUB_USER`` is set and is not the instructor (``DAQLAB_INSTRUCTOR``, default
  ``grader-daqlab``), the frames are cut to that trainee with :func:`only_student` *before* any widget is
  built, so no other trainee's id, name or score ever reaches the page (nor the widget state): own scores
  and statuses, per-area mastery, own practical checks and links to own feedback
  (``feedback/<student>/<assignment>/*.html``).
- **Instructor view**: assignment(s) and a cohort (station range, id/name filter) drive every section:
  key numbers, score distributions with the pass mark, a searchable and sortable per-trainee table with
  statuses and grading errors, the mastery heat map, item analysis of theory papers (flagged items), the
  most failed practical checks and the weighted contest ranking with CSV/PNG export (files written to
  ``DAQLAB_EXPORT_DIR``, default ``<course>/exports``, and offered as a download link).
- Pass marks: a theory paper's blueprint pass mark; for other assignments ``pass %`` (default 60) of their
  maximum. Figures are embedded as PNG (data URIs) in HTML widgets: nothing depends on a CDN.
- Key numbers are plain HTML with stable ids/classes (``res-n``, ``res-mean``, ``res-row`` rows with
  ``data-student``, ``res-score`` cells with ``data-assignment``, ...) so a browser test can read them.
"""

from __future__ import annotations

import base64
import html
import io
import os
import re
import time
from pathlib import Path

import pandas as pd

from daqlab.dashboards import figures
from daqlab.dashboards.analysis import failed_checks, item_analysis, mastery, ranking
from daqlab.dashboards.data import CourseData, load_course, only_student
from daqlab.exam.bank import AREAS

DEFAULT_INSTRUCTOR = "grader-daqlab"
DEFAULT_PASS_PERCENT = 60.0
GRADED = ("graded", "graded with errors")
MAX_DISTRIBUTIONS = 6  #: score distributions drawn at most (one per selected assignment)

CSS = """<style>
.res-box{font-family:sans-serif;font-size:13px}
table.res-table{border-collapse:collapse;margin:4px 0}
table.res-table td,table.res-table th{border:1px solid #ddd;padding:2px 7px;text-align:left;vertical-align:top}
table.res-table th{background:#f3f3f3}
.res-nums{display:flex;flex-wrap:wrap;gap:8px}
.res-num{border:1px solid #ccc;border-radius:4px;padding:4px 10px;min-width:110px}
.res-num .res-label{font-size:11px;color:#555}
.res-num .res-value{font-size:20px;font-weight:bold}
.res-status-graded-with-errors{color:#b06000}
.res-status-flagged{color:#a50e0e;font-weight:bold;background:#fce8e6}
.res-status-not-gradable{color:#c5221f;font-weight:bold}
.res-status-not-submitted{color:#777}
tr.res-flagged{background:#fff4e5}
.res-fail{color:#c5221f}
h3.res-h{margin:14px 0 4px 0;font-size:15px}
</style>"""


# --------------------------------------------------------------------------- small helpers
def is_trainee_view(environ=None) -> str | None:
    """The trainee whose results alone are shown, or None for the instructor view."""
    env = os.environ if environ is None else environ
    user = (env.get("JUPYTERHUB_USER") or "").strip()
    instructor = env.get("DAQLAB_INSTRUCTOR") or DEFAULT_INSTRUCTOR
    return user if user and user != instructor else None


def pass_mark(assignment: str, max_score: float, pass_percent: float = DEFAULT_PASS_PERCENT) -> float | None:
    """Pass mark in points: the exam blueprint's for theory papers, else ``pass_percent`` of the maximum."""
    if assignment.startswith("theory-"):
        from daqlab.exam.blueprint import for_assignment

        try:
            return float(for_assignment(assignment).pass_mark)
        except KeyError:
            pass
    if max_score != max_score or not max_score:  # NaN or 0: unknown maximum
        return None
    return round(max_score * pass_percent / 100.0, 2)


def fig_html(fig, alt: str, cls: str = "res-fig") -> str:
    """A matplotlib Figure as an <img> with a PNG data URI (no file, no CDN)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    data = base64.b64encode(buf.getvalue()).decode()
    return f'<img class="{cls}" alt="{html.escape(alt)}" src="data:image/png;base64,{data}"/>'


def download_link(data: bytes, filename: str, mime: str, text: str) -> str:
    b64 = base64.b64encode(data).decode()
    return (f'<a class="res-download" download="{html.escape(filename)}" '
            f'href="data:{mime};base64,{b64}">{html.escape(text)}</a>')


def _num(x, fmt="{:.1f}") -> str:
    if x is None or (isinstance(x, float) and x != x) or x is pd.NA:
        return "—"
    return fmt.format(x)


def _pts(x) -> str:
    return "—" if x is None or x != x else f"{x:g}"


def _status_cls(status: str) -> str:
    return "res-status-" + status.replace(" ", "-")


#: column headers a teacher reads (Chinese first) instead of field names
HEADERS = {"student_id": "学员 trainee", "name": "姓名 name", "station": "工位 station", "assignment": "作业 assignment",
           "kind": "类型 kind", "score": "得分 score", "max_score": "满分 max", "percent": "得分率 %",
           "status": "状态 status", "reason": "原因 reason", "minutes": "用时 min", "theory_pct": "理论 theory %",
           "practical_pct": "实操 practical %", "total": "总评 total", "rank": "名次 rank", "finalist": "入围 finalist",
           "note": "备注 note", "pass mark": "及格线 pass mark", "failed": "未通过 failed", "attempts": "人次 attempts",
           "share": "未通过率 share"}


def table_html(df: pd.DataFrame, cls: str, row_attr=None, cell_cls: dict | None = None, formats: dict | None = None,
               empty: str = "nothing to show") -> str:
    """An HTML table of ``df`` (escaped); ``row_attr(row) -> str`` adds attributes, ``cell_cls`` classes per column;
    headers from :data:`HEADERS` where a column has one."""
    if df.empty:
        return f'<table class="res-table {cls}"><tr><td>{html.escape(empty)}</td></tr></table>'
    formats = formats or {}
    cell_cls = cell_cls or {}
    head = "".join(f'<th data-col="{html.escape(str(c))}">{html.escape(HEADERS.get(str(c), str(c)))}</th>'
                   for c in df.columns)
    rows = []
    for _, r in df.iterrows():
        attrs = row_attr(r) if row_attr else ""
        cells = []
        for c in df.columns:
            v = r[c]
            text = formats[c](v) if c in formats else ("—" if v is None or (isinstance(v, float) and v != v)
                                                       else str(v))
            klass = f' class="{cell_cls[c]}"' if c in cell_cls else ""
            cells.append(f"<td{klass}>{html.escape(text)}</td>")
        rows.append(f"<tr {attrs}>{''.join(cells)}</tr>")
    return f'<table class="res-table {cls}"><tr>{head}</tr>{"".join(rows)}</table>'


def numbers_html(cells) -> str:
    """Key numbers: (id/class, label, text) triples as boxes with stable ids."""
    return '<div class="res-box res-nums">' + "".join(
        f'<div class="res-num"><div class="res-label">{html.escape(label)}</div>'
        f'<div class="res-value {cls}" id="{cls}">{html.escape(text)}</div></div>' for cls, label, text in cells) + "</div>"


def feedback_files(course: Path, student: str) -> list[tuple[str, Path]]:
    """(assignment, file) of every feedback HTML of ``student`` (nbgrader's feedback/<student>/<assignment>/)."""
    base = Path(course) / "feedback" / student
    if not base.is_dir():
        return []
    return [(p.parent.name, p) for p in sorted(base.glob("*/*.html"))]


# --------------------------------------------------------------------------- the dashboard
PAGE_SIZE = 50  #: trainee table rows per page
TABS = ("学员 Trainees", "掌握度 Mastery", "试题分析 Items", "实操失分 Checks", "排名 Ranking")
MASTERY_ROWS = 40  #: trainees drawn in the mastery heat map (the weakest, when the class is larger)


def course_of(environ=None) -> Path:
    """The course folder a dashboard reads: ``DAQLAB_COURSE_ROOT``, else this checkout's course root."""
    from daqlab import paths

    env = os.environ if environ is None else environ
    return Path(env.get("DAQLAB_COURSE_ROOT") or paths.course_root()).resolve()


def warm(environ=None) -> None:
    """What a pre-heated kernel does before the request (see daqlab.dashboards.preheat): the widgets' import,
    one figure, and the course read once (so the page's own read parses only files changed since)."""
    import ipywidgets  # noqa: F401

    from daqlab.dashboards.preheat import warm_figures

    warm_figures()
    load_course(course_of(environ))


class ResultsDashboard:
    """``ResultsDashboard().show()`` in a notebook; ``html_snapshot()`` returns what the page shows."""

    def __init__(self, course=None, *, environ=None, roster=None):
        env = os.environ if environ is None else environ
        self.course = Path(course).resolve() if course else course_of(env)
        self.roster = roster
        self.trainee = is_trainee_view(env)
        self.export_dir = Path(env.get("DAQLAB_EXPORT_DIR") or self.course / "exports")
        self.data: CourseData | None = None
        self.error = ""
        self._quiet = False
        self._load()
        if self.trainee:
            self.root = self._trainee_view()
        else:
            self.root = self._instructor_view()

    # ------------------------------------------------------------------ data
    def _load(self) -> None:
        try:
            data = load_course(self.course, self.roster)
        except Exception as exc:  # a course that cannot be read: say so on the page
            self.error = f"could not read the course at {self.course}: {exc}"
            data = None
        if data is not None and self.trainee:
            data = only_student(data, self.trainee)  # before anything is drawn: nobody else's rows remain
        self.data = data

    # ------------------------------------------------------------------ trainee
    def _trainee_view(self):
        import ipywidgets as w

        self.w_body = w.HTML(self._trainee_html())
        return w.VBox([w.HTML(CSS), self.w_body])

    def _trainee_html(self) -> str:
        me = self.trainee
        head = (f'<div class="res-box"><h2>My results 我的成绩: <span class="res-student" id="res-student">'
                f"{html.escape(me)}</span></h2>")
        if self.data is None:
            return head + f'<p class="res-error">{html.escape(self.error)}</p></div>'
        sc = self.data.scores
        if sc.empty or (sc["status"] == "not submitted").all():
            return head + '<p class="res-empty">No graded work yet 暂无成绩.</p></div>' + self._feedback_html(me)
        name = next((n for n in sc["name"] if n), "")
        out = [head]
        if name:
            out.append(f'<p>name 姓名: <span class="res-name">{html.escape(name)}</span></p>')
        graded = sc[sc["status"].isin(GRADED)]
        mean = graded["percent"].mean() if len(graded) else float("nan")
        out.append(numbers_html([("res-my-graded", "graded assignments 已评分", str(len(graded))),
                                 ("res-my-mean", "mean % 平均得分率", _num(mean))]))
        cols = ["assignment", "kind", "score", "max_score", "percent", "status", "reason"]
        table = sc[cols + (["minutes"] if sc["minutes"].notna().any() else [])].copy()
        table["pass mark"] = [pass_mark(a, m) for a, m in zip(table["assignment"], table["max_score"], strict=True)]
        out.append('<h3 class="res-h">Scores 成绩</h3>')
        out.append(table_html(
            table, "res-my-scores",
            row_attr=lambda r: f'class="res-row" data-assignment="{html.escape(r["assignment"])}"',
            cell_cls={"score": "res-score", "status": "res-status"},
            formats={"score": _pts, "max_score": _pts, "percent": _num, "pass mark": _pts, "minutes": _num}))
        m = mastery(self.data.areas)
        out.append('<h3 class="res-h">Mastery per knowledge area 知识领域掌握度</h3>')
        if m.empty:
            out.append("<p>no theory paper graded yet</p>")
        else:
            row = m.iloc[0]
            mt = pd.DataFrame({"area": [f"{AREAS[a][2]} {AREAS[a][1]}" if a in AREAS else a for a in m.columns],
                               "mastery %": list(row.to_numpy(float))})
            out.append(table_html(mt.dropna(), "res-my-mastery", formats={"mastery %": _num}))
            out.append(fig_html(figures.mastery_heatmap(m), "mastery heat map", "res-fig res-mastery-fig"))
        checks = self.data.checks
        if not checks.empty:
            out.append('<h3 class="res-h">Practical checks 实操检查项</h3>')
            ct = checks[["assignment", "name", "score", "points", "passed", "message"]]
            out.append(table_html(ct, "res-my-checks", formats={"score": _pts, "points": _pts,
                                                                "passed": lambda v: "✔" if v else "✘"}))
        out.append("</div>")
        return "".join(out) + self._feedback_html(me)

    def _feedback_html(self, student: str) -> str:
        files = feedback_files(self.course, student)
        if not files:
            return '<div class="res-box"><h3 class="res-h">Feedback 反馈</h3><p class="res-feedback">none yet</p></div>'
        items = []
        for assignment, path in files:
            rel = path.relative_to(self.course)
            link = download_link(path.read_bytes(), f"{assignment}-{path.name}", "text/html", f"{assignment}: {path.name}")
            items.append(f'<li class="res-feedback-item" data-assignment="{html.escape(assignment)}">{link} '
                         f'<span class="res-path">({html.escape(str(rel))})</span></li>')
        return ('<div class="res-box"><h3 class="res-h">Feedback 反馈</h3><ul class="res-feedback">'
                + "".join(items) + "</ul></div>")

    # ------------------------------------------------------------------ instructor
    def _instructor_view(self):
        import ipywidgets as w

        L = w.Layout
        sc = self.data.scores if self.data is not None else pd.DataFrame(columns=["assignment", "station"])
        assignments = sorted(sc["assignment"].unique())
        stations = sc["station"].dropna().astype(int)
        lo, hi = (int(stations.min()), int(stations.max())) if len(stations) else (1, 1)
        hi = max(hi, lo + 1)  # a slider needs min < max
        self.w_assign = w.SelectMultiple(options=assignments, value=tuple(assignments[:1]), rows=min(8, max(3, len(assignments))),
                                         description="Assignments 作业", layout=L(width="440px"),
                                         style={"description_width": "130px"})
        self.w_stations = w.IntRangeSlider(value=(lo, hi), min=lo, max=hi, step=1,
                                           description="Stations 工位", layout=L(width="420px"),
                                           style={"description_width": "110px"})
        self.w_filter = w.Text(placeholder="id or name contains … (regex)", description="Cohort 筛选",
                               layout=L(width="420px"), style={"description_width": "110px"})
        self.w_pass = w.BoundedFloatText(value=DEFAULT_PASS_PERCENT, min=0, max=100, step=5,
                                         description="Pass % 及格线", tooltip="practicals: pass mark as % of the maximum "
                                         "(theory papers use their blueprint's pass mark)",
                                         layout=L(width="240px"), style={"description_width": "130px"})
        self.w_search = w.Text(placeholder="search the table …", description="Search 搜索",
                               layout=L(width="320px"))
        self.w_sort = w.Dropdown(options=[], description="Sort by 排序", layout=L(width="300px"))
        self.w_desc = w.ToggleButton(value=False, description="descending 降序", layout=L(width="130px"))
        self.w_page = w.BoundedIntText(value=1, min=1, max=100000, description="Page 页", layout=L(width="160px"))
        self.w_tw = w.BoundedFloatText(value=0.3, min=0, max=1, step=0.05, description="theory weight",
                                       layout=L(width="200px"))
        self.w_pw = w.BoundedFloatText(value=0.7, min=0, max=1, step=0.05, description="practical weight",
                                       layout=L(width="220px"), style={"description_width": "110px"})
        self.w_top = w.BoundedIntText(value=10, min=1, max=10000, description="top N", layout=L(width="160px"))
        self.w_csv = w.Button(description="Export CSV 导出", layout=L(width="140px"))
        self.w_png = w.Button(description="Export PNG 导出", layout=L(width="140px"))
        self.w_reload = w.Button(description="Reload 重新读取", layout=L(width="150px"))
        self.w_export = w.HTML('<div class="res-box res-export"></div>')
        self.w_summary = w.HTML()
        self.w_dist = w.HTML()
        self.w_table = w.HTML()
        self.w_mastery = w.HTML()
        self.w_items = w.HTML()
        self.w_checks = w.HTML()
        self.w_ranking = w.HTML()
        for wid, cls in ((self.w_assign, "res-assign-select"), (self.w_stations, "res-stations"),
                         (self.w_filter, "res-filter"), (self.w_pass, "res-pass"), (self.w_search, "res-search"),
                         (self.w_sort, "res-sort"), (self.w_desc, "res-desc"), (self.w_page, "res-page"),
                         (self.w_tw, "res-theory-weight"),
                         (self.w_pw, "res-practical-weight"), (self.w_top, "res-top"), (self.w_csv, "res-export-csv"),
                         (self.w_png, "res-export-png"), (self.w_reload, "res-reload")):
            wid.add_class(cls)
        self._sort_options()
        for wid in (self.w_assign, self.w_stations, self.w_filter, self.w_pass, self.w_tw, self.w_pw, self.w_top):
            wid.observe(self._on_change, names="value")
        for wid in (self.w_search, self.w_sort, self.w_desc):
            wid.observe(self._first_page, names="value")
        self.w_page.observe(self._on_table, names="value")
        self.w_csv.on_click(lambda _: self._export("csv"))
        self.w_png.on_click(lambda _: self._export("png"))
        self.w_reload.on_click(self._on_reload)

        def h(text):
            return w.HTML(f'<h3 class="res-h res-box">{text}</h3>')

        head = w.HTML(f'<div class="res-box"><h2>Results 成绩看板</h2><span class="res-course">course folder: '
                      f"{html.escape(str(self.course))}</span>"
                      + (f'<p class="res-error">{html.escape(self.error)}</p>' if self.error else "") + "</div>")
        controls = w.HBox([w.VBox([self.w_assign]), w.VBox([self.w_stations, self.w_filter,
                                                            w.HBox([self.w_pass, self.w_reload])])])
        # overview first (numbers, the distribution); then one tab per question a teacher asks, each computed
        # when it is opened (a big class's page shows its overview without waiting for every section)
        self.w_tabs = w.Tab(children=[
            w.VBox([w.HBox([self.w_search, self.w_sort, self.w_desc, self.w_page]), self.w_table]),
            self.w_mastery, self.w_items, self.w_checks,
            w.VBox([w.HBox([self.w_tw, self.w_pw, self.w_top, self.w_csv, self.w_png]), self.w_export,
                    self.w_ranking])])
        for i, title in enumerate(TABS):
            self.w_tabs.set_title(i, title)
        self.w_tabs.add_class("res-tabs")
        self.w_tabs.observe(lambda _: self._show_tab(), names="selected_index")
        root = w.VBox([
            w.HTML(CSS), head, controls, h("Overview 总览"), self.w_summary, self.w_dist, self.w_tabs,
        ])
        self.refresh()
        return root

    def _show_tab(self) -> None:
        """Compute the selected tab's section if the selection changed since it was last drawn."""
        if self.data is None:
            return
        i = self.w_tabs.selected_index or 0
        if i in self._fresh:
            return
        sel = self.selection()
        wid, make = self._tab_sections()[i]
        wid.value = make(sel)
        self._fresh.add(i)

    def _tab_sections(self):
        return [(self.w_table, lambda sel: self._table_html(sel, self._pass_marks(sel.scores))),
                (self.w_mastery, self._mastery_html), (self.w_items, self._items_html),
                (self.w_checks, self._checks_html), (self.w_ranking, self._ranking_html)]

    def _sort_options(self) -> None:
        opts = [("trainee id", "student_id"), ("name", "name"), ("station", "station"), ("mean % 平均", "mean %")]
        opts += [(f"{a} %", f"{a} %") for a in self.w_assign.value]
        keep = self.w_sort.value if self.w_sort.value in [v for _, v in opts] else "student_id"
        self.w_sort.options = opts
        self.w_sort.value = keep

    # ------------------------------------------------------------------ selection
    def selection(self) -> CourseData:
        """The course cut to the chosen assignments and cohort (instructor view)."""
        d = self.data
        sc = d.scores
        keep = sc["assignment"].isin(self.w_assign.value)
        lo, hi = self.w_stations.value
        full = (lo, hi) == (self.w_stations.min, self.w_stations.max)
        st = sc["station"]
        in_range = st.between(lo, hi).fillna(False).astype(bool)
        if full:
            in_range = in_range | st.isna()
        pattern = self.w_filter.value.strip()
        if pattern:
            try:
                rx = re.compile(pattern, re.I)
                named = sc["student_id"].str.contains(rx) | sc["name"].str.contains(rx)
            except re.error:
                named = sc["student_id"].str.contains(pattern, case=False, regex=False) | sc["name"].str.contains(
                    pattern, case=False, regex=False)
            in_range = in_range & named.fillna(False).astype(bool)
        students = set(sc.loc[in_range, "student_id"])
        chosen = set(self.w_assign.value)

        def cut(frame):
            return frame[frame["student_id"].isin(students) & frame["assignment"].isin(chosen)].reset_index(drop=True)

        return CourseData(sc[keep & in_range].reset_index(drop=True), cut(d.areas), cut(d.items), cut(d.checks))

    def _pass_marks(self, scores: pd.DataFrame) -> dict[str, float | None]:
        maxima = scores.groupby("assignment")["max_score"].max()
        return {a: pass_mark(a, float(m), self.w_pass.value) for a, m in maxima.items()}

    # ------------------------------------------------------------------ events
    def _on_change(self, change) -> None:
        if self._quiet:
            return
        if change["owner"] is self.w_assign:
            self._sort_options()
        self.refresh()

    def _first_page(self, change) -> None:
        """A new search or order starts at page 1."""
        if self.w_page.value != 1:
            self.w_page.value = 1  # its observer redraws the table
        else:
            self._on_table(change)

    def _on_table(self, _change) -> None:
        if self.data is not None:
            sel = self.selection()
            self.w_table.value = self._table_html(sel, self._pass_marks(sel.scores))

    def _on_reload(self, _):
        """Read the course again (after more grading), keeping the selection where it still applies."""
        self._load()
        if self.data is not None:
            sc = self.data.scores
            assignments = sorted(sc["assignment"].unique())
            chosen = tuple(a for a in self.w_assign.value if a in assignments) or tuple(assignments[:1])
            stations = sc["station"].dropna().astype(int)
            lo, hi = (int(stations.min()), int(stations.max())) if len(stations) else (1, 1)
            self._quiet = True  # one refresh at the end, not one per widget change
            try:
                self.w_assign.options = assignments
                self.w_assign.value = chosen
                self._sort_options()
                full = self.w_stations.value == (self.w_stations.min, self.w_stations.max)
                self.w_stations.max = max(hi, lo + 1, self.w_stations.min)
                self.w_stations.min = lo
                self.w_stations.max = max(hi, lo + 1)
                if full:
                    self.w_stations.value = (self.w_stations.min, self.w_stations.max)
            finally:
                self._quiet = False
        self.refresh()

    # ------------------------------------------------------------------ sections
    def refresh(self) -> None:
        """Recompute every section from the current widgets."""
        if self.data is None:
            for wid in (self.w_summary, self.w_dist, self.w_table, self.w_mastery, self.w_items, self.w_checks,
                        self.w_ranking):
                wid.value = ""
            return
        sel = self.selection()
        marks = self._pass_marks(sel.scores)
        tab = self.w_tabs.selected_index or 0 if hasattr(self, "w_tabs") else 0
        wid_tab, make_tab = self._tab_sections()[tab]
        sections = [(self.w_summary, self._summary_html(sel, marks) + self._wrong_html(sel)),
                    (self.w_dist, self._distribution_html(sel, marks)), (wid_tab, make_tab(sel))]
        for wid, value in sections:  # computed first, then shown together: no half-updated page
            wid.value = value
        self._fresh = {tab}  # the other tabs are drawn when opened

    def _wrong_html(self, sel: CourseData, n: int = 3) -> str:
        """What most trainees got wrong: the items fewest answered right, the checks most failed (overview)."""
        parts = []
        if not sel.items.empty:
            right = sel.items.groupby("item_id")["correct"].mean().sort_values().head(n)
            parts += [f'<li class="res-wrong-item" data-item="{html.escape(i)}">试题 item {html.escape(i)}: '
                      f"{100 * p:.0f}% 答对 right</li>" for i, p in right.items()]
        if not sel.checks.empty:
            fc = failed_checks(sel.checks, top=n)
            parts += [f'<li class="res-wrong-check">实操 check {html.escape(str(r["name"]))} '
                      f'({html.escape(str(r["assignment"]))}): {100 * r["share"]:.0f}% 未通过 failed</li>'
                      for _, r in fc.iterrows()]
        if not parts:
            return ""
        return ('<div class="res-box res-wrong"><b>多数学员出错的地方 · what most trainees got wrong</b><ul>'
                + "".join(parts) + "</ul></div>")

    def _summary_html(self, sel: CourseData, marks) -> str:
        sc = sel.scores
        graded = sc[sc["status"].isin(GRADED)]
        passed = sum(int(s >= marks[a]) for a, s in zip(graded["assignment"], graded["score"], strict=True)
                     if marks.get(a) is not None)
        with_mark = sum(1 for a in graded["assignment"] if marks.get(a) is not None)
        counts = sc["status"].value_counts()
        cells = [("res-n", "trainees 学员", str(sc["student_id"].nunique())),
                 ("res-assignments-n", "assignments 作业", str(sc["assignment"].nunique())),
                 ("res-graded", "graded 已评分", str(len(graded))),
                 ("res-mean", "class mean % 平均得分率", _num(graded["percent"].mean() if len(graded) else float("nan"))),
                 ("res-median", "median % 中位数", _num(graded["percent"].median() if len(graded) else float("nan"))),
                 ("res-pass-rate", "pass rate 及格率", f"{100.0 * passed / with_mark:.0f}%" if with_mark else "—"),
                 ("res-errors", "graded with errors 有错误", str(int(counts.get("graded with errors", 0)))),
                 ("res-flagged-subs", "flagged 待复核", str(int(counts.get("flagged", 0)))),
                 ("res-not-gradable", "not gradable 无法评分", str(int(counts.get("not gradable", 0)))),
                 ("res-not-submitted", "not submitted 未提交", str(int(counts.get("not submitted", 0))))]
        per = []
        for a, g in sc.groupby("assignment"):
            gg = g[g["status"].isin(GRADED)]
            m = marks.get(a)
            per.append({"assignment": a, "kind": g["kind"].iloc[0], "max": g["max_score"].max(), "pass mark": m,
                        "graded": len(gg), "mean": gg["score"].mean() if len(gg) else float("nan"),
                        "mean %": gg["percent"].mean() if len(gg) else float("nan"),
                        "passed": int((gg["score"] >= m).sum()) if m is not None else None})
        per_df = pd.DataFrame(per, columns=["assignment", "kind", "max", "pass mark", "graded", "mean", "mean %",
                                            "passed"])
        return numbers_html(cells) + table_html(
            per_df, "res-assignments",
            row_attr=lambda r: f'data-assignment="{html.escape(r["assignment"])}"',
            formats={"max": _pts, "pass mark": _pts, "mean": lambda v: _num(v, "{:.2f}"), "mean %": _num,
                     "passed": lambda v: "—" if v is None or v != v else str(int(v))},
            cell_cls={"mean": "res-assignment-mean"}, empty="no assignment selected")

    def _distribution_html(self, sel: CourseData, marks) -> str:
        out = []
        for a in list(self.w_assign.value)[:MAX_DISTRIBUTIONS]:
            fig = figures.distribution(sel.scores, a, marks.get(a))
            out.append(fig_html(fig, f"score distribution {a}", "res-fig res-dist-fig"))
        if len(self.w_assign.value) > MAX_DISTRIBUTIONS:
            out.append(f"<p>first {MAX_DISTRIBUTIONS} assignments shown</p>")
        return '<div class="res-box res-dist">' + "".join(out) + "</div>"

    def _trainee_table(self, sel: CourseData) -> pd.DataFrame:
        sc = sel.scores
        if sc.empty:
            return pd.DataFrame()
        base = sc.drop_duplicates("student_id").set_index("student_id")[["name", "station"]]
        t = base.copy()
        for a in self.w_assign.value:
            g = sc[sc["assignment"] == a].set_index("student_id")
            t[f"{a} score"] = g["score"]
            t[f"{a} max"] = g["max_score"]
            t[f"{a} %"] = g["percent"]
            t[f"{a} status"] = g["status"]
            t[f"{a} reason"] = g["reason"]
            if g["minutes"].notna().any():  # a timed paper: the time each trainee took
                t[f"{a} min"] = g["minutes"]
        pct = sc[sc["status"].isin(GRADED)].groupby("student_id")["percent"].mean()
        t["mean %"] = pct
        return t.reset_index()

    def _table_html(self, sel: CourseData, marks) -> str:
        t = self._trainee_table(sel)
        if t.empty:
            return '<div class="res-box">no trainee in the selection</div>'
        q = self.w_search.value.strip().lower()
        if q:
            text = t.astype(object).where(t.notna(), "").map(str)  # a non-submitter's score is NaN, not text
            hay = text.agg(" ".join, axis=1).str.lower()
            t = t[hay.str.contains(q, regex=False)]
        key = self.w_sort.value or "student_id"
        if key in t.columns:
            t = t.sort_values([key, "student_id"], ascending=[not self.w_desc.value, True], na_position="last",
                              kind="stable")
        shown = len(t)
        pages = max(1, -(-shown // PAGE_SIZE))
        page = min(max(1, int(self.w_page.value)), pages)
        t = t.iloc[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        head = "<tr><th>学员 trainee</th><th>姓名 name</th><th>工位 station</th>" + "".join(
            f'<th data-assignment="{html.escape(a)}">{html.escape(a)}</th>' for a in self.w_assign.value) + "<th>mean %</th></tr>"
        rows = []
        for _, r in t.iterrows():
            cells = [f'<td class="res-id">{html.escape(r["student_id"])}</td>', f'<td class="res-name">{html.escape(r["name"] or "")}</td>',
                     f'<td class="res-station">{_num(r["station"], "{:.0f}") if r["station"] is not pd.NA else "—"}</td>']
            for a in self.w_assign.value:
                status = r.get(f"{a} status") or "not submitted"
                score, mx, pct = r.get(f"{a} score"), r.get(f"{a} max"), r.get(f"{a} %")
                mark = marks.get(a)
                fail = ' res-fail' if mark is not None and score == score and score is not None and score < mark else ""
                text = (f'<span class="res-score{fail}" data-assignment="{html.escape(a)}">{_pts(score)}</span>'
                        f" / {_pts(mx)} ({_num(pct, '{:.0f}')}%)") if status in GRADED else ""
                note = "" if status == "graded" else (
                    f'<div class="res-status {_status_cls(status)}">{html.escape(status)}'
                    + (f": {html.escape(r.get(f'{a} reason') or '')}" if r.get(f"{a} reason") else "") + "</div>")
                cells.append(f'<td class="res-cell" data-assignment="{html.escape(a)}" data-status="{html.escape(status)}">'
                             f"{text}{note}</td>")
            cells.append(f'<td class="res-mean-row">{_num(r["mean %"])}</td>')
            rows.append(f'<tr class="res-row" data-student="{html.escape(r["student_id"])}">{"".join(cells)}</tr>')
        paging = (f' · 第 <span class="res-page-no">{page}</span> / {pages} 页 (page, {PAGE_SIZE} per page)'
                  if pages > 1 else "")
        return (f'<div class="res-box"><span class="res-shown">{shown}</span> trainee(s) shown{paging}'
                f'<table class="res-table res-trainees">{head}{"".join(rows)}</table></div>')

    def _mastery_html(self, sel: CourseData) -> str:
        m = mastery(sel.areas)
        if m.empty:
            return '<div class="res-box res-mastery">no theory paper in the selection</div>'
        means = m.mean()
        note = ""
        if len(m) > MASTERY_ROWS:  # 500 rows of colour read as nothing: the weakest trainees, where help is needed
            m_shown = m.assign(_m=m.mean(axis=1)).nsmallest(MASTERY_ROWS, "_m").drop(columns="_m")
            note = (f'<p class="res-mastery-note">热图只画掌握度最低的 {MASTERY_ROWS} 名学员（共 {len(m)} 名）'
                    f' · heat map: the weakest {MASTERY_ROWS} of {len(m)} trainees; the table is the whole class</p>')
        else:
            m_shown = m
        tbl = pd.DataFrame({"area": [f"{AREAS[a][2]} {AREAS[a][1]}" if a in AREAS else a for a in m.columns],
                            "class mastery %": means.to_numpy(float), "trainees": m.notna().sum().to_numpy()})
        return ('<div class="res-box res-mastery">' + note + fig_html(figures.mastery_heatmap(m_shown), "mastery heat map",
                                                                        "res-fig res-mastery-fig")
                + table_html(tbl, "res-mastery-table", formats={"class mastery %": _num}) + "</div>")

    def _items_html(self, sel: CourseData) -> str:
        if sel.items.empty:
            return '<div class="res-box res-items">no graded theory paper in the selection</div>'
        ia = item_analysis(sel.items, sel.scores)
        ia = ia.assign(_f=ia["flag"].eq("")).sort_values(["_f", "p", "item_id"]).drop(columns="_f")
        n_flag = int(ia["flag"].ne("").sum())

        def dist(d):
            return " ".join(f"{'T' if k is True else 'F' if k is False else k}:{v}" for k, v in d.items())

        tbl = table_html(ia, "res-items-table",
                         row_attr=lambda r: f'data-item="{html.escape(r["item_id"])}"'
                         + (' class="res-flagged"' if r["flag"] else ""),
                         formats={"p": lambda v: _num(v, "{:.2f}"), "D": lambda v: _num(v, "{:.2f}"),
                                  "r_pb": lambda v: _num(v, "{:.2f}"), "distractors": dist})
        return (f'<div class="res-box res-items"><span class="res-items-n">{len(ia)}</span> items, '
                f'<span class="res-flagged-count">{n_flag}</span> flagged (too easy: p &gt; 0.9; weak discrimination: '
                f"D &lt; 0.2)" + fig_html(figures.item_map(ia), "item map", "res-fig res-item-fig") + tbl + "</div>")

    def _checks_html(self, sel: CourseData) -> str:
        if sel.checks.empty:
            return '<div class="res-box res-checks">no graded practical in the selection</div>'
        fc = failed_checks(sel.checks)
        return '<div class="res-box">' + table_html(fc, "res-checks-table", formats={"share": lambda v: f"{100 * v:.0f}%"},
                                                    empty="no check failed") + "</div>"

    def ranking_frame(self, sel: CourseData | None = None) -> pd.DataFrame:
        sel = sel or self.selection()
        if sel.scores.empty:
            return pd.DataFrame(columns=["student_id", "name", "theory_pct", "practical_pct", "total", "rank",
                                         "finalist", "note"])
        return ranking(sel.scores, self.w_tw.value, self.w_pw.value, int(self.w_top.value))

    def _ranking_html(self, sel: CourseData) -> str:
        r = self.ranking_frame(sel)
        if r.empty:
            return '<div class="res-box res-ranking">no trainee in the selection</div>'
        fmt = {"theory_pct": _num, "practical_pct": _num, "total": lambda v: _num(v, "{:.2f}"),
               "finalist": lambda v: "★" if v else ""}
        tbl = table_html(r, "res-ranking-table",
                         row_attr=lambda x: f'class="res-rank-row" data-student="{html.escape(x["student_id"])}" '
                                            f'data-rank="{int(x["rank"])}"',
                         cell_cls={"rank": "res-rank", "total": "res-total"}, formats=fmt)
        return ('<div class="res-box res-ranking">' + tbl
                + fig_html(figures.ranking_bar(r), "ranking", "res-fig res-ranking-fig") + "</div>")

    # ------------------------------------------------------------------ export
    def export(self, kind: str) -> Path:
        """Write the current ranking as CSV or PNG into the export folder; returns the file."""
        self.export_dir.mkdir(parents=True, exist_ok=True)
        r = self.ranking_frame()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = self.export_dir / f"ranking-{stamp}.{kind}"
        if kind == "csv":
            r.to_csv(path, index=False, encoding="utf-8-sig")  # BOM: Excel opens Chinese names correctly
        else:
            figures.ranking_bar(r).savefig(path, format="png", dpi=120)
        return path

    def _export(self, kind: str) -> None:
        try:
            path = self.export(kind)
        except Exception as exc:
            self.w_export.value = f'<div class="res-box res-export res-error">export failed: {html.escape(str(exc))}</div>'
            return
        mime = "text/csv" if kind == "csv" else "image/png"
        link = download_link(path.read_bytes(), path.name, mime, f"download {path.name}")
        self.w_export.value = (f'<div class="res-box res-export">written <code class="res-export-path">'
                               f"{html.escape(str(path))}</code> · {link}</div>")

    # ------------------------------------------------------------------ notebook
    def show(self):
        from IPython.display import display

        display(self.root)
        return self
