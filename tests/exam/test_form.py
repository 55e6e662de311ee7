"""The theory paper's answer form (daqlab.exam.form) and what the grader makes of it: every click saved as
data, found again by a new form, merged with typed answers, a timed paper locked at zero and a late
submission flagged with its minutes. In a browser on the real hub: tests/hub/test_answer_form_browser.py."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from daqlab.cli import main as cli_main
from daqlab.course.generate import generate_all
from daqlab.course.grade import grade
from daqlab.exam import clock, sheetfile
from daqlab.exam.bank import load_bank
from daqlab.exam.blueprint import contest
from daqlab.exam.form import AnswerForm
from daqlab.exam.paper import draw
from daqlab.exam.score import shown_key

from ..course_helpers import ROOT, make_course, submit
from .test_exam_nbgrader import as_answer, fill

A = "theory-contest"
P = "theory-practice-modbus"


def click(form, n, value):
    """What a click does: the item's widget takes the value (radio) or the boxes are ticked (multiple)."""
    form._group(n)
    pi = form.by_number[n]
    if pi.type == "multiple":
        for letter, box in zip(pi.shown_letters, form.choices[n], strict=True):
            box.value = letter in value.split(",")
    else:
        form.choices[n][0].value = value


def test_every_click_is_saved_and_a_new_form_finds_the_answers_and_flags(tmp_path, monkeypatch):
    monkeypatch.setenv("DAQLAB_STUDENT_ID", "alice")
    form = AnswerForm(P, tmp_path)
    single = next(pi for pi in form.paper.items if pi.type == "single")
    multiple = next(pi for pi in form.paper.items if pi.type == "multiple")
    tf = next(pi for pi in form.paper.items if pi.type == "truefalse")
    click(form, single.number, "C")
    click(form, multiple.number, "A,D")
    click(form, tf.number, False)
    form._group(tf.number)
    form.flag_buttons[tf.number].value = True
    click(form, single.number, "B")  # changed
    saved = json.loads((tmp_path / sheetfile.ANSWERS_FILE).read_text())
    assert saved["answers"] == {str(single.number): "B", str(multiple.number): "A,D", str(tf.number): False}
    assert saved["flags"] == [tf.number]
    again = AnswerForm(P, tmp_path)  # a reload: a new kernel, a new form
    assert again.answers == {single.number: "B", multiple.number: "A,D", tf.number: False}
    again._group(multiple.number)
    assert [b.value for b in again.choices[multiple.number]] == [s in ("A", "D") for s in multiple.shown_letters]
    assert again.buttons[tf.number].button_style == "warning" and again.buttons[single.number].button_style == "success"
    assert "已答 answered <b>3</b>" in again.status.value
    click(again, multiple.number, "")  # unticking everything makes it open again
    assert str(multiple.number) not in json.loads((tmp_path / sheetfile.ANSWERS_FILE).read_text())["answers"]


def test_an_unreadable_sheet_is_kept_aside_and_the_form_starts_empty(tmp_path, monkeypatch):
    monkeypatch.setenv("DAQLAB_STUDENT_ID", "alice")
    (tmp_path / sheetfile.ANSWERS_FILE).write_text("{not json")
    form = AnswerForm(P, tmp_path)
    assert form.answers == {} and "无法读取" in form.note.value
    assert [p.name for p in tmp_path.glob("answers.json.unreadable-*")], "the broken file is kept, not overwritten"


def test_a_timed_paper_locks_at_zero_and_keeps_what_was_saved(tmp_path, monkeypatch):
    monkeypatch.setenv("DAQLAB_STUDENT_ID", "alice")
    monkeypatch.delenv("DAQLAB_EXCHANGE_URL", raising=False)
    (tmp_path / clock.EXAM_FILE).write_text(json.dumps({"minutes": 30, "closes": None}))
    form = AnswerForm(P, tmp_path)
    assert not form.locked and 29 * 60 < form.remaining() <= 30 * 60 and "剩余时间" in form.status.value
    assert "本机计时" in form.status.value, "a local clock says it proves nothing"
    n = form.paper.items[0].number
    click(form, n, "A")
    started = datetime.now(UTC) - timedelta(minutes=31)  # as if opened 31 minutes ago
    (tmp_path / clock.LOCAL_CLOCK).write_text(json.dumps({"started": started.isoformat()}))
    late = AnswerForm(P, tmp_path)
    assert late.locked and "时间到" in late.status.value
    late._group(n)
    assert all(x.disabled for x in late.inputs[n])
    late.set(n, "B")
    assert late.answers[n] == "A" and json.loads((tmp_path / sheetfile.ANSWERS_FILE).read_text())["answers"][str(n)] == "A"


