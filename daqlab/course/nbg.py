"""nbgrader, run for real as subprocesses on a course folder (the folder holding nbgrader_config.py).

Each call is a separate ``python -m nbgrader`` process: its environment is the kernel's environment
(nbgrader passes it on), which is how the grading pipeline hands a submission's student id and the
instructor-side paths to the hidden tests, and separate processes let grading run in parallel.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Run:
    returncode: int  #: exit status of nbgrader
    output: str  #: stdout and stderr together (nbgrader logs to stderr)
    seconds: float  #: wall time

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def nbgrader_env(env: dict | None = None) -> dict:
    """The environment for an nbgrader process: ours, plus ``env``, with the venv's bin on PATH."""
    full_env = dict(os.environ, **(env or {}))
    full_env.pop("NBGRADER_EXECUTION", None)  # nbgrader sets it for its kernels; never inherit a stale one
    # nbgrader runs `alembic` (gradebook migrations) from PATH: use the one beside this interpreter
    full_env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), full_env.get("PATH", "")])
    return full_env


def nbgrader(course: Path, *args: str, env: dict | None = None, timeout: float = 900) -> Run:
    """Run ``nbgrader ARGS`` in ``course`` with extra environment variables ``env``."""
    import time

    t0 = time.monotonic()
    full_env = nbgrader_env(env)
    try:
        p = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=full_env, capture_output=True,
                           text=True, timeout=timeout)
        return Run(p.returncode, p.stdout + p.stderr, time.monotonic() - t0)
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return Run(-9, out + f"\nnbgrader timed out after {timeout:.0f} s", time.monotonic() - t0)


def generate(course: Path, assignment: str) -> Run:
    """source/<assignment> -> release/<assignment> (and the assignment in the gradebook)."""
    return nbgrader(course, "generate_assignment", assignment, "--force")


def autograde(course: Path, assignment: str, student: str, env: dict | None = None, timeout: float = 900) -> Run:
    return nbgrader(course, "autograde", assignment, "--student", student, "--force", env=env, timeout=timeout)
