"""Hub accounts from the roster, and the environment each user's server (and every kernel in it) gets.

Contract:

- One instructor account (``HubSettings.instructor``, an admin) and one trainee account per roster row;
  the hub user name IS the nbgrader student id (so ``CourseDirectory.student_id = $JUPYTERHUB_USER``).
- A trainee's environment names their station as :mod:`daqlab.station` reads it: ``DAQLAB_ENDPOINT``
  (``tcp://<plant_host>:<base+station>``), ``DAQLAB_STATION``, ``DAQLAB_SEED``, ``DAQLAB_RS485_URL`` (the
  station's RS-485 bus, ``rfc2217://<plant_host>:<rs485_base+station>``, when the hub runs the plant); a trainee
  at a real bench (the roster's ``bench`` column) gets the bench's connection and ``DAQLAB_BENCH``; plus ``DAQLAB_ROLE``,
  ``DAQLAB_INSTRUCTOR`` (the results dashboard's test for the instructor), ``DAQLAB_COURSE_ROOT`` (for a
  trainee: their own published results folder, never the instructor's course) and ``JUPYTER_CONFIG_PATH``
  (the role's config folder: nbgrader identity and exchange, which extensions are on).
- The instructor's environment points at the course root and carries the plant's control token
  (``DAQLAB_CONTROL_TOKEN``, for the HMI's fault panel) and the paper salt (``DAQLAB_PAPER_SALT``); a
  trainee's never does: it says ``DAQLAB_PAPERS=published`` (their theory paper is the file the instructor
  published for them, :mod:`daqlab.hub.papers`).
- With ``settings.exchange_service``: ``DAQLAB_EXCHANGE_URL``, the exchange service every nbgrader exchange
  operation goes through (:mod:`daqlab.hub.exchange_client`).
- The MQTT broker (when ``settings.mqtt``) as :func:`daqlab.station.my_platform` reads it: ``DAQLAB_MQTT_URL``,
  ``DAQLAB_MQTT_USER`` (a trainee: their own device account, user name = student id, allowed only
  ``/sys/<productKey>/<id>/#``; the instructor: the ``platform`` account, ``/sys/#``), ``DAQLAB_PRODUCT_KEY``
  and, given the hub's MQTT secret, ``DAQLAB_MQTT_PASSWORD`` (derived from it; on Kubernetes the pre-spawn
  hook derives it in the hub pod, so no password is written into the Helm values).
- The station card (``~/daqlab-station.json``) repeats the station and the broker account, never a password.
- Hub user names must be lower case (JupyterHub normalises names); a roster id that is not is rejected.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from daqlab.course.roster import RosterError, check_id, load_roster
from daqlab.hub.settings import HubSettings
from daqlab.northbound.accounts import PLATFORM_USER, derive_password
from daqlab.northbound.thingmodel import PRODUCT_KEY, ThingTopics

INSTRUCTOR, TRAINEE = "instructor", "trainee"


@dataclass(frozen=True)
class Account:
    name: str  #: hub user name = nbgrader student id (trainees)
    role: str  #: "instructor" | "trainee"
    display: str = ""  #: display name from the roster
    station: int | None = None  #: plant station (trainees)
    bench: str = ""  #: a real bench's description (trainees at a real bench; daqlab.benches)


def accounts(settings: HubSettings, roster: dict | None = None) -> dict[str, Account]:
    """Instructor first, then the roster's trainees in roster order. ``roster`` defaults to the settings' CSV
    (no file: the instructor alone)."""
    if roster is None:
        roster = load_roster(settings.roster) if Path(settings.roster).exists() else {}
    bad = [why for sid in roster if (why := check_id(sid))]  # the roster's own rule, for rosters given as dicts
    if bad:
        raise RosterError(f"{settings.roster}: " + "; ".join(bad))
    if settings.instructor in roster:
        raise RosterError(f"{settings.roster}: {settings.instructor!r} is the instructor's account, not a trainee")
    if PLATFORM_USER in roster:
        raise RosterError(f"{settings.roster}: {PLATFORM_USER!r} is the MQTT platform's account, not a trainee")
    out = {settings.instructor: Account(settings.instructor, INSTRUCTOR, "Instructor 教师")}
    for t in roster.values():
        out[t.student_id] = Account(t.student_id, TRAINEE, t.name, t.station, getattr(t, "bench", ""))
    return out


def plant_stations(accts: dict[str, Account]) -> int:
    """Stations the classroom plant must serve: the highest station in the roster (at least 1)."""
    return max([a.station for a in accts.values() if a.station] or [1])


def mqtt_user(account: Account) -> str:
    """The broker account of a hub account: a trainee's own device (= student id), the instructor's platform."""
    return PLATFORM_USER if account.role == INSTRUCTOR else account.name


def user_environment(settings: HubSettings, account: Account, plant_token: str | None = None,
                     mqtt_secret: str | None = None, paper_salt: str | None = None) -> dict[str, str]:
    """The environment of ``account``'s server and kernels (see the module docstring)."""
    env = {"DAQLAB_ROLE": account.role, "DAQLAB_INSTRUCTOR": settings.instructor, "DAQLAB_COURSE": settings.course_id,
           "DAQLAB_PLANT_HOST": settings.plant_host, "DAQLAB_BASE_PORT": str(settings.plant_base_port),
           "DAQLAB_SEED": str(settings.plant_seed),
           "JUPYTER_CONFIG_PATH": str(settings.role_config(account.role))}
    if account.role == INSTRUCTOR:
        env["DAQLAB_COURSE_ROOT"] = settings.course_root
        if plant_token:
            env["DAQLAB_CONTROL_TOKEN"] = plant_token
        if paper_salt:  # `daqlab exam paper` and `daqlab hub publish-papers` in their terminal
            env["DAQLAB_PAPER_SALT"] = paper_salt
    else:
        env["DAQLAB_PAPERS"] = "published"  # the paper comes from the file the instructor published
        env["DAQLAB_COURSE_ROOT"] = str(Path(settings.results) / account.name)
        env["DAQLAB_STATION"] = str(account.station)
        env["DAQLAB_ENDPOINT"] = f"tcp://{settings.plant_host}:{settings.plant_base_port + account.station}"
        if account.bench:  # a real bench: its own connection, datasheet and tag table (daqlab.benches)
            from daqlab.benches import load_bench

            bench = load_bench(account.bench)
            env["DAQLAB_BENCH"] = account.bench
            env["DAQLAB_ENDPOINT"] = bench.connection
            if bench.rs485:  # the serial device server on the bench's RS-485 line (daqlab.station.my_rs485)
                env["DAQLAB_RS485_URL"] = bench.rs485
        elif settings.rs485 and settings.manage_plant:
            env["DAQLAB_RS485_URL"] = f"rfc2217://{settings.plant_host}:{settings.rs485_base_port + account.station}"
    if settings.exchange_service:  # nbgrader's exchange is the hub service (daqlab.hub.exchange_client)
        env["DAQLAB_EXCHANGE_URL"] = settings.exchange_url
    if settings.mqtt:
        url = settings.mqtt_platform_url if account.role == INSTRUCTOR else settings.mqtt_url
        env.update({"DAQLAB_MQTT_URL": url, "DAQLAB_MQTT_USER": mqtt_user(account),
                    "DAQLAB_PRODUCT_KEY": PRODUCT_KEY})
        if mqtt_secret:
            env["DAQLAB_MQTT_PASSWORD"] = derive_password(mqtt_secret, mqtt_user(account))
    return env


def station_card(settings: HubSettings, account: Account) -> dict:
    """What ``~/daqlab-station.json`` tells a trainee (and a kernel without the environment)."""
    env = user_environment(settings, account)
    card = {"student_id": account.name, "name": account.display, "station": account.station,
            "endpoint": env["DAQLAB_ENDPOINT"], "seed": settings.plant_seed, "course": settings.course_id,
            "datasheet": f"daqlab plant datasheet --station {account.station} --seed {settings.plant_seed}"}
    if settings.mqtt:  # the password stays in the kernel's environment and on the slip: cards get shared
        user = mqtt_user(account)
        card["mqtt"] = {"url": env["DAQLAB_MQTT_URL"], "username": user, "product_key": PRODUCT_KEY,
                        "post_topic": ThingTopics(PRODUCT_KEY, user).post}
    return card