def test_merge_prefers_the_form_and_says_where_answers_came_from():
    used, line = sheetfile.merge({1: "B", 2: "A,C"}, {2: "D", 3: "对", 4: ""})
    assert used == {1: "B", 2: "A,C", 3: "对"}
    assert "答题卡（表单）2 题，答题单元格 1 题" in line and "1 题以表单答案为准" in line
    used, line = sheetfile.merge(None, {3: "对"})
    assert used == {3: "对"} and "答题单元格 1 题" in line


def test_lateness_from_the_recorded_start_the_duration_and_the_window():
    t0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    conf = {"minutes": 60, "closes": None}
    assert clock.lateness(t0 + timedelta(minutes=59), t0, conf)["late_minutes"] == 0
    out = clock.lateness(t0 + timedelta(minutes=62, seconds=10), t0, conf)
    assert out["late_minutes"] == 3 and out["used_minutes"] == 62.2
    closes = {"minutes": 60, "closes": (t0 + timedelta(minutes=30)).isoformat()}  # the window closes first
    assert clock.lateness(t0 + timedelta(minutes=40), t0, closes)["late_minutes"] == 10
    assert clock.lateness(t0 + timedelta(minutes=40), None, conf)["late_minutes"] is None, "no start: unknown"
    assert clock.parse_time("2026-12-03 15:45:08.097326 UTC") == datetime(2026, 12, 3, 15, 45, 8, 97326, tzinfo=UTC)


@pytest.mark.slow
def test_the_grader_scores_the_form_merges_typed_answers_and_flags_a_late_submission(tmp_path):
    course = make_course(tmp_path, [A])
    assert generate_all(course)[A].ok
    bank = load_bank(ROOT / "source" / "exam" / "bank")
    assert clock.settings(course / "release" / A) == {"minutes": 60, "closes": None}, "the contest paper is timed"

    def paper(student):
        return draw(bank, contest(), course="daqlab", assignment=A, student=student)

    dora, form, typed, expected = paper("dora"), {}, {}, 0.0
    for pi in dora.items:  # the form answers most, typed cells some, one item is answered in both
        key = as_answer(pi, shown_key(pi, bank[pi.item_id]))
        key = key if pi.type != "truefalse" else key == "对"
        if pi.number % 5 == 0:
            typed[pi.number] = as_answer(pi, shown_key(pi, bank[pi.item_id]))
            expected += pi.points
        elif pi.number % 7 != 0:  # every 7th left open: scores 0
            form[pi.number] = key
            expected += pi.points
    assert 1 in form
    typed[1] = "Z"  # answered in both: the form's (right) answer counts, not the typed (unreadable) one
    folder = submit(course, A, "dora", fill(typed)).parent
    sheetfile.write(folder, A, form, {3, 4})
    (folder / "timestamp.txt").write_text("2026-12-05 10:02:30.000000 UTC")  # started 09:00: 60 min -> 10:00
    (course / clock.CLOCKS_DIR).mkdir()
    (course / clock.CLOCKS_DIR / f"{A}.json").write_text(json.dumps({"dora": "2026-12-05T09:00:00+00:00"}))
    (row,) = grade(course, A, progress=False)
    assert row.student == "dora" and row.score == expected, (row, expected)
    assert row.status == "flagged" and "迟交 3 分钟" in row.reason, row
    data = json.loads((course / "autograded" / "dora" / A / "exam_results.json").read_text(encoding="utf-8"))
    assert data["timing"]["late_minutes"] == 3 and data["timing"]["used_minutes"] == 62.5
    assert "以表单答案为准" in data["answer_source"]
    opened = [r for r in data["items"] if r["number"] % 7 == 0 and r["number"] % 5 != 0]
    assert opened and all(r["status"] == "blank" and r["score"] == 0 for r in opened)
    from daqlab.dashboards.data import load_course

    scores = load_course(course).scores.set_index("student_id")
    assert scores.loc["dora", "minutes"] == 62.5, "the results show the time used"


