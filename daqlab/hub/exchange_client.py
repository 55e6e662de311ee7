"""nbgrader's exchange operations over the exchange service (:mod:`daqlab.hub.exchange_service`).

Each class is nbgrader's own default exchange class run on a private, temporary copy of what the caller
may see of the exchange (a "mirror", mode 0700): the copy is downloaded from the service before nbgrader's
code runs, and what nbgrader wrote into it is uploaded afterwards. So every format nbgrader and its
JupyterLab Assignments list expect (names, timestamps, the cache, feedback hashes) stays nbgrader's, and
no trainee's server ever holds more than the releases and their own feedback.

=====================  =================================  ==================================================
operation              downloaded first                   uploaded after
=====================  =================================  ==================================================
fetch_assignment       the released assignment            -
list                   releases; own feedback (cached);   ``list --remove`` of a release: withdraws it
                       every submission (``--inbound``)
submit                 the released assignment            the submission; the service names it after the
                                                          signed-in user and stamps its own time, and the
                                                          local cache copy is renamed to match
fetch_feedback         own feedback                       -
release_assignment     -                                  the release (instructor)
collect                every submission of the            -
                       assignment; the exam clocks (saved
                       in ``<course>/exam-clocks/``)
release_feedback       -                                  the feedback files (instructor)
=====================  =================================  ==================================================

Chosen in ``nbgrader_config.py`` with ``c.ExchangeFactory.<operation> = "daqlab.hub.exchange_client.<Class>"``
(:func:`daqlab.hub.files.nbgrader_config` writes it when the hub runs the service). The service's URL comes
from ``$DAQLAB_EXCHANGE_URL`` and the user's identity from ``$JUPYTERHUB_API_TOKEN``, both set by the hub.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from nbgrader.exchange import ExchangeError
from nbgrader.exchange.default import (
    Exchange,
    ExchangeCollect,
    ExchangeFetchAssignment,
    ExchangeFetchFeedback,
    ExchangeList,
    ExchangeReleaseAssignment,
    ExchangeReleaseFeedback,
    ExchangeSubmit,
)
from traitlets import Float, Unicode, default

from daqlab.hub import tarballs

PARTS = ("outbound", "inbound", "feedback")


class ServiceExchange(Exchange):
    """What every operation shares: the service's address, the user's token, the mirror (placed before
    nbgrader's class of the operation, whose ``root`` it points at the mirror while the operation runs)."""

    service_url = Unicode("", help="the exchange service's base URL (default $DAQLAB_EXCHANGE_URL)").tag(config=True)
    api_token = Unicode("", help="the user's JupyterHub API token (default $JUPYTERHUB_API_TOKEN)").tag(config=True)
    http_timeout = Float(300.0, help="seconds to wait for the exchange service").tag(config=True)

    @default("service_url")
    def _default_url(self):
        return os.environ.get("DAQLAB_EXCHANGE_URL", "")

    @default("api_token")
    def _default_token(self):
        return os.environ.get("JUPYTERHUB_API_TOKEN", "")

    def call(self, method: str, endpoint: str, body: bytes | None = None, **params) -> bytes:
        if not self.service_url or not self.api_token:
            self.fail("没有连接交换服务（exchange service）：请在 JupyterHub 里打开 / no exchange service: "
                      "DAQLAB_EXCHANGE_URL and JUPYTERHUB_API_TOKEN are set by the hub")
        query = urllib.parse.urlencode({"course": self.coursedir.course_id, **{k: v for k, v in params.items() if v}})
        req = urllib.request.Request(f"{self.service_url.rstrip('/')}/api/{endpoint}?{query}", data=body, method=method)
        req.add_header("Authorization", f"token {self.api_token}")
        if body is not None:
            req.add_header("Content-Type", "application/gzip")
        try:
            with urllib.request.urlopen(req, timeout=self.http_timeout) as resp:
                return resp.read()
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read())["error"]
            except (ValueError, KeyError, OSError):
                message = f"HTTP {exc.code}"
            self.fail(f"交换服务拒绝了请求 / the exchange service refused: {message}")
        except OSError as exc:
            self.fail(f"连不上交换服务 / cannot reach the exchange service at {self.service_url}: {exc}")

    @contextmanager
    def mirrored(self, parts=(), assignment: str | None = None):
        """Point ``root`` at a fresh private mirror holding ``parts`` as the caller may see them."""
        course = self.coursedir.course_id
        if not course:
            self.fail("No course id specified. Re-run with --course flag.")
        mirror = Path(tempfile.mkdtemp(prefix="daqlab-exchange-"))  # mode 0700
        try:
            for part in PARTS:
                (mirror / course / part).mkdir(parents=True)
            if parts:
                data = self.call("GET", "view", parts=",".join(parts), assignment=assignment)
                got = tarballs.unpack(data, mirror / ".download")
                for part in parts:
                    for entry in (got / part).iterdir() if (got / part).is_dir() else []:
                        os.rename(entry, mirror / course / part / entry.name)
            self.root = str(mirror)
            yield mirror / course
        finally:
            shutil.rmtree(mirror, ignore_errors=True)

    def ensure_root(self):  # the mirror is ours; nbgrader's check of a world-writable exchange does not apply
        pass


class ServiceFetchAssignment(ServiceExchange, ExchangeFetchAssignment):
    def start(self):
        with self.mirrored(["outbound"], self.coursedir.assignment_id):
            return super().start()


class ServiceFetchFeedback(ServiceExchange, ExchangeFetchFeedback):
    def start(self):
        with self.mirrored(["feedback"], self.coursedir.assignment_id):
            return super().start()


