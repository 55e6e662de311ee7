"""A grading worker: one process, nbgrader imported once, autogrades the jobs it reads from stdin.

    python -m daqlab.course.worker COURSE ASSIGNMENT TIMEOUT

Each stdin line is a JSON job ``{"student": ..., "env": {...}}``; the worker sets ``env`` in its own
(trusted) environment, runs nbgrader's ``autograde`` with its Execute step replaced by
daqlab.course.trusted.TrustedGrade (sandboxed run, trusted scores; the sandbox's job user is derived
from the worker's pid, so no two live workers share one) and answers one JSON line ``{"student", "success", "log", "seconds", "flags", "errors",
"grader_error"}`` on stdout. nbgrader's own logging goes to stderr. The parent kills the worker's process
group when a job overruns (the sandbox dies with it).
"""

from __future__ import annotations

import json
import os
import sys
import time


def main() -> None:
    course, assignment, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3])
    # the job user: unique among the workers alive on this machine (two graders at once never share one)
    slot = str(os.getpid() % 20000)
    os.chdir(course)
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        IgnorePattern,
        LimitOutput,
        SaveAutoGrades,
    )
    from traitlets.config.loader import PyFileConfigLoader

    from daqlab.course import trusted

    config = PyFileConfigLoader("nbgrader_config.py", path=".").load_config()
    config.CourseDirectory.root = os.path.abspath(".")
    # nbgrader's own list, with Execute (the trainee's code in the grader's process) replaced
    config.Autograde.autograde_preprocessors = [trusted.TrustedGrade, IgnorePattern, ClearMetadataPreprocessor,
                                                LimitOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
    base_env = dict(os.environ)
    out = sys.stdout
    sys.stdout = sys.stderr  # keep the protocol channel clean of anything nbgrader prints
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    for line in sys.stdin:
        job = json.loads(line)
        os.environ.clear()
        os.environ.update(base_env)
        os.environ.update(job.get("env") or {})
        os.environ.update(DAQLAB_CELL_TIMEOUT=str(timeout), DAQLAB_SLOT=slot)
        trusted.LAST.pop(job["student"], None)
        t0 = time.monotonic()
        try:
            api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
            res = api.autograde(assignment, job["student"], force=True, create=True)
            reply = {"success": bool(res.get("success")), "log": (res.get("log") or "")[-6000:],
                     "error": str(res.get("error") or "")[-3000:]}
        except Exception as exc:  # report, never die: the next job must still run
            reply = {"success": False, "log": "", "error": f"{type(exc).__name__}: {exc}"}
        reply.update(trusted.LAST.pop(job["student"], {"flags": [], "errors": [], "grader_error": ""}))
        reply.update(student=job["student"], seconds=time.monotonic() - t0)
        out.write(json.dumps(reply) + "\n")
        out.flush()
    out.flush()
    os._exit(0)  # stdin closed: leave without the interpreter's slow teardown (nothing is left to flush)


if __name__ == "__main__":
    main()
