"""The Zero to JupyterHub files: well-formed, valid for the keys DAQ Lab uses, and rendered from the same builder
as the single-machine hub (what can be validated without a Kubernetes cluster)."""

import json
import os
from types import SimpleNamespace

import jsonschema
import yaml
from traitlets.config import Config

from daqlab.cli import _parser
from daqlab.course.roster import load_roster
from daqlab.hub.accounts import accounts, user_environment
from daqlab.hub.config import EXCHANGE_ACCESS, portable_config, user_environments
from daqlab.hub.settings import HubSettings
from daqlab.hub.z2jh import (
    EXCHANGE_PORT,
    EXCHANGE_TOKEN,
    MQTT_SECRET,
    kubernetes_settings,
    render_values,
    role_volumes,
)
from daqlab.northbound.accounts import derive_password

from ..course_helpers import ROOT

Z2JH = ROOT / "grader" / "jupyterhub" / "z2jh"
ROSTER = ROOT / "grader" / "roster.csv"


def merged_values() -> dict:
    """values.yaml then values.daqlab.yaml, merged as `helm -f a -f b` merges (maps deep, the rest replaced)."""
    def merge(a, b):
        out = dict(a)
        for k, v in b.items():
            out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
        return out

    return merge(yaml.safe_load((Z2JH / "values.yaml").read_text()), yaml.safe_load((Z2JH / "values.daqlab.yaml").read_text()))


def hub_config_from_values() -> tuple[Config, dict]:
    """Run hub.extraConfig as the chart's jupyterhub_config.py does (``c`` = the hub's config)."""
    c = Config()
    scope = {"c": c}
    exec(compile(merged_values()["hub"]["extraConfig"]["daqlab"], "extraConfig.daqlab", "exec"), scope)
    return c, scope


def test_generated_values_are_up_to_date():
    want = render_values(ROSTER)
    assert (Z2JH / "values.daqlab.yaml").read_text(encoding="utf-8") == want, \
        "values.daqlab.yaml is stale: run `daqlab hub render-z2jh --roster grader/roster.csv`"


def test_values_match_the_schema_for_the_keys_used():
    schema = json.loads((Z2JH / "values.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    values = merged_values()
    jsonschema.validate(values, schema)
    # the checks the schema exists for: a typo is caught, culling and the shared exchange are there
    bad = dict(values, cull={**values["cull"], "timout": 10})
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(bad))
    typo = {"valueFrom": {"secretKeyref": MQTT_SECRET}}  # a Secret reference with a typo is caught too
    bad = dict(values, hub={**values["hub"], "extraEnv": {"DAQLAB_MQTT_SECRET": typo}})
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(bad))
    assert values["cull"]["enabled"] and values["cull"]["timeout"] >= 600
    # no user pod mounts the exchange (they all run as one uid): it is the exchange service's volume alone
    user_claims = [v for v in values["singleuser"]["storage"].get("extraVolumes", []) if "persistentVolumeClaim" in v]
    assert not [v for v in user_claims if v["persistentVolumeClaim"]["claimName"] == "daqlab-exchange"]
    assert not [v for role in role_volumes().values() for v in role["volumes"]
                if v.get("persistentVolumeClaim", {}).get("claimName") == "daqlab-exchange"]


