"""kill -9 of the classroom hub: nothing it started keeps running, and a restart finds one of everything.

The hub runs as `daqlab hub serve` runs it (its own pid namespace, daqlab/hub/init.py as init). A user server
and a kernel are started, then the JupyterHub process is killed with SIGKILL: its plant, broker (and
Mosquitto), idle culler, proxy, user server and kernel must all be gone within seconds. A restart on the
same state folder then runs one broker on the same port and one plant, keeps every secret and setting,
and a trainee's server works again. A second hub on the same state folder is refused.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from daqlab.hub.settings import HubSettings

from ..course_helpers import make_course
from ..helpers import free_port_block, wait_port
from .hub_helpers import Hub
from .test_hub_e2e import mosquittos, need_mosquitto, need_npm_proxy

pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.geteuid() != 0, reason="the hub's pid namespace needs root")]


def _procs_with(text: str) -> list[str]:
    out = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            line = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in line and cmdline.parent.name != str(os.getpid()):  # not this test's own process
            out.append(line)
    return out


def _hub_process(hub: Hub) -> int:
    """The JupyterHub process itself (the init's child inside the namespace), by its host pid."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"jupyterhub" in args and b"-f" in args and b"-I" not in args and \
                Path(f"/proc/{cmdline.parent.name}/cwd").resolve() == Path(hub.settings.state).resolve():
            return int(cmdline.parent.name)
    raise AssertionError("no JupyterHub process found")


def test_kill_9_of_the_hub_leaves_nothing_and_a_restart_finds_one_of_everything(tmp_path):
    proxy = need_npm_proxy()
    need_mosquitto()
    course = make_course(tmp_path, [])
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name,station\nalice,Alice,1\nbob,Bob,2\n", encoding="utf-8")
    ports, base = free_port_block(4), free_port_block(4)
    settings = HubSettings(course_root=str(course), roster=str(roster), state=str(tmp_path / "hub"), port=ports,
                           hub_port=ports + 1, proxy_api_port=ports + 2, mqtt_port=ports + 3, rs485_base_port=free_port_block(3), plant_base_port=base,
                           cull_timeout=600, cull_every=60, proxy_command=str(proxy))
    hub = Hub(settings, tmp_path / "hub.log")
    try:
        hub.start()
        wait_port(base + 2, 60)
        wait_port(settings.mqtt_port, 60)
        hub.start_server("alice")
        assert "ok" in hub.run_code("alice", "print('ok')")
        secrets_before = (Path(settings.state) / "secrets.json").read_bytes()
        settings_before = (Path(settings.state) / "hub-settings.json").read_bytes()
        state = str(Path(settings.state).resolve())
        ours = lambda: _procs_with(state) + _procs_with(f"--base-port {base}") + _procs_with("singleuser") \
            + mosquittos(settings.mqtt_dir)  # noqa: E731
        assert mosquittos(settings.mqtt_dir) and _procs_with("singleuser"), "broker and a user server run"

        os.kill(_hub_process(hub), signal.SIGKILL)
        deadline = time.monotonic() + 60
        while ours() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert ours() == [], "everything the hub started ends with it"
        hub.proc.wait(30)

        hub.start()  # the same state folder, the same settings
        wait_port(base + 2, 60)
        wait_port(settings.mqtt_port, 60)
        assert len(mosquittos(settings.mqtt_dir)) == 1, "one broker, on its own port"
        assert len(_procs_with(f"--base-port {base}")) == 1, "one plant"
        assert (Path(settings.state) / "secrets.json").read_bytes() == secrets_before
        assert (Path(settings.state) / "hub-settings.json").read_bytes() == settings_before
        hub.start_server("alice")
        assert "ok" in hub.run_code("alice", "print('ok')")

        second = subprocess.run([sys.executable, "-m", "daqlab.cli", "hub", "serve", "--state", settings.state,
                                 "--roster", str(roster)], capture_output=True, text=True, timeout=120)
        assert second.returncode == 2 and "a hub already runs with the state folder" in second.stderr
    finally:
        hub.stop()
