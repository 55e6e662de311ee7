"""Results analysis on :class:`daqlab.dashboards.data.CourseData` frames (pandas, vectorised).

Item analysis uses the textbook (classical test theory) definitions:

- **difficulty index** p = share of the trainees who got the item that answered it correctly;
- **discrimination index** D = p(upper group) - p(lower group), the groups being the top and bottom
  ``group`` (27 %, Kelley) of the trainees who sat the paper, ranked by their paper total (the gradebook
  score); the group size is round(group x N), ties at the group boundary are broken by student id;
- **point-biserial** r_pb = Pearson correlation of item correctness (0/1) with the *rest* of the paper
  (the paper total minus this item's score), so the item does not correlate with itself.

Papers are drawn per trainee, so an item is answered by the trainees whose paper has it: every statistic
of an item is over those trainees. When ``items`` spans several assignments, groups are formed within each
assignment and the rest score is taken as a percent of the rest of that paper's points (within one paper
this is a positive linear rescaling, which leaves r_pb unchanged), then responses are pooled per item.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from daqlab.exam.bank import AREAS

TOO_EASY_P = 0.9  #: flag "too easy" above this difficulty index
WEAK_D = 0.2  #: flag "weak discrimination" below this discrimination index
GRADED = ("graded", "graded with errors", "flagged")  #: statuses whose score counts (flagged: counted, and noted for review)
ITEM_ANALYSIS_COLUMNS = ["item_id", "area", "type", "n", "p", "D", "r_pb", "distractors", "flag"]


# ----------------------------------------------------------------------------------- items
def item_analysis(items: pd.DataFrame, scores: pd.DataFrame, group: float = 0.27) -> pd.DataFrame:
    """One row per item_id: item_id, area, type, n, p, D, r_pb, distractors, flag (sorted by item_id).

    ``n``: trainees who had the item; ``p``, ``D``, ``r_pb``: see the module docstring (NaN where undefined:
    D when a group has nobody with this item, r_pb when correctness or the rest score does not vary);
    ``distractors``: {bank letter | True | False | "blank" | "unreadable": trainees choosing it}, options
    nobody chose left out, a multiple-choice answer counting once for each letter in it; ``flag``:
    "too easy" if p > 0.9, else "weak discrimination" if D < 0.2, else "".
    Paper totals come from ``scores`` (score per student_id and assignment); a paper missing from ``scores``
    takes the sum of its item scores.
    """
    if not 0 < group <= 0.5:
        raise ValueError(f"group must be in (0, 0.5], got {group}")
    if items.empty:
        return pd.DataFrame(columns=ITEM_ANALYSIS_COLUMNS)
    it = items[["student_id", "assignment", "item_id", "area", "type", "points", "score", "correct", "chosen",
                "status"]].reset_index(drop=True)
    keys = ["student_id", "assignment"]
    papers = it.groupby(keys, as_index=False).agg(item_total=("score", "sum"), item_max=("points", "sum"))
    sc = scores[keys + ["score", "max_score"]].dropna(subset=["score"]) if not scores.empty else None
    if sc is not None:
        papers = papers.merge(sc.drop_duplicates(keys), on=keys, how="left")
        papers["total"] = papers["score"].fillna(papers["item_total"])
        papers["paper_max"] = papers["max_score"].fillna(papers["item_max"])
    else:
        papers["total"], papers["paper_max"] = papers["item_total"], papers["item_max"]

    # upper / lower groups within each assignment: rank by total (desc), ties by student id
    papers = papers.sort_values(["assignment", "total", "student_id"], ascending=[True, False, True])
    pos = papers.groupby("assignment").cumcount()
    size = papers.groupby("assignment")["student_id"].transform("size")
    cut = np.floor(group * size + 0.5).where(size >= 2, 0)
    papers["upper"] = pos < cut
    papers["lower"] = pos >= size - cut
    it = it.merge(papers[keys + ["total", "paper_max", "upper", "lower"]], on=keys, how="left")

    x = it["correct"].astype(float)
    rest_max = (it["paper_max"] - it["points"]).where(lambda s: s > 0)
    y = 100.0 * (it["total"] - it["score"]) / rest_max
    by = it["item_id"]
    xc = x - x.groupby(by).transform("mean")
    yc = y - y.groupby(by).transform("mean")
    work = pd.DataFrame({"item_id": by, "x": x, "sxy": xc * yc, "sxx": xc * xc, "syy": yc * yc,
                         "up_n": it["upper"].astype(float), "up_c": x.where(it["upper"], 0.0),
                         "lo_n": it["lower"].astype(float), "lo_c": x.where(it["lower"], 0.0)})
    g = work.groupby("item_id", sort=True)
    out = g.agg(n=("x", "size"), p=("x", "mean"), sxy=("sxy", "sum"), sxx=("sxx", "sum"), syy=("syy", "sum"),
                up_n=("up_n", "sum"), up_c=("up_c", "sum"), lo_n=("lo_n", "sum"), lo_c=("lo_c", "sum"))
    with np.errstate(divide="ignore", invalid="ignore"):
        out["D"] = out["up_c"] / out["up_n"].where(out["up_n"] > 0) - out["lo_c"] / out["lo_n"].where(
            out["lo_n"] > 0)
        denom = np.sqrt(out["sxx"] * out["syy"])
        out["r_pb"] = out["sxy"] / denom.where(denom > 1e-12)
    meta = it.groupby("item_id", sort=True)[["area", "type"]].first()
    out = out.join(meta)
    out["distractors"] = _distractors(it).reindex(out.index)
    out["distractors"] = out["distractors"].apply(lambda d: d if isinstance(d, dict) else {})
    out["flag"] = np.select([out["p"] > TOO_EASY_P, out["D"] < WEAK_D], ["too easy", "weak discrimination"], "")
    out["n"] = out["n"].astype("int64")
    return out.reset_index()[ITEM_ANALYSIS_COLUMNS]


def _choice_order(k) -> tuple:
    if isinstance(k, bool | np.bool_):
        return (0, not k, "")  # True before False
    if k in ("blank", "unreadable"):
        return (2, k != "blank", k)
    return (1, False, str(k))


def _distractors(it: pd.DataFrame) -> pd.Series:
    """item_id -> {choice: trainees}; blank and unreadable answers counted under those names."""
    choice = it["chosen"].where(~it["status"].isin(["blank", "unreadable"]), it["status"])
    choice = choice.where(choice.notna(), "blank")
    c = pd.DataFrame({"item_id": it["item_id"], "student_id": it["student_id"], "assignment": it["assignment"],
                      "choice": choice}).explode("choice")
    c["choice"] = c["choice"].fillna("blank")  # an empty list would explode to NaN
    counts = c.drop_duplicates().groupby(["item_id", "choice"], sort=False).size()
    out: dict[str, dict] = {}
    for (iid, k), n in counts.items():
        out.setdefault(iid, {})[bool(k) if isinstance(k, np.bool_) else k] = int(n)
    return pd.Series({iid: dict(sorted(d.items(), key=lambda kv: _choice_order(kv[0]))) for iid, d in out.items()},
                     dtype=object)


# --------------------------------------------------------------------------------- mastery
def mastery(areas: pd.DataFrame) -> pd.DataFrame:
    """Percent (0-100) of the area points earned, summed over assignments: index student_id, one column per
    area (the bank's area order), NaN where the trainee was not examined in that area."""
    if areas.empty:
        return pd.DataFrame(index=pd.Index([], name="student_id"), columns=pd.Index([], name="area"), dtype=float)
    g = areas.groupby(["student_id", "area"])[["score", "points"]].sum()
    pct = (100.0 * g["score"] / g["points"].where(g["points"] > 0)).unstack("area")
    order = [a for a in AREAS if a in pct.columns] + sorted(c for c in pct.columns if c not in AREAS)
    out = pct[order].sort_index()
    out.columns.name = "area"
    return out


# -------------------------------------------------------------------------- practical checks
def failed_checks(checks: pd.DataFrame, top: int = 10) -> pd.DataFrame:
    """The ``top`` checks failed most often: name, assignment, failed, attempts, share (failed / attempts).

    One row per (assignment, check name); attempts = graded submissions that ran the check. Checks nobody
    failed are left out. Order: failed, then share (both descending), then assignment and name.
    """
    cols = ["name", "assignment", "failed", "attempts", "share"]
    if checks.empty:
        return pd.DataFrame(columns=cols)
    g = checks.assign(failed=~checks["passed"].astype(bool)).groupby(["assignment", "name"], as_index=False)
    out = g.agg(failed=("failed", "sum"), attempts=("failed", "size"))
    out["share"] = out["failed"] / out["attempts"]
    out = out[out["failed"] > 0].sort_values(["failed", "share", "assignment", "name"],
                                             ascending=[False, False, True, True])
    return out.head(top)[cols].reset_index(drop=True)


# --------------------------------------------------------------------------------- ranking
def _finalists(out: pd.DataFrame, full: pd.DataFrame, top_n: int) -> pd.Series:
    graded = full.assign(ok=full["status"].isin(GRADED)).groupby("student_id")["ok"].any()
    pool = out[graded.reindex(out.index).fillna(False).astype(bool)]
    keys = pool[["total", "practical_pct", "theory_pct"]].fillna(-1.0).round(9)
    order = keys.sort_values(["total", "practical_pct", "theory_pct"], ascending=False)
    chosen = set(order.index[:top_n])
    if 0 < top_n < len(order):
        last = tuple(order.iloc[top_n - 1])
        chosen |= {sid for sid, row in order.iloc[top_n:].iterrows() if tuple(row) == last}
    return pd.Series(out.index.isin(list(chosen)), index=out.index)


def ranking(scores: pd.DataFrame, theory_weight: float = 0.3, practical_weight: float = 0.7,
            top_n: int = 10) -> pd.DataFrame:
    """Weighted ranking: student_id, name, theory_pct, practical_pct, total, rank, finalist, note.

    ``theory_pct`` / ``practical_pct``: mean percent over every theory / practical assignment in ``scores``
    (each assignment counts equally); an assignment not gradable, not submitted, or with no row for the
    trainee counts 0 and is named in ``note`` (so are assignments graded with errors). ``total`` =
    theory_weight x theory_pct + practical_weight x practical_pct, 0-100; when ``scores`` holds no
    assignment of one kind, that kind's pct is NaN and the other kind's weight becomes 1. ``rank``: 1 = best,
    ties share the rank (1, 2, 2, 4; totals compared to 1e-9); ``finalist``: the first ``top_n`` trainees
    with at least one graded submission (never someone who handed nothing in), ties on the total broken by
    the practical percent, then the theory percent; trainees still equal on all three with the last finalist
    are finalists too.
    Sorted by rank, then student_id.
    """
    cols = ["student_id", "name", "theory_pct", "practical_pct", "total", "rank", "finalist", "note"]
    if scores.empty:
        return pd.DataFrame(columns=cols)
    kind = scores["kind"] if "kind" in scores else np.where(scores["assignment"].str.startswith("theory-"),
                                                            "theory", "practical")
    s = scores.assign(kind=kind)
    grid = pd.MultiIndex.from_product([sorted(s["student_id"].unique()), sorted(s["assignment"].unique())],
                                      names=["student_id", "assignment"])
    kinds = s.drop_duplicates("assignment").set_index("assignment")["kind"]
    full = s.drop_duplicates(["student_id", "assignment"]).set_index(["student_id", "assignment"]).reindex(grid)
    full = full.reset_index()
    full["kind"] = full["assignment"].map(kinds)
    full["status"] = full["status"].fillna("missing")
    counted = full["status"].isin(GRADED)
    full["pct"] = full["percent"].where(counted, 0.0).fillna(0.0)
    pct = full.pivot_table(index="student_id", columns="kind", values="pct", aggfunc="mean")
    pct = pct.reindex(columns=["theory", "practical"])
    weights = pd.Series({"theory": theory_weight, "practical": practical_weight})
    present = pct.notna().any()
    if not present.any():
        raise ValueError("scores holds no assignment")
    w = weights.where(present, 0.0)
    w = w / w.sum() if not present.all() and w.sum() > 0 else w
    out = pd.DataFrame({"theory_pct": pct["theory"], "practical_pct": pct["practical"]})
    out["total"] = pct.fillna(0.0).mul(w, axis=1).sum(axis=1)
    out["rank"] = out["total"].round(9).rank(method="min", ascending=False).astype("int64")
    out["finalist"] = _finalists(out, full, top_n)
    names = s.drop_duplicates("student_id").set_index("student_id")["name"] if "name" in s else None
    out["name"] = names.reindex(out.index).fillna("") if names is not None else ""
    noted = full[~full["status"].eq("graded")]
    out["note"] = (noted["status"] + ": " + noted["assignment"]).groupby(noted["student_id"]).agg("; ".join)
    out["note"] = out["note"].fillna("")
    out = out.reset_index().sort_values(["rank", "student_id"])
    return out[cols].reset_index(drop=True)
