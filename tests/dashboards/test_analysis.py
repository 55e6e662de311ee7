"""Item analysis, mastery, failed checks, ranking (and the figures drawn from them) on hand-computed fixtures."""

import io

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from daqlab.dashboards import failed_checks, item_analysis, mastery, ranking
from daqlab.dashboards.figures import distribution, item_map, mastery_heatmap, ranking_bar

A = "theory-x"
STUDENTS = [f"s{i:02d}" for i in range(1, 11)]
# Ten trainees, one paper of five items; 1 = correct. M is multiple choice (2 points), the others 1 point.
#            A  B  C  M  E       total (= paper score)
MATRIX = {"s01": (1, 1, 0, 1, 1),  # 5
          "s02": (1, 1, 1, 1, 1),  # 6
          "s03": (1, 1, 0, 1, 1),  # 5
          "s04": (1, 0, 0, 1, 1),  # 4
          "s05": (1, 1, 0, 0, 1),  # 3
          "s06": (1, 1, 1, 0, 1),  # 4
          "s07": (1, 0, 1, 0, 1),  # 3
          "s08": (1, 0, 0, 0, 1),  # 2
          "s09": (0, 0, 1, 0, 1),  # 2
          "s10": (1, 0, 0, 0, 1)}  # 2
# 27 % of 10 -> groups of 3. By total: s02 6, s01 5, s03 5 | s04 4 ... s07 3 | s08 2, s09 2, s10 2
UPPER, LOWER = {"s01", "s02", "s03"}, {"s08", "s09", "s10"}
ITEMS = {"A": ("single", 1, "B"), "B": ("single", 1, "A"), "C": ("truefalse", 1, True),
         "M": ("multiple", 2, ["A", "C"]), "E": ("truefalse", 1, False)}
# what the wrong answers chose (bank letters); None with a status = blank / unreadable
WRONG = {("A", "s09"): (None, "blank"),
         ("B", "s04"): ("C", "wrong"), ("B", "s07"): ("C", "wrong"), ("B", "s08"): ("D", "wrong"),
         ("B", "s09"): (None, "unreadable"), ("B", "s10"): ("C", "wrong"),
         ("M", "s05"): (["A"], "wrong"), ("M", "s06"): (["A", "B", "C"], "wrong"), ("M", "s07"): (["B", "D"], "wrong"),
         ("M", "s08"): (None, "blank"), ("M", "s09"): (["C"], "wrong"), ("M", "s10"): (["A", "D"], "wrong")}


def make_items():
    rows = []
    for s, marks in MATRIX.items():
        for number, (iid, ok) in enumerate(zip(ITEMS, marks, strict=True), start=1):
            kind, points, key = ITEMS[iid]
            if ok:
                chosen, status = key, "correct"
            else:
                chosen, status = WRONG.get((iid, s), (not key, "wrong"))  # true/false: the other answer
            rows.append({"student_id": s, "assignment": A, "number": number, "item_id": iid, "area": "modbus",
                         "type": kind, "points": float(points), "score": float(points * ok), "correct": bool(ok),
                         "chosen": chosen, "status": status})
    return pd.DataFrame(rows)


def make_scores(items):
    totals = items.groupby("student_id")["score"].sum()
    return pd.DataFrame({"student_id": totals.index, "name": "", "station": pd.array([pd.NA] * 10, "Int64"),
                         "assignment": A, "kind": "theory", "score": totals.values, "max_score": 6.0,
                         "percent": 100 * totals.values / 6, "status": "graded", "reason": ""})


@pytest.fixture(scope="module")
def analysed():
    items = make_items()
    scores = make_scores(items)
    return items, scores, item_analysis(items, scores).set_index("item_id")


def test_fixture_totals_and_groups_are_as_drawn():
    scores = make_scores(make_items()).set_index("student_id")["score"]
    assert scores.to_dict() == {"s01": 5, "s02": 6, "s03": 5, "s04": 4, "s05": 3, "s06": 4, "s07": 3, "s08": 2,
                                "s09": 2, "s10": 2}
    ranked = scores.sort_values(ascending=False, kind="stable")
    assert set(ranked.index[:3]) == UPPER and set(ranked.index[-3:]) == LOWER
    assert ranked.iloc[2] > ranked.iloc[3] and ranked.iloc[-3] < ranked.iloc[-4], "no tie at a group boundary"


def test_difficulty_index_is_the_share_correct(analysed):
    _, _, ia = analysed
    assert ia["n"].to_dict() == dict.fromkeys("ABCEM", 10)
    assert ia["p"].to_dict() == pytest.approx({"A": 0.9, "B": 0.5, "C": 0.4, "M": 0.4, "E": 1.0})


