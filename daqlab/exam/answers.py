"""Read what a trainee typed for one theory-exam item into a canonical answer, or say why not.

Trainees answer in a notebook cell such as
``answers = {1: "B", 2: " c ", 51: "A,C", 52: ["B", "D"], 66: "对", 67: False}``; :func:`normalise`
turns one value into:

==========  ===========================================  ===================================
kind        canonical answer                             examples accepted
==========  ===========================================  ===================================
single      one upper-case letter from ``options``       "b", "(B)", "（B）", "B.", "Ｂ", ["B"]
multiple    frozenset of letters from ``options``        "A,C", "ac", "A、C", "A C", {"a", "c"}
truefalse   bool                                         True, 1, "T", "yes", "对", "正确", "√"
==========  ===========================================  ===================================

``None`` means "no answer" (None, blank text, an empty list/tuple/set, or a bare blank such as
"（ ）" copied from a paper). Anything that is neither an answer nor blank raises
:class:`AnswerFormatError`; the caller scores that item 0 with the message and grades the rest of
the sheet (DESIGN: a bad answer format loses nothing else). Nothing ambiguous is guessed: "x" or
"v" for true/false, digits for choice items, letters outside ``options``, floats and dicts are errors.

Text is NFKC-normalised first, so full-width letters and punctuation typed with a Chinese input
method ("Ｂ", "（", "，", "；") read like their ASCII forms; case and surrounding space never matter.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NoReturn

KINDS = ("single", "multiple", "truefalse")

#: what each kind expects, appended to every error so the trainee knows the fix (English, Chinese)
HINTS = {
    "single": ("write one option letter, e.g. 'B'", "请填写一个选项字母，如 'B'"),
    "multiple": ("write option letters, e.g. 'A,C' or ['A', 'C']", "请填写选项字母，如 'A,C' 或 ['A', 'C']"),
    "truefalse": ("write T/F or 对/错", "请填写 T/F 或 对/错"),
}

#: true/false words, compared after NFKC, casefold and stripping brackets/trailing full stop
TRUE_FALSE = {
    **dict.fromkeys(("t", "true", "y", "yes", "对", "正确", "是", "√", "✓", "✔"), True),
    **dict.fromkeys(("f", "false", "n", "no", "错", "错误", "否", "×", "✗", "✘"), False),
}
#: look like a tick or a cross but are also letters: never guessed
AMBIGUOUS_MARKS = ("v", "x")

# Separators between letters of a multiple-choice answer (after NFKC "，；／" are ",;/").
_SEPARATORS = re.compile(r"[\s,;/、]+")
# One token: optional opening bracket, letters, optional closing bracket, optional full stop.
_TOKEN = re.compile(r"[(\[{【]?([A-Z]+)[)\]}】]?[.。]?")
_BRACKETS = "()[]{}【】"


class AnswerFormatError(ValueError):
    """An answer that cannot be read. ``str()`` is "English · 中文"; ``en`` and ``zh`` hold each part."""

    def __init__(self, en: str, zh: str):
        self.en = en  #: reason and fix in English
        self.zh = zh  #: the same in Chinese
        super().__init__(f"{en} · {zh}")


def _fail(kind: str, en: str, zh: str) -> NoReturn:
    hint_en, hint_zh = HINTS[kind]
    raise AnswerFormatError(f"{en}; {hint_en}", f"{zh}，{hint_zh}")


def _text(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()


def _is_blank(text: str) -> bool:
    """Blank, or only brackets: the "（ ）" a trainee copies from a printed paper is no answer."""
    return not text.strip(_BRACKETS + " ")


def normalise(answer, kind: str, options: tuple[str, ...] = ("A", "B", "C", "D")):
    """Canonical form of one answer for an item of ``kind`` ("single" | "multiple" | "truefalse").

    Returns None for no answer; "single" -> one upper-case letter in ``options``; "multiple" -> a
    frozenset of letters in ``options`` (one letter is a valid format: all-or-nothing scoring gives
    it 0 later); "truefalse" -> bool. ``options`` are the item's upper-case option letters (ignored
    for true/false). Raises AnswerFormatError with a bilingual reason for anything unreadable, and
    ValueError for an unknown ``kind`` (a caller bug, not a trainee's).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if not options or not all(isinstance(o, str) and re.fullmatch("[A-Z]", o) for o in options):
        raise ValueError(f"options must be upper-case letters such as ('A', 'B', 'C', 'D'), got {options!r}")
    if answer is None:
        return None
    if isinstance(answer, (list, tuple, set, frozenset)) and not answer:
        return None
    if isinstance(answer, str) and _is_blank(_text(answer)):
        return None
    if kind == "truefalse":
        return _truefalse(answer)
    letters = _letters(answer, kind, options)
    if not letters:
        return None
    if kind == "multiple":
        return letters
    if len(letters) > 1:
        _fail(kind, f"single choice takes exactly one option, got {answer!r}", "单选题只能选一个选项")
    return next(iter(letters))


def _truefalse(answer) -> bool:
    if isinstance(answer, bool):
        return answer
    if isinstance(answer, int):  # 1/0 as typed in Python; other numbers mean nothing here
        if answer in (0, 1):
            return bool(answer)
        _fail("truefalse", f"{answer!r} is not a true/false answer (only 1 or 0)", f"{answer!r} 不是判断题答案（数字只能是 1 或 0）")
    if not isinstance(answer, str):
        _bad_type(answer, "truefalse")
    word = _text(answer).casefold().strip(_BRACKETS + " ").rstrip(".。").strip()
    if word in TRUE_FALSE:
        return TRUE_FALSE[word]
    if word in AMBIGUOUS_MARKS:
        _fail("truefalse", f"{answer!r} is ambiguous (a tick/cross or a letter?)", f"{answer!r} 有歧义（是勾叉还是字母？）")
    if len(word) == 1 and "a" <= word <= "f":
        _fail("truefalse", f"true/false items have no option letters, got {answer!r}", f"判断题没有选项字母，收到 {answer!r}")
    _fail("truefalse", f"{answer!r} is not a true/false answer", f"{answer!r} 不是判断题答案")


def _letters(answer, kind: str, options: tuple[str, ...]) -> frozenset[str]:
    """Every option letter in ``answer`` (text or a collection of texts); empty when all blank."""
    if isinstance(answer, str):
        return _letters_in_text(answer, kind, options)
    if isinstance(answer, (list, tuple, set, frozenset)):
        found: set[str] = set()
        for element in answer:
            if not isinstance(element, str):
                _bad_type(element, kind, inside=answer)
            if not _is_blank(_text(element)):
                found |= _letters_in_text(element, kind, options)
        return frozenset(found)
    _bad_type(answer, kind)


def _letters_in_text(answer: str, kind: str, options: tuple[str, ...]) -> frozenset[str]:
    shown_en, shown_zh = ", ".join(options), "、".join(options)
    found: set[str] = set()
    for token in filter(None, _SEPARATORS.split(_text(answer).upper())):
        match = _TOKEN.fullmatch(token)
        if match is None:
            bare = token.strip(_BRACKETS + ".。")
            if bare.isdigit():
                _fail(kind, f"choice items take option letters, not numbers: got {answer!r}",
                      f"选择题请填写选项字母，不要填数字：收到 {answer!r}")
            _fail(kind, f"cannot read {answer!r} as option letters ({shown_en})",
                  f"无法把 {answer!r} 识别为选项字母（{shown_zh}）")
        letters = set(match.group(1))
        if not letters <= set(options):
            _fail(kind, f"{answer!r} is not among the options {shown_en}", f"{answer!r} 不是本题的选项（{shown_zh}）")
        found |= letters
    if not found:  # only separators, e.g. ","
        _fail(kind, f"cannot read {answer!r} as option letters ({shown_en})", f"无法把 {answer!r} 识别为选项字母（{shown_zh}）")
    return frozenset(found)


def _bad_type(value, kind: str, inside=None) -> NoReturn:
    where_en = f" inside {inside!r}" if inside is not None else ""
    where_zh = f"（位于 {inside!r} 中）" if inside is not None else ""
    if kind != "truefalse" and isinstance(value, bool):
        _fail(kind, f"True/False{where_en} is for true/false items, not a choice item",
              f"True/False{where_zh} 只用于判断题，不能回答选择题")
    if kind != "truefalse" and isinstance(value, int):
        _fail(kind, f"choice items take option letters, not numbers: got {value!r}{where_en}",
              f"选择题请填写选项字母，不要填数字：收到 {value!r}{where_zh}")
    name = type(value).__name__
    _fail(kind, f"an answer cannot be a {name}: got {value!r}{where_en}", f"答案不能是 {name} 类型：收到 {value!r}{where_zh}")
