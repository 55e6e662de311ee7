"""Release, collect and return feedback through nbgrader's exchange (a shared folder).

The exchange root defaults to nbgrader's (/srv/nbgrader/exchange); pass ``exchange`` for another one
(JupyterHub deployments set it in a global nbgrader_config.py).
"""

from __future__ import annotations

from pathlib import Path

from daqlab.course.nbg import Run, nbgrader


def _ex(exchange) -> list[str]:
    return [f"--Exchange.root={exchange}"] if exchange else []


def release(course: Path, assignment: str, exchange=None) -> Run:
    """Put release/<assignment> in the exchange for trainees to fetch."""
    return nbgrader(course, "release_assignment", assignment, "--force", *_ex(exchange))


def collect(course: Path, assignment: str, exchange=None) -> Run:
    """Copy the latest submission of every trainee into submitted/."""
    return nbgrader(course, "collect", assignment, "--update", *_ex(exchange))


def feedback(course: Path, assignment: str, exchange=None, *, release_to_exchange: bool = True) -> list[Run]:
    """Generate feedback HTML (feedback/) and, when an exchange is used, return it to trainees."""
    runs = [nbgrader(course, "generate_feedback", assignment, "--force")]
    if release_to_exchange:
        runs.append(nbgrader(course, "release_feedback", assignment, *_ex(exchange)))
    return runs
