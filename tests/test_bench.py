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
