"""Classroom isolation on the real hub: a trainee's kernel attacks, and every attack is refused.

A real JupyterHub (as `daqlab hub serve` runs it, as root: one OS account per user) with the instructor and two
trainees. From alice's kernel we try what a curious trainee would: read bob's home, the exchange's submissions,
the course root (keys, hidden tests, gradebook), the hub's secrets and database, other processes' environments
and command lines; talk Modbus to bob's station; take a token for the instructor; submit under bob's name; keep a
process running. Each one must fail, while the honest path (her own station, her own submission, collected by
the instructor as hers) works. In an exam (`--exam`) the trainee gets no terminal. Theory papers are drawn with
the instructor's salt: alice's notebook shows the paper published for her, bob's file is closed to her, and the
paper she can compute for bob without the salt is not his.
"""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import textwrap
from pathlib import Path

import pytest

from daqlab.exam.bank import load_public
from daqlab.exam.blueprint import for_assignment
from daqlab.exam.paper import draw
from daqlab.hub.settings import HubSettings, Secrets

from ..course_helpers import make_course
from ..helpers import free_port_block, wait_port
from .hub_helpers import Hub, HubError
from .test_hub_e2e import need_mosquitto, need_npm_proxy

pytestmark = pytest.mark.slow

P, T = "practical-1-identify", "theory-practice-modbus"
GRADER = "grader-daqlab"


def serial_settings(settings, k: int) -> list:
    """Station k's RS-485 settings (as its datasheet prints them): baud rate, parity, stop bits."""
    from daqlab.plant import Plant

    v = Plant(k, seed=settings.plant_seed, control=False).station(k).variant
    return [v.baudrate, v.parity, v.stopbits]


def need_root():
    if os.geteuid() != 0:
        msg = "per-user OS accounts need the hub to run as root"
        if os.environ.get("CI"):
            pytest.fail(msg + " (CI runs as root)")
        pytest.skip(msg)


# Runs in alice's kernel. Every probe prints one line "name: outcome"; "OPEN" means the attack worked.
ATTACKS = textwrap.dedent("""
    import glob, json, os, pwd, socket, subprocess, sys
    from pathlib import Path
    S = json.loads({settings!r})
    def probe(name, fn):
        try:
            fn()
            print(f"{{name}}: OPEN")
        except (PermissionError, ConnectionError, socket.timeout, OSError) as exc:
            print(f"{{name}}: refused ({{type(exc).__name__}})")
    me = pwd.getpwuid(os.getuid()).pw_name
    print("whoami:", me, os.getuid() != 0)
    probe("bob home", lambda: os.listdir(S["bob_home"]))
    probe("bob file", lambda: open(os.path.join(S["bob_home"], "daqlab-station.json")).read())
    probe("inbound list", lambda: os.listdir(S["inbound"]))
    probe("course source", lambda: os.listdir(os.path.join(S["course"], "source")))
    probe("course bank", lambda: os.listdir(os.path.join(S["course"], "source", "exam", "bank")))
    probe("gradebook", lambda: open(os.path.join(S["course"], "gradebook.db"), "rb").read(1))
    probe("teacher edition", lambda: os.listdir(os.path.join(S["course"], "teacher", "lessons")))
    probe("git objects", lambda: open(os.path.join(S["course"], ".git", "HEAD")).read())
    def git_show():  # the bank's keys from the history (safe.directory=*: ownership is not what stops it)
        r = subprocess.run(["git", "-c", "safe.directory=*", "-C", S["course"], "show", "HEAD:source/exam/bank/modbus.yaml"],
                           capture_output=True, text=True)
        if r.returncode or "key" not in r.stdout:
            raise PermissionError(r.stderr.strip()[-200:])
    probe("git show bank", git_show)
    probe("course listing", lambda: os.listdir(S["course"]))
    probe("secrets", lambda: open(os.path.join(S["state"], "secrets.json")).read())
    probe("hub db", lambda: open(os.path.join(S["state"], "jupyterhub.sqlite"), "rb").read(1))
    probe("cookie secret", lambda: open(os.path.join(S["state"], "jupyterhub_cookie_secret"), "rb").read(1))
    probe("broker files", lambda: os.listdir(S["mqtt"]))
    probe("bob results", lambda: os.listdir(S["bob_results"]))
    # other users' processes: their environments (tokens, passwords) must be unreadable
    leaked = []
    for env in glob.glob("/proc/[0-9]*/environ"):
        try:
            st = os.stat(env)
            if st.st_uid != os.getuid():
                open(env, "rb").read(1)
                leaked.append(env)
        except OSError:
            pass
    print("foreign environ readable:", len(leaked))
    # every command line on the machine: no secret on any of them
    cmdlines = ""
    for f in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            cmdlines += open(f, "rb").read().decode(errors="replace") + "\\n"
        except OSError:
            pass
    print("secrets on command lines:", sum(s in cmdlines for s in S["secrets"]))
    # Modbus: bob's station refuses us, ours answers
    from daqlab.modbus import ModbusTcpClient
    def read(port):
        c = ModbusTcpClient("127.0.0.1", port=port, timeout=3, retries=0)
        try:
            rr = c.read_holding_registers(0, count=1, device_id=1) if c.connect() else None
        except Exception:  # the station dropped the connection: pymodbus raises
            rr = None
        finally:
            c.close()
        return bool(rr is not None and not rr.isError())
    print("own station answers:", read(S["own_port"]))
    print("bob station answers:", read(S["bob_port"]))
    # RS-485: the station's bus behind its serial device server is gated like its Modbus port
    from daqlab.acquisition.linescan import find_settings
    def bus(url, st):
        try:
            return bool(find_settings(url, unit=1, baudrates=[st[0]], parities=[st[1]], stopbits=[st[2]], timeout=1))
        except Exception:  # the device server closed the connection
            return False
    print("own bus answers:", bus(os.environ["DAQLAB_RS485_URL"], S["own_serial"]))
    print("bob bus answers:", bus(S["bob_bus"], S["bob_serial"]))
    # forge a submission in bob's name straight into the exchange (nbgrader's own name format)
    forged = os.path.join(S["inbound"], f"bob+{{S['assignment']}}+2026-01-01 00:00:00.000000 UTC+forged")
    os.makedirs(forged)
    Path(forged, "timestamp.txt").write_text("2026-01-01 00:00:00.000000 UTC")
    Path(forged, S["assignment"] + ".ipynb").write_text(json.dumps({{"cells": [], "metadata": {{}},
                                                                    "nbformat": 4, "nbformat_minor": 5}}))
    print("forged:", os.path.basename(forged))
""")


