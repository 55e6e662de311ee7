"""What a trainee may type for an exam item, what it means, and what is refused with a bilingual reason."""

import re

import pytest

from daqlab.exam.answers import AnswerFormatError, normalise

CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{3,}")


def refused(answer, kind, options=("A", "B", "C", "D")) -> AnswerFormatError:
    with pytest.raises(AnswerFormatError) as caught:
        normalise(answer, kind, options)
    return caught.value


# --- no answer -------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["single", "multiple", "truefalse"])
@pytest.mark.parametrize("blank", [None, "", "   ", "\t\n", "\u3000", [], (), set(), frozenset(), "（ ）", "()", "[]"])
def test_blank_answers_mean_no_answer_for_every_kind(blank, kind):
    assert normalise(blank, kind) is None


@pytest.mark.parametrize("blank", [["", " "], ("（）",)])
def test_a_collection_of_blanks_is_no_answer(blank):
    assert normalise(blank, "multiple") is None


# --- single choice ---------------------------------------------------------------------------------

@pytest.mark.parametrize("typed", [
    "B", "b", " B ", " b\n", "(B)", "（B）", "(b)", "B.", "b.", "B。", "b)", "B）", "[B]", "［B］", "{B}", "【B】",
    "Ｂ", "ｂ", "（Ｂ）", ["B"], ("b",), {"B"}, frozenset({"B"}), ["B", "b"], "B,B",
])
def test_single_choice_forms_read_as_one_upper_case_letter(typed):
    assert normalise(typed, "single") == "B"


def test_single_choice_accepts_the_items_own_option_letters():
    assert normalise("e", "single", ("A", "B", "C", "D", "E")) == "E"


# --- multiple choice -------------------------------------------------------------------------------

@pytest.mark.parametrize("typed", [
    "A,C", "a, c", "AC", "ac", "A C", "A  C", "A、C", "A，C", "A;C", "A；C", "A/C", "C,A", "CA", "A,A,C", "AAC",
    " A , C ", "(A) (C)", "(A),(C)", "A. C.", "[A, C]", "（A，C）", "ＡＣ", "A,C,", ",A,C", "A\u3000C",
    ["A", "C"], ("a", "c"), {"A", "C"}, frozenset({"a", "C"}), ["C", "A", "A"], ["(A)", "c."], ["A,C"], ["A", " ", "C"],
])
def test_multiple_choice_forms_read_as_a_set_of_letters(typed):
    assert normalise(typed, "multiple") == frozenset({"A", "C"})


@pytest.mark.parametrize("typed", ["B", "b", "(B)", ["B"], {"b"}])
def test_one_letter_is_a_valid_multiple_choice_format(typed):
    assert normalise(typed, "multiple") == frozenset({"B"})


def test_multiple_choice_uses_the_items_option_letters():
    six = ("A", "B", "C", "D", "E", "F")
    assert normalise("a,e,f", "multiple", six) == frozenset({"A", "E", "F"})
    assert normalise("ABCDEF", "multiple", six) == frozenset(six)


def test_multiple_choice_returns_a_frozenset():
    assert isinstance(normalise("A,C", "multiple"), frozenset)


# --- true / false ----------------------------------------------------------------------------------

TRUE_FORMS = [True, 1, "T", "t", "true", "True", "TRUE", "Y", "y", "yes", "Yes", "YES", "对", "正确", "是",
              "√", "✓", "✔", " 对 ", "(对)", "（对）", "对。", "T.", "(T)", "ｔｒｕｅ", "Ｔ"]
FALSE_FORMS = [False, 0, "F", "f", "false", "False", "FALSE", "N", "n", "no", "No", "NO", "错", "错误", "否",
               "×", "✗", "✘", " 错 ", "（错）", "错。", "F.", "[F]", "Ｆ"]


@pytest.mark.parametrize("typed", TRUE_FORMS)
def test_true_forms_read_as_true(typed):
    assert normalise(typed, "truefalse") is True


@pytest.mark.parametrize("typed", FALSE_FORMS)
def test_false_forms_read_as_false(typed):
    assert normalise(typed, "truefalse") is False


# --- refused, with a reason in English and Chinese -------------------------------------------------

