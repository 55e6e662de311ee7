"""Times as the people in the room read them: the training centre's time zone, whole seconds.

Servers (and containers) usually run in UTC; a teacher in Shenzhen reads 09:30, not 01:30:12.345678 UTC.
Screens format times with :func:`clock` / :func:`stamp` in :func:`zone`: ``$DAQLAB_TZ`` (an IANA name),
default ``Asia/Shanghai`` (China Standard Time, UTC+8, no daylight saving: a fixed offset when the system has
no time-zone database).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone, tzinfo

TZ_ENV = "DAQLAB_TZ"
DEFAULT_TZ = "Asia/Shanghai"


def zone(environ=None) -> tzinfo:
    name = (os.environ if environ is None else environ).get(TZ_ENV) or DEFAULT_TZ
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception:  # no tz database, or an unknown name: China Standard Time, or UTC for another name
        return timezone(timedelta(hours=8), "CST") if name == DEFAULT_TZ else UTC


def _aware(t) -> datetime:
    if isinstance(t, (int, float)):
        return datetime.fromtimestamp(t, UTC)
    if hasattr(t, "to_pydatetime"):
        t = t.to_pydatetime()
    return t if t.tzinfo else t.astimezone()  # a naive time is this machine's local time


def clock(t, environ=None) -> str:
    """``HH:MM:SS`` of an epoch or a datetime, in the centre's zone."""
    return _aware(t).astimezone(zone(environ)).strftime("%H:%M:%S")


def stamp(t, environ=None) -> str:
    """``YYYY-MM-DD HH:MM`` (and the zone's abbreviation) of an epoch, a datetime or an ISO text."""
    if isinstance(t, str):
        t = datetime.fromisoformat(t.replace(" UTC", "+00:00"))
    return _aware(t).astimezone(zone(environ)).strftime("%Y-%m-%d %H:%M")
