"""The clock of a timed theory paper: a duration, a window, a start recorded on the server, lateness.

- The instructor's settings travel with the release: ``exam.json`` in the assignment folder
  (``{"minutes": 60, "closes": "2026-12-05T11:00:00+08:00" | null}``), written by ``daqlab exam build`` from
  the blueprint (exam mode only: practice papers are untimed) and changed with ``daqlab exam window``.
- A trainee's clock starts when they first open their paper. On the hub the exchange service records that
  moment (``POST api/clock``, :mod:`daqlab.hub.exchange_service`): the trainee's kernel cannot move it. The
  deadline is ``min(start + minutes, closes)``; the form counts down to it and locks at zero.
- Lateness is decided on the instructor's side: ``daqlab course collect`` (through the service) saves every
  trainee's recorded start in ``<course>/exam-clocks/<assignment>.json``; the grader compares the
  submission's time (stamped by the service) with the deadline and flags a late submission with the minutes.
  It is graded like any other; the instructor decides what late costs.
- Without the service (a lab, practice at home) the form keeps a local start in the assignment folder: it
  shows a countdown but proves nothing, and the grader ignores it.
"""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

EXAM_FILE = "exam.json"  #: the clock settings beside the released notebook
CLOCKS_DIR = "exam-clocks"  #: <course>/exam-clocks/<assignment>.json: {student: started ISO} from the service
LOCAL_CLOCK = ".exam-clock.json"  #: the form's own start without a service (not trusted)


def parse_time(text: str | None) -> datetime | None:
    """ISO times and nbgrader's timestamps ("2026-12-03 15:45:08.097326 UTC") as aware datetimes."""
    if not text:
        return None
    text = str(text).strip().replace(" UTC", "+00:00")
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def settings(folder: Path) -> dict | None:
    """The clock settings in ``folder/exam.json`` (None: an untimed paper)."""
    path = Path(folder) / EXAM_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if data.get("minutes") else None
    except (OSError, ValueError, AttributeError):
        return None


def deadline(started: datetime | None, minutes: float | None, closes: datetime | None) -> datetime | None:
    ends = [t for t in (started + timedelta(minutes=minutes) if started and minutes else None, closes) if t]
    return min(ends) if ends else None


def lateness(submitted: datetime | None, started: datetime | None, conf: dict | None) -> dict:
    """``{"deadline", "late_minutes", "used_minutes"}`` of one submission (None where unknown)."""
    conf = conf or {}
    due = deadline(started, conf.get("minutes"), parse_time(conf.get("closes")))
    late = None
    if submitted and due:
        over = (submitted - due).total_seconds()
        late = math.ceil(over / 60) if over > 0 else 0
    used = round((submitted - started).total_seconds() / 60, 1) if submitted and started else None
    return {"deadline": due.isoformat() if due else None, "late_minutes": late, "used_minutes": used}


def started_by_service(course_root: Path, assignment: str, student: str) -> datetime | None:
    path = Path(course_root) / CLOCKS_DIR / f"{assignment}.json"
    try:
        return parse_time(json.loads(path.read_text(encoding="utf-8")).get(student))
    except (OSError, ValueError, AttributeError):
        return None


# ------------------------------------------------------------------ trainee side
def start(assignment: str, folder: Path, course: str = "daqlab") -> dict | None:
    """Start (or resume) this trainee's clock; ``{"started", "deadline", "offset_s", "trusted"}`` or None when
    the paper is untimed. ``offset_s``: server time minus this machine's time."""
    conf = settings(folder)
    if conf is None:
        return None
    url, token = os.environ.get("DAQLAB_EXCHANGE_URL"), os.environ.get("JUPYTERHUB_API_TOKEN")
    now = datetime.now(UTC)
    if url and token:
        import urllib.parse
        import urllib.request

        query = urllib.parse.urlencode({"course": course, "assignment": assignment})
        req = urllib.request.Request(f"{url.rstrip('/')}/api/clock?{query}", data=b"", method="POST")
        req.add_header("Authorization", f"token {token}")
        with urllib.request.urlopen(req, timeout=30) as resp:
            got = json.loads(resp.read())
        started, server_now = parse_time(got["started"]), parse_time(got["now"])
        offset = (server_now - now).total_seconds() if server_now else 0.0
        trusted = True
    else:
        path = Path(folder) / LOCAL_CLOCK
        try:
            started = parse_time(json.loads(path.read_text(encoding="utf-8"))["started"])
        except (OSError, ValueError, KeyError, TypeError):
            started = None
        if started is None:
            from daqlab.atomic import write_atomic

            started = now
            write_atomic(path, json.dumps({"started": now.isoformat()}))
        offset, trusted = 0.0, False
    due = deadline(started, conf.get("minutes"), parse_time(conf.get("closes")))
    return {"started": started, "deadline": due, "offset_s": offset, "trusted": trusted,
            "minutes": conf.get("minutes")}
