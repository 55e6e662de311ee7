"""Lessons in both editions: clean (no outputs), structured the same way (Chinese-first headings, time and
prerequisites, objectives, bilingual key terms, summary), Chinese the main language of the prose; the glossary and
the course map cover every lesson. (Running them: tests/test_lessons.py.)"""

import json
import re
from pathlib import Path

import pytest

from daqlab.editions import language_counts

ROOT = Path(__file__).resolve().parents[1]
TEACHER = sorted((ROOT / "teacher" / "lessons").glob("[0-9][0-9]-*.ipynb"))
STUDENT = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
CHINESE_PER_ENGLISH_WORD = 2.0  #: at least this many Chinese characters per English word in the prose


def test_both_editions_hold_the_same_lessons():
    assert TEACHER and [p.name for p in TEACHER] == [p.name for p in STUDENT]


@pytest.mark.parametrize("path", TEACHER + STUDENT, ids=lambda p: f"{p.parent.name}/{p.name[:2]}")
def test_lesson_is_clean_and_structured(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert not cell.get("outputs") and not cell.get("execution_count"), f"{path.name}: committed outputs"
    first = "".join(nb["cells"][0]["source"])
    assert re.match(rf"# {path.name[:2]} · ", first), "title: '# NN · 中文标题 · English title'"
    assert "**建议学时**" in first and "**先修**" in first, "time estimate and prerequisites in the first cell"
    assert "**学习目标 · Learning objectives**" in first and "**关键术语 · Key terms**" in first
    text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "## 小结 · Summary" in text


@pytest.mark.parametrize("path", STUDENT, ids=lambda p: p.name[:2])
def test_chinese_is_the_main_language_of_the_prose(path):
    zh, en = language_counts(json.loads(path.read_text(encoding="utf-8")))
    assert zh >= CHINESE_PER_ENGLISH_WORD * en, f"{path.name}: {zh} Chinese characters, {en} English words"


def test_the_glossary_and_the_course_map_cover_every_lesson():
    glossary = (ROOT / "notebooks" / "glossary.md").read_text(encoding="utf-8")
    course_map = (ROOT / "notebooks" / "course-map.md").read_text(encoding="utf-8")
    for p in STUDENT:
        n = p.name[:2]
        assert re.search(rf"\| {n} \|", course_map), f"course map: no row for lesson {n}"
        assert re.search(rf"\| {n} \|$", glossary, re.M), f"glossary: no term introduced in lesson {n}"
    for wrong in ("代理服务器", "哨兵值", "0 基", "1 基"):
        assert wrong not in glossary, f"glossary uses {wrong!r} (see issue #16's terms)"
