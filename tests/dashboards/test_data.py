"""load_course on a course graded for real (nbgrader, plant): the dashboards show the gradebook's numbers."""

import json
import os
import shutil

import pytest
from nbgrader.api import Gradebook

from daqlab.course.export import rows as export_rows
from daqlab.course.generate import generate_all
from daqlab.course.grade import Settings, grade
from daqlab.course.roster import Trainee
from daqlab.dashboards import item_analysis, load_course, mastery, only_student, ranking
from daqlab.exam.bank import load_bank
from daqlab.exam.blueprint import for_assignment
from daqlab.exam.paper import draw
from daqlab.exam.score import shown_key

from ..course_helpers import ROOT, make_course, submit
from ..exam.test_exam_nbgrader import as_answer, fill

T, P = "theory-practice-modbus", "practical-1-identify"
ROSTER = {s: Trainee(s, s.title(), k) for k, s in enumerate(("alice", "bob", "carol", "dave"), start=1)}
PRACTICAL = {"alice": "perfect", "bob": "off_by_one", "carol": "not_a_notebook"}  # dave submits nothing
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = make_course(tmp_path_factory.mktemp("dash"), [T, P])
    assert all(r.ok for r in generate_all(course).values())
    bank = load_bank(ROOT / "source" / "exam" / "bank")

    def key_sheet(student, keep):
        paper = draw(bank, for_assignment(T), course="daqlab", assignment=T, student=student)
        return {pi.number: as_answer(pi, shown_key(pi, bank[pi.item_id])) for pi in paper.items if keep(pi)}

    submit(course, T, "alice", fill(key_sheet("alice", lambda pi: True)))
    submit(course, T, "bob", fill({}))
    submit(course, T, "carol", fill(key_sheet("carol", lambda pi: pi.number % 2 == 0)))
    for student, sample in PRACTICAL.items():
        dst = course / "submitted" / student / P
        dst.mkdir(parents=True)
        shutil.copy(ROOT / "grader" / "samples" / P / f"{sample}.ipynb", dst / f"{P}.ipynb")
    settings = Settings(timeout=30, workers=2, progress=False)
    grade(course, T, settings=settings)
    grade(course, P, roster=ROSTER, settings=settings)
    return course


@pytest.fixture(scope="module")
def data(course):
    return load_course(course, ROSTER)


def test_scores_and_statuses_are_the_exported_gradebook_rows(course, data):
    want = {(r["student_id"], r["assignment"]): r for r in export_rows(course, ROSTER)}
    assert len(data.scores) == len(want) == 8, "4 trainees x 2 assignments, none dropped"
    for r in data.scores.itertuples():
        w = want[(r.student_id, r.assignment)]
        assert (r.status, r.reason, r.name, r.station) == (w["status"], w["reason"], w["name"], w["station"])
        assert (f"{r.score:g}" if r.score == r.score else "") == w["score"], (r.student_id, r.assignment)
    got = {(r.student_id, r.assignment): (r.score, r.status) for r in data.scores.itertuples()}
    assert got[("alice", T)] == (24.0, "graded") and got[("bob", T)] == (0.0, "graded")
    assert got[("alice", P)] == (16.0, "graded") and got[("bob", P)] == (12.0, "graded")
    assert got[("carol", P)][1] == "not gradable" and got[("carol", P)][0] != got[("carol", P)][0]  # NaN
    assert got[("dave", T)][1] == got[("dave", P)][1] == "not submitted"
    assert set(data.scores.loc[data.scores.assignment == T, "kind"]) == {"theory"}
    assert set(data.scores.loc[data.scores.assignment == P, "kind"]) == {"practical"}
    with Gradebook(f"sqlite:///{course}/gradebook.db") as gb:
        for r in data.scores.dropna(subset=["score"]).itertuples():
            sub = gb.find_submission(r.assignment, r.student_id)
            assert (r.score, r.max_score) == (sub.score, sub.max_score)
            assert r.percent == pytest.approx(100 * sub.score / sub.max_score)


def test_area_subtotals_are_the_gradebook_area_cells(course, data):
    assert sorted(data.areas.student_id) == ["alice", "bob", "carol"] and set(data.areas.area) == {"modbus"}
    with Gradebook(f"sqlite:///{course}/gradebook.db") as gb:
        for r in data.areas.itertuples():
            g = gb.find_grade("area-modbus", T, T, r.student_id)
            assert (r.assignment, r.score, r.points) == (T, g.score, g.max_score)


