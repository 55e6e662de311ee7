"""Drive a real JupyterHub on loopback: start it, talk to its REST API with the operator service's token,
talk to user servers with user tokens, run code in a kernel of a user's server.

Nothing here stands in for JupyterHub: the hub, the proxy (configurable-http-proxy from npm), the user
servers (jupyterhub-singleuser), nbgrader's server extensions and the kernels are all real processes.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from daqlab.hub.init import wrap
from daqlab.hub.settings import HubSettings, Secrets

CONFIG = Path(__file__).resolve().parents[2] / "grader" / "jupyterhub" / "jupyterhub_config.py"


def service_hub_settings(tmp_path: Path, assignments: list[str], trainees: str, proxy, **extra) -> HubSettings:
    """A course with ``assignments`` and a hub on free loopback ports with the exchange service, no plant, no
    broker, no culling (``trainees``: the roster's rows after its header)."""
    from ..course_helpers import make_course
    from ..helpers import free_port_block

    course = make_course(tmp_path, assignments)
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name,station\n" + trainees, encoding="utf-8")
    ports = free_port_block(4)
    return HubSettings(course_root=str(course), roster=str(roster), state=str(tmp_path / "hub"), port=ports,
                       hub_port=ports + 1, proxy_api_port=ports + 2, rs485_base_port=free_port_block(3), plant_base_port=free_port_block(3),
                       manage_plant=False, mqtt=False, cull_timeout=0, proxy_command=str(proxy),
                       exchange_service=True, **extra)


class HubError(AssertionError):
    pass


class Hub:
    """A running hub started from ``settings`` (``grader/jupyterhub/jupyterhub_config.py``, as `make hub` does)."""

    def __init__(self, settings: HubSettings, log: Path):
        self.settings = settings
        self.log = log
        self.proc = None
        self.user_tokens: dict[str, str] = {}

    # ------------------------------------------------------------------ life
    def start(self, timeout: float = 60) -> float:
        """Start the hub; returns the seconds until its API answered."""
        path = self.settings.save(Path(self.settings.state) / "hub-settings.json")
        env = dict(os.environ, DAQLAB_HUB_SETTINGS=str(path))
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        self.token = Secrets.load_or_create(self.settings.state).operator_token  # the hub keeps existing secrets
        t0 = time.monotonic()
        cmd, _note = wrap([sys.executable, "-m", "jupyterhub", "-f", str(CONFIG)])  # as `daqlab hub serve` runs it
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(cmd, cwd=self.settings.state, env=env, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise HubError(f"the hub exited ({self.proc.returncode}):\n{self.tail()}")
            try:
                self.api("GET", "/hub/api/")
                return time.monotonic() - t0
            except (OSError, HubError):
                time.sleep(0.2)
        raise HubError(f"the hub did not answer within {timeout} s:\n{self.tail()}")

    def stop(self) -> None:
        """SIGTERM the hub (it stops the proxy, the user servers and its managed services), then make sure."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def tail(self, n: int = 6000) -> str:
        try:
            return self.log.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    # ------------------------------------------------------------------ HTTP
    def request(self, method: str, path: str, body=None, token: str | None = None, timeout: float = 120):
        url = self.settings.url + path
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Authorization", f"token {token or self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                raw = resp.read()
                return resp.status, (json.loads(raw) if raw.strip() else None)
        except urllib.error.HTTPError as exc:
            raise HubError(f"{method} {path}: HTTP {exc.code} {exc.read().decode(errors='replace')[:2000]}") from None

    def api(self, method: str, path: str, body=None):
        return self.request(method, path, body)[1]

    def start_server(self, user: str, timeout: float = 90) -> float:
        """Start ``user``'s server through the hub API; returns the seconds until it is ready."""
        t0 = time.monotonic()
        self.request("POST", f"/hub/api/users/{user}/server")
        while time.monotonic() - t0 < timeout:
            info = self.api("GET", f"/hub/api/users/{user}")
            server = (info.get("servers") or {}).get("")
            if server and server.get("ready"):
                return time.monotonic() - t0
            time.sleep(0.25)
        raise HubError(f"{user}'s server was not ready within {timeout} s:\n{self.tail()}")

    def user_token(self, user: str) -> str:
        if user not in self.user_tokens:
            tok = self.api("POST", f"/hub/api/users/{user}/tokens", {"note": "daqlab e2e test", "expires_in": 3600})
            self.user_tokens[user] = tok["token"]
        return self.user_tokens[user]

    def user(self, user: str, method: str, path: str, body=None, timeout: float = 300):
        """Call ``/user/<user>/<path>`` with that user's own token (as their browser would, minus XSRF)."""
        return self.request(method, f"/user/{user}/{path.lstrip('/')}", body, token=self.user_token(user),
                            timeout=timeout)[1]

    # ------------------------------------------------------------------ contents API
    def get_notebook(self, user: str, path: str) -> dict:
        return self.user(user, "GET", f"api/contents/{urllib.parse.quote(path)}?content=1")["content"]

    def put_notebook(self, user: str, path: str, nb: dict) -> None:
        self.user(user, "PUT", f"api/contents/{urllib.parse.quote(path)}", {"type": "notebook", "format": "json",
                                                                             "content": nb})

    # ------------------------------------------------------------------ kernels
    def run_code(self, user: str, code: str, timeout: float = 300) -> str:
        """Run ``code`` in a new kernel of ``user``'s server (as typed in a notebook); return its output.
        Raises HubError when the code raised."""
        kernel = self.user(user, "POST", "api/kernels", {"name": "python3"})
        try:
            return asyncio.run(asyncio.wait_for(self._execute(user, kernel["id"], code), timeout))
        finally:
            try:
                self.user(user, "DELETE", f"api/kernels/{kernel['id']}")
            except HubError:
                pass

    async def _execute(self, user: str, kernel_id: str, code: str) -> str:
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        url = self.settings.url.replace("http", "ws", 1) + f"/user/{user}/api/kernels/{kernel_id}/channels"
        ws = await websocket_connect(HTTPRequest(url, headers={"Authorization": f"token {self.user_token(user)}"}))
        msg_id, session = uuid.uuid4().hex, uuid.uuid4().hex
        ws.write_message(json.dumps({
            "header": {"msg_id": msg_id, "username": user, "session": session, "msg_type": "execute_request",
                       "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}))
        out, error = [], None
        replied = idle = False  # the reply (shell) and the outputs (iopub) come on two channels, in either order:
        try:                    # done when both the reply and iopub's "idle" (after the last output) are in
            while not (replied and idle):
                raw = await ws.read_message()
                if raw is None:
                    raise HubError("the kernel's websocket closed")
                msg = json.loads(raw)
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = msg["msg_type"], msg["content"]
                if kind == "stream":
                    out.append(content["text"])
                elif kind == "error":
                    error = "\n".join(content.get("traceback", [])) or content.get("evalue", "")
                elif kind == "execute_reply":
                    replied = True
                elif kind == "status" and content.get("execution_state") == "idle":
                    idle = True
        finally:
            ws.close()
        text = "".join(out)
        if error:
            raise HubError(f"code failed in {user}'s kernel:\n{text[-4000:]}\n{error[-4000:]}")
        return text
