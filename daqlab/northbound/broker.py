"""DAQ Lab's own MQTT broker: Debian's Mosquitto started as a child process with a generated config.

Never the system service: every lab, hub, grading run and test starts its own broker on 127.0.0.1
with its own port, accounts and folder, and stops it afterwards::

    with Broker([device_account("t01", secret), platform_account(secret)]) as broker:
        broker.url                      # 'mqtt://127.0.0.1:40213'

The generated ``mosquitto.conf`` (kept in ``workdir`` for the curious) sets:

- ``allow_anonymous false`` with a hashed ``password_file`` and an ``acl_file`` (see accounts);
- ``max_queued_messages 0`` (no limit): Mosquitto's default queue of 1000 messages per client silently
  drops QoS 1/2 messages to a slow subscriber, which would look like loss in the recorder;
- ``max_inflight_messages 0`` (no in-flight window towards subscribers): Debian's Mosquitto 2.0.11 counts
  the in-flight quota of a session wrongly after a restart from persistence (fixed upstream in 2.0.13,
  eclipse/mosquitto#2306), and messages it queued behind a full window could stay queued for good: the
  platform's recorder then never saw the last posts of a store-and-forward burst although the broker had
  acknowledged them. With no window, messages for a connected client are never queued behind one;
- ``persistence`` on when asked, so a persistent session (clean_session false) and its queued
  messages survive a broker restart (:meth:`restart`).
- with ``platform_port`` (the classroom hub): two listeners with their own accounts
  (``per_listener_settings``). Devices connect on ``port`` with ``use_username_as_clientid``, so a device's
  client id is its user name and nobody can take over (knock off) another's session; the platform
  accounts (the recorder, the instructor) connect on ``platform_port``, whose password file holds no
  device account, so no trainee can even try to log in there.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from daqlab.atomic import write_atomic
from daqlab.northbound.accounts import Account

SEARCH = ("/usr/sbin", "/usr/local/sbin", "/usr/bin", "/opt/homebrew/sbin")
INSTALL_HINT = "Mosquitto is not installed: `sudo apt-get install mosquitto` (make lab / make test install it)"


class BrokerError(RuntimeError):
    """The broker could not be started (not installed, port taken, bad config): the message says why."""


def find_tool(name: str) -> str:
    path = shutil.which(name) or next((f"{d}/{name}" for d in SEARCH if os.access(f"{d}/{name}", os.X_OK)), None)
    if path is None:
        raise BrokerError(INSTALL_HINT + f" ({name} not found)")
    return path


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _accepting(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
        return True
    return False


class Broker:
    """One Mosquitto process. ``port=0`` picks a free port (kept across :meth:`restart`)."""

    def __init__(self, accounts: list[Account], *, host: str = "127.0.0.1", port: int = 0, workdir=None,
                 persistence: bool = False, log_type: str = "error warning notice", platform_port: int | None = None):
        if not accounts:
            raise ValueError("a broker without accounts would refuse everyone (anonymous access is off)")
        names = [a.username for a in accounts]
        if len(set(names)) != len(names):
            raise ValueError("duplicate user names in the accounts")
        self.accounts = {a.username: a for a in accounts}
        self.host = host
        self.port = port
        self.platform_port = platform_port  #: None: one listener for everyone; 0: a free port at start
        self.persistence = persistence
        self.log_type = log_type
        self._own_dir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="daqlab-broker-"))
        self.proc: subprocess.Popen | None = None

    # ------------------------------------------------------------ config
    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    @property
    def platform_url(self) -> str:
        """Where the platform accounts connect (the one listener when there is no ``platform_port``)."""
        return f"mqtt://{self.host}:{self.platform_port or self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "mosquitto.log"

    def config_text(self) -> str:
        user = getpass.getuser()
        if self.platform_port is None:
            listeners = [f"listener {self.port} {self.host}", "allow_anonymous false",
                         f"password_file {self.workdir / 'passwd'}", f"acl_file {self.workdir / 'acl'}"]
        else:  # devices and the platform apart (module docstring)
            listeners = ["per_listener_settings true",
                         f"listener {self.port} {self.host}", "allow_anonymous false",
                         f"password_file {self.workdir / 'passwd'}", f"acl_file {self.workdir / 'acl'}",
                         "use_username_as_clientid true",
                         f"listener {self.platform_port} {self.host}", "allow_anonymous false",
                         f"password_file {self.workdir / 'passwd-platform'}",
                         f"acl_file {self.workdir / 'acl-platform'}"]
        lines = [
            "# generated by daqlab.northbound.broker: do not edit, regenerate",
            *listeners,
            "max_queued_messages 0",
            "max_inflight_messages 0",  # see the module docstring: 2.0.11's in-flight quota can strand messages
            # mosquitto started as root drops to user 'mosquitto' unless told otherwise: stay who we are
            f"user {user}",
            f"log_dest file {self.log_path}",
            *[f"log_type {t}" for t in self.log_type.split()],
            "connection_messages true",
            f"persistence {'true' if self.persistence else 'false'}",
        ]
        if self.persistence:
            # saved after every change, not once a minute: a broker killed with SIGKILL (or a power cut) comes
            # back with every persistent session and subscription (the platform's recorder's above all), so
            # what devices send right after the restart is queued for it, not dropped
            lines += [f"persistence_location {self.workdir}/", "autosave_on_changes true", "autosave_interval 1"]
        return "\n".join(lines) + "\n"

    def write_accounts(self) -> None:
        """Write the password file(s) (hashed with mosquitto_passwd) and the ACL file(s)."""
        every = list(self.accounts.values())
        if self.platform_port is None:
            self._write_accounts("", every)
        else:
            self._write_accounts("", [a for a in every if a.role != "platform"])
            self._write_accounts("-platform", [a for a in every if a.role == "platform"])

    def _write_accounts(self, suffix: str, accounts: list) -> None:
        passwd = self.workdir / f"passwd{suffix}"
        write_atomic(passwd, "".join(f"{a.username}:{a.password}\n" for a in accounts), mode=0o600)
        res = subprocess.run([find_tool("mosquitto_passwd"), "-U", str(passwd)], capture_output=True, text=True)
        if res.returncode != 0:
            raise BrokerError(f"mosquitto_passwd failed: {res.stderr.strip() or res.stdout.strip()}")
        acl = self.workdir / f"acl{suffix}"
        write_atomic(acl, "# generated by daqlab.northbound.accounts\n" + "\n".join(a.acl() for a in accounts),
                     mode=0o600)

    def update_accounts(self, accounts: list[Account]) -> None:
        """Replace the accounts of a running broker (files rewritten, SIGHUP reloads them)."""
        self.accounts = {a.username: a for a in accounts}
        self.write_accounts()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGHUP)

    # --------------------------------------------------------- lifecycle
    def start(self, timeout: float = 10.0) -> Broker:
        if self.proc is not None and self.proc.poll() is None:
            return self
        exe = find_tool("mosquitto")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.write_accounts()
        fixed = bool(self.port)
        if fixed and _accepting(self.host, self.port):
            raise BrokerError(f"mosquitto did not start: {self.host}:{self.port} is already in use by another program")
        if self.platform_port == 0:
            self.platform_port = free_port(self.host)
        for _attempt in range(1 if fixed else 5):
            if not fixed:
                self.port = free_port(self.host)
            conf = self.workdir / "mosquitto.conf"
            conf.write_text(self.config_text())
            self.proc = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                         start_new_session=True)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                if _accepting(self.host, self.port):
                    return self
                time.sleep(0.02)
            err = self._failure()
            if fixed or "Address already in use" not in err:
                raise BrokerError(f"mosquitto did not start on {self.host}:{self.port}: {err}")
        raise BrokerError(f"mosquitto found no free port: {err}")

    def _failure(self) -> str:
        if self.proc is None:
            return "not started"
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
            return "it did not accept connections in time"
        stderr = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
        log = self.log_path.read_text(errors="replace")[-2000:] if self.log_path.exists() else ""
        return (stderr + "\n" + log).strip() or f"exit code {self.proc.returncode}"

    def stop(self) -> None:
        """SIGTERM (Mosquitto saves its persistence file), then wait; the port is free afterwards."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if proc.stderr:
            proc.stderr.close()

    def kill(self) -> None:
        """SIGKILL Mosquitto (a crash: nothing saved); ``start()`` brings it back on the same port."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(10)
        if proc is not None and proc.stderr:
            proc.stderr.close()

    def restart(self, down_s: float = 0.0) -> None:
        """Stop, stay down ``down_s`` seconds, start again on the same port."""
        self.stop()
        time.sleep(down_s)
        self.start()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def close(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Broker:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # ----------------------------------------------------------- clients
    def environment(self, username: str) -> dict:
        """Environment variables that give a kernel its broker account (see daqlab.station.my_platform)."""
        a = self.accounts[username]
        return {"DAQLAB_MQTT_URL": self.url, "DAQLAB_MQTT_USER": a.username, "DAQLAB_MQTT_PASSWORD": a.password,
                "DAQLAB_PRODUCT_KEY": a.product_key}
