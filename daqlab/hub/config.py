"""The hub's configuration, built in one place for both platforms.

- :func:`portable_config`: the part that is the same on one machine and on Kubernetes (who may sign in,
  who is admin, groups, roles, the default URL, spawn timeouts), as plain ``{Class: {trait: value}}`` data.
- :func:`user_environments`: every account's environment (station, role, config folder, course or results).
- :func:`services`: the hub-managed services of a single machine, as :class:`Service` records (the plant,
  the MQTT broker, the idle culler, the operator's token). It is the ONE place to add a service:
  :func:`service_config` turns the list into ``JupyterHub.services`` and the matching ``load_roles``.
- :func:`apply_local`: everything on a traitlets config ``c`` for one machine: the above, plus the proxy
  installed from npm, the simple local process spawner with a home per user, authentication, and a
  pre-spawn hook that provisions the home and sets the environment (:mod:`daqlab.hub.hook`).

Kubernetes gets :func:`portable_config` and :func:`user_environments` rendered into the Helm values by
:mod:`daqlab.hub.z2jh`; there the plant and the broker are Deployments and culling is Z2JH's own ``cull`` section.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from daqlab.hub import mqtt
from daqlab.hub.accounts import INSTRUCTOR, TRAINEE, Account, accounts, plant_stations, user_environment
from daqlab.hub.settings import EXCHANGE_SERVICE, HubSettings, Secrets

OPERATOR = "daqlab-operator"
CULLER_SCOPES = ["list:users", "read:users:activity", "read:servers", "delete:servers"]
# The hub stops a service with SIGINT. A hub started from a script's background job inherits SIGINT
# ignored, and so would the culler (which relies on KeyboardInterrupt): the hub would then wait 20 s per
# stop. The culler is therefore launched with Python's default SIGINT handler put back.
CULLER_LAUNCH = ("import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
                 "from jupyterhub_idle_culler import main; main()")
EXCHANGE_ACCESS = f"access:services!service={EXCHANGE_SERVICE}"
#: what a user's server token may do: JupyterHub's own "server" role, plus use the exchange service
SERVER_TOKEN_SCOPES = ["users:activity!user", "access:servers!server", EXCHANGE_ACCESS]
OPERATOR_SCOPES = ["admin:users", "admin:servers", "tokens", "access:servers", "list:users", "read:users",
                   "list:services", "read:services"]


@dataclass
class Service:
    """One hub service (a process the hub starts, or just an API token for a script)."""

    name: str  #: service name (also its role's name)
    command: list[str] | None = None  #: the command the hub runs and restarts (None: not managed)
    environment: dict[str, str] = field(default_factory=dict)  #: extra environment of the process
    scopes: list[str] = field(default_factory=list)  #: JupyterHub scopes granted to the service's token
    api_token: str | None = None  #: a fixed token (for scripts and tests); managed services get their own
    url: str | None = None  #: an HTTP service the proxy routes /services/<name>/ to (None: no route)


def exchange_roles(settings: HubSettings) -> list[dict]:
    """With the exchange service every user may use it (JupyterHub's "user" role plus its access scope)."""
    return [{"name": "user", "scopes": ["self", EXCHANGE_ACCESS]}] if settings.exchange_service else []


def portable_config(settings: HubSettings, accts: dict[str, Account]) -> dict:
    trainees = sorted(a.name for a in accts.values() if a.role == TRAINEE)
    return {
        "Authenticator": {"allowed_users": trainees, "admin_users": [settings.instructor]},
        "JupyterHub": {"load_groups": {"instructors": [settings.instructor], "trainees": trainees},
                       "template_vars": {"announcement_login": "DAQ Lab · 工业互联网数据采集实训: "
                                                               "sign in with the name and password on your slip"}},
        "Spawner": {"default_url": "/lab", "start_timeout": 120, "http_timeout": 90,
                    **({"server_token_scopes": SERVER_TOKEN_SCOPES} if settings.exchange_service else {})},
    }


def user_environments(settings: HubSettings, accts: dict[str, Account], plant_token: str | None = None,
                      mqtt_secret: str | None = None, paper_salt: str | None = None) -> dict:
    return {name: user_environment(settings, a, plant_token, mqtt_secret, paper_salt) for name, a in accts.items()}


def services(settings: HubSettings, secrets: Secrets, accts: dict[str, Account],
             owners_file: str | None = None) -> list[Service]:
    """The single-machine hub's services: the classroom plant, the MQTT broker (``settings.mqtt`` and
    ``manage_broker``, and at least one trainee), the idle culler and the operator token. ``settings`` are
    those :func:`daqlab.hub.mqtt.prepare` returned (Mosquitto present, the port free). The plant's control
    token goes in its environment, never on its command line (``ps`` shows that to everyone); with
    ``owners_file`` a station accepts only its owner's account (:mod:`daqlab.plant.peers`)."""
    out = []
    if settings.manage_plant:
        cmd = [settings.python, "-m", "daqlab.cli", "plant", "serve", "--stations", str(plant_stations(accts)),
               "--host", settings.plant_host, "--base-port", str(settings.plant_base_port),
               "--seed", str(settings.plant_seed), "--speed", f"{settings.plant_speed:g}"]
        if owners_file:
            cmd += ["--owners", owners_file]
        if settings.rs485:  # every station's RS-485 bus (the mock final's part 1); gated by the owners like Modbus
            for k in range(1, plant_stations(accts) + 1):
                cmd += ["--rfc2217", f"{k}:{settings.rs485_base_port + k}"]
        out.append(Service("plant", cmd, environment={"PYTHONUNBUFFERED": "1",
                                                      "DAQLAB_CONTROL_TOKEN": secrets.plant_token}))
    if owners_file:  # per-user accounts: the instructor is not root, grading is (daqlab.hub.gradeservice)
        out.append(Service("grader", [settings.python, "-m", "daqlab.hub.gradeservice", "--socket",
                                      grader_socket(settings), "--course", settings.course_root,
                                      "--roster", settings.roster],
                           environment={"PYTHONUNBUFFERED": "1", "DAQLAB_PAPER_SALT": secrets.paper_salt}))
    if settings.exchange_service:  # root's folder, answered over HTTP to hub tokens (daqlab.hub.exchange_service)
        out.append(Service(EXCHANGE_SERVICE, [settings.python, "-m", "daqlab.hub.exchange_service", "--root",
                                              str(settings.exchange_store), "--course", settings.course_id,
                                              "--instructor", settings.instructor],
                           environment={"PYTHONUNBUFFERED": "1"},
                           url=f"http://{settings.exchange_host}:{settings.exchange_port}"))
    if settings.mqtt and settings.manage_broker and any(a.role == TRAINEE for a in accts.values()):
        out.append(Service("broker", mqtt.broker_command(settings), environment=mqtt.broker_environment(secrets.mqtt_secret)))
    if settings.cull_timeout > 0:
        out.append(Service("idle-culler", [settings.python, "-c", CULLER_LAUNCH, f"--timeout={settings.cull_timeout}",
                                           f"--cull-every={settings.cull_every}"], scopes=CULLER_SCOPES))
    out.append(Service(OPERATOR, scopes=OPERATOR_SCOPES, api_token=secrets.operator_token))
    return out


def grader_socket(settings: HubSettings) -> str:
    return str(Path(settings.state) / "grader.sock")


def service_config(svcs: list[Service]) -> dict:
    """``JupyterHub.services`` and ``JupyterHub.load_roles`` for ``svcs``."""
    entries, roles = [], []
    for s in svcs:
        e = {"name": s.name}
        if s.command:
            e["command"] = list(s.command)
            e["environment"] = dict(s.environment)
        if s.api_token:
            e["api_token"] = s.api_token
        if s.url:
            e["url"], e["display"] = s.url, False
        entries.append(e)
        if s.scopes:
            roles.append({"name": s.name, "scopes": list(s.scopes), "services": [s.name]})
    return {"services": entries, "load_roles": roles}


def apply_local(c, settings: HubSettings) -> dict[str, Account]:
    """Configure ``c`` (a traitlets Config) for the single-machine hub; returns the accounts. The broker is
    decided first (:func:`daqlab.hub.mqtt.prepare`: Mosquitto missing -> a warning on stderr and no MQTT;
    port taken -> a free one), so the environments and the broker service agree on its port."""
    from daqlab.hub.files import provision_home, write_role_configs
    from daqlab.hub.hook import set_user_environment
    from daqlab.hub.system import isolation_unavailable

    settings, note = mqtt.prepare(settings)
    if note:
        print(f"DAQ Lab hub: {note}", file=sys.stderr, flush=True)
    if settings.exchange_service and not settings.exchange_port:
        from dataclasses import replace

        from daqlab.hub.mqtt import free_port

        settings = replace(settings, exchange_port=free_port(settings.exchange_host))
    accts = accounts(settings)
    trainees = [a.name for a in accts.values() if a.role == TRAINEE]
    sec = Secrets.load_or_create(settings.state, trainees)
    isolated = not isolation_unavailable()
    write_role_configs(settings, isolated)
    for cls, traits in portable_config(settings, accts).items():
        for k, v in traits.items():
            setattr(c[cls], k, v)
    state = Path(settings.state)
    c.JupyterHub.ip, c.JupyterHub.port = settings.ip, settings.port
    c.JupyterHub.hub_ip, c.JupyterHub.hub_port = "127.0.0.1", settings.hub_port
    c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
    c.ConfigurableHTTPProxy.command = [settings.proxy_command]
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings.proxy_api_port}"
    c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")

    if settings.auth == "roster":
        c.JupyterHub.authenticator_class = "daqlab.hub.auth.RosterPasswordAuthenticator"
        c.RosterPasswordAuthenticator.passwords = {**sec.passwords, settings.instructor: sec.instructor_password}
    elif settings.auth == "shared":
        c.JupyterHub.authenticator_class = "shared-password"
        c.SharedPasswordAuthenticator.user_password = os.environ.get("DAQLAB_HUB_TRAINEE_PASSWORD", sec.shared_password)
        c.SharedPasswordAuthenticator.admin_password = sec.instructor_password
    else:  # tests only: any password
        c.JupyterHub.authenticator_class = "dummy"

    c.Spawner.cmd = [str(Path(settings.python).parent / "jupyterhub-singleuser")]
    os_accounts = {}
    if isolated:  # one OS account per user, servers never as root (daqlab.hub.system)
        from daqlab.hub.system import ensure_user, lock_down, own_tree

        instructor = ensure_user(settings.instructor, settings.home(settings.instructor), staff=True)
        os_accounts = {settings.instructor: instructor}
        os_accounts.update({t: ensure_user(t, settings.home(t)) for t in trainees})
        for note in lock_down(settings, instructor, {t: os_accounts[t] for t in trainees}):
            print(f"DAQ Lab hub: made {note} traversable (o+x) for the trainees' accounts", file=sys.stderr)
        c.JupyterHub.spawner_class = "daqlab.hub.spawner.AccountSpawner"
        c.AccountSpawner.home_dir_template = str(Path(settings.homes) / "{username}")
    else:
        c.JupyterHub.spawner_class = "simple"
        c.SimpleLocalProcessSpawner.home_dir_template = str(Path(settings.homes) / "{username}")
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            c.Spawner.args = ["--ServerApp.allow_root=True"]
    envs = user_environments(settings, accts, sec.plant_token, sec.mqtt_secret, sec.paper_salt)
    venv_bin = str(Path(settings.python).parent)

    def pre_spawn(spawner):
        account = accts.get(spawner.user.name)
        env = set_user_environment(spawner, envs)
        env["PATH"] = os.pathsep.join([venv_bin, os.environ.get("PATH", "/usr/bin:/bin")])  # daqlab, nbgrader
        if account.role == INSTRUCTOR and os_accounts:
            env["DAQLAB_GRADER_SOCKET"] = grader_socket(settings)  # `daqlab course grade` runs as root there
        if account.role == INSTRUCTOR and os.environ.get("DAQLAB_HUB_SETTINGS"):
            env["DAQLAB_HUB_SETTINGS"] = os.environ["DAQLAB_HUB_SETTINGS"]  # `daqlab hub ...` in their terminal
        spawner.environment = env
        home = provision_home(settings, account)
        if account.name in os_accounts:
            own_tree(home, os_accounts[account.name])
        spawner.notebook_dir = settings.course_root if account.role == INSTRUCTOR else str(home)
        if account.role == TRAINEE:  # a trainee lands on their welcome page (daqlab.hub.welcome)
            from daqlab.hub.welcome import WELCOME

            spawner.default_url = f"/lab/tree/{WELCOME}"

    c.Spawner.pre_spawn_hook = pre_spawn
    owners_file = None
    if isolated:  # each station answers its trainee's account, the staff (instructor, HMI) and root
        from daqlab.atomic import write_atomic
        from daqlab.plant.peers import Owners

        owners = Owners(everywhere={os_accounts[settings.instructor].pw_uid})
        for a in accts.values():
            if a.role == TRAINEE:
                owners.stations.setdefault(a.station, set()).add(os_accounts[a.name].pw_uid)
        owners_file = str(state / "station-owners.json")
        write_atomic(Path(owners_file), owners.to_json(), mode=0o600)
    sv = service_config(services(settings, sec, accts, owners_file))
    c.JupyterHub.services = sv["services"]
    c.JupyterHub.load_roles = sv["load_roles"] + exchange_roles(settings)
    return accts
