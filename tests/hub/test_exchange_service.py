"""The nbgrader exchange as a hub service (as on Kubernetes, where every user pod runs as the same uid and
no exchange volume may be shared) on a real hub: release, list, fetch, submit, collect, grade, feedback all
go through it, and a trainee's kernel, holding its own hub token, cannot read the submissions, submit as
someone else, back-date, replace the release, withdraw it, or plant feedback.

Real parts: JupyterHub with the service `daqlab-exchange` (daqlab.hub.exchange_service), nbgrader's
JupyterLab assignment-list API in the trainees' servers and nbgrader's own command line in kernels, the DAQ
Lab grading pipeline. The rules alone, on a folder: tests/hub/test_exchange_store.py.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from urllib.parse import quote

import pytest

from .hub_helpers import Hub, service_hub_settings
from .test_hub_e2e import need_npm_proxy
from .test_isolation import need_root

pytestmark = pytest.mark.slow

T = "theory-practice-modbus"
GRADER = "teacher-ex"
MARK = {"ada": "ADA-MARK-7f3", "ben": "BEN-MARK-91c"}

# Runs in ada's kernel with her server's environment. One line per probe: "name: <HTTP status or outcome>".
ATTACKS = textwrap.dedent("""
    import io, json, os, subprocess, sys, tarfile, urllib.error, urllib.request
    S = json.loads({settings!r})
    URL, TOKEN = os.environ["DAQLAB_EXCHANGE_URL"].rstrip("/"), os.environ["JUPYTERHUB_API_TOKEN"]
    def tgz(name):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            data = b'{{"cells": [], "metadata": {{}}, "nbformat": 4, "nbformat_minor": 5}}'
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        return buf.getvalue()
    def call(name, method, endpoint, body=None, token=TOKEN):
        req = urllib.request.Request(f"{{URL}}/api/{{endpoint}}", data=body, method=method)
        if token:
            req.add_header("Authorization", f"token {{token}}")
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                payload = r.read()
                print(f"{{name}}: {{r.status}}")
                return payload
        except urllib.error.HTTPError as exc:
            print(f"{{name}}: {{exc.code}}")
    A = S["assignment"]
    call("no token", "GET", f"view?course=daqlab&parts=outbound", token=None)
    call("a made-up token", "GET", f"view?course=daqlab&parts=outbound", token="0" * 32)
    call("every submission", "GET", f"view?course=daqlab&parts=inbound&assignment={{A}}")
    call("replace the release", "PUT", f"release?course=daqlab&assignment={{A}}&force=1", tgz(f"{{A}}/{{A}}.ipynb"))
    call("withdraw the release", "DELETE", f"release?course=daqlab&assignment={{A}}")
    call("plant feedback", "POST", "feedback?course=daqlab", tgz("feedback/0123456789abcdef.html"))
    call("escape the inbound", "POST", f"submit?course=daqlab&assignment={{A}}", tgz("submission/../../outbound/x.ipynb"))
    own = call("own view", "GET", f"view?course=daqlab&parts=outbound,feedback")
    with tarfile.open(fileobj=io.BytesIO(own), mode="r:gz") as tar:
        print("own view holds:", json.dumps(sorted(m.name for m in tar)))
    try:
        os.listdir(S["store"])
        print("store on disk: OPEN")
    except PermissionError:
        print("store on disk: refused")
    # nbgrader's own submit, claiming to be ben
    r = subprocess.run([sys.executable, "-m", "nbgrader", "submit", A, "--student", "ben"], capture_output=True,
                       text=True, cwd=os.path.expanduser("~"))
    print("submit as ben:", r.returncode, (r.stdout + r.stderr).replace(chr(10), " ")[-300:])
