"""`daqlab lab` (what `make lab` runs): plant + JupyterLab on 127.0.0.1 with the lessons."""

import json
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from .helpers import free_port_block, wait_port


@pytest.mark.slow
def test_lab_starts_plant_and_jupyterlab_with_lesson_one():
    base = free_port_block(3)
    web = free_port_block(1)
    proc = subprocess.Popen([sys.executable, "-m", "daqlab.cli", "lab", "--stations", "2", "--base-port", str(base),
                             "--port", str(web), "--token", "t0ken"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        wait_port(base + 1, 30)
        wait_port(web, 60)
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{web}/api/contents?token=t0ken", timeout=5) as r:
                    names = [x["name"] for x in json.load(r)["content"]]
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        assert "01-The-Data-Chain.ipynb" in names
        from daqlab.modbus import ModbusTcpClient

        c = ModbusTcpClient("127.0.0.1", port=base + 1)
        assert c.connect() and not c.read_input_registers(0, count=2, device_id=1).isError()
        c.close()
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert f"http://127.0.0.1:{web}/lab?token=t0ken" in out
    assert f"tcp://127.0.0.1:{base + 1}" in out
    assert "OPC UA (station 1) opc.tcp://127.0.0.1:" in out
