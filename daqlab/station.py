"""Which station a kernel talks to: read from the environment that started the kernel.

JupyterHub (per trainee), ``make lab`` and the grading pipeline set these variables; notebook
code asks :func:`my_station` and never hard-codes an address.

- ``DAQLAB_ENDPOINT``: ``tcp://host:port`` of the station (or ``rtu:///dev/ttyUSB0?...``)
- ``DAQLAB_STATION``: station number (1-based)
- ``DAQLAB_SEED``: plant seed, so datasheets can be rebuilt locally
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


def my_station(environ: dict | None = None) -> StationInfo:
    """Return the station assigned to this kernel; raise a clear error when none is set."""
    env = os.environ if environ is None else environ
    endpoint = env.get("DAQLAB_ENDPOINT")
    if not endpoint:
        raise RuntimeError(
            "No station is assigned to this kernel: DAQLAB_ENDPOINT is not set. "
            "Start JupyterLab with `make lab`, or start a plant in the notebook with "
            "`daqlab.plant.run()` and use its endpoint."
        )
    return StationInfo(endpoint=endpoint, station=int(env.get("DAQLAB_STATION", "1")), seed=int(env.get("DAQLAB_SEED", "0")))


def my_datasheet(environ: dict | None = None) -> str:
    """The datasheet (Markdown) of this kernel's station, as documented for the bench."""
    from daqlab.plant.datasheet import datasheet
    from daqlab.plant.runner import Plant

    info = my_station(environ)
    plant = Plant(info.station, seed=info.seed, control=False)
    return datasheet(plant.station(info.station), endpoint=info.endpoint)
