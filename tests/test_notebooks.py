"""Lessons: clean (no outputs), structured (objectives, bilingual key terms), and run top to bottom."""

import json
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))


def test_there_are_lessons():
    assert LESSONS, "notebooks/ has no NN-Title.ipynb lessons"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_lesson_is_clean_and_structured(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert not cell.get("outputs") and not cell.get("execution_count"), f"{path.name}: committed outputs"
    text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "Learning objectives" in text and "学习目标" in text
    assert "Key terms" in text and re.search(r"[\u4e00-\u9fff]", text)
    assert "Summary" in text


@pytest.mark.slow
@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_lesson_runs_top_to_bottom_in_a_fresh_kernel(path, tmp_path):
    """Every cell runs without an error (how long they take is measured in bench/, not asserted here).

    With every core loaded, a cell of lesson 08 once in a few runs never got its execute reply (kernel
    and client both idle; not root-caused, also with ipykernel 6). A cell that gets no reply in 100 s is
    such a hang, not slowness: the lesson is run once more in a fresh kernel, and that run must pass."""
    from nbclient.exceptions import CellTimeoutError

    nb = nbformat.read(path, as_version=4)
    try:
        NotebookClient(nb, timeout=100, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    except CellTimeoutError:
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=100, kernel_name="python3",
                       resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.get("output_type") == "error"]
    assert not errors
