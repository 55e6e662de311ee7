"""Per-station task parameters (public: a trainee computes them with ``daqlab.grading.params.mine()``).

They derive from the plant seed and the station, so a neighbour's numbers are wrong on your bench.
"""

from __future__ import annotations

import os
import random

from daqlab.plant.variants import station_seed


def for_station(seed: int, station: int) -> dict:
    rng = random.Random(station_seed(seed, station, "task-parameters"))
    return {
        "setpoint_hz": float(rng.randrange(2500, 4800, 25)) / 100,  # control task: 25.00-47.75 Hz
        "power_threshold_w": 1500.0,  # acquire task: the alarm line on the trend
        "poll_period_s": 0.5,  # acquire task: prescribed polling period
        "poll_count": 12,  # acquire task: prescribed number of scans
        "publish_period_s": 0.5,  # publish task: one property post per scan, this often
        "publish_count": 10,  # publish task: property posts to send
        "gateway_period_s": 0.5,  # gateway task: scan_period_s of the trainee's gateway
        "gateway_scans": 10,  # gateway task: scans to run
    }


def mine() -> dict:
    """Parameters of the station this kernel is assigned (DAQLAB_SEED, DAQLAB_STATION)."""
    return for_station(int(os.environ.get("DAQLAB_SEED", "0")), int(os.environ.get("DAQLAB_STATION", "1")))
