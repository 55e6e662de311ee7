"""The nbgrader exchange as a hub-authenticated service: no exchange folder in any trainee's reach.

On Kubernetes every user pod runs as the same uid, so a shared exchange volume would let any trainee read
every submission and write into the release. This service keeps the exchange in its own folder (its own
volume, mounted in no user pod) and answers HTTP from users' servers, who it knows by their JupyterHub
API token (:class:`jupyterhub.services.auth.HubAuth`; the token must carry
``access:services!service=<this service>``). The client side is :mod:`daqlab.hub.exchange_client`.

Who may do what (everything else is refused with 403 and a message in Chinese and English):

=================  ===========================================================================================
anyone signed in   ``GET api/view``: the released assignments (``outbound/``) and the feedback of THEIR OWN
                   submissions only (``feedback/<hash>.html`` for the hashes of their submissions)
                   ``POST api/submit``: a submission of a released assignment, stored as
                   ``inbound/<their hub name>+<assignment>+<the service's time>+<random>``: the name the
                   client claims and the time it claims are ignored, so no one submits as someone else or
                   back-dates a submission; at most :data:`MAX_SUBMISSIONS` per trainee and assignment
                   ``POST api/clock``: start their clock of a timed paper (the first call only) and return
                   it with the service's time (:mod:`daqlab.exam.clock`)
                   ``POST api/practice``: on a practice paper, record their FIRST checked answer to a question
                   and return its key and explanation (:mod:`daqlab.exam.practice`)
an instructor      also ``GET api/clock`` (every trainee's start), ``PUT``/``GET api/practice`` (the practice
                   keys; every first answer), ``GET api/view?parts=inbound`` (every submission), ``PUT``/``DELETE api/release``
                   (release or withdraw an assignment) and ``POST api/feedback``
=================  ===========================================================================================

Layout under ``--root``: ``<course>/outbound/<assignment>/``, ``<course>/inbound/<name>/``,
``<course>/feedback/<hash>.html``, exactly nbgrader's own exchange, so the client runs nbgrader's own
exchange classes on a private copy of what the caller may see. Every write lands in a fresh folder first
and is moved into place (``os.replace``/rename): a reader never sees half an upload.

Run it as a hub service (``python -m daqlab.hub.exchange_service --root DIR --course ID --instructor NAME``;
the hub sets ``JUPYTERHUB_API_TOKEN``, ``JUPYTERHUB_API_URL``, ``JUPYTERHUB_SERVICE_NAME`` and
``JUPYTERHUB_SERVICE_URL``).
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import re
import shutil
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

from daqlab.hub import tarballs

MAX_SUBMISSIONS = 50  #: per trainee and assignment (a full disk is a lost exam)
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"  #: nbgrader's default Exchange.timestamp_format (UTC)
ASSIGNMENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
FEEDBACK_RE = re.compile(r"^[0-9a-f]{8,128}\.html$")
PARTS = ("outbound", "feedback", "inbound")
log = logging.getLogger("daqlab.exchange")


class Refused(Exception):
    def __init__(self, status: int, zh: str, en: str):
        super().__init__(f"{zh}（{en}）")
        self.status = status


def feedback_names(submission: Path) -> set[str]:
    """The feedback file names (``<hash>.html``) nbgrader gives the notebooks of one submission."""
    from nbgrader.utils import notebook_hash

    try:
        secret = (submission / "submission_secret.txt").read_text()
    except OSError:
        return set()
    return {f"{notebook_hash(secret=secret, notebook_id=nb.stem)}.html" for nb in submission.glob("*.ipynb")}


class Store:
    """The exchange folder of one course and the rules of the table in the module docstring."""

    def __init__(self, root: Path, course: str, instructors: set[str], max_submissions: int = MAX_SUBMISSIONS):
        self.course_dir = Path(root) / course
        self.course, self.instructors, self.max_submissions = course, set(instructors), max_submissions
        for part in PARTS:
            (self.course_dir / part).mkdir(parents=True, exist_ok=True)
        os.chmod(root, 0o700)

    def _part(self, name: str) -> Path:
        return self.course_dir / name

    def check(self, course: str | None, assignment: str | None, required: bool = False) -> None:
        if course not in (None, "", self.course):
            raise Refused(404, f"这里没有课程 {course}", f"no course {course} here; this exchange serves {self.course}")
        if assignment and not ASSIGNMENT_RE.match(assignment):
            raise Refused(400, "作业名不合法", f"bad assignment name {assignment!r}")
        if required and not assignment:
            raise Refused(400, "缺少作业名", "name the assignment")

    def _instructor(self, user: str, what_zh: str, what_en: str) -> None:
        if user not in self.instructors:
            raise Refused(403, f"只有教师可以{what_zh}", f"only an instructor may {what_en}")

    # ------------------------------------------------------------------ reading
    def view(self, user: str, parts: list[str], assignment: str | None) -> bytes:
        """What ``user`` may see of ``parts``, as tar.gz with nbgrader's exchange layout (``outbound/...``)."""
        bad = [p for p in parts if p not in PARTS]
        if bad:
            raise Refused(400, "未知的部分", f"unknown part(s) {bad}; use {PARTS}")
        if "inbound" in parts:
            self._instructor(user, "查看所有提交", "see every submission")
        entries: dict[str, Path] = {}  # name in the archive -> file or folder (the client makes the parts)
        for part in parts:
            folder = self._part(part)
            if part == "outbound":
                entries.update({f"outbound/{d.name}": d for d in self._listing(folder, assignment)})
            elif part == "inbound":
                entries.update({f"inbound/{d.name}": d for d in sorted(folder.iterdir()) if d.is_dir()
                                and not d.name.startswith(".") and (not assignment or d.name.split("+")[1:2] == [assignment])})
            elif user in self.instructors:
                entries.update({f"feedback/{f.name}": f for f in sorted(folder.glob("*.html"))})
            else:  # a trainee: the feedback of their own submissions, nothing else
                mine = set().union(*(feedback_names(s) for s in self._submissions_of(user, assignment)))
                entries.update({f"feedback/{n}": folder / n for n in sorted(mine) if (folder / n).is_file()})
        return tarballs.pack(entries)

    @staticmethod
    def _listing(folder: Path, assignment: str | None) -> list[Path]:
        return [d for d in sorted(folder.iterdir()) if d.is_dir() and not d.name.startswith(".")
                and (not assignment or d.name == assignment)]

    def _submissions_of(self, user: str, assignment: str | None) -> list[Path]:
        pattern = f"{user}+{assignment}+*" if assignment else f"{user}+*"
        return sorted(p for p in self._part("inbound").glob(pattern) if p.is_dir())

    # ------------------------------------------------------------------ clocks
    def clock(self, user: str, assignment: str) -> dict:
        """Start ``user``'s clock for ``assignment`` (the first call only) and return it with the time now."""
        if not (self._part("outbound") / assignment).is_dir():
            raise Refused(404, f"作业 {assignment} 尚未发布", f"assignment {assignment} is not released")
        from daqlab.atomic import locked, write_atomic

        path = self.course_dir / "clock" / f"{assignment}.json"
        path.parent.mkdir(exist_ok=True)
        now = datetime.now(UTC).isoformat()
        with locked(path):
            starts = json.loads(path.read_text()) if path.exists() else {}
            if user not in starts:
                starts[user] = now
                write_atomic(path, json.dumps(starts, indent=1))
        return {"student": user, "started": starts[user], "now": now}

    def clocks(self, user: str, assignment: str) -> dict:
        """Every trainee's recorded start for ``assignment`` (the instructor's, for lateness)."""
        self._instructor(user, "查看计时记录", "see the exam clocks")
        path = self.course_dir / "clock" / f"{assignment}.json"
        return json.loads(path.read_text()) if path.exists() else {}

    # ------------------------------------------------------------------ practice feedback
    def practice_keys(self, user: str, assignment: str, data: bytes) -> dict:
        """The instructor's release of a practice paper hands over its keys (kept here, never released)."""
        self._instructor(user, "上传练习答案", "upload practice keys")
        from daqlab.atomic import write_atomic

        try:
            payload = json.loads(data)
            if payload.get("assignment") != assignment or not isinstance(payload.get("items"), dict):
                raise ValueError("not this assignment's keys")
        except (ValueError, AttributeError) as exc:
            raise Refused(400, "练习答案文件无法读取", str(exc)) from None
        folder = self.course_dir / "practice" / assignment
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / "keys.json", json.dumps(payload, ensure_ascii=False), mode=0o600)
        return {"keys": len(payload["items"])}

    def practice(self, user: str, assignment: str, data: bytes) -> dict:
        """Record ``user``'s first checked answer to one question, then give its key and explanation."""
        from daqlab.atomic import locked, write_atomic
        from daqlab.exam.practice import check

        folder = self.course_dir / "practice" / assignment
        try:
            payload = json.loads((folder / "keys.json").read_text())
        except (OSError, ValueError):
            raise Refused(404, "这份试卷没有即时反馈", f"{assignment} has no instant feedback") from None
        try:
            body = json.loads(data)
            number, answer = int(body["number"]), body.get("answer")
            if answer is not None and not isinstance(answer, (str, bool)):
                raise TypeError("answer must be text or true/false")
        except (ValueError, KeyError, TypeError) as exc:
            raise Refused(400, "请求格式不对", f"send {{number, answer}} ({exc})") from None
        path = folder / "answers.json"
        with locked(path):
            firsts = json.loads(path.read_text()) if path.exists() else {}
            mine = firsts.setdefault(user, {})
            if str(number) not in mine:
                try:
                    check(payload, user, number, answer)  # a question not on the paper is refused, not kept
                except KeyError as exc:
                    raise Refused(400, "试卷中没有这道题", str(exc)) from None
                mine[str(number)] = {"answer": answer, "at": datetime.now(UTC).isoformat()}
                write_atomic(path, json.dumps(firsts, ensure_ascii=False, indent=1))
        first = mine[str(number)]["answer"]
        return {**check(payload, user, number, first), "first": True}

    def practice_answers(self, user: str, assignment: str) -> dict:
        self._instructor(user, "查看练习记录", "see the practice answers")
        path = self.course_dir / "practice" / assignment / "answers.json"
        return json.loads(path.read_text()) if path.exists() else {}

    # ------------------------------------------------------------------ writing
    def submit(self, user: str, assignment: str, data: bytes) -> dict:
        if not (self._part("outbound") / assignment).is_dir():
            raise Refused(404, f"作业 {assignment} 尚未发布", f"assignment {assignment} is not released")
        if "+" in user:
            raise Refused(400, "用户名不能含 +", "a user name with + cannot submit")
        if len(self._submissions_of(user, assignment)) >= self.max_submissions:
            raise Refused(429, f"提交次数已达上限 {self.max_submissions}，请联系教师",
                          f"{self.max_submissions} submissions already; ask the instructor")
        inbound = self._part("inbound")
        tmp = self._unpack(data, inbound)
        try:
            sub = tmp / "submission"
            if not sub.is_dir():
                raise Refused(400, "提交内容为空", "the upload holds no submission folder")
            stamp = datetime.now(UTC).strftime(TIMESTAMP_FORMAT)
            (sub / "timestamp.txt").write_text(stamp)
            name = f"{user}+{assignment}+{stamp}+{base64.urlsafe_b64encode(os.urandom(9)).decode()}"
            os.rename(sub, inbound / name)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        log.info("submission %s", name)
        return {"name": name, "student": user, "timestamp": stamp}

    def release(self, user: str, assignment: str, data: bytes, force: bool) -> dict:
        self._instructor(user, "发布作业", "release an assignment")
        dest = self._part("outbound") / assignment
        if dest.exists() and not force:
            raise Refused(409, f"作业 {assignment} 已经发布过，重新发布请加 --force",
                          f"{assignment} is already released; use --force to replace it")
        tmp = self._unpack(data, self._part("outbound"))
        try:
            new = tmp / assignment
            if not new.is_dir():
                raise Refused(400, "上传内容里没有这份作业", f"the upload holds no folder {assignment}")
            old = self._part("outbound") / f".old-{os.urandom(6).hex()}"
            if dest.exists():
                os.rename(dest, old)
            os.rename(new, dest)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        log.info("released %s", assignment)
        return {"released": assignment}

    def withdraw(self, user: str, assignment: str) -> dict:
        self._instructor(user, "撤回作业", "withdraw an assignment")
        dest = self._part("outbound") / assignment
        if not dest.is_dir():
            raise Refused(404, f"作业 {assignment} 没有发布", f"{assignment} is not released")
        old = self._part("outbound") / f".old-{os.urandom(6).hex()}"
        os.rename(dest, old)
        shutil.rmtree(old, ignore_errors=True)
        log.info("withdrew %s", assignment)
        return {"withdrawn": assignment}

    def feedback(self, user: str, data: bytes) -> dict:
        self._instructor(user, "发布反馈", "release feedback")
        folder = self._part("feedback")
        tmp = self._unpack(data, folder)
        names = []
        try:
            for f in sorted((tmp / "feedback").glob("*")) if (tmp / "feedback").is_dir() else []:
                if f.is_file() and FEEDBACK_RE.match(f.name):
                    os.replace(f, folder / f.name)
                    names.append(f.name)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        log.info("feedback: %d file(s)", len(names))
        return {"feedback": names}

    @staticmethod
    def _unpack(data: bytes, beside: Path) -> Path:
        tmp = beside / f".upload-{os.urandom(8).hex()}"
        try:
            return tarballs.unpack(data, tmp)
        except tarballs.BadTarball as exc:
            raise Refused(400, "上传内容无法接受", str(exc)) from None