class ServiceList(ServiceExchange, ExchangeList):
    def start(self):
        if self.inbound and self.cached:
            self.fail("Options --inbound and --cached are incompatible.")
        if self.remove and self.inbound:
            self.fail("交换服务不删除提交 / the exchange service keeps every submission (no --inbound --remove)")
        parts = ["inbound", "feedback"] if self.inbound else ["feedback"] if self.cached else ["outbound"]
        with self.mirrored(parts, self.coursedir.assignment_id or None):
            result = super().start()
            if self.remove and not self.cached:
                for info in result:
                    self.call("DELETE", "release", assignment=info["assignment_id"])
            return result


class ServiceSubmit(ServiceExchange, ExchangeSubmit):
    def start(self):
        with self.mirrored(["outbound"], self.coursedir.assignment_id) as course:
            result = super().start()
            sent = course / "inbound" / self.assignment_filename
            try:
                reply = json.loads(self.call("POST", "submit", tarballs.pack({"submission": sent}),
                                             assignment=self.coursedir.assignment_id))
            except ExchangeError:  # not submitted: the local record must not say it was
                shutil.rmtree(self._local_copy(), ignore_errors=True)
                raise
            self._match_cache(reply)
            self.log.info("提交成功 / submitted as %s at %s", reply["student"], reply["timestamp"])
            return result

    def _local_copy(self) -> Path:
        name = self.assignment_filename.rsplit("+", 1)[0] if self.add_random_string else self.assignment_filename
        return Path(self.cache_path) / name

    def _match_cache(self, reply: dict) -> None:
        """The local cache copy (nbgrader's record of this submission, used to find its feedback) is renamed
        to the name and time the service gave it."""
        local = self._local_copy()
        target = Path(self.cache_path) / f"{reply['student']}+{self.coursedir.assignment_id}+{reply['timestamp']}"
        if local.is_dir():
            (local / "timestamp.txt").write_text(reply["timestamp"])
            if target != local:
                if target.exists():
                    shutil.rmtree(target)
                os.rename(local, target)


class ServiceReleaseAssignment(ServiceExchange, ExchangeReleaseAssignment):
    def start(self):
        with self.mirrored() as course:
            result = super().start()
            a = self.coursedir.assignment_id
            self.call("PUT", "release", tarballs.pack({a: course / "outbound" / a}), assignment=a,
                      force="1" if self.force else "")
            self._practice_keys(a)
            return result

    def _practice_keys(self, assignment: str) -> None:
        """A practice theory paper: hand its keys to the service for instant feedback (:mod:`daqlab.exam.practice`)."""
        from daqlab.exam.blueprint import all_blueprints

        bp = all_blueprints().get(assignment)
        if bp is None or not bp.feedback:
            return
        from daqlab.exam.bank import load_bank
        from daqlab.exam.practice import keys_payload

        bank_dir = os.environ.get("DAQLAB_EXAM_BANK") or str(Path(self.coursedir.root) / "source" / "exam" / "bank")
        payload = keys_payload(load_bank(bank_dir), assignment, os.environ.get("DAQLAB_PAPER_SALT", ""),
                               self.coursedir.course_id)
        self.call("PUT", "practice", json.dumps(payload, ensure_ascii=False).encode(), assignment=assignment)


class ServiceCollect(ServiceExchange, ExchangeCollect):
    def start(self):
        self.check_owner = False  # the service named each submission after the account that sent it
        with self.mirrored(["inbound"], self.coursedir.assignment_id):
            result = super().start()
        self._save_clocks()
        return result

    def _save_clocks(self) -> None:
        """Every trainee's recorded start of a timed paper, for the grader's lateness check
        (``<course>/exam-clocks/<assignment>.json``, :mod:`daqlab.exam.clock`)."""
        from daqlab.atomic import write_atomic
        from daqlab.exam.clock import CLOCKS_DIR

        a = self.coursedir.assignment_id
        starts = json.loads(self.call("GET", "clock", assignment=a))
        if starts:
            folder = Path(self.coursedir.root) / CLOCKS_DIR
            folder.mkdir(exist_ok=True)
            write_atomic(folder / f"{a}.json", json.dumps(starts, indent=1))
        from daqlab.exam.blueprint import all_blueprints
        from daqlab.exam.practice import FIRST_DIR

        bp = all_blueprints().get(a)
        if bp is not None and bp.feedback:  # the first checked answers of a practice paper: what is graded
            firsts = json.loads(self.call("GET", "practice", assignment=a))
            folder = Path(self.coursedir.root) / FIRST_DIR
            folder.mkdir(exist_ok=True)
            write_atomic(folder / f"{a}.json", json.dumps(firsts, ensure_ascii=False, indent=1))


class ServiceReleaseFeedback(ServiceExchange, ExchangeReleaseFeedback):
    def start(self):
        with self.mirrored() as course:
            result = super().start()
            self.call("POST", "feedback", tarballs.pack({"feedback": course / "feedback"}),
                      assignment=self.coursedir.assignment_id)
            return result


OPERATIONS = {"fetch_assignment": ServiceFetchAssignment, "fetch_feedback": ServiceFetchFeedback,
              "list": ServiceList, "submit": ServiceSubmit, "release_assignment": ServiceReleaseAssignment,
              "collect": ServiceCollect, "release_feedback": ServiceReleaseFeedback}


def config_lines() -> list[str]:
    """The ``nbgrader_config.py`` lines that route every exchange operation through the service."""
    return [f'c.ExchangeFactory.{op} = "{cls.__module__}.{cls.__name__}"' for op, cls in OPERATIONS.items()]


__all__ = ["ExchangeError", "OPERATIONS", "config_lines", *(c.__name__ for c in OPERATIONS.values())]