def test_twenty_items_per_theory_submission_adding_up_to_the_score(data):
    items = data.items
    assert items.groupby("student_id").size().to_dict() == {"alice": 20, "bob": 20, "carol": 20}
    assert items.groupby("student_id")["score"].sum().to_dict() == {"alice": 24.0, "bob": 0.0,
                                                                   "carol": data.scores.set_index(
                                                                       ["student_id", "assignment"]).loc[
                                                                       ("carol", T), "score"]}
    carol = items[items.student_id == "carol"]
    assert set(carol.loc[carol.number % 2 == 1, "status"]) == {"blank"}
    assert carol.loc[carol.number % 2 == 0, "correct"].all()
    assert set(items.loc[items.student_id == "bob", "status"]) == {"blank"}
    assert items["correct"].dtype == bool and sorted(items.columns) == sorted(
        ["student_id", "assignment", "number", "item_id", "area", "type", "points", "score", "correct",
         "chosen", "status"])


def test_checks_per_practical_submission_are_the_files_and_add_up_to_the_score(course, data):
    checks = data.checks
    assert set(checks.student_id) == {"alice", "bob"}, "no checks for a not-gradable submission"
    for s in ("alice", "bob"):
        stored = json.loads((course / "autograded" / s / P / "practical_results.json").read_text("utf-8"))
        mine = checks[checks.student_id == s]
        assert list(mine.name) == [c["name"] for c in stored["checks"]]
        total = data.scores.set_index(["student_id", "assignment"]).loc[(s, P), "score"]
        assert mine["score"].sum() == total
    assert checks.loc[checks.student_id == "alice", "passed"].all()
    assert not checks.loc[checks.student_id == "bob", "passed"].all()


def test_only_student_keeps_one_trainee_in_every_frame(data):
    mine = only_student(data, "alice")
    for frame in (mine.scores, mine.areas, mine.items, mine.checks):
        assert len(frame) and set(frame.student_id) == {"alice"}
    assert len(mine.scores) == 2 and len(mine.items) == 20
    assert list(mine.scores.columns) == list(data.scores.columns)


def test_analysis_runs_on_the_real_course(data):
    ia = item_analysis(data.items, data.scores)
    assert ia["n"].sum() == 60 and ia["p"].between(0, 1).all()
    m = mastery(data.areas)
    assert m.loc["alice", "modbus"] == 100 and m.loc["bob", "modbus"] == 0
    r = ranking(data.scores, top_n=1)
    assert list(r.student_id[:2]) == ["alice", "bob"] and r.finalist.sum() == 1
    assert "not gradable: practical-1-identify" in r.set_index("student_id").loc["carol", "note"]


def test_search_finds_trainees_when_someone_has_not_submitted(course):
    from daqlab.dashboards.results_app import ResultsDashboard

    dash = ResultsDashboard(course, environ={}, roster=ROSTER)
    assert dash.data.scores["score"].isna().any(), "dave submitted nothing: his scores are NaN"
    dash.w_search.value = "carol"
    table = dash.w_table.value
    assert "carol" in table and "alice" not in table and "dave" not in table
    dash.w_search.value = "dave"
    assert "dave" in dash.w_table.value and "carol" not in dash.w_table.value


def test_an_assignment_nobody_handed_in_has_no_rows(course):
    extra = "theory-practice-plc"  # generated (in the gradebook) but never handed in: not released yet
    shutil.copytree(ROOT / "source" / extra, course / "source" / extra)
    assert generate_all(course)[extra].ok
    data = load_course(course, ROSTER)
    assert extra not in set(data.scores["assignment"]) and set(data.scores["assignment"]) == {T, P}
    assert extra not in {r["assignment"] for r in export_rows(course, ROSTER)}
    mine = only_student(data, "dave").scores
    assert set(mine["status"]) == {"not submitted"} and len(mine) == 2, "dave: the two handed-in papers only"


