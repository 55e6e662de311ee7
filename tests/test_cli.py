"""The CLI: every command documented with an example; serve/status/fault/log/advance work for real."""

import os
import signal
import subprocess
import sys

import pytest

from daqlab.cli import _parser, main

from .helpers import free_port_block, wait_port


def all_commands(parser, prefix=()):
    import argparse

    yield prefix, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from all_commands(sub, (*prefix, name))


def test_every_command_has_help_with_an_example(capsys):
    commands = list(all_commands(_parser()))
    assert len(commands) >= 9
    for path, _ in commands:
        with pytest.raises(SystemExit) as exc:
            main([*path, "--help"])
        assert exc.value.code == 0
        out = capsys.readouterr().out
        assert "Example" in out and "daqlab" in out, f"`daqlab {' '.join(path)} --help` lacks an example"


def test_datasheet_command_prints_markdown(capsys):
    assert main(["plant", "datasheet", "--station", "2", "--seed", "4"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# 工位 2 设备手册 · Station 2 datasheet") and "tcp://127.0.0.1:5022" in out


def daqlab(*args, check=True):
    r = subprocess.run([sys.executable, "-m", "daqlab.cli", *map(str, args)], capture_output=True, text=True, timeout=30)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def test_serve_then_drive_it_from_the_cli_and_stop_with_ctrl_c(tmp_path):
    base = free_port_block(3)
    log = tmp_path / "req.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "daqlab.cli", "plant", "serve", "--stations", "2", "--base-port",
                             str(base), "--frozen", "--log", str(log), "--fault", "2:th:broken"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_port(base)
        wait_port(base + 2)
        out = daqlab("plant", "status", "--base-port", base).stdout
        assert "station   2" in out and "'broken': True" in out
        assert "stuck" in daqlab("plant", "fault", "--base-port", base, "--station", 1, "--device", "ai",
                                 "--mode", "stuck").stdout
        bad = daqlab("plant", "fault", "--base-port", base, "--station", 1, "--device", "ai", "--mode", "melt",
                     check=False)
        assert bad.returncode != 0 and "unknown fault mode" in bad.stderr
        assert "plant time 12.5" in daqlab("plant", "advance", "--base-port", base, "--seconds", 12.5).stdout

        from daqlab.modbus import ModbusTcpClient

        c = ModbusTcpClient("127.0.0.1", port=base + 2)
        c.connect()
        assert c.read_input_registers(1, count=1, device_id=2).registers == [0x7FFF]
        c.close()
        out = daqlab("plant", "log", "--base-port", base, "--station", 2).stdout
        assert "FC 04 addr 1 count 1 ok [32767]" in out
        assert "scenario troubleshoot on station(s) 1, 2" in daqlab("plant", "scenario", "troubleshoot",
                                                                     "--base-port", base).stdout
        assert "'drop': 30.0" in daqlab("plant", "status", "--base-port", base).stdout
        daqlab("plant", "fault", "--base-port", base, "--station", 2, "--clear")
        assert "-" in daqlab("plant", "status", "--base-port", base).stdout.splitlines()[2]
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert "plant stopped." in out
    assert log.read_text().count('"function": 4') >= 1


def test_control_api_rejects_requests_without_the_token():
    from daqlab.plant import run

    base = free_port_block(2)
    with run(stations=1, base_port=base, control_token="s3cret"):
        r = daqlab("plant", "status", "--base-port", base, check=False)
        assert r.returncode != 0 and "X-DAQLab-Token" in r.stderr
        env_ok = subprocess.run([sys.executable, "-m", "daqlab.cli", "plant", "status", "--base-port", str(base)],
                                capture_output=True, text=True, env=dict(os.environ, DAQLAB_CONTROL_TOKEN="s3cret"))
        assert env_ok.returncode == 0 and "station   1" in env_ok.stdout


@pytest.mark.parametrize("extra", [["--opcua-base-port", "4840"], ["--rtu", "1:/dev/null"]])
def test_owners_refuses_paths_it_cannot_guard(tmp_path, capsys, extra):
    # --owners checks each TCP peer's OS account (Modbus TCP, RFC 2217); OPC UA and a serial line carry none, so a
    # plant serving them beside --owners would let any trainee reach any station. The CLI must refuse at once.
    owners = tmp_path / "owners.json"
    owners.write_text('{"stations": {"1": [1001]}, "everywhere": [0]}', encoding="utf-8")
    port = free_port_block(3)
    with pytest.raises(SystemExit) as exc:
        main(["plant", "serve", "--stations", "1", "--base-port", str(port), "--owners", str(owners), *extra])
    msg = str(exc.value.code)
    assert "--owners guards TCP peers only" in msg and extra[0] in msg


def test_a_black_box_plant_answers_modbus_and_nothing_else():
    # --black-box: a real device's face, no control API on the base port: no truth, no request log, no faults
    base = free_port_block(2)
    proc = subprocess.Popen([sys.executable, "-m", "daqlab.cli", "plant", "serve", "--stations", "1", "--base-port",
                             str(base), "--black-box"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_port(base + 1)
        from daqlab.modbus import ModbusTcpClient

        c = ModbusTcpClient("127.0.0.1", port=base + 1)
        c.connect()
        assert not c.read_input_registers(1, count=2, device_id=2).isError()
        c.close()
        status = daqlab("plant", "status", "--base-port", base, check=False)
        assert status.returncode != 0 and "Traceback" not in status.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    assert "black box: Modbus only (no control API)" in out and proc.returncode == 0, err
