"""Files the hub writes for its users: the per-role Jupyter config folders and a trainee's home.

Contract:

- :func:`role_files` renders, per role, the files of a Jupyter config folder (put on ``JUPYTER_CONFIG_PATH``
  by :func:`daqlab.hub.accounts.user_environment`; nothing is written into the venv):

  ``nbgrader_config.py``
      both roles: ``course_id`` and the shared ``Exchange.root``, or with ``exchange_service`` every exchange
      operation through the hub service (:mod:`daqlab.hub.exchange_client`). Trainee: ``CourseDirectory.student_id``
      from the server's OS account ``dq-<id>`` (per-user accounts, :mod:`daqlab.hub.system`), or from
      ``$JUPYTERHUB_USER`` when every server runs as one OS user (a hub not run as root: not exam-safe).
      Instructor: ``CourseDirectory.root`` = the course root and collect by
      :class:`daqlab.hub.exchange.OwnedCollect` (a submission counts for the student whose account owns it).
  ``~/.bashrc`` / ``~/.profile``
      the course tools on PATH in a hub terminal; the instructor's terminal starts in the course root.
  ``jupyter_server_config.json``
      idle kernels (a closed Voila page, a forgotten notebook) are shut down after 20 minutes; for trainees
      the formgrader and course-list server extensions are off (no grading UI, no course listing), and in an
      exam (``daqlab hub serve --exam``) so are terminals.
  ``labconfig/page_config.json``
      for trainees the nbgrader Lab plugins formgrader, create-assignment and course-list are disabled; the
      Assignments list and Validate stay. For everyone JupyterLab's "Jupyter news?" prompt is off.

  The same texts are shipped to Kubernetes pods as ``singleuser.extraFiles`` (:mod:`daqlab.hub.z2jh`).
- :func:`provision_home` prepares a user's home before their server starts: on the FIRST start the
  lessons are copied to ``~/lessons`` (later starts never overwrite a trainee's work); every start
  refreshes ``~/dashboards/results.ipynb``, the station card ``~/daqlab-station.json`` and the landing page
  ``~/WELCOME.ipynb`` (:mod:`daqlab.hub.welcome`), where a trainee's server opens.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from daqlab import paths
from daqlab.hub.accounts import INSTRUCTOR, TRAINEE, Account, station_card
from daqlab.hub.settings import HubSettings
from daqlab.hub.system import PREFIX

KERNEL_CULL_IDLE_S = 1200  #: idle kernels inside a user's server are shut down after this long
TRAINEE_OFF_SERVER = ("nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list")
TRAINEE_OFF_LAB = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                   "@jupyter/nbgrader:course-list")
HEADER = '"""DAQ Lab hub: nbgrader settings for {role} servers (written by daqlab.hub.files at hub start)."""\n'


def nbgrader_config(settings: HubSettings, role: str, accounts: bool = False) -> str:
    lines = [HEADER.format(role=role), "import os", "import pwd", "", "c = get_config()  # noqa: F821", "",
             f"c.CourseDirectory.course_id = {settings.course_id!r}",
             f"c.Exchange.root = {settings.exchange!r}"]
    if settings.exchange_service:  # every operation through the hub-authenticated service, identity by token
        from daqlab.hub.exchange_client import config_lines

        lines += ["# the exchange is the hub service daqlab-exchange: who you are is your JupyterHub token",
                  *config_lines()]
    if role == INSTRUCTOR and settings.exchange_service:
        lines += [f"c.CourseDirectory.root = {settings.course_root!r}"]
    elif role == INSTRUCTOR:
        lines += [f"c.CourseDirectory.root = {settings.course_root!r}",
                  "# who submitted is the OS account that owns the submission, not the name it carries",
                  'c.ExchangeFactory.collect = "daqlab.hub.exchange.OwnedCollect"',
                  f"c.OwnedCollect.require_owner = {accounts!r}",
                  "c.CollectApp.check_owner = False"]
    elif accounts:
        lines += ["# the student id is this server's OS account dq-<id>: an environment variable cannot change it",
                  "_me = pwd.getpwuid(os.getuid()).pw_name",
                  f'if _me.startswith("{PREFIX}"):',
                  f"    c.CourseDirectory.student_id = _me[{len(PREFIX)}:]"]
    else:
        lines += ["# one OS account for every server (the hub does not run as root): the hub user name is the id",
                  'if os.environ.get("JUPYTERHUB_USER"):',
                  '    c.CourseDirectory.student_id = os.environ["JUPYTERHUB_USER"]']
    return "\n".join(lines) + "\n"


def server_config(role: str, exam: bool = False) -> dict:
    cfg = {"MappingKernelManager": {"cull_idle_timeout": KERNEL_CULL_IDLE_S, "cull_interval": 120,
                                    "cull_connected": False}}
    if role == TRAINEE:
        cfg["ServerApp"] = {"jpserver_extensions": dict.fromkeys(TRAINEE_OFF_SERVER, False)}
        if exam:  # an exam: no terminal for trainees (notebooks and their kernels only)
            cfg["ServerApp"]["terminals_enabled"] = False
    return cfg


def page_config(role: str) -> dict:
    from daqlab.hub.welcome import NO_NEWS

    off = dict.fromkeys(TRAINEE_OFF_LAB, True) if role == TRAINEE else {}
    return {"disabledExtensions": {**off, NO_NEWS: True}}  # no "Jupyter news?" prompt for anyone


def role_files(settings: HubSettings, role: str, accounts: bool = False) -> dict[str, str]:
    """Relative path -> text of the role's Jupyter config folder."""
    return {"nbgrader_config.py": nbgrader_config(settings, role, accounts),
            "jupyter_server_config.json": json.dumps(server_config(role, settings.exam), indent=2) + "\n",
            "labconfig/page_config.json": json.dumps(page_config(role), indent=2) + "\n"}