def test_extra_config_is_the_builders_config_for_both_platforms():
    c, scope = hub_config_from_values()
    roster = load_roster(ROSTER)
    local = HubSettings(roster=str(ROSTER), exchange_service=True)  # `daqlab hub serve --exchange-service`
    kube = kubernetes_settings(ROSTER)
    # the portable part is the same whatever the platform: same users, admins, groups, default URL, token scopes
    assert portable_config(local, accounts(local, roster)) == portable_config(kube, accounts(kube, roster))
    for cls, traits in portable_config(local, accounts(local, roster)).items():
        for name, value in traits.items():
            assert c[cls][name] == value, (cls, name)
    assert len(c.Authenticator.allowed_users) == len(roster) and c.Authenticator.admin_users == ["grader-daqlab"]
    # each trainee gets the same station on both platforms; only the host and folders differ
    env_local = user_environments(local, accounts(local, roster))
    env_kube = scope["DAQLAB"]["environments"]
    assert env_kube == user_environments(kube, accounts(kube, roster))
    for user, env in env_local.items():
        assert env_kube[user].get("DAQLAB_STATION") == env.get("DAQLAB_STATION")
        assert env_kube[user]["DAQLAB_ROLE"] == env["DAQLAB_ROLE"]
    assert env_kube["t05"]["DAQLAB_ENDPOINT"] == "tcp://daqlab-plant:5025"
    assert env_kube["t05"]["DAQLAB_COURSE_ROOT"] == "/srv/daqlab/results/t05"
    assert "DAQLAB_CONTROL_TOKEN" not in env_kube["t05"]
    assert (env_kube["t05"]["DAQLAB_MQTT_URL"], env_kube["t05"]["DAQLAB_MQTT_USER"]) == ("mqtt://daqlab-broker:1883", "t05")
    assert env_kube["grader-daqlab"]["DAQLAB_MQTT_USER"] == "platform"
    assert not [u for u, e in env_kube.items() if "DAQLAB_MQTT_PASSWORD" in e], "no password in the values"
    # the exchange service: registered with its token from the hub pod's environment, usable by every user
    (svc,) = c.JupyterHub.services.get_value([])
    assert (svc["name"], svc["url"], svc["api_token"]) == ("daqlab-exchange", "http://daqlab-exchange:8765", "")
    assert c.JupyterHub.load_roles.get_value([]) == [{"name": "user", "scopes": ["self", EXCHANGE_ACCESS]}]
    assert EXCHANGE_ACCESS in c.Spawner.server_token_scopes
    assert {e["DAQLAB_EXCHANGE_URL"] for e in env_kube.values()} == {"http://daqlab-exchange:8765/services/daqlab-exchange/"}


def test_extra_config_hook_sets_environment_volumes_and_profile(monkeypatch):
    monkeypatch.setenv("DAQLAB_MQTT_SECRET", "cluster-secret")  # the hub pod's env, from the Secret daqlab-mqtt
    c, _ = hub_config_from_values()

    def spawner(name):
        return SimpleNamespace(user=SimpleNamespace(name=name), environment={"KEEP": "1"},
                               volumes=[{"name": "home"}], volume_mounts=[{"name": "home", "mountPath": "/home/jovyan"}])

    s = spawner("t07")
    c.KubeSpawner.pre_spawn_hook(s)
    assert s.environment["KEEP"] == "1" and s.environment["DAQLAB_STATION"] == "7"
    assert s.environment["JUPYTER_CONFIG_PATH"] == "/etc/daqlab/jupyter/trainee"
    # the pod's environment is the builder's, with the MQTT password the builder derives from the same secret
    kube = kubernetes_settings(ROSTER)
    want = user_environment(kube, accounts(kube, load_roster(ROSTER))["t07"], mqtt_secret="cluster-secret")
    assert s.environment == {"KEEP": "1", **want}
    assert s.environment["DAQLAB_MQTT_PASSWORD"] == derive_password("cluster-secret", "t07")
    mount = s.volume_mounts[-1]
    assert (mount["subPath"], mount["mountPath"], mount["readOnly"]) == ("t07", "/srv/daqlab/results/t07", True)
    assert [p["slug"] for p in c.KubeSpawner.profile_list(s)] == ["trainee"]
    g = spawner("grader-daqlab")
    c.KubeSpawner.pre_spawn_hook(g)
    assert g.environment["DAQLAB_MQTT_PASSWORD"] == derive_password("cluster-secret", "platform")
    assert {m["mountPath"] for m in g.volume_mounts} >= {"/srv/daqlab/course", "/srv/daqlab/results"}
    assert [p["slug"] for p in c.KubeSpawner.profile_list(g)] == ["instructor"]
    prof = c.KubeSpawner.profile_list(s)[0]["kubespawner_override"]
    assert prof["cpu_limit"] and prof["mem_limit"]
    try:
        c.KubeSpawner.pre_spawn_hook(spawner("mallory"))
        raise AssertionError("a user outside the roster got a server")
    except RuntimeError as exc:
        assert "not in the roster" in str(exc)


