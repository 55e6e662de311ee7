"""Broker accounts and what each may touch (Mosquitto ACL), generated from the roster.

- a **device** account per trainee: user name = device name = the trainee's id; it may read and write
  only its own device's topics ``/sys/{productKey}/{id}/#`` (publish its posts and status, read its
  replies); anything else is refused by the broker;
- the **platform** account (the recorder, the grader, the instructor's dashboards): ``/sys/#``.

Anonymous access is off. Passwords are derived from an instructor-side secret (HMAC-SHA256 of the user
name), so the hub, the grading pipeline and the broker agree without storing a password list, and a
trainee's password tells nothing about a neighbour's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets as _secrets
from dataclasses import dataclass

from daqlab.northbound.thingmodel import PRODUCT_KEY, ThingTopics

PLATFORM_USER = "platform"


def derive_password(secret: str, username: str) -> str:
    """A 16-character password for ``username`` (lower-case base32 of an HMAC-SHA256)."""
    if not secret:
        raise ValueError("an empty secret would make every password guessable")
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:16]


def new_secret() -> str:
    return _secrets.token_hex(16)


@dataclass(frozen=True)
class Account:
    username: str  #: MQTT user name (also the device name of a device account)
    password: str  #: clear-text password (hashed into the broker's password file)
    role: str  #: "device" (one trainee's gateway) or "platform" (recorder, grader)
    product_key: str = PRODUCT_KEY  #: product of the device topics

    def __post_init__(self):
        if self.role not in ("device", "platform"):
            raise ValueError("role must be 'device' or 'platform'")
        if not self.username or any(c in self.username for c in ":\n\r /+#"):
            raise ValueError(f"user name {self.username!r} is not usable (no ':', spaces, '/', '+', '#')")

    @property
    def topics(self) -> ThingTopics:
        """The device's topics (device accounts)."""
        return ThingTopics(self.product_key, self.username)

    def acl(self) -> str:
        """This account's block of the Mosquitto ACL file."""
        if self.role == "platform":
            return f"user {self.username}\ntopic readwrite /sys/#\n"
        return f"user {self.username}\ntopic readwrite {self.topics.base}#\n"


def device_account(device_name: str, secret: str, product_key: str = PRODUCT_KEY) -> Account:
    return Account(device_name, derive_password(secret, device_name), "device", product_key)


def platform_account(secret: str) -> Account:
    return Account(PLATFORM_USER, derive_password(secret, PLATFORM_USER), "platform")


def roster_accounts(roster, secret: str, product_key: str = PRODUCT_KEY) -> list[Account]:
    """One device account per trainee (``roster``: student ids, or daqlab.course.roster's dict) plus
    the platform account."""
    ids = list(roster.keys()) if isinstance(roster, dict) else list(roster)
    if PLATFORM_USER in ids:
        raise ValueError(f"{PLATFORM_USER!r} is reserved for the platform account")
    return [device_account(sid, secret, product_key) for sid in ids] + [platform_account(secret)]
