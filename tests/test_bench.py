"""Benchmark scripts run (smoke: short durations) and print their comparison table; no timing is asserted."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_plant_benchmark_quick_run_prints_the_comparison_table():
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "plant.py"), "--quick", "--rounds", "1"],
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "| bare pymodbus | plant (1 station) |" in r.stdout
    assert "classroom" in r.stdout and "requests/s" in r.stdout


@pytest.mark.slow
def test_acquisition_benchmark_quick_run_prints_the_comparison_table():
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "acquisition.py"), "--quick", "--rounds", "1"],
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "naive (1 request per tag)" in r.stdout and "planned, max_gap=8" in r.stdout


@pytest.mark.slow
def test_dashboards_benchmark_quick_run_prints_its_table():
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "dashboards.py"), "--quick"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "first full render" in r.stdout


@pytest.mark.slow
def test_northbound_benchmark_quick_run_prints_the_table_with_no_loss_at_qos1():
    from tests.northbound.conftest import need_mosquitto

    need_mosquitto()
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "northbound.py"), "--quick", "--messages", "200",
                        "--paced-messages", "50", "--warmup", "20"],
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = [line.split("|")[1:-1] for line in r.stdout.splitlines() if line.startswith("| 0 ") or line.startswith("| 1 ")]
    assert [(q.strip(), who.strip()) for q, who, *_ in rows] == [
        ("0", "raw paho-mqtt"), ("0", "daqlab Uplink"), ("1", "raw paho-mqtt"), ("1", "daqlab Uplink")]
    assert all(len(row) == 8 for row in rows)
    for row in rows[2:]:  # QoS 1: every message received, none lost
        assert row[6].strip() == "250 / 250" and row[7].strip() == "0"
    assert "lost at QoS 1: 0 PASS" in r.stdout


@pytest.mark.slow
def test_gateway_benchmark_quick_run_prints_three_ways_and_the_gateway_sends_fewer_requests():
    from tests.northbound.conftest import need_mosquitto

    need_mosquitto()
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "gateway.py"), "--quick"],
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    assert ("| Way | Modbus requests/scan | scans/s | p50 scan (ms) | MQTT messages/scan | MQTT bytes/scan | "
            "delivered values/s | lost messages / values (QoS 1) |") in r.stdout
    rows = {cells[0]: cells[1:] for line in r.stdout.splitlines() if line.startswith("| ")
            for cells in [[c.strip() for c in line.split("|")[1:-1]]] if len(cells) == 8}
    gateway, perpoint, raw = (rows[k] for k in ("daqlab gateway (planned reads, 1 post/scan)",
                                                 "Reader per point + Uplink (1 post/scan)",
                                                 "raw pymodbus + paho (1 message per point)"))
    assert float(gateway[0]) < float(perpoint[0]) == float(raw[0])  # Modbus requests/scan, from the plant's log
    assert gateway[6] == perpoint[6] == raw[6] == "0 / 0"  # nothing lost at QoS 1
    assert "Lost at QoS 1: 0 PASS" in r.stdout


@pytest.mark.slow
def test_relay_benchmark_quick_run_prints_direct_and_relayed_side_by_side():
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "relay.py"), "--quick", "--rounds", "1"],
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "| whole tag table (77 tags, 9 requests) | direct |" in r.stdout and "| relay |" in r.stdout
    assert "last relayed scan: 77/77 tags good" in r.stdout
