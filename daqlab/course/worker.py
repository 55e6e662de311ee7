"""A grading worker: one process, nbgrader imported once, autogrades the jobs it reads from stdin.

    python -m daqlab.course.worker COURSE ASSIGNMENT TIMEOUT

Each stdin line is a JSON job ``{"student": ..., "env": {...}}``; the worker sets ``env`` in its own
environment (the kernel nbgrader starts inherits it), runs ``autograde`` and answers one JSON line
``{"student", "success", "log", "seconds"}`` on stdout. nbgrader's own logging goes to stderr.
The parent limits the worker's memory (RLIMIT_AS, inherited by its kernels) and kills its process
group when a job overruns.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main() -> None:
    course, assignment, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3])
    os.chdir(course)
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=".").load_config()
    config.Execute.timeout = timeout
    config.Execute.shutdown_kernel = "immediate"
    config.CourseDirectory.root = os.path.abspath(".")
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
        t0 = time.monotonic()
        try:
            api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
            res = api.autograde(assignment, job["student"], force=True, create=True)
            reply = {"success": bool(res.get("success")), "log": (res.get("log") or "")[-6000:],
                     "error": str(res.get("error") or "")[-3000:]}
        except Exception as exc:  # report, never die: the next job must still run
            reply = {"success": False, "log": "", "error": f"{type(exc).__name__}: {exc}"}
        reply.update(student=job["student"], seconds=time.monotonic() - t0)
        out.write(json.dumps(reply) + "\n")
        out.flush()
    out.flush()
    os._exit(0)  # stdin closed: leave without the interpreter's slow teardown (nothing is left to flush)


if __name__ == "__main__":
    main()