def test_extra_files_ship_the_role_configs():
    files = merged_values()["singleuser"]["extraFiles"]
    by_path = {f["mountPath"]: f["stringData"] for f in files.values()}
    trainee = by_path["/etc/daqlab/jupyter/trainee/nbgrader_config.py"]
    instructor = by_path["/etc/daqlab/jupyter/instructor/nbgrader_config.py"]
    for text in (trainee, instructor):  # every exchange operation goes through the hub service
        assert 'c.ExchangeFactory.submit = "daqlab.hub.exchange_client.ServiceSubmit"' in text
        assert 'c.ExchangeFactory.collect = "daqlab.hub.exchange_client.ServiceCollect"' in text
    assert "OwnedCollect" not in instructor
    server = json.loads(by_path["/etc/daqlab/jupyter/trainee/jupyter_server_config.json"])
    assert server["ServerApp"]["jpserver_extensions"]["nbgrader.server_extensions.formgrader"] is False
    page = json.loads(by_path["/etc/daqlab/jupyter/trainee/labconfig/page_config.json"])
    assert page["disabledExtensions"]["@jupyter/nbgrader:create-assignment"] is True


def test_plant_deployment_and_service_are_well_formed():
    docs = list(yaml.safe_load_all((Z2JH / "plant.yaml").read_text()))
    by_kind = {d["kind"]: d for d in docs}
    dep, svc = by_kind["Deployment"], by_kind["Service"]
    assert dep["apiVersion"] == "apps/v1" and svc["apiVersion"] == "v1"
    labels = dep["spec"]["template"]["metadata"]["labels"]
    assert dep["spec"]["selector"]["matchLabels"].items() <= labels.items(), "the selector matches the pods"
    assert svc["spec"]["selector"].items() <= labels.items(), "the Service selects the plant pods"
    assert svc["metadata"]["name"] == kubernetes_settings(ROSTER).plant_host
    (container,) = dep["spec"]["template"]["spec"]["containers"]
    os.environ.setdefault("DAQLAB_CONTROL_TOKEN", "x")  # as the Deployment's env sets it (read at parse time)
    args = _parser().parse_args(container["args"])
    assert (args.command, args.plant_command, args.host) == ("plant", "serve", "0.0.0.0")
    assert args.stations >= max(t.station for t in load_roster(ROSTER).values())
    assert args.base_port == kubernetes_settings(ROSTER).plant_base_port
    assert container["resources"]["limits"]["cpu"]
    assert args.token and "--token" not in container["args"], "the token comes from the environment"
    # the per-user policies select these pods; the instructor's opens every station port
    from daqlab.hub.z2jh import network_policies

    (instructor,) = [p for p in network_policies(ROSTER) if p["metadata"]["name"] == "daqlab-plant-graderx2ddaqlab"]
    (rule,) = instructor["spec"]["egress"]
    assert rule["to"][0]["podSelector"]["matchLabels"].items() <= labels.items()
    (port,) = rule["ports"]
    assert port["port"] == args.base_port and port["endPort"] >= args.base_port + args.stations


def egress_to(labels: dict) -> dict:
    """The user pods' egress rule whose pod selector selects pods with ``labels`` (exactly one)."""
    (rule,) = [r for r in merged_values()["singleuser"]["networkPolicy"]["egress"]
               if r["to"][0]["podSelector"]["matchLabels"].items() <= labels.items()]
    return rule


