"""The roster: trainees and their stations (grader/roster.csv: ``student_id,name,station``)."""

from __future__ import annotations

import csv
from dataclasses import dataclass


class RosterError(ValueError):
    """A roster that cannot be used; the message lists every bad row."""


@dataclass(frozen=True)
class Trainee:
    student_id: str  #: nbgrader student id (= JupyterHub user name)
    name: str  #: display name
    station: int  #: station number on the plant (1-based)


def load_roster(path) -> dict[str, Trainee]:
    """Trainees by student id; rows numbered from 2 (the header is row 1) in errors."""
    problems, out, stations = [], {}, {}
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = {"student_id", "station"} - set(reader.fieldnames or ())
        if missing:
            raise RosterError(f"{path}: missing column(s) {sorted(missing)}; need student_id,name,station")
        for n, row in enumerate(reader, start=2):
            sid = (row.get("student_id") or "").strip()
            if not sid:
                problems.append(f"row {n}: empty student_id")
                continue
            try:
                station = int(row["station"])
                if station < 1:
                    raise ValueError
            except (TypeError, ValueError):
                problems.append(f"row {n}: station {row.get('station')!r} is not a positive integer")
                continue
            if sid in out:
                problems.append(f"row {n}: student {sid!r} listed twice")
                continue
            if station in stations:
                problems.append(f"row {n}: station {station} already given to {stations[station]!r}")
                continue
            stations[station] = sid
            out[sid] = Trainee(sid, (row.get("name") or "").strip(), station)
    if problems:
        raise RosterError(f"{path}: " + "; ".join(problems))
    return out