def make_app(store: Store, prefix: str, hub_auth=None):
    """The tornado application: the API of the module docstring under ``prefix``."""
    from jupyterhub.services.auth import HubAuth
    from tornado import web

    auth = hub_auth or HubAuth(cache_max_age=30)

    class Handler(web.RequestHandler):
        def check_xsrf_cookie(self):  # token-authenticated API, no cookies
            pass

        async def prepare(self):
            header = self.request.headers.get("Authorization", "")
            m = re.match(r"(?:token|bearer)\s+(\S+)", header, re.IGNORECASE)
            model = await auth.user_for_token(m.group(1), sync=False) if m else None
            if not model or model.get("kind", "user") != "user":
                self._refuse(Refused(403, "请先登录（需要 JupyterHub 令牌）", "sign in: a JupyterHub user token is required"))
                return
            if not auth.check_scopes(auth.access_scopes, model):
                self._refuse(Refused(403, "这个令牌不能使用交换服务", "this token may not use the exchange service"))
                return
            self.user = model["name"]

        def _refuse(self, exc: Refused) -> None:
            self.set_status(exc.status)
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps({"error": str(exc)}, ensure_ascii=False))

        def _args(self, required=False):
            course, assignment = self.get_argument("course", None), self.get_argument("assignment", None)
            store.check(course, assignment, required)
            return assignment

        def _reply(self, fn):
            try:
                result = fn()
            except Refused as exc:
                log.info("refused %s %s for %s: %s", self.request.method, self.request.path, self.user, exc)
                return self._refuse(exc)
            if isinstance(result, bytes):
                self.set_header("Content-Type", "application/gzip")
                return self.finish(result)
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps(result, ensure_ascii=False))

    class View(Handler):
        def get(self):
            parts = [p for p in self.get_argument("parts", "outbound,feedback").split(",") if p]
            self._reply(lambda: store.view(self.user, parts, self._args()))

    class Submit(Handler):
        def post(self):
            self._reply(lambda: store.submit(self.user, self._args(True), self.request.body))

    class Release(Handler):
        def put(self):
            force = self.get_argument("force", "0") == "1"
            self._reply(lambda: store.release(self.user, self._args(True), self.request.body, force))

        def delete(self):
            self._reply(lambda: store.withdraw(self.user, self._args(True)))

    class Clock(Handler):
        def post(self):
            self._reply(lambda: store.clock(self.user, self._args(True)))

        def get(self):
            self._reply(lambda: store.clocks(self.user, self._args(True)))

    class Practice(Handler):
        def post(self):
            self._reply(lambda: store.practice(self.user, self._args(True), self.request.body))

        def put(self):
            self._reply(lambda: store.practice_keys(self.user, self._args(True), self.request.body))

        def get(self):
            self._reply(lambda: store.practice_answers(self.user, self._args(True)))

    class Feedback(Handler):
        def post(self):
            self._reply(lambda: (self._args(), store.feedback(self.user, self.request.body))[1])

    p = prefix.rstrip("/")
    return web.Application([(f"{p}/api/view", View), (f"{p}/api/submit", Submit),
                            (f"{p}/api/release", Release), (f"{p}/api/feedback", Feedback),
                            (f"{p}/api/clock", Clock), (f"{p}/api/practice", Practice)])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m daqlab.hub.exchange_service",
        description="The nbgrader exchange as a JupyterHub service (see daqlab.hub.exchange_service).",
        epilog="example: python -m daqlab.hub.exchange_service --root /srv/exchange --course daqlab "
               "--instructor grader-daqlab --port 8765")
    ap.add_argument("--root", required=True, help="the exchange folder (created; mode 0700)")
    ap.add_argument("--course", required=True, help="the nbgrader course id served")
    ap.add_argument("--instructor", action="append", default=[], help="an instructor's hub name (repeatable)")
    ap.add_argument("--ip", default="", help="address to listen on (default: from JUPYTERHUB_SERVICE_URL, else 127.0.0.1)")
    ap.add_argument("--port", type=int, default=0, help="port (default: from JUPYTERHUB_SERVICE_URL)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s daqlab-exchange %(message)s", stream=sys.stdout)
    url = urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL", ""))
    ip, port = args.ip or url.hostname or "127.0.0.1", args.port or url.port
    if not port or not os.environ.get("JUPYTERHUB_API_TOKEN"):
        print("daqlab exchange service: run it as a JupyterHub service (JUPYTERHUB_API_TOKEN and a port are "
              "needed); see `python -m daqlab.hub.exchange_service --help`", file=sys.stderr)
        return 2
    if not args.instructor:
        print("daqlab exchange service: name at least one --instructor", file=sys.stderr)
        return 2
    from tornado.httpserver import HTTPServer
    from tornado.ioloop import IOLoop

    store = Store(Path(args.root), args.course, set(args.instructor))
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/daqlab-exchange/")
    server = HTTPServer(make_app(store, prefix), max_body_size=tarballs.MAX_BYTES + 10_000_000)
    server.listen(port, ip)
    loop = IOLoop.current()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: loop.add_callback_from_signal(loop.stop))
    log.info("serving course %s from %s on %s:%s%s", args.course, args.root, ip, port, prefix)
    loop.start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
