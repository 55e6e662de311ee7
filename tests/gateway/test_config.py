"""The gateway configuration: a bad point table is rejected with every bad row's number, before anything connects."""

import textwrap

import pytest

from daqlab.gateway import ConfigError, load, loads

GOOD_CSV = """name,device,address,type,byte_order,scale,unit
temperature,station,2!300002,INT16,,0.1,°C
humidity,station,2!300003,UINT16,,0.1,%RH
power,station,3!300053#BL,FLOAT32,,,W
freq,station,6!408452,UINT16,,0.01,Hz
"""


def write(tmp_path, csv_text, yaml_text=None):
    (tmp_path / "points.csv").write_text(csv_text, encoding="utf-8")
    cfg = tmp_path / "gateway.yaml"
    cfg.write_text(yaml_text or textwrap.dedent("""\
        name: gw1
        scan_period_s: 0.5
        southbound:
          - name: station
            url: ${DAQLAB_ENDPOINT}
        points: points.csv
        """), encoding="utf-8")
    return cfg


def test_a_good_configuration_loads_with_neuron_addresses_and_env_urls(tmp_path):
    cfg = load(write(tmp_path, GOOD_CSV), environ={"DAQLAB_ENDPOINT": "tcp://127.0.0.1:5021"})
    assert cfg.name == "gw1" and cfg.scan_period_s == 0.5 and cfg.northbound is None
    assert cfg.southbound[0].url == "tcp://127.0.0.1:5021"
    p = {t.name: t for t in cfg.points}
    # Neuron references are 1-based: 300002 is input register 1 (0-based), #BL is CDAB
    assert (p["temperature"].unit, p["temperature"].area, p["temperature"].address) == (2, "input", 1)
    assert (p["power"].address, p["power"].order, p["power"].dtype) == (52, "CDAB", "FLOAT32")
    assert (p["freq"].area, p["freq"].address, p["freq"].scale) == (6 and "holding", 8451, 0.01)
    assert cfg.rows["power"] == "points.csv row 4" and all(t.meta["device"] == "station" for t in cfg.points)


def test_every_bad_row_is_reported_with_its_row_number_at_once(tmp_path):
    bad = GOOD_CSV + textwrap.dedent("""\
        voltage,station,3!300001#XX,FLOAT32,,,V
        current,plc,3!300007#BL,FLOAT32,,,A
        temperature,station,2!300002,INT16,,0.1,°C
        level,station,5!300002,INT17,,,m
        th.rh,station,2!300003,UINT16,,,%
        th_rh,station,2!300003,UINT16,,,%
        energy,station,3!300073#BL,FLOAT32,,0,kWh
        """)
    with pytest.raises(ConfigError) as exc:
        load(write(tmp_path, bad), environ={"DAQLAB_ENDPOINT": "tcp://127.0.0.1:5021"})
    where = dict(exc.value.problems)
    assert set(where) == {f"points.csv row {n}" for n in (6, 7, 8, 9, 11, 12)}, exc.value.problems
    assert "Neuron address" in where["points.csv row 6"]
    assert "'plc' is not a southbound device" in where["points.csv row 7"]
    assert "duplicate point name 'temperature' (first at points.csv row 2)" in where["points.csv row 8"]
    assert "INT17" in where["points.csv row 9"]
    assert "same identifier 'th_rh'" in where["points.csv row 11"]
    assert "scale" in where["points.csv row 12"]
    assert str(exc.value).startswith("6 problem(s) in the gateway configuration:")


