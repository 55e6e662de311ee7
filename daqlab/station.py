"""Which station a kernel talks to: read from the environment that started the kernel.

JupyterHub (per trainee), ``make lab`` and the grading pipeline set these variables; notebook
code asks :func:`my_station` and never hard-codes an address.

- ``DAQLAB_ENDPOINT``: ``tcp://host:port`` of the station (or ``rtu:///dev/ttyUSB0?...``)
- ``DAQLAB_STATION``: station number (1-based)
- ``DAQLAB_SEED``: plant seed, so datasheets can be rebuilt locally
- ``DAQLAB_OPCUA_ENDPOINT``: ``opc.tcp://host:port/daqlab/station<k>`` when the station also serves OPC UA
- ``DAQLAB_BENCH``: a real bench's description (YAML, :mod:`daqlab.benches`) when the station is a real bench;
  the datasheet and the tag table then come from it (``DAQLAB_BENCH_YAML``: the description's text, as the grader
  gives it to a sandboxed kernel)
- ``DAQLAB_RS485_URL``: ``rfc2217://host:port`` of the station's RS-485 bus behind a serial device server
  (串口服务器) when there is one; its serial settings are the trainee's to find
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class StationInfo:
    endpoint: str  #: connection URL, e.g. ``tcp://127.0.0.1:5021``
    station: int  #: station number, 1-based
    seed: int  #: plant seed the station's variant derives from

    @property
    def host(self) -> str:
        """Host part of a ``tcp://`` endpoint."""
        return self.endpoint.split("://", 1)[1].rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        """TCP port of a ``tcp://`` endpoint."""
        return int(self.endpoint.rsplit(":", 1)[1].split("?")[0])


def _required(env, name: str, what: str, fix: str) -> str:
    """The value of ``name`` in the kernel's environment; a RuntimeError saying what is missing and what to do."""
    value = env.get(name)
    if not value:
        raise RuntimeError(f"{what}: {name} is not set. {fix}")
    return value


def my_station(environ: dict | None = None) -> StationInfo:
    """Return the station assigned to this kernel; raise a clear error when none is set."""
    env = os.environ if environ is None else environ
    endpoint = _required(env, "DAQLAB_ENDPOINT", "No station is assigned to this kernel",
                         "Start JupyterLab with `make lab`, or start a plant in the notebook with `daqlab.plant.run()` "
                         "and use its endpoint.")
    return StationInfo(endpoint=endpoint, station=int(env.get("DAQLAB_STATION", "1")), seed=int(env.get("DAQLAB_SEED", "0")))


def my_bench(environ: dict | None = None):
    """The real bench this kernel's station is (a :class:`daqlab.benches.Bench`), or None for a simulated one."""
    env = os.environ if environ is None else environ
    from daqlab.benches import load_bench, loads_bench

    if env.get("DAQLAB_BENCH_YAML"):  # the description itself (a graded kernel has no course files to read)
        return loads_bench(env["DAQLAB_BENCH_YAML"], source="DAQLAB_BENCH_YAML")
    if not env.get("DAQLAB_BENCH"):
        return None
    return load_bench(env["DAQLAB_BENCH"])


def my_datasheet(environ: dict | None = None) -> str:
    """The datasheet (Markdown) of this kernel's station, as documented for the bench (a real bench's from its
    description)."""
    from daqlab.plant.datasheet import datasheet
    from daqlab.plant.runner import Plant

    info = my_station(environ)
    bench = my_bench(environ)
    if bench is not None:
        return bench.datasheet()
    plant = Plant(info.station, seed=info.seed, control=False)
    return datasheet(plant.station(info.station), endpoint=info.endpoint)


def my_tags(environ: dict | None = None) -> list:
    """The tag table of this kernel's station (``device.point`` names): a real bench's from its description,
    a simulated station's from the plant seed."""
    bench = my_bench(environ)
    if bench is not None:
        return bench.tags()
    from daqlab.plant.tags import tag_table

    info = my_station(environ)
    return tag_table(info.station, seed=info.seed)


def my_rs485(environ: dict | None = None) -> str:
    """The URL of this kernel's RS-485 bus (``rfc2217://host:port``, no settings: finding them is the task);
    a clear error when there is none."""
    return _required(os.environ if environ is None else environ, "DAQLAB_RS485_URL",
                     "This kernel's station has no RS-485 bus",
                     "Start JupyterLab with `make lab` (it serves station 1's bus), or start a plant in the notebook "
                     "and use `plant.serve_rfc2217(1)`.")


def my_opcua_endpoint(environ: dict | None = None) -> str:
    """The OPC UA endpoint of this kernel's station (``opc.tcp://...``); a clear error when none is set."""
    return _required(os.environ if environ is None else environ, "DAQLAB_OPCUA_ENDPOINT",
                     "This kernel's station has no OPC UA server",
                     "Start JupyterLab with `make lab` (it serves OPC UA for station 1), or start a plant in the "
                     "notebook with `daqlab.plant.run(opcua_base_port=0)` and use `plant.opcua_endpoint(1)`.")


@dataclass(frozen=True)
class PlatformInfo:
    """This kernel's account on the platform's MQTT broker (see daqlab.northbound)."""

    url: str  #: ``mqtt://host:port`` of the broker
    username: str  #: MQTT user name = the gateway's deviceName
    password: str  #: MQTT password
    product_key: str  #: productKey of the topics

    @property
    def host(self) -> str:
        return self.url.split("://", 1)[1].rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def device_name(self) -> str:
        return self.username

    @property
    def topics(self):
        """The device's topics (post, post_reply, status, base)."""
        from daqlab.northbound.thingmodel import ThingTopics

        return ThingTopics(self.product_key, self.username)


def my_platform(environ: dict | None = None) -> PlatformInfo:
    """The broker and account assigned to this kernel (DAQLAB_MQTT_URL/USER/PASSWORD, DAQLAB_PRODUCT_KEY);
    a clear error when none is set."""
    env = os.environ if environ is None else environ
    url = _required(env, "DAQLAB_MQTT_URL", "No MQTT broker is assigned to this kernel",
                    "Start JupyterLab with `make lab` (it starts one), or start a broker in the notebook with "
                    "daqlab.northbound.Broker.")
    return PlatformInfo(url=url, username=env.get("DAQLAB_MQTT_USER", ""), password=env.get("DAQLAB_MQTT_PASSWORD", ""),
                        product_key=env.get("DAQLAB_PRODUCT_KEY", "daqlab"))
