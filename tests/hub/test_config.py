"""The hub builder without a running hub: accounts from the roster, environments, services, files, passwords."""

import asyncio
import json
import sys

import pytest
from traitlets.config import Config

from daqlab.course.roster import RosterError
from daqlab.hub.accounts import accounts, user_environment
from daqlab.hub.auth import RosterPasswordAuthenticator
from daqlab.hub.config import apply_local
from daqlab.hub.files import provision_home, role_files
from daqlab.hub.settings import HubSettings, Secrets

from ..course_helpers import ROOT


@pytest.fixture
def settings(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name,station\nalice,Alice Wang,2\nbob,Bob Li,5\n", encoding="utf-8")
    return HubSettings(roster=str(roster), state=str(tmp_path / "hub"), course_root=str(tmp_path / "course"),
                       plant_base_port=6000, plant_seed=7)


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


def test_local_config_services_roles_and_spawner(settings):
    c = Config()
    apply_local(c, settings)
    names = [s["name"] for s in c.JupyterHub.services]
    assert names == ["plant", "idle-culler", "daqlab-operator"]
    plant = c.JupyterHub.services[0]["command"]
    assert plant[:4] == [sys.executable, "-m", "daqlab.cli", "plant"]
    assert plant[plant.index("--stations") + 1] == "5" and plant[plant.index("--base-port") + 1] == "6000"
    culler = c.JupyterHub.services[1]["command"]
    assert "--timeout=3600" in culler and "jupyterhub_idle_culler" in culler[2]
    roles = {r["name"]: r for r in c.JupyterHub.load_roles}
    assert "delete:servers" in roles["idle-culler"]["scopes"] and roles["daqlab-operator"]["services"] == ["daqlab-operator"]
    assert c.Authenticator.allowed_users == ["alice", "bob"] and c.Authenticator.admin_users == ["grader-daqlab"]
    assert c.JupyterHub.authenticator_class == "daqlab.hub.auth.RosterPasswordAuthenticator"
    assert c.JupyterHub.ip == "127.0.0.1" and c.ConfigurableHTTPProxy.command[0].endswith("configurable-http-proxy")
    # the per-role config folders and a world-writable, sticky exchange
    assert (settings.role_config("trainee") / "nbgrader_config.py").exists()
    assert oct((settings.role_config("trainee").parents[1] / "exchange").stat().st_mode & 0o7777) == "0o1777"


def test_culling_off_drops_the_culler(settings):
    settings.cull_timeout = 0
    c = Config()
    apply_local(c, settings)
    assert [s["name"] for s in c.JupyterHub.services] == ["plant", "daqlab-operator"]


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
    assert (home / "dashboards" / "results.ipynb").exists()
    card = json.loads((home / "daqlab-station.json").read_text())
    assert (card["station"], card["endpoint"]) == (5, "tcp://127.0.0.1:6005")
    lesson.write_text("my work")
    provision_home(settings, bob)
    assert lesson.read_text() == "my work", "a second start never overwrites the trainee's work"
