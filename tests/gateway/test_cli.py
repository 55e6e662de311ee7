"""`daqlab gateway check|plan|run|status` for real: a plant, a configuration on disk, the status file."""

import json
import textwrap

import daqlab.plant
from daqlab.cli import main

CSV = """name,address,type,scale
temperature,2!300002,INT16,0.1
humidity,2!300003,UINT16,0.1
power,3!300053#BL,FLOAT32,
freq,6!408452,UINT16,0.01
"""


def setup(tmp_path, endpoint, csv_text=CSV):
    (tmp_path / "points.csv").write_text(csv_text, encoding="utf-8")
    cfg = tmp_path / "gateway.yaml"
    cfg.write_text(textwrap.dedent(f"""\
        name: gw-cli
        scan_period_s: 0.1
        southbound: [{{name: station, url: "{endpoint}"}}]
        points: points.csv
        """), encoding="utf-8")
    return cfg


def test_check_plan_run_status(tmp_path, capsys):
    with daqlab.plant.run(stations=1, seed=0, frozen=True) as p:
        cfg = setup(tmp_path, p.endpoint(1))
        assert main(["gateway", "check", str(cfg)]) == 0
        assert "OK — 4 points" in capsys.readouterr().out
        assert main(["gateway", "plan", str(cfg)]) == 0
        assert "3 request(s) per scan for 4 points (one request per point: 4)" in capsys.readouterr().out
        status = tmp_path / "status.json"
        assert main(["gateway", "run", str(cfg), "--count", "3", "--status-file", str(status)]) == 0
        out = capsys.readouterr().out
        assert "stopped after 3 scan(s); 0 point(s) not good" in out and "not publishing" in out
    assert json.loads(status.read_text())["scans"] == 3
    assert main(["gateway", "status", str(status)]) == 0
    out = capsys.readouterr().out
    assert "gateway gw-cli: 3 scan(s)" in out and "temperature" in out and "good" in out


def test_bad_configuration_and_bad_status_file_are_one_clear_error(tmp_path, capsys):
    cfg = setup(tmp_path, "tcp://127.0.0.1:5021", CSV + "level,5!300002,INT17,\n")
    assert main(["gateway", "check", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("daqlab: 1 problem(s)") and "points.csv row 6" in err and "Traceback" not in err
    (tmp_path / "junk.json").write_text("{}")
    assert main(["gateway", "status", str(tmp_path / "junk.json")]) == 2
    assert "not a gateway status file" in capsys.readouterr().err
    assert main(["gateway", "check", str(tmp_path / "nope.yaml")]) == 2
    assert "cannot read it" in capsys.readouterr().err


def test_example_configuration_checks_out_in_a_lab_environment(tmp_path, capsys, monkeypatch):
    assert main(["gateway", "example"]) == 0
    (tmp_path / "gateway.yaml").write_text(capsys.readouterr().out, encoding="utf-8")
    (tmp_path / "points.csv").write_text(CSV, encoding="utf-8")
    for k, v in {"DAQLAB_ENDPOINT": "tcp://127.0.0.1:5021", "DAQLAB_MQTT_URL": "mqtt://127.0.0.1:1883",
                 "DAQLAB_MQTT_USER": "trainee", "DAQLAB_MQTT_PASSWORD": "x"}.items():
        monkeypatch.setenv(k, v)
    assert main(["gateway", "check", str(tmp_path / "gateway.yaml")]) == 0
    assert "northbound 127.0.0.1:1883 as trainee" in capsys.readouterr().out


def test_notebook_panel_checks_saves_starts_and_stops(tmp_path):
    import time

    from daqlab.gateway.ui import GatewayPanel

    with daqlab.plant.run(stations=1, seed=0, frozen=True) as p:
        cfg = setup(tmp_path, p.endpoint(1))
        panel = GatewayPanel(cfg, environ={}, refresh_s=0.1)
        assert panel.table.value == CSV  # the table the configuration names
        panel.table.value = CSV + "level,5!300002,INT17,\n"
        panel.check_button.click()
        assert "points.csv row 6" in panel.message.value and "INT17" in panel.message.value
        assert "INT17" in (tmp_path / "points.csv").read_text()  # saved, as a gateway page saves
        panel.table.value = CSV
        panel.start_button.click()
        try:
            assert panel.gateway is not None and panel.gateway.running and panel.table.disabled
            deadline = time.monotonic() + 30
            while panel.gateway.scans < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.3)
            assert "freq" in panel.status.value and ">good<" in panel.status.value
        finally:
            panel.stop_button.click()
        assert not panel.gateway.running and not panel.table.disabled
        assert "每次扫描 3 个请求" in panel.message.value
