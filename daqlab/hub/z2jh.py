"""Zero to JupyterHub (Helm chart ``jupyterhub``, KubeSpawner) values rendered from the hub builder.

``grader/jupyterhub/z2jh/values.yaml`` is written by hand (images, storage, the shared exchange volume,
resources, network policy, culling, scheduling). ``values.daqlab.yaml`` beside it is GENERATED here
(``daqlab hub render-z2jh``) from the same functions as the single-machine hub:

- ``hub.extraConfig.daqlab``: :func:`daqlab.hub.config.portable_config` (allowed users, admins, groups,
  default URL, timeouts) and :func:`daqlab.hub.config.user_environments` (each trainee's station and
  endpoint, role, results folder) for :func:`kubernetes_settings`, the source of
  :func:`daqlab.hub.hook.set_user_environment` and :func:`daqlab.hub.hook.add_role_volumes` (the hub image
  has no daqlab), one KubeSpawner profile per role (:data:`PROFILES`: resources) chosen by the user's
  role, the per-role volumes (:func:`role_volumes`), and :func:`daqlab.hub.hook.add_mqtt_password`, which
  derives each user's broker password in the hub pod from the MQTT secret;
- ``hub.extraEnv``: ``DAQLAB_MQTT_SECRET`` from the Kubernetes Secret :data:`MQTT_SECRET` (the broker
  Deployment, broker.yaml, reads the same key): no password is ever written into the values;
- ``singleuser.extraFiles``: the per-role Jupyter config folders of :func:`daqlab.hub.files.role_files`
  mounted at ``/etc/daqlab/jupyter/<role>/`` (the folder ``JUPYTER_CONFIG_PATH`` names).

In a pod: no exchange volume. Every user pod runs as the same uid, so nbgrader's exchange is the
hub-authenticated service ``daqlab-exchange`` (:mod:`daqlab.hub.exchange_service`, exchange.yaml: its own
volume, mounted in no user pod), registered with the hub by ``hub.extraConfig.daqlab`` with its token from
the Secret :data:`EXCHANGE_TOKEN` (``hub.extraEnv``), and every user may use it (the "user" role and the
servers' token scopes); user pods reach it on port 8765 (values.yaml's egress rule). The instructor
mounts the course (``/srv/daqlab/course``) and all results; a trainee mounts only
``results/<their name>`` read-only; the plant is reached at the ``daqlab-plant`` Service (plant.yaml), the
MQTT broker at ``mqtt://daqlab-broker:1883`` (broker.yaml): a trainee as their own device account, the
instructor as ``platform``.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from types import SimpleNamespace

import yaml

from daqlab.course.roster import load_roster
from daqlab.hub import hook
from daqlab.hub.accounts import INSTRUCTOR, TRAINEE, accounts
from daqlab.hub.config import exchange_roles, portable_config, user_environments
from daqlab.hub.files import role_files
from daqlab.hub.settings import DEFAULT_INSTRUCTOR, EXCHANGE_SERVICE, HubSettings

POD_COURSE = "/srv/daqlab/course"  #: the instructor's course root in their pod
POD_RESULTS = "/srv/daqlab/results"  #: published results (one subfolder per trainee)
POD_EXCHANGE = "/srv/nbgrader/exchange"  #: nbgrader's Exchange.root: unused (the exchange is a service) and unmounted
EXCHANGE_HOST, EXCHANGE_PORT = "daqlab-exchange", 8765  #: the exchange service's Service (exchange.yaml)
EXCHANGE_TOKEN = {"name": "daqlab-exchange", "key": "token"}  #: Secret: the exchange service's hub API token
POD_CONFIG = "/etc/daqlab/jupyter"  #: per-role Jupyter config folders (singleuser.extraFiles)
PLANT_SERVICE = "daqlab-plant"  #: the plant's Service name (plant.yaml)
BROKER_SERVICE = "daqlab-broker"  #: the MQTT broker's Service name (broker.yaml)
MQTT_PORT = 1883  #: the broker Service's port
MQTT_SECRET = {"name": "daqlab-mqtt", "key": "secret"}  #: Kubernetes Secret the broker passwords derive from
PAPER_SALT = {"name": "daqlab-papers", "key": "salt"}  #: Kubernetes Secret: the paper salt (instructor and grading)
PROFILES = {  #: one KubeSpawner profile per role: resources of a user pod
    INSTRUCTOR: {"display_name": "Instructor 教师 (grading: 4 CPU, 8 GB)", "slug": "instructor",
                 "kubespawner_override": {"cpu_guarantee": 1.0, "cpu_limit": 4.0, "mem_guarantee": "4G",
                                          "mem_limit": "8G"}},
    TRAINEE: {"display_name": "Trainee 学员 (1 CPU, 1.5 GB)", "slug": "trainee",
              "kubespawner_override": {"cpu_guarantee": 0.2, "cpu_limit": 1.0, "mem_guarantee": "768M",
                                       "mem_limit": "1.5G"}},
}


def kubernetes_settings(roster, instructor: str | None = None, seed: int = 0, exam: bool = False) -> HubSettings:
    """The same HubSettings as one machine, with in-pod paths and the plant and broker Services as hosts."""
    return HubSettings(course_root=POD_COURSE, roster=str(roster), instructor=instructor or DEFAULT_INSTRUCTOR,
                       exam=exam,
                       state="/srv/jupyterhub", lessons="/opt/daqlab/notebooks", plant_host=PLANT_SERVICE,
                       plant_base_port=5020, plant_seed=seed, manage_plant=False, mqtt=True,
                       mqtt_host=BROKER_SERVICE, mqtt_port=MQTT_PORT, manage_broker=False, exchange=POD_EXCHANGE,
                       exchange_service=True, exchange_host=EXCHANGE_HOST, exchange_port=EXCHANGE_PORT,
                       homes="/home", results=POD_RESULTS, jupyter_config=POD_CONFIG, python="python3")


def role_volumes() -> dict:
    """Per-role volumes added by the pre-spawn hook (PVC names as in storage.yaml)."""
    return {
        INSTRUCTOR: {"volumes": [{"name": "daqlab-course", "persistentVolumeClaim": {"claimName": "daqlab-course"}},
                                 {"name": "daqlab-results", "persistentVolumeClaim": {"claimName": "daqlab-results"}}],
                     "volume_mounts": [{"name": "daqlab-course", "mountPath": POD_COURSE},
                                       {"name": "daqlab-results", "mountPath": POD_RESULTS}]},
        TRAINEE: {"volumes": [{"name": "daqlab-results", "persistentVolumeClaim": {"claimName": "daqlab-results"}}],
                  "volume_mounts": [{"name": "daqlab-results", "mountPath": POD_RESULTS + "/{username}",
                                     "subPath": "{username}", "readOnly": True}]},
    }


def extra_config(settings: HubSettings, roster: dict | None = None) -> str:
    """The Python text of ``hub.extraConfig.daqlab``."""
    accts = accounts(settings, roster)
    data = {"config": portable_config(settings, accts), "environments": user_environments(settings, accts),
            "roles": {n: a.role for n, a in accts.items()}, "profiles": PROFILES, "volumes": role_volumes()}
    blob = _json_lines(data)
    return "\n".join([
        "# DAQ Lab: generated by `daqlab hub render-z2jh` (daqlab.hub.z2jh) from the same builder as the",
        "# single-machine hub (daqlab.hub.config). Do not edit: change the roster or the builder and render again.",
        "import json",
        "import os",
        "",
        f"DAQLAB = json.loads(r'''{blob}''')",
        "",
        "for _cls, _traits in DAQLAB['config'].items():",
        "    for _name, _value in _traits.items():",
        "        setattr(c[_cls], _name, _value)  # noqa: F821  (c: the hub's config)",
        "",
        inspect.getsource(hook.set_user_environment).rstrip(),
        "",
        "",
        inspect.getsource(hook.add_role_volumes).rstrip(),
        "",
        "",
        inspect.getsource(hook.add_mqtt_password).rstrip(),
        "",
        "",
        inspect.getsource(hook.add_user_label).rstrip(),
        "",
        "",
        "# the exchange service (exchange.yaml): registered with its token from the Secret daqlab-exchange",
        f"c.JupyterHub.services.append({{'name': {EXCHANGE_SERVICE!r}, 'display': False,  # noqa: F821",
        f"                               'url': 'http://{settings.exchange_host}:{settings.exchange_port}',",
        "                               'api_token': os.environ.get('DAQLAB_EXCHANGE_TOKEN', '')})",
        *[f"c.JupyterHub.load_roles.append({role!r})  # noqa: F821" for role in exchange_roles(settings)],
        "if not os.environ.get('DAQLAB_EXCHANGE_TOKEN'):",
        "    print('DAQ Lab: DAQLAB_EXCHANGE_TOKEN is not set (hub.extraEnv, Secret daqlab-exchange): "
        "nbgrader fetch and submit will fail')",
        "",
        "if not os.environ.get('DAQLAB_MQTT_SECRET'):",
        "    print('DAQ Lab: DAQLAB_MQTT_SECRET is not set (hub.extraEnv, Secret daqlab-mqtt): "
        "kernels get no MQTT password')",
        "",
        "",
        "def daqlab_role(spawner):",
        "    return DAQLAB['roles'].get(spawner.user.name, 'trainee')",
        "",
        "",
        "def daqlab_pre_spawn(spawner):",
        "    set_user_environment(spawner, DAQLAB['environments'])",
        "    add_role_volumes(spawner, DAQLAB['volumes'], daqlab_role(spawner))",
        "    add_mqtt_password(spawner, os.environ.get('DAQLAB_MQTT_SECRET', ''))",
        "    add_user_label(spawner)  # the per-user NetworkPolicy (networkpolicies.daqlab.yaml) selects on it",
        "    if daqlab_role(spawner) == 'instructor' and os.environ.get('DAQLAB_PAPER_SALT'):",
        "        spawner.environment = {**spawner.environment, 'DAQLAB_PAPER_SALT': os.environ['DAQLAB_PAPER_SALT']}",
        "",
        "",
        "c.KubeSpawner.pre_spawn_hook = daqlab_pre_spawn  # noqa: F821",
        "c.KubeSpawner.profile_list = lambda spawner: [DAQLAB['profiles'][daqlab_role(spawner)]]  # noqa: F821",
        "",
    ])


def _json_lines(data: dict) -> str:
    """JSON with one line per top-level key and per account (readable and diff-friendly for 300 trainees)."""
    def one(v):
        return json.dumps(v, ensure_ascii=False, sort_keys=True)

    parts = []
    for key, value in data.items():
        if key in ("environments", "roles"):
            inner = ",\n".join(f"  {one(k)}: {one(v)}" for k, v in value.items())
            parts.append(f" {one(key)}: {{\n{inner}\n }}")
        else:
            parts.append(f" {one(key)}: {one(value)}")
    return "{\n" + ",\n".join(parts) + "\n}"


def extra_files(settings: HubSettings) -> dict:
    """``singleuser.extraFiles``: the role config folders, one entry per file."""
    out = {}
    for role in (INSTRUCTOR, TRAINEE):
        for rel, text in role_files(settings, role).items():
            key = f"daqlab-{role}-" + rel.replace("/", "-").replace("_", "-").replace(".", "-")
            out[key] = {"mountPath": f"{settings.role_config(role)}/{rel}", "stringData": text}
    return out


class _Literal(str):
    """A string dumped as a YAML block literal (readable Python in the values file)."""


def _literal(dumper, value):
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")


yaml.SafeDumper.add_representer(_Literal, _literal)


def render_values(roster_path: Path, instructor: str | None = None, seed: int = 0, exam: bool = False) -> str:
    """The text of ``values.daqlab.yaml`` for ``roster_path`` (``exam``: trainees get no terminal)."""
    settings = kubernetes_settings(roster_path, instructor, seed, exam)
    roster = load_roster(roster_path)
    files = {k: {**v, "stringData": _Literal(v["stringData"])} for k, v in extra_files(settings).items()}
    values = {"hub": {"extraConfig": {"daqlab": _Literal(extra_config(settings, roster))},
                      "extraEnv": {"DAQLAB_MQTT_SECRET": {"valueFrom": {"secretKeyRef": dict(MQTT_SECRET)}},
                                   "DAQLAB_PAPER_SALT": {"valueFrom": {"secretKeyRef": dict(PAPER_SALT)}},
                                   "DAQLAB_EXCHANGE_TOKEN": {"valueFrom": {"secretKeyRef": dict(EXCHANGE_TOKEN)}}}},
              "singleuser": {"extraFiles": files}}
    head = ("# GENERATED by `daqlab hub render-z2jh --roster grader/roster.csv` from daqlab.hub (the builder of the\n"
            "# single-machine hub). Do not edit; use with values.yaml:\n"
            "#   helm upgrade --install daqlab jupyterhub/jupyterhub -f values.yaml -f values.daqlab.yaml\n")
    return head + yaml.safe_dump(values, allow_unicode=True, sort_keys=False, width=120)


PLANT_BASE_PORT = 5020  #: plant.yaml: control API on 5020, station k on 5020 + k


def network_policies(roster_path: Path, instructor: str | None = None, namespace: str = "daqlab") -> list[dict]:
    """One NetworkPolicy per user pod: a trainee may open TCP to the plant on their own station's port only;
    the instructor to every port (control API and all stations). NetworkPolicies add up, so the chart's own
    singleuser policy (values.yaml) opens the broker and DNS, never the plant."""
    settings = kubernetes_settings(roster_path, instructor)
    accts = accounts(settings, load_roster(roster_path))
    out = []
    for a in accts.values():
        label = hook.add_user_label(SimpleNamespace(user=SimpleNamespace(name=a.name)))  # the pod's own label
        if a.role == INSTRUCTOR:
            ports = [{"protocol": "TCP", "port": PLANT_BASE_PORT, "endPort": PLANT_BASE_PORT + 500}]
        else:
            ports = [{"protocol": "TCP", "port": PLANT_BASE_PORT + a.station}]
        out.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                    "metadata": {"name": f"daqlab-plant-{label}", "namespace": namespace,
                                 "labels": {"app.kubernetes.io/part-of": "daqlab"}},
                    "spec": {"podSelector": {"matchLabels": {"component": "singleuser-server",
                                                             "daqlab.io/user": label}},
                             "policyTypes": ["Egress"],
                             "egress": [{"to": [{"podSelector": {"matchLabels": {
                                 "app.kubernetes.io/name": PLANT_SERVICE}}}], "ports": ports}]}})
    return out


def render_network_policies(roster_path: Path, instructor: str | None = None) -> str:
    head = ("# GENERATED by `daqlab hub render-z2jh` from the roster: each trainee's pod reaches its own station\n"
            "# only (the instructor every one).  kubectl -n daqlab apply -f networkpolicies.daqlab.yaml\n")
    return head + yaml.safe_dump_all(network_policies(roster_path, instructor), sort_keys=False, width=120)