def test_a_trainee_cannot_reach_another_trainee_the_course_or_the_secrets(tmp_path):
    need_root()
    proxy = need_npm_proxy()
    need_mosquitto()
    course = make_course(tmp_path, [P, T])
    (course / "teacher" / "lessons").mkdir(parents=True)  # the teacher edition (solutions), staff-only
    (course / "teacher" / "lessons" / "01-The-Data-Chain.ipynb").write_text("{}")
    git = ["git", "-C", str(course), "-c", "user.name=daqlab", "-c", "user.email=daqlab@localhost"]
    subprocess.run(["git", "init", "-q", str(course)], check=True)
    subprocess.run([*git, "add", "source/exam", "teacher"], check=True)
    subprocess.run([*git, "commit", "-qm", "bank"], check=True)  # a checkout's history holds the keys
    (course / "grader").mkdir(exist_ok=True)
    roster = course / "grader" / "roster.csv"
    roster.write_text("student_id,name,station\nalice,Alice,1\nbob,Bob,2\n", encoding="utf-8")
    ports, base = free_port_block(4), free_port_block(4)
    settings = HubSettings(course_root=str(course), roster=str(roster), state=str(tmp_path / "hub"), port=ports,
                           hub_port=ports + 1, proxy_api_port=ports + 2, mqtt_port=ports + 3, rs485_base_port=free_port_block(3), plant_base_port=base,
                           cull_timeout=600, cull_every=60, proxy_command=str(proxy), exam=True)
    hub = Hub(settings, tmp_path / "hub.log")
    try:
        hub.start()
        wait_port(base + 2, 60)
        for u in (GRADER, "alice", "bob"):
            hub.start_server(u)
        for a in (P, T):
            for step in ("assign", "release"):
                r = hub.user(GRADER, "POST", f"formgrader/api/assignment/{a}/{step}")
                assert r["success"], r
        # honest: bob fetches and submits his own work
        hub.user("bob", "POST", "assignments/fetch", {"course_id": "daqlab", "assignment_id": P})
        hub.user("bob", "POST", "assignments/submit", {"course_id": "daqlab", "assignment_id": P})

        sec = Secrets.load_or_create(settings.state)
        secrets = [sec.plant_token, sec.operator_token, sec.instructor_password, sec.mqtt_secret,
                   *sec.passwords.values()]
        probe_settings = json.dumps({
            "bob_home": str(settings.home("bob")), "inbound": str(Path(settings.exchange) / "daqlab" / "inbound"),
            "course": str(course), "state": settings.state, "mqtt": str(settings.mqtt_dir),
            "bob_results": str(Path(settings.results) / "bob"), "secrets": secrets,
            "own_port": base + 1, "bob_port": base + 2, "assignment": P,
            "bob_bus": f"rfc2217://127.0.0.1:{settings.rs485_base_port + 2}",
            "own_serial": serial_settings(settings, 1), "bob_serial": serial_settings(settings, 2)})
        out = hub.run_code("alice", ATTACKS.format(settings=probe_settings))
        lines = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
        assert lines["whoami"] == "dq-alice True", out
        opened = [k for k, v in lines.items() if v == "OPEN"]
        assert opened == [], f"attacks that worked: {opened}\n{out}"
        assert lines["foreign environ readable"] == "0" and lines["secrets on command lines"] == "0", out
        assert lines["own station answers"] == "True" and lines["bob station answers"] == "False", out
        assert lines["own bus answers"] == "True" and lines["bob bus answers"] == "False", out

        # the trainee's token cannot act for the instructor, nor open bob's server
        with pytest.raises(HubError, match="403|404"):
            hub.request("POST", f"/hub/api/users/{GRADER}/tokens", {"note": "x"}, token=hub.user_token("alice"))
        with pytest.raises(HubError, match="403|404"):
            hub.request("GET", "/user/bob/api/contents", token=hub.user_token("alice"))
        # an exam: no terminal for a trainee
        with pytest.raises(HubError, match="404"):
            hub.user("alice", "POST", "api/terminals")

        # the instructor collects: bob's own submission is collected, the forgery is not, and it is on record
        code = ("import subprocess, sys\n"
                f"r = subprocess.run([sys.executable, '-m', 'daqlab.cli', 'course', 'collect', {P!r}], "
                "capture_output=True, text=True)\nprint(r.returncode)\nprint(r.stdout[-2000:], r.stderr[-2000:])")
        out = hub.run_code(GRADER, code)
        assert out.splitlines()[0] == "0", out
        collected = course / "submitted" / "bob" / P / "timestamp.txt"
        assert collected.exists() and "2026-01-01" not in collected.read_text(), "bob's own submission, not the forgery"
        log = [json.loads(x) for x in (course / "forged-submissions.jsonl").read_text().splitlines()]
        assert [(x["claimed"], x["submitted_by"]) for x in log] == [("bob", "alice")]
        # papers: drawn with the instructor's salt and published to each trainee; alice sees her own paper,
        # cannot read bob's, and what she can compute for bob (no salt) is not bob's paper
        out = hub.run_code(GRADER, "import subprocess, sys\n"
                                   f"r = subprocess.run([sys.executable, '-m', 'daqlab.cli', 'hub', 'publish-papers', {T!r}],"
                                   " capture_output=True, text=True)\nprint(r.returncode, r.stdout, r.stderr)")
        assert out.startswith("0 published 2 paper(s)"), out
        salt = Secrets.load_or_create(settings.state).paper_salt
        real = {s: [pi.item_id for pi in draw(load_public(), for_assignment(T), course="daqlab", assignment=T,
                                              student=s, salt=salt).items] for s in ("alice", "bob")}
        out = hub.run_code("alice", textwrap.dedent(f'''
            import json, os
            from daqlab.exam.bank import load_public
            from daqlab.exam.blueprint import for_assignment
            from daqlab.exam.notebook import my_paper
            from daqlab.exam.paper import draw
            print(json.dumps([pi.item_id for pi in my_paper({T!r}).items]))
            print(json.dumps([pi.item_id for pi in draw(load_public(), for_assignment({T!r}), course="daqlab",
                                                        assignment={T!r}, student="bob").items]))
            try:
                open({str(Path(settings.results) / "bob" / "papers" / f"{T}.json")!r}).read()
                print("OPEN")
            except PermissionError:
                print("refused")
        '''))
        mine, guess, peek = out.splitlines()
        assert json.loads(mine) == real["alice"] and json.loads(guess) != real["bob"] and peek == "refused", out

        # and the instructor's server is not root, its terminal has the course tools and starts in the course
        out = hub.run_code(GRADER, "import os, pwd, shutil, subprocess\n"
                                   "print(pwd.getpwuid(os.getuid()).pw_name)\n"
                                   "r = subprocess.run(['bash', '-lic', 'command -v daqlab; pwd'], capture_output=True,"
                                   " text=True, cwd=os.path.expanduser('~'))\nprint(r.stdout)")
        who, tool, where = out.split()[:3]
        assert who == "dq-grader-daqlab" and tool.endswith("/daqlab") and where == str(course), out
        assert pwd.getpwnam("dq-alice").pw_uid != pwd.getpwnam("dq-bob").pw_uid
        assert oct(settings.home("alice").stat().st_mode & 0o777) == "0o700"
    finally:
        hub.stop()