""")


def nbgrader_in(hub, user, *args) -> str:
    code = ("import os, subprocess, sys\n"
            f"r = subprocess.run([sys.executable, '-m', {args[0]!r}, *{list(args[1:])!r}], capture_output=True, "
            "text=True, cwd=os.environ.get('DAQLAB_COURSE_ROOT') if os.environ.get('DAQLAB_ROLE') == 'instructor' "
            "else os.path.expanduser('~'))\n"
            "print(r.returncode)\nprint(r.stdout[-3000:], r.stderr[-3000:])")
    out = hub.run_code(user, code)
    assert out.splitlines()[0] == "0", out
    return out


def test_the_exchange_service_gives_each_user_only_what_is_theirs(tmp_path):
    need_root()
    proxy = need_npm_proxy()
    settings = service_hub_settings(tmp_path, [T], "ada,Ada Sun,1\nben,Ben Gao,2\n", proxy, instructor=GRADER)
    course = Path(settings.course_root)
    hub = Hub(settings, tmp_path / "hub.log")
    try:
        hub.start()
        for u in (GRADER, "ada", "ben"):
            hub.start_server(u)
        for step in ("assign", "release"):  # the formgrader's buttons: the release goes to the service
            r = hub.user(GRADER, "POST", f"formgrader/api/assignment/{T}/{step}")
            assert r["success"], r
        store = settings.exchange_store / "daqlab"
        assert (store / "outbound" / T / f"{T}.ipynb").is_file()
        assert not (Path(settings.exchange) / "daqlab").exists(), "nothing goes through the shared folder"

        # honest path, as JupyterLab's Assignments list does it: list, fetch, edit, submit
        for s in ("ada", "ben"):
            listed = hub.user(s, "GET", "assignments?course_id=daqlab")
            assert listed["success"] and [a["status"] for a in listed["value"] if a["assignment_id"] == T] == ["released"]
            assert hub.user(s, "POST", "assignments/fetch", {"course_id": "daqlab", "assignment_id": T})["success"]
            nb = hub.get_notebook(s, f"{T}/{T}.ipynb")
            for cell in nb["cells"]:
                if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "").startswith("answers-"):
                    cell["source"] = f"# {MARK[s]}\n" + "".join(cell["source"])
            hub.put_notebook(s, f"{T}/{T}.ipynb", nb)
            r = hub.user(s, "POST", "assignments/submit", {"course_id": "daqlab", "assignment_id": T})
            assert r["success"], r
        subs = sorted(p.name.split("+")[0] for p in (store / "inbound").iterdir())
        assert subs == ["ada", "ben"]

        # ada's kernel, with her own hub token, tries what a curious trainee would
        out = hub.run_code("ada", ATTACKS.format(settings=json.dumps({"assignment": T,
                                                                         "store": str(settings.exchange_store)})))
        lines = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
        for probe in ("no token", "a made-up token", "every submission", "replace the release",
                      "withdraw the release", "plant feedback"):
            assert lines[probe] == "403", f"{probe}: {lines.get(probe)}\n{out}"
        assert lines["escape the inbound"] == "400", out
        assert lines["own view"] == "200" and lines["store on disk"] == "refused", out
        assert not [n for n in json.loads(lines["own view holds"]) if not n.startswith("outbound")], out
        assert lines["submit as ben"].startswith("0"), out  # accepted, but as ada's
        names = sorted(p.name.split("+")[0] for p in (store / "inbound").iterdir())
        assert names == ["ada", "ada", "ben"], names
        assert json.loads((store / "outbound" / T / f"{T}.ipynb").read_text())["cells"], "the release is intact"
        assert sorted(p.name for p in (store / "feedback").iterdir()) == []

        # practice feedback: ada checks question 1 with a wrong answer, sees the key, then sends the key: the
        # service keeps her first answer, and that is what is graded
        from daqlab.exam.bank import load_bank
        from daqlab.exam.blueprint import for_assignment
        from daqlab.exam.paper import draw
        from daqlab.exam.score import shown_key
        from daqlab.hub.settings import Secrets

        bank = load_bank(Path(settings.course_root) / "source" / "exam" / "bank")
        salt = Secrets.load_or_create(settings.state).paper_salt
        pi = draw(bank, for_assignment(T), course="daqlab", assignment=T, student="ada", salt=salt).items[0]
        key = shown_key(pi, bank[pi.item_id])
        wrong = (not key) if pi.type == "truefalse" else next(x for x in pi.shown_letters if x not in key)
        out = hub.run_code("ada", textwrap.dedent(f"""
            import json, os, urllib.request
            def check(answer):
                req = urllib.request.Request(os.environ["DAQLAB_EXCHANGE_URL"] + "api/practice?course=daqlab&assignment={T}",
                                             data=json.dumps({{"number": 1, "answer": answer}}).encode(), method="POST")
                req.add_header("Authorization", "token " + os.environ["JUPYTERHUB_API_TOKEN"])
                with urllib.request.urlopen(req, timeout=60) as r:
                    return json.loads(r.read())
            print(json.dumps([check({wrong!r}), check({key!r})]))
        """))
        first, second = json.loads(out.strip().splitlines()[-1])
        assert first["correct"] is False and first["key"] == key and first["explanation"]["zh"], first
        assert second["answer"] == wrong and second["correct"] is False, "the first checked answer stands"

        # the instructor collects, grades and returns feedback from a kernel, through the same service
        for step in (("collect", T), ("grade", T, "--timeout", "30"), ("feedback", T)):
            nbgrader_in(hub, GRADER, "daqlab.cli", "course", *step)
        graded = json.loads((course / "autograded" / "ada" / T / "exam_results.json").read_text(encoding="utf-8"))
        assert graded["items"][0]["status"] == "wrong" and "第一次确认" in graded["answer_source"], graded["items"][0]
        for s in ("ada", "ben"):
            text = (course / "submitted" / s / T / f"{T}.ipynb").read_text(encoding="utf-8")
            other = MARK["ben" if s == "ada" else "ada"]
            assert MARK[s] in text and other not in text, f"{s}'s collected work is {s}'s own"

        # each trainee fetches feedback and gets their own, and the service shows them no one else's
        from nbgrader.utils import notebook_hash

        secret = (course / "submitted" / "ben" / T / "submission_secret.txt").read_text()
        bens = f"{notebook_hash(secret=secret, notebook_id=T)}.html"
        assert (store / "feedback" / bens).is_file()
        for s in ("ada", "ben"):
            r = hub.user(s, "POST", "assignments/fetch_feedback", {"course_id": "daqlab", "assignment_id": T})
            assert r["success"], r
            (stamp,) = hub.user(s, "GET", f"api/contents/{T}/feedback")["content"]
            path = quote(f"{T}/feedback/{stamp['name']}/{T}.html")
            html = hub.user(s, "GET", f"api/contents/{path}?content=1")["content"]
            assert MARK[s] in html and MARK["ben" if s == "ada" else "ada"] not in html
        out = hub.run_code("ada", textwrap.dedent("""
            import io, json, os, tarfile, urllib.request
            req = urllib.request.Request(os.environ["DAQLAB_EXCHANGE_URL"] + "api/view?course=daqlab&parts=feedback")
            req.add_header("Authorization", "token " + os.environ["JUPYTERHUB_API_TOKEN"])
            with urllib.request.urlopen(req, timeout=60) as r, tarfile.open(fileobj=io.BytesIO(r.read())) as tar:
                print(json.dumps(sorted(m.name for m in tar if m.isfile())))
        """))
        seen = json.loads(out.strip())
        assert len(seen) == 1 and f"feedback/{bens}" not in seen, out
        listed = hub.user("ada", "GET", "assignments?course_id=daqlab")["value"]
        (mine,) = [a for a in listed if a["assignment_id"] == T and a["status"] == "submitted"]
        assert len(mine["submissions"]) == 2 and all(x["has_local_feedback"] for x in mine["submissions"][-1:]), mine
    finally:
        hub.stop()
