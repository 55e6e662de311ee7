"""Theory answers are read from the notebook's text as literals: nothing is run (daqlab.exam.literal)."""

from daqlab.exam.literal import read_cells


def cells(*sources):
    return [{"cell_type": "code", "source": s} for s in sources]


def test_plain_literals_are_read_and_the_last_assignment_counts():
    sheet = read_cells(cells('# 单选\nsingle = {1: "B", 2: ""}', 'multiple = {3: "A,C"}', 'single = {1: "C"}'))
    assert sheet.answers == {1: "C", 3: "A,C"} and not sheet.problems


def test_code_never_runs_and_its_variable_scores_nothing():
    sheet = read_cells(cells('single = {i: "A" for i in range(1, 51)}', 'truefalse = {66: True}',
                             'truefalse[67] = False', 'multiple = dict(a=1)', '__import__("os").system("id")'))
    assert sheet.answers == {}
    assert set(sheet.unreadable) == {"single", "truefalse", "multiple"}
    assert len(sheet.problems) == 3 and all("literal" in p for p in sheet.problems)


def test_syntax_errors_and_other_cells_are_reported_not_raised():
    sheet = read_cells(cells('single = {1: "B"', 'print("hello")', 'multiple = {5: "A"}') +
                       [{"cell_type": "markdown", "source": "single = {1: 'A'}"}])
    assert sheet.answers == {5: "A"} and "syntax error" in sheet.unreadable["single"]
