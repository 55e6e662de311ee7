"""The hub builder without a running hub: accounts from the roster, environments, services, files, passwords."""

import asyncio
import json
import os
import pwd
import socket
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from traitlets.config import Config

from daqlab.cli import _parser
from daqlab.course.roster import RosterError
from daqlab.hub import hook, mqtt
from daqlab.hub.accounts import accounts, user_environment
from daqlab.hub.auth import RosterPasswordAuthenticator
from daqlab.hub.config import apply_local
from daqlab.hub.files import provision_home, role_files
from daqlab.hub.settings import HubSettings, Secrets
from daqlab.northbound import broker as nb_broker
from daqlab.northbound.accounts import derive_password

from ..course_helpers import ROOT


@pytest.fixture
def settings(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name,station\nalice,Alice Wang,2\nbob,Bob Li,5\n", encoding="utf-8")
    return HubSettings(roster=str(roster), state=str(tmp_path / "hub"), course_root=str(tmp_path / "course"),
                       plant_base_port=6000, plant_seed=7, mqtt_port=free_port())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def with_mosquitto():
    if mqtt.mosquitto_missing():
        pytest.skip(mqtt.mosquitto_missing())


def test_accounts_are_the_instructor_and_the_roster(settings):
    accts = accounts(settings)
    assert list(accts) == ["grader-daqlab", "alice", "bob"]
    assert accts["grader-daqlab"].role == "instructor" and accts["bob"].station == 5


def test_roster_ids_that_are_not_hub_names_are_refused(tmp_path, settings):
    bad = tmp_path / "bad.csv"
    bad.write_text("student_id,name,station\nAlice,A,1\ngrader-daqlab,G,2\n", encoding="utf-8")
    settings.roster = str(bad)
    with pytest.raises(RosterError, match="lower case"):
        accounts(settings)


def test_the_mqtt_platform_account_is_not_a_trainee_name(tmp_path, settings):
    bad = tmp_path / "bad.csv"
    bad.write_text("student_id,name,station\nplatform,P,1\n", encoding="utf-8")
    settings.roster = str(bad)
    with pytest.raises(RosterError, match="MQTT platform"):
        accounts(settings)


def test_trainee_environment_names_their_station_and_their_results_only(settings):
    accts = accounts(settings)
    env = user_environment(settings, accts["bob"], plant_token="secret")
    assert env["DAQLAB_ENDPOINT"] == "tcp://127.0.0.1:6005" and env["DAQLAB_STATION"] == "5"
    assert env["DAQLAB_SEED"] == "7" and env["DAQLAB_ROLE"] == "trainee"
    assert env["DAQLAB_COURSE_ROOT"].endswith("results/bob") and "DAQLAB_CONTROL_TOKEN" not in env
    assert env["JUPYTER_CONFIG_PATH"].endswith("jupyter/trainee")
    g = user_environment(settings, accts["grader-daqlab"], plant_token="secret")
    assert g["DAQLAB_COURSE_ROOT"] == settings.course_root and g["DAQLAB_CONTROL_TOKEN"] == "secret"
    assert "DAQLAB_ENDPOINT" not in g


def test_each_account_gets_its_own_broker_account(settings):
    accts = accounts(settings)
    bob = user_environment(settings, accts["bob"], mqtt_secret="s3cret")
    assert bob["DAQLAB_MQTT_URL"] == f"mqtt://127.0.0.1:{settings.mqtt_port}"
    assert (bob["DAQLAB_MQTT_USER"], bob["DAQLAB_PRODUCT_KEY"]) == ("bob", "daqlab")
    assert bob["DAQLAB_MQTT_PASSWORD"] == derive_password("s3cret", "bob")
    alice = user_environment(settings, accts["alice"], mqtt_secret="s3cret")
    assert alice["DAQLAB_MQTT_PASSWORD"] != bob["DAQLAB_MQTT_PASSWORD"]
    g = user_environment(settings, accts["grader-daqlab"], mqtt_secret="s3cret")
    assert (g["DAQLAB_MQTT_USER"], g["DAQLAB_MQTT_PASSWORD"]) == ("platform", derive_password("s3cret", "platform"))
    assert "DAQLAB_MQTT_PASSWORD" not in user_environment(settings, accts["bob"]), "no secret, no password"
    settings.mqtt = False
    assert not [k for k in user_environment(settings, accts["bob"], mqtt_secret="s3cret") if "MQTT" in k]


def test_the_kubernetes_hook_derives_the_same_mqtt_password():
    for user in ("t01", "platform", "bob.li-2"):
        sp = SimpleNamespace(environment={"DAQLAB_MQTT_USER": user})
        assert hook.add_mqtt_password(sp, "k8s-secret") == derive_password("k8s-secret", user)
        assert sp.environment["DAQLAB_MQTT_PASSWORD"] == derive_password("k8s-secret", user)
    empty = SimpleNamespace(environment={"DAQLAB_MQTT_USER": "t01"})
    assert hook.add_mqtt_password(empty, "") is None and "DAQLAB_MQTT_PASSWORD" not in empty.environment


def test_local_config_services_roles_and_spawner(settings):
    c = Config()
    apply_local(c, settings)
    names = [s["name"] for s in c.JupyterHub.services if s["name"] != "grader"]  # grader: as root (below)
    assert names == ["plant", "broker", "idle-culler", "daqlab-operator"]
    plant = c.JupyterHub.services[0]["command"]
    assert plant[:4] == [sys.executable, "-m", "daqlab.cli", "plant"]
    assert plant[plant.index("--stations") + 1] == "5" and plant[plant.index("--base-port") + 1] == "6000"
    culler = next(s for s in c.JupyterHub.services if s["name"] == "idle-culler")["command"]
    assert "--timeout=3600" in culler and "jupyterhub_idle_culler" in culler[2]
    roles = {r["name"]: r for r in c.JupyterHub.load_roles}
    assert "delete:servers" in roles["idle-culler"]["scopes"] and roles["daqlab-operator"]["services"] == ["daqlab-operator"]
    assert c.Authenticator.allowed_users == ["alice", "bob"] and c.Authenticator.admin_users == ["grader-daqlab"]
    assert c.JupyterHub.authenticator_class == "daqlab.hub.auth.RosterPasswordAuthenticator"
    assert c.JupyterHub.ip == "127.0.0.1" and c.ConfigurableHTTPProxy.command[0].endswith("configurable-http-proxy")
    assert "--token" not in plant and c.JupyterHub.services[0]["environment"]["DAQLAB_CONTROL_TOKEN"]  # not in `ps`
    assert (settings.role_config("trainee") / "nbgrader_config.py").exists()
    exchange = settings.role_config("trainee").parents[1] / "exchange"
    if os.geteuid() == 0:  # root: one OS account per user, the exchange the instructor's (nbgrader: inbound 733)
        assert c.JupyterHub.spawner_class == "daqlab.hub.spawner.AccountSpawner" and "allow_root" not in str(c.Spawner.args)
        assert pwd.getpwuid(exchange.stat().st_uid).pw_name == "dq-grader-daqlab"
        assert oct(exchange.stat().st_mode & 0o7777) == "0o755"
        owners = json.loads((Path(settings.state) / "station-owners.json").read_text())
        assert owners["stations"] == {"2": [pwd.getpwnam("dq-alice").pw_uid], "5": [pwd.getpwnam("dq-bob").pw_uid]}
        assert plant[plant.index("--owners") + 1].endswith("station-owners.json")
        assert "daqlab.hub.gradeservice" in next(s for s in c.JupyterHub.services if s["name"] == "grader")["command"]
    else:  # one OS user for every server: a world-writable, sticky exchange
        assert oct(exchange.stat().st_mode & 0o7777) == "0o1777"


def test_the_exchange_service_option_runs_it_as_a_hub_service_every_user_may_use(settings):
    from dataclasses import replace

    from daqlab.hub.config import EXCHANGE_ACCESS

    c = Config()
    accts = apply_local(c, replace(settings, exchange_service=True))
    (svc,) = [s for s in c.JupyterHub.services if s["name"] == "daqlab-exchange"]
    cmd = svc["command"]
    assert cmd[1:3] == ["-m", "daqlab.hub.exchange_service"] and svc["display"] is False
    assert cmd[cmd.index("--root") + 1] == str(Path(settings.state) / "exchange-service")
    assert cmd[cmd.index("--instructor") + 1] == "grader-daqlab"
    port = int(svc["url"].rsplit(":", 1)[1])
    assert port > 0, "a free port was taken"
    assert {"name": "user", "scopes": ["self", EXCHANGE_ACCESS]} in c.JupyterHub.load_roles
    assert EXCHANGE_ACCESS in c.Spawner.server_token_scopes
    env = user_environment(replace(settings, exchange_service=True, exchange_port=port), accts["alice"])
    assert env["DAQLAB_EXCHANGE_URL"] == f"http://127.0.0.1:{port}/services/daqlab-exchange/"
    text = (settings.role_config("trainee") / "nbgrader_config.py").read_text()
    assert "daqlab.hub.exchange_client.ServiceSubmit" in text and "daqlab.hub.exchange_client.ServiceList" in text


def test_culling_off_drops_the_culler(settings):
    settings.cull_timeout = 0
    c = Config()
    apply_local(c, settings)
    assert [s["name"] for s in c.JupyterHub.services if s["name"] != "grader"] == ["plant", "broker", "daqlab-operator"]


def broker_service(c) -> dict:
    return next(s for s in c.JupyterHub.services if s["name"] == "broker")


def trainee_env(settings, c, name) -> dict:
    spawner = SimpleNamespace(user=SimpleNamespace(name=name), environment={}, notebook_dir="")
    c.Spawner.pre_spawn_hook(spawner)
    return spawner.environment


def test_broker_service_runs_daqlab_broker_serve_with_the_hubs_accounts(settings, with_mosquitto):
    c = Config()
    apply_local(c, settings)
    svc = broker_service(c)
    cmd = svc["command"]
    assert cmd[:3] == [sys.executable, "-m", "daqlab.cli"]
    args = _parser().parse_args(cmd[3:])
    assert (args.command, args.broker_command) == ("broker", "serve")
    assert (args.roster, args.host, args.port) == (settings.roster, "127.0.0.1", settings.mqtt_port)
    state = settings.state
    assert args.persistence and args.workdir == f"{state}/mqtt/broker" and args.record == f"{state}/mqtt/platform.jsonl"
    secret = Secrets.load_or_create(settings.state).mqtt_secret
    assert svc["environment"]["DAQLAB_MQTT_SECRET"] == secret and len(secret) >= 32
    assert secret not in " ".join(cmd) and args.secret is None, "the secret is not on the command line (ps)"
    # the spawned server's environment: bob's own device account, derived from the same secret
    bob = trainee_env(settings, c, "bob")
    assert bob["DAQLAB_MQTT_URL"] == f"mqtt://127.0.0.1:{args.port}" and bob["DAQLAB_MQTT_USER"] == "bob"
    assert bob["DAQLAB_MQTT_PASSWORD"] == derive_password(secret, "bob")
    assert trainee_env(settings, c, "grader-daqlab")["DAQLAB_MQTT_USER"] == "platform"


def test_a_taken_mqtt_port_gives_the_hub_a_free_one(settings, with_mosquitto, capsys):
    with socket.socket() as other:  # another program (a system Mosquitto) listens on the port
        other.bind(("127.0.0.1", 0))
        other.listen()
        settings.mqtt_port = other.getsockname()[1]
        c = Config()
        apply_local(c, settings)
    port = int(_parser().parse_args(broker_service(c)["command"][3:]).port)
    assert port != settings.mqtt_port and trainee_env(settings, c, "alice")["DAQLAB_MQTT_URL"].endswith(f":{port}")
    assert f"MQTT port {settings.mqtt_port}" in capsys.readouterr().err


def test_without_mosquitto_the_hub_starts_without_broker_and_says_why(settings, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(nb_broker, "SEARCH", ())  # a machine without the Debian package:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH, nothing in the sbin folders
    c = Config()
    apply_local(c, settings)
    assert "broker" not in [s["name"] for s in c.JupyterHub.services]
    assert not [k for k in trainee_env(settings, c, "bob") if "MQTT" in k], "no account on a broker that is not there"
    err = capsys.readouterr().err
    assert "MQTT broker NOT started" in err and "apt-get install mosquitto" in err


def test_secrets_are_kept_and_new_trainees_get_a_password(settings):
    first = Secrets.load_or_create(settings.state, ["alice"])
    again = Secrets.load_or_create(settings.state, ["alice", "carol"])
    assert again.passwords["alice"] == first.passwords["alice"] and again.plant_token == first.plant_token
    assert "carol" in again.passwords and len(again.instructor_password) >= 32


def test_roster_authenticator_needs_the_accounts_own_password():
    auth = RosterPasswordAuthenticator(passwords={"alice": "aaaa-bbbb-cccc", "bob": "dddd-eeee-ffff"})

    def login(name, pw):
        return asyncio.run(auth.authenticate(None, {"username": name, "password": pw}))

    assert login("alice", "aaaa-bbbb-cccc") == "alice"
    assert login("alice", "dddd-eeee-ffff") is None, "bob's password does not open alice's account"
    assert login("mallory", "") is None


def test_role_files_give_trainees_their_identity_and_no_grading_ui(settings):
    trainee = role_files(settings, "trainee")
    c = Config()
    exec(trainee["nbgrader_config.py"], {"get_config": lambda: c, "__name__": "cfg"})
    assert c.Exchange.root == settings.exchange and "student_id" not in c.CourseDirectory
    import os

    os.environ["JUPYTERHUB_USER"] = "bob"
    try:
        exec(trainee["nbgrader_config.py"], {"get_config": lambda: c, "__name__": "cfg"})
    finally:
        del os.environ["JUPYTERHUB_USER"]
    assert c.CourseDirectory.student_id == "bob"
    assert json.loads(trainee["labconfig/page_config.json"])["disabledExtensions"]["@jupyter/nbgrader:formgrader"]
    instructor = role_files(settings, "instructor")
    assert "ServerApp" not in json.loads(instructor["jupyter_server_config.json"])


def test_home_gets_lessons_once_and_a_station_card(settings):
    settings.lessons = str(ROOT / "notebooks")
    bob = accounts(settings)["bob"]
    home = provision_home(settings, bob)
    lesson = home / "lessons" / "01-The-Data-Chain.ipynb"
    assert lesson.exists() and not (home / "lessons" / "dashboards").exists()
    assert "### BEGIN SOLUTION" not in lesson.read_text(encoding="utf-8"), "trainees get the student edition"
    assert (home / "lessons" / "glossary.md").exists() and (home / "lessons" / "course-map.md").exists()
    assert (home / "dashboards" / "results.ipynb").exists()
    card = json.loads((home / "daqlab-station.json").read_text())
    assert (card["station"], card["endpoint"]) == (5, "tcp://127.0.0.1:6005")
    assert card["mqtt"] == {"url": settings.mqtt_url, "username": "bob", "product_key": "daqlab",
                            "post_topic": "/sys/daqlab/bob/thing/event/property/post"}
    assert "password" not in json.dumps(card), "the MQTT password stays in the kernel's environment"
    lesson.write_text("my work")
    provision_home(settings, bob)
    assert lesson.read_text() == "my work", "a second start never overwrites the trainee's work"
    welcome = json.loads((home / "WELCOME.ipynb").read_text(encoding="utf-8"))["cells"][0]["source"]
    assert "欢迎，Bob Li" in welcome and "**5**" in welcome and "tcp://127.0.0.1:6005" in welcome
    assert "(lessons/01-The-Data-Chain.ipynb)" in welcome and "/user/bob/voila/render/dashboards/results.ipynb" in welcome
    assert "Assignment List" in welcome and "password" not in welcome.lower()
    assert "(lessons/course-map.md)" in welcome and "(lessons/glossary.md)" in welcome


def test_trainees_land_on_their_welcome_page_and_nobody_gets_the_news_prompt(settings):
    from daqlab.hub.welcome import NO_NEWS

    settings.lessons = str(ROOT / "notebooks")
    c = Config()
    apply_local(c, settings)
    spawner = SimpleNamespace(user=SimpleNamespace(name="alice"), environment={}, notebook_dir="", default_url="/lab")
    c.Spawner.pre_spawn_hook(spawner)
    assert spawner.default_url == "/lab/tree/WELCOME.ipynb"
    teacher = SimpleNamespace(user=SimpleNamespace(name="grader-daqlab"), environment={}, notebook_dir="",
                              default_url="/lab")
    c.Spawner.pre_spawn_hook(teacher)
    assert teacher.default_url == "/lab", "the instructor opens on the course root"
    for role in ("trainee", "instructor"):
        page = json.loads(role_files(settings, role)["labconfig/page_config.json"])
        assert page["disabledExtensions"][NO_NEWS] is True


def test_accounts_command_lists_each_mqtt_account_with_its_password(settings, tmp_path, capsys):
    import csv

    from daqlab.cli import main

    slips = tmp_path / "slips.csv"
    assert main(["hub", "accounts", "--state", settings.state, "--roster", settings.roster, "--csv", str(slips)]) == 0
    secret = Secrets.load_or_create(settings.state).mqtt_secret
    out = capsys.readouterr().out
    assert "mqtt password" in out and derive_password(secret, "bob") in out
    rows = {r["account"]: r for r in csv.DictReader(slips.open(encoding="utf-8"))}
    assert (rows["bob"]["mqtt_user"], rows["bob"]["mqtt_password"]) == ("bob", derive_password(secret, "bob"))
    assert rows["grader-daqlab"]["mqtt_user"] == "platform" and rows["bob"]["mqtt_url"].startswith("mqtt://127.0.0.1:")


def test_an_exam_on_a_hub_that_cannot_isolate_trainees_is_refused(tmp_path, monkeypatch, capsys):
    """`daqlab hub serve --exam` where per-user accounts are impossible (not root) stops with one line instead of
    starting a hub where every trainee can read everything."""
    import daqlab.hub.system as system
    from daqlab.cli import main

    monkeypatch.setattr(system, "isolation_unavailable", lambda: "the hub does not run as root (test)")
    rc = main(["hub", "serve", "--exam", "--state", str(tmp_path / "hub"), "--roster", str(tmp_path / "none.csv")])
    err = capsys.readouterr().err
    assert rc == 2 and "--exam needs one OS account per trainee" in err and "sudo" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "hub" / "hub-settings.json").exists()


def test_the_brokers_free_ports_never_take_a_port_the_hub_will_bind_later(tmp_path, monkeypatch):
    # the OS hands out a free port; it may be the proxy API's (configured, bound a moment later by the proxy):
    # the broker's platform listener must skip it, or every broker start fails with "address already in use"
    import daqlab.hub.mqtt as m

    settings = HubSettings(roster=str(tmp_path / "r.csv"), state=str(tmp_path / "hub"), port=40000, hub_port=40001,
                           proxy_api_port=40002, mqtt_port=40003, plant_base_port=41000, rs485_base_port=42000)
    offered = iter([40002, 41001, 42002, 40001, 45555])  # what the OS answered, in order
    monkeypatch.setattr(m, "free_port", lambda host: next(offered))
    assert m._unclaimed_port(settings) == 45555
