"""Rosters as schools really save them, and every bad row named with its file and row number."""

import pytest

from daqlab.course.roster import MAX_STATION, RosterError, load_roster

GOOD = "student_id,name,station\nzhang.san,张三,1\nli-si,李四,2\n"


@pytest.mark.parametrize("encoding,text", [
    ("utf-8", GOOD),
    ("utf-8-sig", GOOD),  # Excel's "CSV UTF-8" (with a BOM)
    ("utf-16", GOOD.replace(",", "\t")),  # Excel's "Unicode text": UTF-16 with a BOM, tab-separated
    ("gbk", GOOD),  # Chinese Excel's default "CSV"
    ("gb18030", GOOD.replace("\n", "\r\n")),
])
def test_every_encoding_schools_save_is_read(tmp_path, encoding, text):
    path = tmp_path / "roster.csv"
    path.write_bytes(text.encode(encoding))
    roster = load_roster(path)
    assert [(t.student_id, t.name, t.station) for t in roster.values()] == [("zhang.san", "张三", 1), ("li-si", "李四", 2)]


def test_every_bad_row_is_named_at_once(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("student_id,name,station\nalice,A,1\nalice,A2,2\nBob,B,3\ncarol,C,1\ndave,D,99999999\n"
                    ",E,5\nerin,E,x\n\nfrank,F,4\n", encoding="utf-8")
    with pytest.raises(RosterError) as err:
        load_roster(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: 6 bad row(s)")
    for expected in ("row 3: student 'alice' is listed twice", "row 4: student_id 'Bob' must be lower case",
                     "row 5: station 1 of 'carol' is already given to 'alice'",
                     f"row 6: station '99999999' of 'dave' must be a whole number 1-{MAX_STATION}",
                     "row 7: empty student_id", "row 8: station 'x'"):
        assert expected in msg, expected


@pytest.mark.parametrize("content,phrase", [
    ("student_id,name,station\n", "no trainees"),
    ("id,name\nalice,A\n", r"missing column\(s\) station, student_id"),
])
def test_a_roster_that_cannot_be_used_says_why(tmp_path, content, phrase):
    path = tmp_path / "roster.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RosterError, match=phrase):
        load_roster(path)


def test_a_missing_or_binary_roster_says_what_to_do(tmp_path):
    with pytest.raises(RosterError, match="no such roster"):
        load_roster(tmp_path / "nope.csv")
    (tmp_path / "x.csv").write_bytes(bytes(range(128, 256)) * 3)
    with pytest.raises(RosterError):
        load_roster(tmp_path / "x.csv")