def test_the_scoreboard_ranks_masks_names_and_follows_grading(course, tmp_path):
    from daqlab.course.status import Outcome, load_status, save_status
    from daqlab.dashboards.scoreboard import Scoreboard, mask

    assert (mask("张三"), mask("Alice")) == ("张*", "A****")
    board = Scoreboard(course, environ={}, top=2, masked=True, roster=ROSTER)
    page = board.html()
    assert "竞赛实时排名" in page and page.count('class="sb-row') == 2
    names = [x.split("<")[0] for x in page.split('class="sb-name">')[1:]]
    assert all(n.endswith("*") and n[:1].isupper() for n in names) and not any(t.name in page for t in ROSTER.values())
    first = page.split('class="sb-name">')[1].split("<")[0]
    # grading goes on: the leader's practical turns out not gradable; the next reload shows it
    leader = next(s for s, t in ROSTER.items() if mask(t.name) == first)
    old = load_status(course)[P][leader]
    try:
        save_status(course, [Outcome(leader, P, "not gradable", "test", None, None, 0.0)])
        assert board.html().split('class="sb-name">')[1].split("<")[0] != first
    finally:
        save_status(course, [Outcome(**old)])


def test_big_classes_page_the_trainee_table_and_draw_the_weakest_in_the_heat_map(course, monkeypatch):
    from daqlab.dashboards import results_app
    from daqlab.dashboards.results_app import ResultsDashboard

    monkeypatch.setattr(results_app, "PAGE_SIZE", 2)  # four trainees, two per page
    monkeypatch.setattr(results_app, "MASTERY_ROWS", 2)
    dash = ResultsDashboard(course, environ={}, roster=ROSTER)
    first = dash.w_table.value
    assert first.count('class="res-row"') == 2 and "第 <span class=\"res-page-no\">1</span> / 2 页" in first
    dash.w_page.value = 2
    second = dash.w_table.value
    assert second.count('class="res-row"') == 2 and not set(first.split("data-student=")[1:]) & set(
        second.split("data-student=")[1:]), "page 2 holds the other trainees"
    dash.w_search.value = "ali"  # a new search starts at page 1
    assert dash.w_page.value == 1 and dash.w_table.value.count('class="res-row"') == 1
    dash.w_assign.value = (T,)
    assert dash.w_mastery.value == "", "a tab is drawn when it is opened"
    dash.w_tabs.selected_index = 1
    assert "the weakest 2 of" in dash.w_mastery.value


def test_the_overview_says_what_most_trainees_got_wrong(course):
    from daqlab.dashboards.results_app import ResultsDashboard

    dash = ResultsDashboard(course, environ={}, roster=ROSTER)
    dash.w_assign.value = (T, P)
    overview = dash.w_summary.value
    assert "what most trainees got wrong" in overview
    worst = dash.data.items.groupby("item_id")["correct"].mean().sort_values().index[0]
    assert f'data-item="{worst}"' in overview and "res-wrong-check" in overview


def test_a_reload_parses_again_exactly_the_results_files_that_changed(course, tmp_path):
    """A dashboard kernel keeps parsed results files (a pre-heated kernel reads the course before the request and
    again after it): a file rewritten since (even to the same size) is read again, a removed file drops its rows."""
    from daqlab.dashboards import data as data_mod

    copy = tmp_path / "course"
    shutil.copytree(course, copy)
    first = load_course(copy, ROSTER)
    path = copy / "autograded" / "carol" / T / "exam_results.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    first_item = min(doc["items"], key=lambda r: r["number"])
    after = "blank" if first_item["status"] == "correct" else "correct"
    first_item["status"] = after
    st = path.stat()
    path.write_text(json.dumps(doc), encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # a later write, whatever the clock's grain
    alice = copy / "autograded" / "alice" / T / "exam_results.json"
    assert data_mod._PARSED.get(alice), "parsed files are kept between reads"
    second = load_course(copy, ROSTER)
    carol = second.items[(second.items["student_id"] == "carol")].sort_values("number")
    assert carol["status"].iloc[0] == after, "the rewritten file was parsed again"
    assert len(second.items) == len(first.items)
    (copy / "autograded" / "bob" / T / "exam_results.json").unlink()
    third = load_course(copy, ROSTER)
    assert not (third.items["student_id"] == "bob").any() and (third.items["student_id"] == "alice").any()
