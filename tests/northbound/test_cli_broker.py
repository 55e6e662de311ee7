"""`daqlab broker serve|accounts|schema` as an instructor runs them."""

import json
import signal
import socket
import subprocess
import sys
import time

from daqlab.northbound import Uplink
from daqlab.northbound.accounts import derive_password
from daqlab.northbound.recorder import load_records
from daqlab.northbound.thingmodel import SCHEMA

from ..course_helpers import ROOT
from .conftest import need_mosquitto

CLI = [sys.executable, "-m", "daqlab.cli", "broker"]


def test_accounts_lists_every_trainee_with_the_derived_password():
    out = subprocess.run(CLI + ["accounts", "--secret", "s3cret", "--roster", str(ROOT / "grader" / "roster.csv"),
                                "--device", "trainee"], capture_output=True, text=True, check=True).stdout
    rows = [line.split(",") for line in out.strip().splitlines()]
    assert rows[0] == ["username", "password", "role", "topics"]
    users = {r[0]: r for r in rows[1:]}
    assert len(users) == 42 and {"t01", "t40", "trainee", "platform"} <= set(users)
    assert users["t07"] == ["t07", derive_password("s3cret", "t07"), "device", "/sys/daqlab/t07/#"]
    assert users["platform"][2:] == ["platform", "/sys/#"]


def test_secret_file_is_created_once_and_kept_private(tmp_path):
    f = tmp_path / "secret"
    a = subprocess.run(CLI + ["accounts", "--secret-file", str(f), "--device", "x"], capture_output=True, text=True,
                       check=True, cwd=tmp_path).stdout
    b = subprocess.run(CLI + ["accounts", "--secret-file", str(f), "--device", "x"], capture_output=True, text=True,
                       check=True, cwd=tmp_path).stdout
    assert a == b and (f.stat().st_mode & 0o777) == 0o600


def test_no_secret_is_a_clear_error():
    res = subprocess.run(CLI + ["accounts", "--device", "x"], capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin"})
    assert res.returncode != 0 and "--secret" in res.stderr


def test_schema_is_the_validators_schema():
    out = subprocess.run(CLI + ["schema"], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == SCHEMA


def test_serve_runs_a_broker_records_posts_and_stops_on_ctrl_c(tmp_path):
    need_mosquitto()
    record = tmp_path / "platform.jsonl"
    proc = subprocess.Popen(CLI + ["serve", "--port", "0", "--secret", "s3cret", "--roster", str(tmp_path / "none.csv"),
                                   "--device", "trainee", "--record", str(record)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = proc.stdout.readline()
        assert "DAQ Lab broker (Mosquitto) on mqtt://127.0.0.1:" in first, first
        port = int(first.split("mqtt://127.0.0.1:")[1].split(":")[0])
        with Uplink("127.0.0.1", port, "trainee", derive_password("s3cret", "trainee")) as up:
            up.publish({"temperature": 21.5})
            up.flush()
        deadline = time.monotonic() + 5
        while not [r for r in load_records(record) if r.kind == "post"] and time.monotonic() < deadline:
            time.sleep(0.05)
        posts = [r for r in load_records(record) if r.kind == "post"]
        assert posts and posts[0].device == "trainee" and posts[0].errors == []
    finally:
        proc.send_signal(signal.SIGINT)
        out = proc.communicate(timeout=15)[0]
    assert proc.returncode == 0, out
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "the broker outlived the command"
