"""Figures of the results dashboards: each function returns a new :class:`matplotlib.figure.Figure`.

Figures are built with the object API (``Figure`` + Agg canvas), never through pyplot, so no figure is
left open in pyplot's registry and nothing leaks between dashboard refreshes. Show one in a notebook with
``IPython.display.display(fig)`` (the inline backend renders it as PNG) or ``fig.savefig(...)``.
Labels are bilingual; :mod:`daqlab.plotting` is imported first so Chinese renders in a CJK font.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import daqlab.plotting  # noqa: F401  (a CJK font first: sets rcParams before any figure is made)
from daqlab.dashboards.analysis import TOO_EASY_P, WEAK_D
from daqlab.exam.bank import AREAS

PASS_COLOUR, FAIL_COLOUR, NEUTRAL = "#2e7d32", "#c62828", "#1565c0"
MAX_LABELLED_ROWS = 40  #: heat map rows above this lose their student-id labels (unreadable anyway)
MAX_LABELLED_ITEMS = 30  #: item map points are labelled with their item id up to this many items


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def score_bins(top: float, pass_mark: float | None) -> np.ndarray:
    """Bin edges for a score histogram: bars of width ``w`` (1 point, or wider for big papers: at most about
    25 bars) centred on the score grid, so the top score has a bar of its own; the pass mark is always an edge,
    so no bar holds both failing and passing trainees."""
    w = max(1.0, float(np.ceil(top / 25))) if top > 0 else 1.0
    edges = np.arange(-w / 2, top + w, w)
    if pass_mark is not None and edges[0] < pass_mark < edges[-1] and not np.isclose(edges, pass_mark).any():
        edges = np.sort(np.append(edges, pass_mark))
    return edges


def distribution(scores: pd.DataFrame, assignment: str, pass_mark: float | None) -> Figure:
    """Histogram of the graded scores (points) of ``assignment``, with the pass mark (points) as a line.

    Bars below the pass mark are red, the others green (the pass mark is a bin edge: :func:`score_bins`); the
    y axis counts whole trainees; not gradable / not submitted trainees are counted in the caption, not drawn
    as zeros.
    """
    from matplotlib.ticker import MaxNLocator

    rows = scores[scores["assignment"] == assignment]
    got = rows["score"].dropna().to_numpy(float)
    top = float(rows["max_score"].max()) if rows["max_score"].notna().any() else float(max(got, default=1.0))
    edges = score_bins(top, pass_mark)
    counts, _ = np.histogram(np.clip(got, 0, top), bins=edges)
    fig = _figure(7, 3.8)
    ax = fig.add_subplot()
    colours = [FAIL_COLOUR if pass_mark is not None and right <= pass_mark + 1e-9 else PASS_COLOUR
               for right in edges[1:]]
    ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color=colours, edgecolor="white")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    n = len(got)
    if pass_mark is not None:
        passed = int((got >= pass_mark).sum())
        ax.axvline(pass_mark, color="black", linestyle="--", linewidth=1)
        ax.text(pass_mark, ax.get_ylim()[1] * 0.95, f" 及格 pass {pass_mark:g}: {passed}/{n}", va="top",
                fontsize=9)
    ax.set_xlim(edges[0], edges[-1])
    ax.set_xlabel("得分 score (points)")
    ax.set_ylabel("人数 trainees")
    mean = f", 平均 mean {got.mean():.1f}" if n else ""
    ax.set_title(f"{assignment}: 成绩分布 score distribution (n={n}{mean})")
    others = rows["status"].value_counts()
    missing = [f"{k} {others[k]}" for k in ("not gradable", "not submitted") if others.get(k)]
    if missing:
        fig.text(0.01, 0.005, "not drawn: " + ", ".join(missing), fontsize=8, color="#555")
    return fig


def mastery_heatmap(mastery_df: pd.DataFrame) -> Figure:
    """Trainees (rows) x knowledge areas (columns), percent 0-100 (red to green); grey = not examined."""
    data = mastery_df.to_numpy(float)
    rows, cols = data.shape
    fig = _figure(max(6.0, 0.55 * cols + 2.5), min(12.0, max(3.0, 0.22 * rows + 1.5)))
    ax = fig.add_subplot()
    if not mastery_df.size:
        ax.set_axis_off()
        ax.text(0.5, 0.5, "尚无理论成绩 no theory results yet", ha="center", va="center")
        return fig
    import matplotlib

    cmap = matplotlib.colormaps["RdYlGn"].with_extremes(bad="#d9d9d9")
    im = ax.imshow(np.ma.masked_invalid(data), cmap=cmap, vmin=0, vmax=100, aspect="auto",
                   interpolation="nearest")
    areas = list(mastery_df.columns)
    ax.set_xticks(range(len(areas)),
                  [f"{AREAS[a][2]}\n{AREAS[a][0]}" if a in AREAS else str(a) for a in areas],
                  rotation=60, ha="right", fontsize=8)
    if rows <= MAX_LABELLED_ROWS and len(mastery_df):
        ax.set_yticks(range(rows), [str(s) for s in mastery_df.index], fontsize=8)
    else:
        ax.set_yticks([])
        ax.set_ylabel(f"{len(mastery_df)} 名学员 trainees")
    fig.colorbar(im, ax=ax, label="掌握度 mastery (%)", shrink=0.8)
    ax.set_title("知识领域掌握度 mastery per knowledge area")
    return fig


def item_map(item_analysis_df: pd.DataFrame) -> Figure:
    """Difficulty p (x) against discrimination D (y), one point per item, with the p = 0.9 and D = 0.2
    guide lines; flagged items in red ("too easy") or orange ("weak discrimination")."""
    df = item_analysis_df
    fig = _figure(6.5, 4.8)
    ax = fig.add_subplot()
    colour = df["flag"].map({"too easy": FAIL_COLOUR, "weak discrimination": "#ef6c00"}).fillna(NEUTRAL)
    ax.scatter(df["p"], df["D"], c=colour.tolist(), s=22, alpha=0.8, edgecolors="none")
    ax.axvline(TOO_EASY_P, color="#555", linestyle="--", linewidth=1)
    ax.axhline(WEAK_D, color="#555", linestyle="--", linewidth=1)
    if 0 < len(df) <= MAX_LABELLED_ITEMS:
        for iid, p, d in zip(df["item_id"], df["p"], df["D"], strict=True):
            if pd.notna(p) and pd.notna(d):
                ax.annotate(str(iid), (p, d), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-1.02, 1.02)
    ax.set_xlabel("难度指数 difficulty index p (share correct)")
    ax.set_ylabel("区分度 discrimination index D")
    counts = df["flag"].value_counts()
    ax.set_title(f"试题分析 item map: {len(df)} items, too easy {counts.get('too easy', 0)}, "
                 f"weak D {counts.get('weak discrimination', 0)}", fontsize=10)
    return fig


def ranking_bar(ranking_df: pd.DataFrame, top: int = 30) -> Figure:
    """Horizontal bars of the weighted total (0-100) for the first ``top`` rows of ``ranking_df`` (best at
    the top), labelled "rank. name (id)"; finalists green, the others blue."""
    df = ranking_df.sort_values(["rank", "student_id"]).head(top)
    fig = _figure(7, max(2.5, 0.3 * len(df) + 1.2))
    ax = fig.add_subplot()
    labels = [f"{r}. {n or s} ({s})" if n else f"{r}. {s}" for r, n, s in
              zip(df["rank"], df["name"], df["student_id"], strict=True)]
    colours = np.where(df["finalist"].astype(bool), PASS_COLOUR, NEUTRAL)
    y = np.arange(len(df))
    ax.barh(y, df["total"], color=colours)
    for yi, t in zip(y, df["total"], strict=True):
        ax.text(t + 0.5, yi, f"{t:.1f}", va="center", fontsize=8)
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 105)
    ax.set_xlabel("总评 weighted total (0-100)")
    finalists = int(ranking_df["finalist"].astype(bool).sum())  # the whole ranking's, as its table says
    ax.set_title(f"排名 ranking (前 {len(df)} 名 top {len(df)} of {len(ranking_df)} shown; "
                 f"入围 finalists {finalists})")
    return fig