def test_configuration_errors_name_the_yaml_line(tmp_path):
    text = textwrap.dedent("""\
        scan_period_s: 0
        southbound:
          - name: station
            url: modbus://10.0.0.5
        points:
          - {name: t, address: "2!300002", type: INT16}
          - {name: h, address: "2!300003", devise: station}
        northbound:
          broker: mqtt://127.0.0.1:1883
          qos: 3
          deadband: {t: 0.1, nosuch: 1}
        colour: blue
        """)
    with pytest.raises(ConfigError) as exc:
        loads(text, environ={})
    where = dict(exc.value.problems)
    assert "scan_period_s" in where["gateway.yaml line 1"]
    assert "modbus://10.0.0.5" in where["gateway.yaml line 4"]
    assert "unknown column" in where["gateway.yaml line 7"]
    assert "qos 3" in where["gateway.yaml line 10"]
    assert "nosuch" in where["gateway.yaml line 11"]
    assert "colour" in where["gateway.yaml line 12"]


def test_missing_environment_and_unreadable_tables_are_clear(tmp_path):
    cfg = write(tmp_path, GOOD_CSV)
    with pytest.raises(ConfigError, match=r"DAQLAB_ENDPOINT is not set"):
        load(cfg, environ={})
    (tmp_path / "points.csv").unlink()
    with pytest.raises(ConfigError, match=r"points.csv: cannot read it"):
        load(cfg, environ={"DAQLAB_ENDPOINT": "tcp://127.0.0.1:5021"})
    with pytest.raises(ConfigError, match=r"gateway.yaml line 3: not valid YAML"):
        loads("name: a\nsouthbound: [\n", environ={})
    with pytest.raises(ConfigError, match="DAQLAB_MQTT_URL is not set"):
        loads("southbound: [{name: s, url: 'tcp://h:1'}]\npoints: [{name: t, address: '1!400001'}]\nnorthbound: env\n",
              environ={})


def test_northbound_from_the_environment_and_spool_beside_the_file(tmp_path):
    env = {"DAQLAB_ENDPOINT": "tcp://127.0.0.1:5021", "DAQLAB_MQTT_URL": "mqtt://127.0.0.1:1883",
           "DAQLAB_MQTT_USER": "s001", "DAQLAB_MQTT_PASSWORD": "pw", "DAQLAB_PRODUCT_KEY": "daqlab"}
    cfg = load(write(tmp_path, GOOD_CSV, textwrap.dedent("""\
        southbound: [{name: station, url: "${DAQLAB_ENDPOINT}"}]
        points: points.csv
        northbound: {broker: env, qos: 0, deadband: {temperature: 0.2}, spool: spool.jsonl}
        """)), environ=env)
    nb = cfg.northbound
    assert (nb.host, nb.port, nb.username, nb.password, nb.qos) == ("127.0.0.1", 1883, "s001", "pw", 0)
    assert cfg.name == "s001" and nb.deadband == {"temperature": 0.2} and nb.spool == str(tmp_path / "spool.jsonl")


def test_loose_values_are_problems_not_tracebacks(tmp_path):
    text = textwrap.dedent("""\
        southbound:
          - {name: s, url: "tcp://127.0.0.1:5021", max_gap: 8.9}
          - {name: t, url: "tcp://127.0.0.1:5022", max_gap: true}
        points:
          - {name: a, device: s, address: "2!300002"}
        northbound:
          broker: mqtt://127.0.0.1:1883
          qos: true
          heartbeat_s: soon
          deadband: {a: abc}
        """)
    with pytest.raises(ConfigError) as exc:
        loads(text, environ={})
    where = dict(exc.value.problems)
    assert "max_gap a whole number" in where["gateway.yaml line 2"] and "max_gap" in where["gateway.yaml line 3"]
    assert "qos True" in where["gateway.yaml line 8"] and "heartbeat_s 'soon'" in where["gateway.yaml line 9"]
    assert "deadband of ['a']" in where["gateway.yaml line 10"]


def test_a_row_with_more_fields_than_the_header_is_reported(tmp_path):
    with pytest.raises(ConfigError) as exc:
        load(write(tmp_path, GOOD_CSV + "level,station,5!300002,INT16,,0.1,m,oops\n"),
             environ={"DAQLAB_ENDPOINT": "tcp://127.0.0.1:5021"})
    assert exc.value.problems == [("points.csv row 6", "1 more field(s) than the header has columns ('oops'): "
                                                       "a comma too many?")]
