"""One OS account per hub user on the single-machine hub, and file permissions that keep them apart.

Contract (the hub runs as root; :func:`isolation_unavailable` says why not otherwise):

- Every hub user ``<name>`` (trainees and the instructor) gets the OS account ``dq-<name>`` (:func:`os_user`),
  created with ``useradd`` as The Littlest JupyterHub creates ``jupyter-<name>``: its own group, no password
  (nobody logs in as it: the hub starts its server), home ``<homes>/<name>`` owned by it, mode 0700. An OS
  account with that name that DAQ Lab did not create (its comment does not start with ``DAQ Lab``) is an
  error, never taken over. The instructor's account is also in the group ``daqlab-staff``.
- :func:`lock_down` makes the instructor's files the staff's only: the course root's entries that hold keys,
  hidden tests, submissions or grades (:data:`PRIVATE_ENTRIES`, and every file it does not know, such as
  ``gradebook.db``) get group ``daqlab-staff``, ``g+rwX``, ``o-rwx`` (folders setgid, so new files stay the
  staff's); only the code and the lessons a trainee's server runs (:data:`PUBLIC_ENTRIES`) stay readable.
  The hub's state folder is traversable only (0711): ``secrets.json`` and the hub's database 0640/0600
  root:daqlab-staff, the broker's folder staff-only, the exchange the instructor's, 0755 (nbgrader sets its own
  modes below it: ``inbound`` 0733, so a trainee can submit but not list or read others' submissions),
  ``home/`` and ``results/`` 0711 with one folder per trainee: a home owned by the trainee (0700), a results
  folder owned by the instructor (``daqlab hub publish-results`` in their terminal writes it) with the
  trainee's own group, setgid, 2750: that trainee reads their results, nobody else does.
- The folders above a trainee's server's interpreter, lessons and home must be traversable by others: a folder
  on the way that is not gets ``o+x`` (traverse only, never read), and :func:`lock_down` says which it changed.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import stat
import subprocess
from pathlib import Path

PREFIX = "dq-"
STAFF = "daqlab-staff"
MARK = "DAQ Lab"
MAX_OS_NAME = 32  #: useradd's limit
#: course-root entries a trainee's server needs (code, the venv, lessons, docs): stay as they are. Not .git: its
#: objects hold every committed file (the bank's keys, the teacher edition of the lessons)
PUBLIC_ENTRIES = {".venv", "daqlab", "daqlab.egg-info", "notebooks", "README.md", "pyproject.toml", "Makefile",
                  "environment.yml", ".gitignore", ".ci", "tests", "bench", "benches", "node_modules"}
#: course-root entries that are the staff's only (everything not in PUBLIC_ENTRIES is treated the same)
PRIVATE_ENTRIES = ("source", "release", "submitted", "autograded", "feedback", "gradebook.db", "grader",
                   "nbgrader_config.py", "exports", "teacher", ".git")


class IsolationError(RuntimeError):
    """An OS account cannot be created or is not ours; the message says what to do."""


def os_user(name: str) -> str:
    """The OS account of hub user ``name``."""
    return PREFIX + name


def hub_user(os_name: str) -> str | None:
    """The hub user of an OS account (None: not one of DAQ Lab's)."""
    return os_name[len(PREFIX):] if os_name.startswith(PREFIX) else None


def isolation_unavailable() -> str:
    """Why per-user OS accounts cannot be used here ("" when they can)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "the hub does not run as root (it cannot create accounts or start servers as them)"
    if not shutil.which("useradd") or not shutil.which("groupadd"):
        return "useradd/groupadd are missing (Debian package passwd)"
    return ""


def _ours(entry: pwd.struct_passwd) -> bool:
    return entry.pw_gecos.startswith(MARK)


def ensure_group(name: str = STAFF) -> int:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        _run(["groupadd", "--system", name], f"cannot create the group {name}")
        return grp.getgrnam(name).gr_gid


def ensure_user(name: str, home: Path, *, staff: bool = False) -> pwd.struct_passwd:
    """Create (or check) the OS account of hub user ``name`` with home ``home``; returns its passwd entry."""
    user = os_user(name)
    if len(user) > MAX_OS_NAME:
        raise IsolationError(f"the account name {user!r} is longer than {MAX_OS_NAME} characters: shorten the "
                             "student_id in the roster")
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        entry = None
    if entry is not None and not _ours(entry):
        raise IsolationError(f"the OS account {user!r} exists and was not created by DAQ Lab: rename the "
                             "student_id in the roster, or remove that account")
    if entry is None:
        cmd = ["useradd", "--no-create-home", "--home-dir", str(home), "--shell", "/bin/bash", "--user-group",
               "--comment", f"{MARK} {name}", user]
        _run(cmd, f"cannot create the OS account {user}")
        entry = pwd.getpwnam(user)
    # an existing account keeps its passwd home (usermod refuses while the account runs anything): the spawner
    # starts the server in the hub's home folder for it (AccountSpawner.home_dir_template) and sets HOME
    if staff:
        gid = ensure_group()
        if user not in grp.getgrgid(gid).gr_mem:
            _run(["usermod", "--append", "--groups", STAFF, user], f"cannot add {user} to {STAFF}")
    home.mkdir(parents=True, exist_ok=True)
    os.chown(home, entry.pw_uid, entry.pw_gid)
    home.chmod(0o700)
    return entry


def own_tree(path: Path, entry: pwd.struct_passwd) -> None:
    """Give ``path`` and everything below it to the account (files the hub provisioned as root)."""
    for p in [path, *path.rglob("*")]:
        if not p.is_symlink():
            os.chown(p, entry.pw_uid, entry.pw_gid)


def _run(cmd: list[str], what: str) -> None:
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise IsolationError(f"{what}: {(res.stderr or res.stdout).strip()}")


def _staff_only(path: Path, gid: int) -> None:
    """Group staff, g+rwX, no access for others; folders setgid. Symlinks are left alone."""
    for p in [path, *(path.rglob("*") if path.is_dir() and not path.is_symlink() else [])]:
        if p.is_symlink():
            continue
        st = p.lstat()
        os.chown(p, -1, gid)
        mode = stat.S_IMODE(st.st_mode) & ~0o007 | 0o060
        if stat.S_ISDIR(st.st_mode):
            mode |= 0o010 | stat.S_ISGID
        elif st.st_mode & 0o100:
            mode |= 0o010
        p.chmod(mode)


def traversable(path: Path) -> list[str]:
    """Give ``o+x`` to every folder from / down to ``path`` that lacks it; returns the folders changed."""
    changed = []
    for d in reversed([path, *path.parents]):
        if d.is_dir():
            mode = stat.S_IMODE(d.stat().st_mode)
            if not mode & 0o001:
                d.chmod(mode | 0o001)
                changed.append(str(d))
    return changed


def lock_down(settings, instructor: pwd.struct_passwd, trainee_entries: dict[str, pwd.struct_passwd]) -> list[str]:
    """Apply the permissions of the module docstring; returns notes (folders made traversable)."""
    gid = ensure_group()
    notes = []
    course = Path(settings.course_root)
    state = Path(settings.state)
    for entry in sorted(course.iterdir()) if course.is_dir() else []:
        if entry.name in PUBLIC_ENTRIES or entry.resolve() == state.resolve():
            continue
        _staff_only(entry, gid)
    # the course root itself: the instructor creates submitted/, autograded/, gradebook.db here
    if course.is_dir():
        os.chown(course, -1, gid)
        course.chmod(stat.S_IMODE(course.stat().st_mode) & ~0o006 | 0o071 | stat.S_ISGID)

    state.mkdir(parents=True, exist_ok=True)
    state.chmod(0o711)
    for name, mode in (("secrets.json", 0o640), ("hub-settings.json", 0o644), ("jupyterhub.sqlite", 0o600),
                       ("jupyterhub_cookie_secret", 0o600), (".secrets-issued", 0o600), ("hub.lock", 0o600),
                       ("secrets.json.lock", 0o660)):
        p = state / name
        if name == "secrets.json.lock":
            p.touch()  # the instructor's `daqlab hub accounts` takes this lock to read the secrets
        if p.exists():
            os.chown(p, 0, gid)
            p.chmod(mode)
    db = state / "jupyterhub.sqlite"
    if not db.exists():  # created before JupyterHub opens it (an empty file is an empty database): SQLite gives
        db.touch(mode=0o600)  # its journal files the database's mode, so none of them is ever world-readable
    mqtt = Path(settings.mqtt_dir)  # the broker's passwords, ACL, log and the platform's record: staff only
    mqtt.mkdir(parents=True, exist_ok=True)
    _staff_only(mqtt, gid)
    for folder in (settings.homes, settings.results):
        Path(folder).mkdir(parents=True, exist_ok=True)
        Path(folder).chmod(0o711)
    for name, entry in trainee_entries.items():  # written by the instructor, read by that trainee alone
        res = Path(settings.results) / name
        res.mkdir(parents=True, exist_ok=True)
        for p in [res, *res.rglob("*")]:
            os.chown(p, instructor.pw_uid, entry.pw_gid)
            p.chmod(0o2750 if p.is_dir() else 0o640)
    ex = Path(settings.exchange)  # the instructor's nbgrader creates <course>/inbound (733) and outbound here
    ex.mkdir(parents=True, exist_ok=True)
    os.chown(ex, instructor.pw_uid, gid)
    ex.chmod(0o755)
    for d in (Path(settings.python).parent, Path(settings.python).resolve().parent, Path(settings.lessons),
              Path(settings.homes), Path(settings.exchange), Path(settings.jupyter_config)):
        notes += traversable(d)
    return sorted(set(notes))
