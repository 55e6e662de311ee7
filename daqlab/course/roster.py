"""The roster: trainees and their stations (grader/roster.csv: ``student_id,name,station[,bench]``).

An optional ``bench`` column names a real bench's description (YAML, :mod:`daqlab.benches`, relative to the
roster) for a trainee who works at a real bench instead of the simulated station: it must load and describe
that trainee's station number.

One loader and one set of rules for every command (course roster/grade/export, hub, broker, dashboards):

- **encodings** schools really save: UTF-8 (with or without the BOM Excel writes), UTF-16 (Excel's
  "Unicode text", tab- or comma-separated) and GBK/GB18030 (Chinese Excel's default "CSV");
- **student ids** are hub user names: lower case letters, digits, ``.``, ``_``, ``-``, starting with a
  letter or digit, at most 64 characters (JupyterHub normalises names to lower case; nbgrader uses the id
  as a folder name);
- **stations** are whole numbers 1-:data:`MAX_STATION`, each given to one trainee;
- a roster with no trainee is an error, as is a missing column.

Every bad row is reported with the file and its row number (the header is row 1), all at once.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

MAX_STATION = 500  #: station k listens on base port + k: keep every port valid and the plant a classroom's size
ID_RULE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
ID_HELP = "lower case letters, digits, '.', '_' or '-' (at most 64, starting with a letter or digit)"


class RosterError(ValueError):
    """A roster that cannot be used; the message lists every bad row."""


@dataclass(frozen=True)
class Trainee:
    student_id: str  #: nbgrader student id (= JupyterHub user name)
    name: str  #: display name
    station: int  #: station number on the plant (1-based)
    bench: str = ""  #: a real bench's description (YAML, daqlab.benches), absolute path; empty: the simulated station


def decode(raw: bytes, path) -> str:
    """The text of a roster file in whichever encoding it was saved (see the module's list)."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16")
    if raw.startswith(codecs.BOM_UTF8):
        return raw[3:].decode("utf-8")
    if len(raw) >= 4 and raw[1] == 0 and raw[3] == 0:  # UTF-16 LE without a BOM
        return raw.decode("utf-16-le")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise RosterError(f"{path}: not a text file in UTF-8, UTF-16 or GBK (byte {exc.start}); "
                          "save it from Excel as 'CSV UTF-8'") from exc


def check_id(sid: str) -> str:
    """Why ``sid`` cannot be a student id ("" when it can)."""
    if not ID_RULE.match(sid):
        return f"student_id {sid!r} must be {ID_HELP}"
    return ""


def load_roster(path) -> dict[str, Trainee]:
    """Trainees by student id, in roster order; RosterError naming every bad row otherwise."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError as exc:
        raise RosterError(f"{path}: no such roster; give the path of a CSV with student_id,name,station") from exc
    except OSError as exc:
        raise RosterError(f"{path}: cannot read the roster ({exc.strerror})") from exc
    text = decode(raw, path)
    first = text.splitlines()[0] if text.strip() else ""
    dialect = "excel-tab" if "\t" in first and "," not in first else "excel"
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    fields = [f.strip().lower() for f in (reader.fieldnames or [])]
    reader.fieldnames = fields
    missing = {"student_id", "station"} - set(fields)
    if missing:
        raise RosterError(f"{path}: missing column(s) {', '.join(sorted(missing))}; the header must be "
                          "student_id,name,station")
    problems, out, stations = [], {}, {}
    for n, row in enumerate(reader, start=2):
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue  # blank line (Excel leaves them)
        sid = (row.get("student_id") or "").strip()
        raw_station = (row.get("station") or "").strip()
        why = "empty student_id" if not sid else check_id(sid)
        if why:
            problems.append(f"row {n}: {why}")
            continue
        try:
            station = int(raw_station)
            if not 1 <= station <= MAX_STATION:
                raise ValueError
        except ValueError:
            problems.append(f"row {n}: station {raw_station!r} of {sid!r} must be a whole number 1-{MAX_STATION}")
            continue
        if sid in out:
            problems.append(f"row {n}: student {sid!r} is listed twice")
            continue
        if station in stations:
            problems.append(f"row {n}: station {station} of {sid!r} is already given to {stations[station]!r}")
            continue
        bench = (row.get("bench") or "").strip()
        if bench:  # a real bench instead of the simulated station: its description must load and be this station
            from daqlab.benches import BenchError, load_bench

            bench = str((Path(path).parent / bench).resolve())
            try:
                b = load_bench(bench)
            except BenchError as exc:
                problems.append(f"row {n}: bench {row['bench'].strip()!r} of {sid!r}: {exc.problems[0][0]}: "
                                f"{exc.problems[0][1]}")
                continue
            if b.station != station:
                problems.append(f"row {n}: bench {row['bench'].strip()!r} describes station {b.station}, "
                                f"not {sid!r}'s station {station}")
                continue
        stations[station] = sid
        out[sid] = Trainee(sid, (row.get("name") or "").strip(), station, bench)
    if problems:
        raise RosterError(f"{path}: {len(problems)} bad row(s) (fix them and run again):\n  " + "\n  ".join(problems))
    if not out:
        raise RosterError(f"{path}: no trainees (only a header); add one row per trainee: student_id,name,station")
    return out
