"""A kernel finds its station through the environment, never through a hard-coded address."""

import pytest

from daqlab import my_station


def test_station_from_environment():
    info = my_station({"DAQLAB_ENDPOINT": "tcp://127.0.0.1:5023", "DAQLAB_STATION": "3", "DAQLAB_SEED": "7"})
    assert (info.host, info.port, info.station, info.seed) == ("127.0.0.1", 5023, 3, 7)


def test_missing_station_is_a_clear_error():
    with pytest.raises(RuntimeError, match="DAQLAB_ENDPOINT is not set"):
        my_station({})


def test_plant_environment_points_at_the_station():
    from daqlab.plant import run

    with run(stations=2, seed=4) as plant:
        info = my_station(plant.environment(2))
        assert info.port == plant.port(2) and info.station == 2 and info.seed == 4
