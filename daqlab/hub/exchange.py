"""nbgrader's collect, with the submitter's identity taken from the OS account that owns the submission.

A trainee names their submission (``inbound/<student>+<assignment>+<time>+<random>``) and could write any
name: stock nbgrader only *warns* when the owner differs (``CollectApp.check_owner``) and collects it anyway.
On the hub with per-user accounts (:mod:`daqlab.hub.system`) the owner of a submission is ``dq-<student>``;
:class:`OwnedCollect` collects, per student, the newest submission that student's account owns, skips every
other one, and appends one JSON line per skipped submission to ``<course root>/forged-submissions.jsonl``
(who claimed to be whom, when) for the instructor. Selected with ``ExchangeFactory.collect`` in the
instructor's nbgrader config; the formgrader's Collect button and ``nbgrader collect`` both use it.
"""

from __future__ import annotations

import json
import os
import pwd
from pathlib import Path

from nbgrader.exchange.default.collect import ExchangeCollect
from traitlets import Bool

from daqlab.hub.system import hub_user

FORGED_LOG = "forged-submissions.jsonl"


def owner_of(path) -> str | None:
    """The hub user whose account owns ``path`` (None: a file no DAQ Lab account owns)."""
    try:
        return hub_user(pwd.getpwuid(os.stat(path).st_uid).pw_name)
    except (KeyError, OSError):
        return None


class OwnedCollect(ExchangeCollect):
    """Collect only what the claimed student's own account submitted (see the module docstring)."""

    require_owner = Bool(True, config=True, help="skip submissions not owned by the claimed student's account")

    def init_src(self):
        super().init_src()
        if not self.require_owner:
            return
        self.check_owner = False  # nbgrader's check only warns; ours decides
        keep, forged = [], []
        for latest in self.src_records:
            student = latest["username"]
            mine = [r for r in self._records_of(student) if owner_of(Path(self.inbound_path, r["filename"])) == student]
            forged += [r for r in self._records_of(student) if r not in mine]
            if mine:
                keep.append(max(mine, key=lambda r: r["timestamp"]))
        self.src_records = keep
        for r in forged:
            owner = owner_of(Path(self.inbound_path, r["filename"])) or "an unknown account"
            self.log.warning("DAQ Lab: %s claims to be from %s but was submitted by %s: not collected",
                             r["filename"], r["username"], owner)
            self._record_forgery(r, owner)

    def _records_of(self, student):
        pattern = f"{student}+{self.coursedir.assignment_id}+"
        return [self._path_to_record(p) for p in Path(self.inbound_path).iterdir() if p.name.startswith(pattern)]

    def _record_forgery(self, rec, owner) -> None:
        from daqlab.atomic import locked, write_atomic

        log = Path(self.coursedir.root) / FORGED_LOG
        line = json.dumps({"assignment": self.coursedir.assignment_id, "claimed": rec["username"],
                           "submitted_by": owner, "file": rec["filename"], "time": str(rec["timestamp"])},
                          ensure_ascii=False)
        with locked(log):
            known = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
            if line not in known:
                write_atomic(log, "".join(x + "\n" for x in [*known, line]))