def test_window_sets_the_clock_in_source_and_release_and_refuses_bad_input(tmp_path, capsys):
    course = make_course(tmp_path, [A], bank=False)
    (course / "release" / A).mkdir(parents=True)
    assert cli_main(["exam", "window", A, "--minutes", "45", "--closes", "2026-12-05T11:00+08:00",
                     "--course", str(course)]) == 0
    for side in ("source", "release"):
        assert json.loads((course / side / A / clock.EXAM_FILE).read_text()) == {
            "minutes": 45, "closes": "2026-12-05T11:00:00+08:00"}
    assert cli_main(["exam", "window", A, "--closes", "tomorrow", "--course", str(course)]) == 2
    assert cli_main(["exam", "window", "nope", "--minutes", "5", "--course", str(course)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "not an ISO time" in err[0] and "no assignment nope" in err[1]


def test_practice_check_shows_the_key_once_locks_the_item_and_survives_a_reload(tmp_path, monkeypatch):
    monkeypatch.setenv("DAQLAB_STUDENT_ID", "alice")
    monkeypatch.delenv("DAQLAB_EXCHANGE_URL", raising=False)
    bank = load_bank(ROOT / "source" / "exam" / "bank")
    form = AnswerForm(P, tmp_path)
    pi = next(x for x in form.paper.items if x.type == "single")
    key = shown_key(pi, bank[pi.item_id])
    wrong = next(s for s in pi.shown_letters if s != key)
    form.check(pi.number)
    assert "请先作答" in form._verdicts[pi.number].value, "nothing to check before an answer"
    click(form, pi.number, wrong)
    form.check(pi.number)
    verdict = form._verdicts[pi.number].value
    assert "错误 wrong" in verdict and f"<b>{key}</b>" in verdict and bank[pi.item_id].explanation["zh"][:10] in verdict
    assert all(x.disabled for x in form.inputs[pi.number]), "a checked question is locked"
    form.set(pi.number, key)
    assert form.answers[pi.number] == wrong, "the answer cannot change after its key was shown"
    again = AnswerForm(P, tmp_path)
    again._group(pi.number)
    assert "错误 wrong" in again._verdicts[pi.number].value and all(x.disabled for x in again.inputs[pi.number])


def test_an_exam_paper_has_no_check_button(tmp_path, monkeypatch):
    monkeypatch.setenv("DAQLAB_STUDENT_ID", "alice")
    monkeypatch.delenv("DAQLAB_EXCHANGE_URL", raising=False)
    form = AnswerForm(A, tmp_path)
    box = form._group(1)
    assert not form.practice and not form._checks and "Check" not in repr(box)


def test_the_service_keeps_the_first_checked_answer_and_the_grader_scores_it(tmp_path):
    from daqlab.exam.practice import check, first_answers, keys_payload

    bank = load_bank(ROOT / "source" / "exam" / "bank")
    payload = keys_payload(bank, P, "salt-x")
    assert all(it["pool"] == "practice" for it in payload["items"].values()), "no contest item, ever"
    with pytest.raises(ValueError):
        keys_payload(bank, A, "salt-x")  # an exam paper gets no instant feedback
    paper = draw(bank, __import__("daqlab.exam.blueprint", fromlist=["x"]).for_assignment(P), course="daqlab",
                 assignment=P, student="alice", salt="salt-x")
    pi = paper.items[0]
    key = shown_key(pi, bank[pi.item_id])
    r = check(payload, "alice", pi.number, key)
    assert r["correct"] and r["explanation"] == bank[pi.item_id].explanation
    (tmp_path / "practice-answers").mkdir()
    (tmp_path / "practice-answers" / f"{P}.json").write_text(json.dumps({"alice": {"1": {"answer": "Z"}}}))
    assert first_answers(tmp_path, P, "alice") == {1: "Z"} and first_answers(tmp_path, P, "bob") == {}