def test_discrimination_index_is_upper_minus_lower_27_percent(analysed):
    _, _, ia = analysed
    # A: upper 3/3, lower s08 s10 right, s09 blank -> 2/3; B: 3/3 - 0/3; C: s02 only vs s09 only;
    # M: 3/3 - 0/3; E: 3/3 - 3/3
    assert ia["D"].to_dict() == pytest.approx({"A": 1 / 3, "B": 1.0, "C": 0.0, "M": 1.0, "E": 0.0})


def test_point_biserial_uses_the_rest_of_the_paper(analysed):
    items, scores, ia = analysed
    total = scores.set_index("student_id")["score"]
    for iid in "ABCM":
        it = items[items.item_id == iid].set_index("student_id").loc[STUDENTS]
        rest = total.loc[STUDENTS] - it["score"]
        want = np.corrcoef(it["correct"].astype(float), rest)[0, 1]
        assert ia.loc[iid, "r_pb"] == pytest.approx(want, abs=1e-12), iid
    # by hand for M: x = 1 for s01-s04; rest = 3 4 3 2 3 4 3 2 2 2 -> sxy 0.8, sxx 2.4, syy 5.6
    assert ia.loc["M", "r_pb"] == pytest.approx(0.8 / np.sqrt(2.4 * 5.6))
    with_item = np.corrcoef(items[items.item_id == "M"].set_index("student_id").loc[STUDENTS, "correct"],
                            total.loc[STUDENTS])[0, 1]
    assert ia.loc["M", "r_pb"] < with_item, "the item is not correlated with itself"
    assert np.isnan(ia.loc["E", "r_pb"]), "undefined when everyone is right"


def test_distractor_counts_per_choice_blank_and_unreadable(analysed):
    _, _, ia = analysed
    d = ia["distractors"].to_dict()
    assert d["A"] == {"B": 9, "blank": 1}
    assert d["B"] == {"A": 5, "C": 3, "D": 1, "unreadable": 1}
    assert d["C"] == {True: 4, False: 6} and list(d["C"]) == [True, False]
    assert d["M"] == {"A": 7, "B": 2, "C": 6, "D": 2, "blank": 1}, "each letter of a multiple answer counts"
    assert list(d["M"]) == ["A", "B", "C", "D", "blank"]
    assert d["E"] == {False: 10}


def test_flags_too_easy_above_p_0_9_and_weak_below_d_0_2(analysed):
    _, _, ia = analysed
    assert ia["flag"].to_dict() == {"A": "", "B": "", "C": "weak discrimination", "M": "", "E": "too easy"}
    assert list(ia.reset_index().columns) == ["item_id", "area", "type", "n", "p", "D", "r_pb", "distractors",
                                              "flag"]


def test_paper_totals_come_from_scores_and_fall_back_to_the_item_sum(analysed):
    items, scores, ia = analysed
    no_scores = item_analysis(items, scores.iloc[0:0]).set_index("item_id")
    pd.testing.assert_frame_equal(no_scores.drop(columns="distractors"), ia.drop(columns="distractors"))
    # a larger paper total (items not in the frame) for s10 moves s10 into the upper group
    more = scores.assign(score=np.where(scores.student_id == "s10", 9.0, scores.score), max_score=10.0)
    shifted = item_analysis(items, more).set_index("item_id")
    assert shifted.loc["B", "D"] == pytest.approx(2 / 3 - 0)  # upper s10 s02 s01 -> 2/3; lower s07 s08 s09 -> 0


def test_an_item_on_some_papers_only_is_analysed_over_those_trainees():
    items = make_items()
    items = items[~((items.item_id == "C") & items.student_id.isin(["s01", "s02", "s03", "s04"]))]
    ia = item_analysis(items, make_scores(items)).set_index("item_id")
    assert ia.loc["C", "n"] == 6 and ia.loc["C", "p"] == pytest.approx(3 / 6)


def test_mastery_is_percent_per_area_over_assignments_nan_when_not_examined():
    areas = pd.DataFrame([("s1", "theory-a", "modbus", 18.0, 24.0), ("s1", "theory-b", "modbus", 6.0, 12.0),
                          ("s1", "theory-b", "datatypes", 5.0, 10.0), ("s2", "theory-a", "modbus", 24.0, 24.0)],
                         columns=["student_id", "assignment", "area", "score", "points"])
    m = mastery(areas)
    assert list(m.columns) == ["modbus", "datatypes"], "the bank's area order"
    assert list(m.index) == ["s1", "s2"]
    assert m.loc["s1", "modbus"] == pytest.approx(100 * 24 / 36) and m.loc["s1", "datatypes"] == 50
    assert m.loc["s2", "modbus"] == 100 and np.isnan(m.loc["s2", "datatypes"])


