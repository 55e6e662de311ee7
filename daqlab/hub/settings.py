"""What a classroom hub is made of: ports, folders, the plant, culling (HubSettings) and its secrets.

Contract:

- Everything the hub writes lives under ``state`` (default ``<checkout>/.hub``, gitignored): the hub's
  database and cookie secret, the proxy installed from npm, users' homes, the nbgrader exchange, the
  per-role Jupyter config folders, published results and ``secrets.json``.
- ``HubSettings`` is plain data (JSON round trip with :meth:`save` / :meth:`load`), so ``daqlab hub serve``
  hands it to ``grader/jupyterhub/jupyterhub_config.py`` through a file named by ``DAQLAB_HUB_SETTINGS``,
  and the Kubernetes rendering (:mod:`daqlab.hub.z2jh`) uses the same class with in-pod paths.
- Ports: the public URL ``http://ip:port`` (proxy), the hub's own API on ``hub_port``, the proxy's REST
  API on ``proxy_api_port``, the plant's control API on ``plant_base_port`` and station k on
  ``plant_base_port + k``, the MQTT broker on ``mqtt_port`` (1883; when another program, e.g. a system
  Mosquitto, already listens there, the hub takes a free port: :mod:`daqlab.hub.mqtt`). All on 127.0.0.1
  unless told otherwise.
- Secrets are generated once, on first use, and kept in ``<state>/secrets.json`` (mode 0600): the plant's
  control token, the operator service's API token, the instructor's password, one password per trainee
  (roster authentication), a shared trainee password (shared-password authentication) and the MQTT secret
  every broker password derives from (:func:`daqlab.northbound.accounts.derive_password`) and the salt of
  every theory paper's draw (:mod:`daqlab.hub.papers`).
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from daqlab import paths
from daqlab.atomic import locked, write_atomic

DEFAULT_INSTRUCTOR = "grader-daqlab"
AUTH_KINDS = ("roster", "shared", "dummy")
EXCHANGE_SERVICE = "daqlab-exchange"  #: the exchange service's name at the hub (daqlab.hub.exchange_service)


def default_state() -> Path:
    return paths.CHECKOUT / ".hub"


@dataclass
class HubSettings:
    """One classroom hub. Paths are absolute strings (JSON-friendly); see the module docstring."""

    course_root: str = field(default_factory=lambda: str(paths.course_root()))  #: instructor's nbgrader course root
    course_id: str = "daqlab"  #: nbgrader course id (CourseDirectory.course_id)
    roster: str = field(default_factory=lambda: str(paths.grader() / "roster.csv"))  #: student_id,name,station CSV
    instructor: str = DEFAULT_INSTRUCTOR  #: the instructor's hub user name (an admin)
    state: str = field(default_factory=lambda: str(default_state()))  #: folder for everything the hub writes
    lessons: str = field(default_factory=lambda: str(paths.CHECKOUT / "notebooks"))  #: lessons copied into homes
    ip: str = "127.0.0.1"  #: address the public proxy listens on
    port: int = 8000  #: public port (the URL trainees open)
    hub_port: int = 8081  #: the hub's internal API port
    proxy_api_port: int = 8001  #: configurable-http-proxy's REST API port
    plant_host: str = "127.0.0.1"  #: where trainees' kernels reach the plant
    plant_base_port: int = 5020  #: plant control API on BASE, station k on BASE+k
    plant_seed: int = 0  #: plant seed (station variants)
    plant_speed: float = 1.0  #: plant seconds per wall second
    manage_plant: bool = True  #: run the plant as a hub-managed service (False: it runs elsewhere)
    rs485: bool = True  #: with manage_plant: each station's RS-485 bus behind a serial device server, owner-gated
    rs485_base_port: int = 7000  #: station k's RS-485 bus on RS485_BASE + k (RFC 2217; DAQLAB_RS485_URL)
    mqtt: bool = True  #: give every account a broker account (False: no DAQLAB_MQTT_* at all, no broker)
    mqtt_host: str = "127.0.0.1"  #: where kernels reach the MQTT broker (the broker service listens there)
    mqtt_port: int = 1883  #: the broker's port (taken by another program at hub start: a free one instead)
    mqtt_platform_port: int = 0  #: the broker's listener for the platform accounts only (0: a free port at start)
    manage_broker: bool = True  #: run the broker as a hub-managed service (False: it runs elsewhere)
    auth: str = "roster"  #: "roster" (a password per account), "shared" (one trainee password) or "dummy" (tests)
    cull_timeout: int = 3600  #: stop a user server idle for this many seconds (0: no culling)
    cull_every: int = 300  #: how often the idle culler looks (seconds)
    exam: bool = False  #: an exam: trainees get no terminal (daqlab hub serve --exam)
    exchange: str = ""  #: nbgrader Exchange.root (default <state>/exchange)
    exchange_service: bool = False  #: the exchange is the hub-authenticated service (daqlab.hub.exchange_service)
    exchange_host: str = "127.0.0.1"  #: where servers reach the exchange service
    exchange_port: int = 0  #: the exchange service's port (0: a free port at start)
    homes: str = ""  #: users' homes, one folder per user (default <state>/home)
    results: str = ""  #: published per-trainee results (default <state>/results)
    jupyter_config: str = ""  #: per-role Jupyter config folders (default <state>/jupyter)
    proxy_command: str = ""  #: configurable-http-proxy executable (default: the npm install under <state>)
    python: str = field(default_factory=lambda: sys.executable)  #: interpreter for the hub-managed services

    def __post_init__(self):
        if self.auth not in AUTH_KINDS:
            raise ValueError(f"auth must be one of {AUTH_KINDS}, not {self.auth!r}")
        st = Path(self.state)
        self.exchange = self.exchange or str(st / "exchange")
        self.homes = self.homes or str(st / "home")
        self.results = self.results or str(st / "results")
        self.jupyter_config = self.jupyter_config or str(st / "jupyter")
        self.proxy_command = self.proxy_command or str(st / "node_modules" / ".bin" / "configurable-http-proxy")

    @property
    def url(self) -> str:
        return f"http://{self.ip}:{self.port}"

    def home(self, user: str) -> Path:
        return Path(self.homes) / user

    @property
    def exchange_url(self) -> str:
        """The exchange service's base URL (only with ``exchange_service``)."""
        return f"http://{self.exchange_host}:{self.exchange_port}/services/{EXCHANGE_SERVICE}/"

    @property
    def exchange_store(self) -> Path:
        """The exchange service's own folder (one machine): root's, mode 0700, in no trainee's reach."""
        return Path(self.state) / "exchange-service"

    @property
    def mqtt_url(self) -> str:
        return f"mqtt://{self.mqtt_host}:{self.mqtt_port}"

    @property
    def mqtt_platform_url(self) -> str:
        """Where the platform accounts (the instructor, the recorder) connect; devices cannot log in there."""
        return f"mqtt://{self.mqtt_host}:{self.mqtt_platform_port or self.mqtt_port}"

    @property
    def mqtt_dir(self) -> Path:
        """The broker's folder: ``broker/`` (generated config, hashed passwords, ACL, log, persistence) and
        ``platform.jsonl`` (every message published, as the platform recorded it)."""
        return Path(self.state) / "mqtt"

    def role_config(self, role: str) -> Path:
        """The Jupyter config folder of a role ("instructor" | "trainee"), put on JUPYTER_CONFIG_PATH."""
        return Path(self.jupyter_config) / role

    def save(self, path) -> Path:
        path = Path(path)
        write_atomic(path, json.dumps(asdict(self), indent=2))
        return path

    @classmethod
    def load(cls, path=None) -> HubSettings:
        """Settings from ``path`` (or ``$DAQLAB_HUB_SETTINGS``); defaults when neither names a file."""
        path = path or os.environ.get("DAQLAB_HUB_SETTINGS")
        if not path or not Path(path).exists():
            return cls()
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SecretsError(f"{path} is unreadable ({exc}); delete it to start from the defaults") from exc
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class Secrets:
    """Generated once per state folder (``<state>/secrets.json``, mode 0600)."""

    plant_token: str  #: X-DAQLab-Token of the plant's control API (instructor side only)
    operator_token: str  #: API token of the "daqlab-operator" hub service (scripts, tests)
    instructor_password: str  #: the instructor's login password (>= 32 characters: an admin)
    shared_password: str  #: the trainees' password when auth = "shared"
    passwords: dict[str, str]  #: per-trainee login passwords when auth = "roster"
    mqtt_secret: str  #: the broker passwords derive from it (HMAC of the user name); instructor side only
    paper_salt: str = ""  #: salts every theory paper's draw (daqlab.hub.papers); instructor side only

    @classmethod
    def load_or_create(cls, state, users=()) -> Secrets:
        """Read ``<state>/secrets.json``; create missing values (new trainees get a new password).

        The first creation leaves ``<state>/.secrets-issued``: from then on a missing or unreadable
        secrets file is an error (SecretsError), never a silent new set that would void every printed
        password slip. Written atomically, mode 0600, under a lock.
        """
        path = Path(state) / "secrets.json"
        issued = Path(state) / ".secrets-issued"
        with locked(path):
            return cls._load_or_create(path, issued, users)

    @classmethod
    def _load_or_create(cls, path: Path, issued: Path, users) -> Secrets:
        if not path.exists() and issued.exists():
            raise SecretsError(f"{path} is missing but this hub issued secrets before: restore it from your backup "
                               f"(or delete {issued} to issue new ones: every printed password changes)")
        try:
            data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as exc:
            raise SecretsError(f"{path} is unreadable ({exc}): restore it from your backup "
                               f"(or delete it and {issued} to issue new ones: every printed password changes)") from exc
        changed = not path.exists()
        for key, size in (("plant_token", 16), ("operator_token", 24), ("instructor_password", 24),
                          ("shared_password", 6), ("mqtt_secret", 16), ("paper_salt", 16)):
            if not data.get(key):
                data[key], changed = secrets.token_hex(size) if key != "shared_password" else _words(), True
        pw = data.setdefault("passwords", {})
        for u in users:
            if u not in pw:
                pw[u], changed = _words(), True
        if changed:
            write_atomic(path, json.dumps(data, indent=2), mode=0o600)
            issued.touch()
        return cls(**{f.name: data[f.name] for f in fields(cls)})


class SecretsError(RuntimeError):
    """The hub's secrets or settings cannot be read; the message says how to recover."""


_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud or typed from a printed slip


def _words() -> str:
    """A password a trainee can type from a slip: three groups of four, e.g. ``k7dm-q2xa-9fhr``."""
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(3))