def test_exchange_deployment_service_secret_and_egress_are_wired_together():
    docs = list(yaml.safe_load_all((Z2JH / "exchange.yaml").read_text()))
    by_kind = {d["kind"]: d for d in docs}
    dep, svc = by_kind["Deployment"], by_kind["Service"]
    assert dep["spec"]["replicas"] == 1, "one writer of the exchange folder"
    pod = dep["spec"]["template"]
    labels = pod["metadata"]["labels"]
    assert dep["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert svc["spec"]["selector"].items() <= labels.items()
    assert labels["hub.jupyter.org/network-access-hub"] == "true", "it asks the hub who a token belongs to"
    kube = kubernetes_settings(ROSTER)
    assert svc["metadata"]["name"] == kube.exchange_host and svc["spec"]["ports"][0]["port"] == kube.exchange_port
    (container,) = pod["spec"]["containers"]
    cmd = container["command"] + container["args"]
    assert cmd[:3] == ["python3", "-m", "daqlab.hub.exchange_service"]
    assert cmd[cmd.index("--port") + 1] == str(EXCHANGE_PORT) and cmd[cmd.index("--course") + 1] == kube.course_id
    assert cmd[cmd.index("--instructor") + 1] == kube.instructor
    env = {e["name"]: e for e in container["env"]}
    assert env["JUPYTERHUB_API_TOKEN"]["valueFrom"]["secretKeyRef"] == EXCHANGE_TOKEN
    assert env["JUPYTERHUB_SERVICE_NAME"]["value"] == "daqlab-exchange"
    hub_env = merged_values()["hub"]["extraEnv"]
    assert hub_env["DAQLAB_EXCHANGE_TOKEN"]["valueFrom"]["secretKeyRef"] == EXCHANGE_TOKEN, "the hub knows the same token"
    assert pod["spec"]["securityContext"]["runAsUser"] != 1000, "not the uid every user pod runs as"
    (vol,) = pod["spec"]["volumes"]
    assert vol["persistentVolumeClaim"]["claimName"] == "daqlab-exchange"
    rule = egress_to(labels)
    assert rule["ports"] == [{"protocol": "TCP", "port": EXCHANGE_PORT}]


def test_broker_deployment_service_and_secret_are_wired_together():
    docs = list(yaml.safe_load_all((Z2JH / "broker.yaml").read_text()))
    by_kind = {d["kind"]: d for d in docs}
    dep, svc, pvc = by_kind["Deployment"], by_kind["Service"], by_kind["PersistentVolumeClaim"]
    assert dep["apiVersion"] == "apps/v1" and dep["spec"]["replicas"] == 1
    pod = dep["spec"]["template"]
    labels = pod["metadata"]["labels"]
    assert dep["spec"]["selector"]["matchLabels"].items() <= labels.items(), "the selector matches the pods"
    assert svc["spec"]["selector"].items() <= labels.items(), "the Service selects the broker pods"
    kube = kubernetes_settings(ROSTER)
    assert svc["metadata"]["name"] == kube.mqtt_host and not kube.manage_broker
    (sport,) = svc["spec"]["ports"]
    (container,) = pod["spec"]["containers"]
    args = _parser().parse_args(container["args"])
    assert (args.command, args.broker_command, args.host) == ("broker", "serve", "0.0.0.0")
    assert sport["port"] == kube.mqtt_port and sport["targetPort"] == args.port == container["ports"][0]["containerPort"]
    assert args.persistence and args.record and args.secret is None, "the secret comes from the environment"
    # the volumes behind --roster, --workdir and --record
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert args.roster == mounts["roster"] + "/roster.csv" and volumes["roster"]["configMap"]["name"] == "daqlab-roster"
    assert args.workdir.startswith(mounts["data"] + "/") and args.record.startswith(mounts["data"] + "/")
    assert volumes["data"]["persistentVolumeClaim"]["claimName"] == pvc["metadata"]["name"]
    # one Secret for the broker's passwords and the hub's (hub.extraEnv): the same name and key
    env = {e["name"]: e for e in container["env"]}
    assert env["DAQLAB_MQTT_SECRET"]["valueFrom"]["secretKeyRef"] == MQTT_SECRET
    hub_env = merged_values()["hub"]["extraEnv"]["DAQLAB_MQTT_SECRET"]
    assert hub_env["valueFrom"]["secretKeyRef"] == MQTT_SECRET
    # user pods may reach the broker's port (network policy in values.yaml)
    (port,) = egress_to(labels)["ports"]
    assert port["port"] == kube.mqtt_port and "endPort" not in port
    # the image runs it: Mosquitto is installed in the Dockerfile the Deployment's image is built from
    assert "mosquitto" in (Z2JH / "Dockerfile").read_text().split("apt-get install", 1)[1].split("&&")[0]


def test_each_user_pod_reaches_its_own_station_only():
    """networkpolicies.daqlab.yaml (rendered, checked in): a trainee's pod may open the plant on its station's
    port alone, the instructor's on every port; the chart's own policy no longer opens the plant at all;
    the pre-spawn hook puts on the pod the very label each policy selects."""
    from daqlab.hub.z2jh import render_network_policies

    text = (Z2JH / "networkpolicies.daqlab.yaml").read_text(encoding="utf-8")
    assert text == render_network_policies(ROSTER), "stale: run `daqlab hub render-z2jh --roster grader/roster.csv`"
    policies = {p["spec"]["podSelector"]["matchLabels"]["daqlab.io/user"]: p for p in yaml.safe_load_all(text)}
    roster = load_roster(ROSTER)
    c, _scope = hub_config_from_values()
    for sid, t in roster.items():
        spawner = SimpleNamespace(user=SimpleNamespace(name=sid), environment={}, volumes=[], volume_mounts=[],
                                  extra_labels={"keep": "me"})
        c.KubeSpawner.pre_spawn_hook(spawner)
        label = spawner.extra_labels["daqlab.io/user"]
        assert spawner.extra_labels["keep"] == "me"
        (rule,) = policies[label]["spec"]["egress"]
        assert rule["ports"] == [{"protocol": "TCP", "port": 5020 + t.station}], (sid, rule)
        assert rule["to"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "daqlab-plant"}}}]
    assert len(policies) == len(roster) + 1
    (rule,) = policies["graderx2ddaqlab"]["spec"]["egress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 5020, "endPort": 5520}]
    chart = merged_values()["singleuser"]["networkPolicy"]["egress"]
    assert not [r for r in chart if any(t.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name")
                                        == "daqlab-plant" for t in r.get("to", []))], "the chart opens the plant"


def test_the_paper_salt_reaches_the_instructor_only_and_an_exam_turns_trainee_terminals_off(monkeypatch):
    """The salt comes from the Secret daqlab-papers (hub.extraEnv) into the instructor's pod alone; a trainee's
    pod is told its papers are published. `render-z2jh --exam` renders the trainee role without terminals."""
    values = merged_values()
    assert values["hub"]["extraEnv"]["DAQLAB_PAPER_SALT"] == {"valueFrom": {"secretKeyRef": {
        "name": "daqlab-papers", "key": "salt"}}}
    monkeypatch.setenv("DAQLAB_PAPER_SALT", "s4lt")
    c, _scope = hub_config_from_values()
    envs = {}
    for name in ("grader-daqlab", next(iter(load_roster(ROSTER)))):
        spawner = SimpleNamespace(user=SimpleNamespace(name=name), environment={}, volumes=[], volume_mounts=[],
                                  extra_labels={})
        c.KubeSpawner.pre_spawn_hook(spawner)
        envs[name] = spawner.environment
    trainee = [e for n, e in envs.items() if n != "grader-daqlab"][0]
    assert envs["grader-daqlab"]["DAQLAB_PAPER_SALT"] == "s4lt"
    assert "DAQLAB_PAPER_SALT" not in trainee and trainee["DAQLAB_PAPERS"] == "published"
    exam = yaml.safe_load(render_values(ROSTER, exam=True))["singleuser"]["extraFiles"]
    lesson = yaml.safe_load(render_values(ROSTER))["singleuser"]["extraFiles"]
    key = "daqlab-trainee-jupyter-server-config-json"
    assert json.loads(exam[key]["stringData"])["ServerApp"]["terminals_enabled"] is False
    assert "terminals_enabled" not in json.loads(lesson[key]["stringData"])["ServerApp"]