def test_failed_checks_most_failed_first_and_never_failed_left_out():
    rows = [("p1", "serial", s, s == "x") for s in "xyz"] + [("p1", "units", s, s != "x") for s in "xyz"]
    rows += [("p1", "temp", s, True) for s in "xyz"] + [("p2", "decode", s, False) for s in "xy"]
    checks = pd.DataFrame([{"student_id": s, "assignment": a, "cell": "c", "name": n, "points": 1.0,
                            "score": float(ok), "passed": ok, "message": ""} for a, n, s, ok in rows])
    out = failed_checks(checks)
    assert out.to_dict("records") == [
        {"name": "decode", "assignment": "p2", "failed": 2, "attempts": 2, "share": 1.0},
        {"name": "serial", "assignment": "p1", "failed": 2, "attempts": 3, "share": pytest.approx(2 / 3)},
        {"name": "units", "assignment": "p1", "failed": 1, "attempts": 3, "share": pytest.approx(1 / 3)}]
    assert list(failed_checks(checks, top=2).name) == ["decode", "serial"]


def ranking_scores():
    # (student, assignment, percent, status); g has no row at all for p1
    rows = [("f", "t1", 100, "graded"), ("f", "p1", 100, "graded"), ("f", "p2", 100, "graded"),
            ("a", "t1", 80, "graded"), ("a", "p1", 100, "graded"), ("a", "p2", 60, "graded"),
            ("e", "t1", 80, "graded"), ("e", "p1", 60, "graded"), ("e", "p2", 100, "graded with errors"),
            ("d", "t1", 100, "graded"), ("d", "p1", 60, "graded"), ("d", "p2", 80, "graded"),
            ("c", "t1", 50, "graded"), ("c", "p1", 90, "graded"), ("c", "p2", 90, "graded"),
            ("b", "t1", 100, "graded"), ("b", "p1", 80, "graded"), ("b", "p2", None, "not gradable"),
            ("g", "t1", 90, "graded"), ("g", "p2", 90, "graded"),
            ("h", "t1", None, "not submitted"), ("h", "p1", 50, "graded"), ("h", "p2", 50, "graded")]
    return pd.DataFrame([{"student_id": s, "name": s.upper(), "station": 1, "assignment": a,
                          "kind": "theory" if a == "t1" else "practical", "score": p, "max_score": 100.0,
                          "percent": p, "status": st, "reason": ""} for s, a, p, st in rows]).astype(
        {"score": float, "percent": float})


def test_ranking_weights_theory_and_practical_and_ties_share_the_rank():
    r = ranking(ranking_scores(), top_n=2).set_index("student_id")
    # total = 0.3 theory + 0.7 mean(practicals): f 100; a 24+56 = 80; e 24+56 = 80; d 30+49 = 79;
    # c 15+63 = 78; g 27+31.5 = 58.5 (p1 missing = 0); b 30+28 = 58 (p2 not gradable = 0); h 0+35 = 35
    assert r["total"].to_dict() == pytest.approx({"f": 100, "a": 80, "e": 80, "d": 79, "c": 78, "g": 58.5,
                                                  "b": 58, "h": 35})
    assert r["rank"].to_dict() == {"f": 1, "a": 2, "e": 2, "d": 4, "c": 5, "g": 6, "b": 7, "h": 8}
    assert list(r.index) == ["f", "a", "e", "d", "c", "g", "b", "h"]
    assert r.loc["b", "practical_pct"] == 40 and r.loc["h", "theory_pct"] == 0
    assert r.loc["a", "name"] == "A"


def test_finalists_are_the_top_n_ranks_ties_included():
    r = ranking(ranking_scores(), top_n=2)
    assert list(r.loc[r.finalist, "student_id"]) == ["f", "a", "e"], "a tie at rank 2 takes both"
    assert ranking(ranking_scores(), top_n=1).finalist.sum() == 1


def test_ranking_notes_the_assignments_counted_as_zero():
    note = ranking(ranking_scores()).set_index("student_id")["note"]
    assert note["b"] == "not gradable: p2"
    assert note["g"] == "missing: p1"
    assert note["h"] == "not submitted: t1"
    assert note["e"] == "graded with errors: p2"
    assert note["f"] == ""


