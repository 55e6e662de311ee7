"""Drill scenarios change what a station serves, not its datasheet; the mock final's RS-485 bus reaches the kernel."""

import daqlab.plant
from daqlab.acquisition import Reader
from daqlab.acquisition.linescan import find_settings
from daqlab.plant import tag_table
from daqlab.station import my_rs485


def test_the_mock_scenario_moves_the_meter_flips_its_words_breaks_the_sensor_and_runs_the_line():
    with daqlab.plant.run(stations=2, seed=4) as p:
        documented = {t.name: t for t in tag_table(2, seed=4)}  # the datasheet, as a trainee reads it
        assert documented == {t.name: t for t in p.tags(2)}  # served as documented before the scenario
        p.apply_scenario(2, "mock")
        info = p.station_info(2)
        served, doc = info["served"], info["documented"]
        assert 10 <= served["units"]["meter"] <= 19 and served["units"]["meter"] not in doc["units"].values()
        assert served["meter_order"] != doc["meter_order"]
        assert {t.name: t for t in tag_table(2, seed=4)} == documented  # the datasheet does not change
        assert {t.name: t for t in p.tags(2)}["meter.voltage_l1"].unit == served["units"]["meter"]
        th = documented["th.temperature"]
        with Reader(p.endpoint(2)) as r:
            s = r.read([th, documented["vfd.output_freq"]])
        assert s.values["vfd.output_freq"] > 0  # the line runs
        assert round(s.values["th.temperature"] / th.scale) == 0x7FFF  # the broken-sensor value


def test_a_served_rs485_bus_is_in_the_kernel_environment_and_judges_settings():
    with daqlab.plant.run(stations=1, seed=4) as p:
        url = p.serve_rfc2217(1)
        env = p.environment(1)
        assert my_rs485(env) == url and url.startswith("rfc2217://127.0.0.1:")
        v = p.station(1).variant
        found = find_settings(url, unit=1, baudrates=[v.baudrate, 4800])
        assert (v.baudrate, v.parity) in {(f.baudrate, f.parity) for f in found}
        assert all(f.baudrate == v.baudrate for f in found)


def test_no_rs485_bus_is_a_clear_error():
    import pytest

    with pytest.raises(RuntimeError, match="DAQLAB_RS485_URL is not set"):
        my_rs485({})
