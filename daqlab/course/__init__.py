"""Instructor pipeline over nbgrader: generate, release, collect, grade, feedback, export."""

import os
import sys
from pathlib import Path

# nbgrader creates and migrates gradebooks by running `alembic` from PATH, also in-process (Gradebook()):
# make the one beside this interpreter findable even when the venv is not activated (make test, cron).
_bin = str(Path(sys.executable).parent)
if _bin not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = os.pathsep.join([_bin, os.environ.get("PATH", "")])