ERRORS = [
    # letters outside the item's options
    ("E", "single", "not among the options"),
    ("e", "multiple", "not among the options"),
    ("A,E", "multiple", "not among the options"),
    (["A", "E"], "multiple", "not among the options"),
    ("ABCDE", "multiple", "not among the options"),
    # a single-choice item answered with several letters
    ("A,C", "single", "exactly one option"),
    ("AC", "single", "exactly one option"),
    ("a c", "single", "exactly one option"),
    (["B", "D"], "single", "exactly one option"),
    ({"A", "C"}, "single", "exactly one option"),
    # numbers for choice items
    (2, "single", "not numbers"),
    (0, "multiple", "not numbers"),
    ("2", "single", "not numbers"),
    ("２", "single", "not numbers"),
    ("(2)", "single", "not numbers"),
    ("1,3", "multiple", "not numbers"),
    ([1, 3], "multiple", "not numbers"),
    ("A,3", "multiple", "not numbers"),
    # booleans for choice items
    (True, "single", "true/false items"),
    (False, "multiple", "true/false items"),
    (["A", True], "multiple", "true/false items"),
    # unknown words and mixed garbage
    ("maybe", "single", "not among the options"),
    ("maybe", "multiple", "not among the options"),
    ("maybe", "truefalse", "not a true/false answer"),
    ("A1", "single", "cannot read"),
    ("A1", "multiple", "cannot read"),
    ("选B", "single", "cannot read"),
    ("A-C", "multiple", "cannot read"),
    ("A.C", "multiple", "cannot read"),
    ("A+C", "multiple", "cannot read"),
    ("?", "single", "cannot read"),
    (",", "multiple", "cannot read"),
    ("T", "single", "not among the options"),
    ("对", "single", "cannot read"),
    ("对的", "truefalse", "not a true/false answer"),
    ("A1", "truefalse", "not a true/false answer"),
    ("1", "truefalse", "not a true/false answer"),
    ("truth", "truefalse", "not a true/false answer"),
    # wrong Python types
    ({"A": True}, "single", "cannot be a dict"),
    ({1: "A"}, "multiple", "cannot be a dict"),
    ({"T": 1}, "truefalse", "cannot be a dict"),
    (2.0, "single", "cannot be a float"),
    (1.0, "truefalse", "cannot be a float"),
    (0.5, "multiple", "cannot be a float"),
    (b"B", "single", "cannot be a bytes"),
    ([["A"], "C"], "multiple", "cannot be a list"),
    (["T"], "truefalse", "cannot be a list"),
    # numbers other than 1/0 for true/false
    (2, "truefalse", "only 1 or 0"),
    (-1, "truefalse", "only 1 or 0"),
    # ambiguous marks and option letters for true/false
    ("x", "truefalse", "ambiguous"),
    ("X", "truefalse", "ambiguous"),
    ("v", "truefalse", "ambiguous"),
    ("A", "truefalse", "no option letters"),
    ("B", "truefalse", "no option letters"),
    ("(b)", "truefalse", "no option letters"),
]


@pytest.mark.parametrize(("answer", "kind", "reason"), ERRORS)
def test_unreadable_answers_are_refused_with_an_english_and_a_chinese_reason(answer, kind, reason):
    error = refused(answer, kind)
    message = str(error)
    assert reason in message
    assert LATIN.search(error.en) and CJK.search(error.zh)
    assert CJK.search(message) and message.index(error.en) < message.index(error.zh)


def test_single_choice_with_several_letters_names_what_was_typed():
    message = str(refused("A,C", "single"))
    assert message.startswith("single choice takes exactly one option, got 'A,C'")
    assert "单选题只能选一个选项" in message


def test_true_false_given_an_option_letter_says_to_use_t_f_or_dui_cuo():
    message = str(refused("A", "truefalse"))
    assert "T/F" in message and "对/错" in message


def test_a_letter_is_judged_against_the_items_options():
    refused("E", "single", ("A", "B", "C", "D"))
    assert normalise("E", "single", ("A", "B", "C", "D", "E")) == "E"
    refused("F", "multiple", ("A", "B", "C", "D", "E"))


def test_the_error_is_a_value_error():
    assert isinstance(refused("E", "single"), ValueError)


def test_an_unknown_kind_or_bad_options_is_a_caller_bug_not_a_format_error():
    with pytest.raises(ValueError, match="kind must be") as caught:
        normalise("A", "essay")
    assert not isinstance(caught.value, AnswerFormatError)
    with pytest.raises(ValueError, match="options must be"):
        normalise("A", "single", ("a", "b"))
    with pytest.raises(ValueError, match="options must be"):
        normalise("A", "single", ())