def write_role_configs(settings: HubSettings, accounts: bool = False) -> None:
    """Write both roles' config folders and create the exchange. With per-user OS accounts the exchange
    belongs to the instructor (:func:`daqlab.hub.system.lock_down`); without, every server is the same OS
    user and the exchange is world-writable with the sticky bit, like /tmp."""
    for role in (INSTRUCTOR, TRAINEE):
        for rel, text in role_files(settings, role, accounts).items():
            p = settings.role_config(role) / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text, encoding="utf-8")
            p.chmod(0o644)
    ex = Path(settings.exchange)
    ex.mkdir(parents=True, exist_ok=True)
    if not accounts:
        ex.chmod(0o1777)
    Path(settings.results).mkdir(parents=True, exist_ok=True)


def shell_profile(settings: HubSettings, account: Account) -> str:
    """``~/.bashrc`` of a hub terminal: the course tools on PATH (a login shell resets it); the instructor's
    terminal starts in the course root."""
    lines = ["# written by DAQ Lab at every server start (daqlab.hub.files.shell_profile)",
             f'export PATH="{Path(settings.python).parent}:$PATH"']
    if account.role == INSTRUCTOR:
        lines += [f'cd "{settings.course_root}" 2>/dev/null || true']
    return "\n".join(lines) + "\n"


def provision_home(settings: HubSettings, account: Account) -> Path:
    """Create (or refresh) the home of ``account`` as described in the module docstring; returns it."""
    home = settings.home(account.name)
    home.mkdir(parents=True, exist_ok=True)
    for name in (".bashrc", ".profile"):
        (home / name).write_text(shell_profile(settings, account), encoding="utf-8")
    if account.role == INSTRUCTOR:
        return home
    lessons = home / "lessons"
    if not lessons.exists():  # first start only: a trainee's edits are never overwritten
        src = Path(settings.lessons)
        shutil.copytree(src, lessons, ignore=shutil.ignore_patterns("dashboards", ".ipynb_checkpoints",
                                                                     "__pycache__"))
    dash = home / "dashboards"
    dash.mkdir(exist_ok=True)
    board = Path(settings.lessons) / "dashboards" / "results.ipynb"
    shutil.copy(board if board.exists() else paths.dashboards() / "results.ipynb", dash / "results.ipynb")
    from daqlab.hub.welcome import WELCOME, welcome_notebook

    (home / WELCOME).write_text(welcome_notebook(settings, account), encoding="utf-8")  # refreshed every start
    card = station_card(settings, account)
    (home / "daqlab-station.json").write_text(json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (Path(settings.results) / account.name).mkdir(parents=True, exist_ok=True)
    return home
