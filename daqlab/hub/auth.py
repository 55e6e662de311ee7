"""A password per account, generated from the roster (``auth = "roster"``, the classroom default).

JupyterHub's SharedPasswordAuthenticator lets anyone holding the trainees' password sign in as ANY
trainee: fine for a lesson, not for a contest, where a neighbour could open (or submit) another's paper.
Here each account has its own password (generated once by :class:`daqlab.hub.settings.Secrets`, printed on
slips with ``daqlab hub accounts``); the instructor's is long (an admin).

Contract: ``authenticate`` returns the user name when the name is known and the password matches
(constant-time comparison), else None; the hub's ``allowed_users`` / ``admin_users`` still apply.
"""

from __future__ import annotations

from secrets import compare_digest

from jupyterhub.auth import Authenticator
from traitlets import Dict


class RosterPasswordAuthenticator(Authenticator):
    """Sign in with the user name and that account's own password."""

    passwords = Dict(config=True, help="hub user name -> password (from <state>/secrets.json)")

    async def authenticate(self, handler, data):
        name = self.normalize_username((data or {}).get("username", "").strip())
        given = (data or {}).get("password", "")
        want = self.passwords.get(name)
        if want and compare_digest(given.encode(), want.encode()):
            return name
        self.log.warning("DAQ Lab: failed sign-in for %r", name)
        return None