def test_ranking_of_one_kind_only_uses_that_kind():
    s = ranking_scores()
    r = ranking(s[s.kind == "theory"]).set_index("student_id")
    assert r.loc["c", "total"] == 50 and r["practical_pct"].isna().all()


# ------------------------------------------------------------------------------------------- figures
def _rendered(fig) -> bytes:
    assert isinstance(fig, Figure)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def test_figures_render_without_leaving_pyplot_figures(analysed):
    items, scores, ia = analysed
    before = plt.get_fignums()
    r = ranking(ranking_scores(), top_n=2)
    areas = pd.DataFrame({"student_id": STUDENTS, "assignment": A, "area": "modbus", "score": 3.0,
                          "points": 6.0})
    figs = [distribution(scores, A, 4), mastery_heatmap(mastery(areas)), item_map(ia.reset_index()),
            ranking_bar(r)]
    assert all(_rendered(f).startswith(b"\x89PNG") for f in figs)
    assert plt.get_fignums() == before


def test_item_map_draws_the_guide_lines_and_one_point_per_item(analysed):
    _, _, ia = analysed
    ax = item_map(ia.reset_index()).axes[0]
    guides = {(tuple(ln.get_xdata()), tuple(ln.get_ydata())) for ln in ax.get_lines()}
    assert ((0.9, 0.9), (0, 1)) in guides and ((0, 1), (0.2, 0.2)) in guides
    assert len(ax.collections[0].get_offsets()) == 5


def test_distribution_counts_graded_scores_only():
    s = ranking_scores()
    ax = distribution(s, "p2", 60).axes[0]
    assert sum(p.get_height() for p in ax.patches) == 7, "the not-gradable trainee is not drawn as a 0"


def test_distribution_colours_split_at_the_pass_mark_and_the_top_score_has_its_own_bar():
    from matplotlib.colors import to_hex

    from daqlab.dashboards.figures import FAIL_COLOUR, PASS_COLOUR

    got = [9.0, 9.5, 9.5, 10.0, 12.0, 15.0, 16.0, 16.0, 3.0]  # pass mark 9.6: 4 fail, 5 pass
    s = pd.DataFrame({"assignment": "p", "score": got, "max_score": 16.0, "status": "graded"})
    ax = distribution(s, "p", 9.6).axes[0]
    red = sum(p.get_height() for p in ax.patches if to_hex(p.get_facecolor()) == FAIL_COLOUR.lower())
    green = sum(p.get_height() for p in ax.patches if to_hex(p.get_facecolor()) == PASS_COLOUR.lower())
    assert (red, green) == (4, 5), "every failing trainee red, every passing one green"
    tallest_right = max((p for p in ax.patches if p.get_height()), key=lambda p: p.get_x())
    assert tallest_right.get_height() == 2 and tallest_right.get_x() < 16 < tallest_right.get_x() + tallest_right.get_width()
    assert all(float(t).is_integer() for t in ax.get_yticks()), "whole trainees on the y axis"


def test_non_submitters_are_never_finalists_and_cutoff_ties_break_on_practical_then_theory():
    rows = [("x", "t1", 100, "graded"), ("x", "p1", 60, "graded"),   # total 0.3*100 + 0.7*60 = 72
            ("y", "t1", 30, "graded"), ("y", "p1", 90, "graded"),    # 9 + 63 = 72: better practical
            ("z", "t1", 80, "graded"), ("z", "p1", 100, "graded")]   # 24 + 70 = 94
    rows += [(f"n{i}", a, None, "not submitted") for i in range(30) for a in ("t1", "p1")]
    s = pd.DataFrame([{"student_id": sid, "name": "", "assignment": a, "kind": "theory" if a == "t1" else "practical",
                       "score": p, "max_score": 100.0, "percent": p, "status": st, "reason": ""}
                      for sid, a, p, st in rows]).astype({"score": float, "percent": float})
    r = ranking(s, top_n=10)
    assert set(r.loc[r.finalist, "student_id"]) == {"x", "y", "z"}, "30 trainees with nothing graded: no finalists"
    r = ranking(s, top_n=2)
    assert list(r.loc[r.finalist, "student_id"]) == ["z", "y"], "the tie at 72 goes to the better practical"


def test_the_ranking_chart_counts_the_finalists_the_table_counts():
    r = ranking(ranking_scores(), top_n=6)
    ax = ranking_bar(r, top=3).axes[0]
    assert f"finalists {int(r.finalist.sum())}" in ax.get_title() and "of 8 shown" in ax.get_title()
