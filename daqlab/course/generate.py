"""source/ -> release/ through nbgrader (release/ is only ever written this way).

All assignments are generated in one nbgrader process through its Python API (nbgrader start-up
costs ~2.5 s per CLI call); the process runs in the course folder so nbgrader_config.py applies.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from daqlab.course.nbg import Run, nbgrader_env

_SCRIPT = r"""
import json, sys, time
from traitlets.config import Config
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from traitlets.config.loader import PyFileConfigLoader
c = PyFileConfigLoader("nbgrader_config.py", path=".").load_config()
api = NbGraderAPI(coursedir=CourseDirectory(config=c), config=c)
out = {}
for name in json.loads(sys.argv[1]):
    t0 = time.monotonic()
    r = api.generate_assignment(name, force=True)
    out[name] = {"ok": bool(r["success"]), "log": (r.get("log") or "") + (r.get("error") or ""),
                 "seconds": time.monotonic() - t0}
print("DAQLAB-RESULT " + json.dumps(out))
"""


def source_assignments(course: Path) -> list[str]:
    """Assignment ids under source/ (folders holding a notebook; source/exam holds the bank)."""
    src = Path(course) / "source"
    return sorted(p.name for p in src.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def generate_all(course: Path, names=None) -> dict[str, Run]:
    names = list(names or source_assignments(course))
    p = subprocess.run([sys.executable, "-c", _SCRIPT, json.dumps(names)], cwd=course, env=nbgrader_env(),
                       capture_output=True, text=True, timeout=1800)
    line = next((x for x in p.stdout.splitlines() if x.startswith("DAQLAB-RESULT ")), None)
    if line is None:
        return {n: Run(p.returncode or 1, p.stdout + p.stderr, 0.0) for n in names}
    res = json.loads(line.split(" ", 1)[1])
    return {n: Run(0 if r["ok"] else 1, r["log"], r["seconds"]) for n, r in res.items()}
