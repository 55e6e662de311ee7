"""kill -9 of a plant: it comes back on the same ports at once, and its request log stays readable."""

import json
import signal
import subprocess
import sys
import time

from daqlab.modbus import ModbusTcpClient

from ..helpers import free_port_block, wait_port


def _serve(base, log):
    return subprocess.Popen([sys.executable, "-m", "daqlab.cli", "plant", "serve", "--stations", "2",
                             "--base-port", str(base), "--log", str(log)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _read(port):
    c = ModbusTcpClient("127.0.0.1", port=port, timeout=5, retries=1)
    assert c.connect()
    try:
        return c.read_holding_registers(0x18, count=6, device_id=1)
    finally:
        c.close()


def test_a_plant_killed_with_sigkill_restarts_on_its_ports_and_its_log_parses(tmp_path):
    base, log = free_port_block(3), tmp_path / "requests.jsonl"
    first = _serve(base, log)
    try:
        wait_port(base + 2, 60)
        for _ in range(20):
            assert not _read(base + 1).isError()
        time.sleep(2)  # the log is flushed periodically
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        again = _serve(base, log)  # same ports, right away: nothing of the killed plant holds them
        try:
            wait_port(base + 2, 60)
            assert not _read(base + 2).isError()
        finally:
            again.terminate()
            again.wait(30)
    finally:
        if first.poll() is None:
            first.kill()
    lines = log.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(x) for x in lines if x.strip()]
    assert len(rows) >= 20 and {r["station"] for r in rows} >= {1, 2}
