"""`daqlab lab` (what `make lab` runs): plant + JupyterLab on 127.0.0.1 with the lessons."""

import json
import signal
import socket
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
    head = []  # the banner lines read while the lab runs
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
        with urllib.request.urlopen(f"http://127.0.0.1:{web}/lab?token=t0ken", timeout=30) as r:
            page = r.read().decode()
        assert "@jupyterlab/apputils-extension:announcements" in page, "the news prompt is disabled"
        from daqlab.modbus import ModbusTcpClient

        c = ModbusTcpClient("127.0.0.1", port=base + 1)
        assert c.connect() and not c.read_input_registers(0, count=2, device_id=1).isError()
        c.close()
        for line in iter(proc.stdout.readline, ""):
            head.append(line)
            if line.strip().startswith(("MQTT", "stop")):
                break
        mqtt_url = head[-1].split()[1] if head and head[-1].strip().startswith("MQTT") else ""
        assert mqtt_url.startswith("mqtt://127.0.0.1:"), "the lab printed no MQTT broker"
        assert _anonymous_refused(mqtt_url)
    finally:
        proc.send_signal(signal.SIGINT)
        # read through the text wrapper (communicate() would skip what readline() already buffered)
        out = "".join(head) + proc.stdout.read()
        proc.wait(30)
    assert f"http://127.0.0.1:{web}/lab?token=t0ken" in out
    assert f"tcp://127.0.0.1:{base + 1}" in out
    assert "OPC UA (station 1) opc.tcp://127.0.0.1:" in out
    host, port = mqtt_url.split("://")[1].rsplit(":", 1)
    with pytest.raises(OSError):  # Ctrl-C stopped the lab's broker too
        socket.create_connection((host, int(port)), timeout=1).close()


def _anonymous_refused(url: str) -> bool:
    """The lab's broker is up and, like every DAQ Lab broker, refuses anonymous clients."""
    import threading

    import paho.mqtt.client as mqtt

    host, port = url.split("://")[1].rsplit(":", 1)
    got, done = [], threading.Event()
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    c.on_connect = lambda cl, u, f, rc, p: (got.append(rc), done.set())
    c.connect(host, int(port))
    c.loop_start()
    try:
        return done.wait(5) and got[0].is_failure
    finally:
        c.loop_stop()
