"""The classroom hub's MQTT broker on one machine: is Mosquitto there, is the port free, how it is run.

Contract:

- :func:`prepare` decides, at hub start (``daqlab hub serve`` before it saves the settings, and again in
  :func:`daqlab.hub.config.apply_local`), what the broker of THIS machine will be, and returns the settings
  to use with a message for the instructor (None when there is nothing to say):

  - ``mqtt`` off, or ``manage_broker`` off (the broker runs elsewhere): the settings unchanged;
  - Mosquitto missing (``mosquitto`` or ``mosquitto_passwd``): ``mqtt`` turned off, with a warning. The hub
    still starts (everything but the MQTT lesson and the MQTT practical works); nobody gets ``DAQLAB_MQTT_*``,
    so ``daqlab.my_platform()`` in a kernel says clearly that no broker is assigned, rather than every
    trainee meeting "connection refused";
  - ``mqtt_port`` 0, or already accepting connections on ``mqtt_host`` (another program: a system
    Mosquitto on 1883 is common): a free port instead, with a note. The hub never stops or reuses a broker
    it did not start.

- :func:`broker_command` is the hub-managed service's command: ``daqlab broker serve`` with the roster's
  accounts (one device per trainee + ``platform``), devices on ``mqtt_port`` with their user name as client
  id, the platform accounts alone on ``mqtt_platform_port``, persistence and the platform's record in
  ``<state>/mqtt/`` (:attr:`HubSettings.mqtt_dir`). The secret goes in the service's environment
  (``DAQLAB_MQTT_SECRET``, see :func:`broker_environment`), never on a command line that ``ps`` shows.
  Stopping the hub stops the service (SIGINT), and ``daqlab broker serve`` stops its Mosquitto.
"""

from __future__ import annotations

import contextlib
import socket
from dataclasses import replace

from daqlab.hub.settings import HubSettings
from daqlab.northbound.broker import BrokerError, find_tool, free_port

RECORD = "platform.jsonl"  #: the platform's record of every message, in ``<state>/mqtt/``
NOT_INSTALLED = ("MQTT broker NOT started: {reason}. The hub runs without it: the MQTT lesson and the MQTT "
                 "practical will not work (kernels get no DAQLAB_MQTT_* account) until Mosquitto is installed and "
                 "the hub restarted.")


def port_in_use(host: str, port: int) -> bool:
    """True when something already accepts TCP connections on ``host:port``."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.3):
        return True
    return False


def mosquitto_missing() -> str | None:
    """Why Mosquitto cannot run here (None: it can)."""
    try:
        find_tool("mosquitto")
        find_tool("mosquitto_passwd")
    except BrokerError as exc:
        return str(exc)
    return None


def prepare(settings: HubSettings) -> tuple[HubSettings, str | None]:
    """The settings this machine's hub runs with, and a message for the instructor (see the module docstring)."""
    if not (settings.mqtt and settings.manage_broker):
        return settings, None
    missing = mosquitto_missing()
    if missing:
        return replace(settings, mqtt=False), NOT_INSTALLED.format(reason=missing)
    if not settings.mqtt_platform_port or port_in_use(settings.mqtt_host, settings.mqtt_platform_port):
        settings = replace(settings, mqtt_platform_port=_unclaimed_port(settings))
    if settings.mqtt_port and not port_in_use(settings.mqtt_host, settings.mqtt_port):
        return settings, None
    port = _unclaimed_port(settings)
    note = (f"MQTT port {settings.mqtt_port} on {settings.mqtt_host} is in use by another program (a system "
            f"Mosquitto?): the hub's broker uses port {port}" if settings.mqtt_port else None)
    return replace(settings, mqtt_port=port), note


def _unclaimed_port(settings: HubSettings) -> int:
    """A free port that none of the hub's own services is configured to take later: a port free now may be the
    proxy's API port or a station's, not bound yet while the hub starts (seen: the broker's platform listener
    took the proxy API's port, and every broker start after failed with "address already in use")."""
    claimed = {settings.port, settings.hub_port, settings.proxy_api_port, settings.mqtt_port, settings.exchange_port,
               *range(settings.plant_base_port, settings.plant_base_port + 501),
               *range(settings.rs485_base_port, settings.rs485_base_port + 501)}
    for _ in range(100):
        port = free_port(settings.mqtt_host)
        if port not in claimed:
            return port
    raise BrokerError("no free port outside the hub's own ports")


def broker_command(settings: HubSettings) -> list[str]:
    """``daqlab broker serve`` as the hub runs it (the roster's accounts, persistence, the platform record)."""
    return [settings.python, "-m", "daqlab.cli", "broker", "serve", "--roster", settings.roster,
            "--host", settings.mqtt_host, "--port", str(settings.mqtt_port),
            "--platform-port", str(settings.mqtt_platform_port),
            "--workdir", str(settings.mqtt_dir / "broker"), "--persistence",
            "--record", str(settings.mqtt_dir / RECORD)]


def broker_environment(secret: str) -> dict[str, str]:
    """The broker service's environment: the secret its passwords derive from, unbuffered output (hub log)."""
    return {"DAQLAB_MQTT_SECRET": secret, "PYTHONUNBUFFERED": "1"}
