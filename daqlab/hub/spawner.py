"""The single-machine hub's spawner: every user's server runs as that user's own OS account.

JupyterHub's ``LocalProcessSpawner`` runs a server as the OS user named like the hub user; DAQ Lab's accounts
are ``dq-<name>`` (:mod:`daqlab.hub.system`: a student id such as ``2024001`` is not a valid OS user name, and
no trainee may ever be mapped onto an existing system account). This spawner does the mapping, starts the
server in the user's home with umask 077 (the instructor's 007: files in the course root stay the staff's),
and sets ``USER``/``HOME``/``SHELL`` from the account. Servers never run as root.
"""

from __future__ import annotations

import os
import pwd

from jupyterhub.spawner import LocalProcessSpawner, set_user_setuid
from traitlets import Unicode

from daqlab.hub.system import os_user


class AccountSpawner(LocalProcessSpawner):
    """LocalProcessSpawner for the ``dq-<name>`` accounts."""

    home_dir_template = Unicode("", config=True, help="the user's home: {username} is the hub user name "
                                                      "(empty: the account's passwd home)")

    def make_preexec_fn(self, name):
        setuid = set_user_setuid(os_user(name), chdir=False)
        staff = (self.environment or {}).get("DAQLAB_ROLE") == "instructor"
        home = self.user_home()

        def preexec():
            setuid()
            os.umask(0o007 if staff else 0o077)
            os.chdir(home)
            if os.geteuid() == 0:  # set_user_setuid failed silently: never start a server as root
                raise PermissionError("DAQ Lab: refusing to start a user server as root")

        return preexec

    def user_home(self) -> str:
        if self.home_dir_template:
            return self.home_dir_template.format(username=self.user.name)
        return pwd.getpwnam(os_user(self.user.name)).pw_dir

    def user_env(self, env):
        entry = pwd.getpwnam(os_user(self.user.name))
        env["USER"] = env["LOGNAME"] = entry.pw_name
        env["HOME"] = self.user_home()
        env["SHELL"] = entry.pw_shell or "/bin/bash"
        return env
