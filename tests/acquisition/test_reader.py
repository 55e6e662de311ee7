"""The reader against the real plant over TCP (and RTU over a socat pty pair)."""

import asyncio
import math
import time

import pandas as pd
import pytest

import daqlab.plant
from daqlab.acquisition import AsyncReader, Reader, Tag, WriteError, plan, quality_frame


@pytest.fixture(scope="module")
def frozen():
    with daqlab.plant.run(stations=2, seed=7, frozen=True) as plant:
        plant.advance(5.0)
        yield plant


def test_full_station_table_decodes_to_what_the_plant_served(frozen):
    tags = frozen.tags(2)
    since = time.time()
    with Reader(frozen.endpoint(2), max_gap=8) as r:
        sample = r.read(tags)
    assert sample.ok and sample.requests == len(plan(tags, max_gap=8))
    served = [e for e in frozen.log(2, since=since) if e.function in (1, 2, 3, 4)]
    assert len(served) == sample.requests
    by_tag = {}
    for e in served:  # rebuild every tag's value from the words the plant logged
        area = {1: "coil", 2: "discrete", 3: "holding", 4: "input"}[e.function]
        for t in tags:
            if t.unit == e.unit and t.area == area and e.address <= t.address and t.address + t.count <= e.address + e.count:
                by_tag[t.name] = t.decode(e.values[t.address - e.address:t.address - e.address + t.count])
    assert set(by_tag) == {t.name for t in tags}
    for name, value in by_tag.items():
        assert sample.values[name] == value, name


def test_values_match_the_process_model(frozen):
    tags = frozen.tags(1, devices=["meter", "th", "vfd"])
    with Reader(frozen.endpoint(1), max_gap=8) as r:
        sample = r.read(tags)
    truth = {f"{k}.{n}": v for k in ("meter", "th", "vfd") for n, v in frozen.snapshot(1, k).items()}
    for t in tags:
        want, got = truth[t.name], sample.values[t.name]
        assert math.isclose(got, want, rel_tol=1e-6, abs_tol=t.scale / 2 + 1e-9), t.name


def test_faults_show_up_as_quality_flags_not_crashes():
    with daqlab.plant.run(stations=1, seed=3, speed=5) as plant:
        tags = plant.tags(1)
        plant.set_fault(1, "th", "offline")
        plant.set_fault(1, "vfd", "exception", 6)
        plant.set_fault(1, "meter", "broken")
        with Reader(plant.endpoint(1), max_gap=8, timeout=0.2) as r:
            s = r.read(tags)
            q = s.quality
            assert {q[t.name] for t in tags if t.name.startswith("th.")} == {"timeout"}
            assert {q[t.name] for t in tags if t.name.startswith("vfd.")} == {"exception 06"}
            assert q["meter.voltage_l1"] == "invalid" and s.values["meter.voltage_l1"] is None
            assert q["plc.parts"] == "good" and q["ai.pressure"] == "good"
            assert "timeout" in s.errors["th.temperature"].lower() or s.errors["th.temperature"]
            plant.clear_faults(1)
            assert r.read(tags).ok, "recovers (reconnects) once the faults are cleared"


def test_a_coalesced_read_refused_with_02_is_split_and_remembered():
    with daqlab.plant.run(stations=1, textbook=True, frozen=True) as plant:
        tags = [t for t in plant.tags(1, devices=["ai"]) if t.area == "input"]  # 0..3 and 0x10: a 12-register hole
        with Reader(plant.endpoint(1), max_gap=16) as r:
            first = r.read(tags)
            second = r.read(tags)
        assert first.ok and second.ok
        assert first.requests == 3 and second.requests == 2  # refused + split; then split from the start
        assert sum(e.exception == 2 for e in plant.log(1)) == 1


def test_writes_use_the_right_function_codes_and_verify():
    with daqlab.plant.run(stations=1, textbook=True, frozen=True) as plant:
        run = Tag(name="run", unit=1, area="coil", address=3)
        speed = Tag(name="speed", unit=1, area="holding", address=0, scale=0.01, eng_unit="Hz")
        addr = Tag(name="node", unit=3, area="holding", address=0x14, dtype="FLOAT32")
        ef = Tag(name="ef", unit=4, area="holding", address=0x2002, dtype="BIT", bit=0)
        with Reader(plant.endpoint(1)) as r:
            since = time.time()
            assert r.write(run, False) is False
            assert r.write(speed, 42.5) == pytest.approx(42.5)
            assert r.write(addr, 17.0) == 17.0
            assert r.write(ef, True) is True
            fcs = [e.function for e in plant.log(1, since=since) if e.function in (5, 6, 16, 22)]
            assert fcs == [5, 6, 16, 22]
            with pytest.raises(WriteError, match="exception 03"):
                r.write(speed, 75.0)  # above the 60 Hz limit
            with pytest.raises(WriteError, match="read-only"):
                r.write(Tag(name="p", unit=1, area="input", address=0), 1)
            with pytest.raises(WriteError, match="does not fit"):
                r.write(speed, 900.0)  # 90000 raw does not fit UINT16


def test_poll_keeps_its_period_and_saves_csv_and_parquet(tmp_path):
    with daqlab.plant.run(stations=1, textbook=True, speed=10) as plant:
        tags = plant.tags(1, devices=["plc", "th"])
        with Reader(plant.endpoint(1)) as r:
            t0 = time.monotonic()
            df = r.poll(tags, period=0.05, count=30, progress=False, to=tmp_path / "out" / "plc.csv")
            elapsed = time.monotonic() - t0
        r2 = Reader(plant.endpoint(1))
        df2 = r2.poll(tags[:3], period=0.05, duration=0.2, progress=False, to=tmp_path / "x.parquet")
        r2.close()
    assert df.shape == (30, len(tags)) and isinstance(df.index, pd.DatetimeIndex)
    assert 29 * 0.05 - 0.02 < elapsed, "scan i starts no earlier than start + i x period"
    steps = df.index.to_series().diff().dropna().dt.total_seconds()
    # no drift: a late scan (a busy machine) does not push the ones after it: the median step stays the period
    assert abs(steps.median() - 0.05) < 0.01
    assert df.attrs["units"]["th.temperature"] == "°C"
    q = quality_frame(df)
    assert q.shape == df.shape and (q == "good").all().all() and (q.index == df.index).all()
    both = pd.concat([df, df])  # polled frames concatenate (attrs are plain data)
    assert len(both) == 60
    back = pd.read_csv(tmp_path / "out" / "plc.csv", index_col="time", parse_dates=True)
    assert list(back.columns) == list(df.columns) and len(back) == 30
    assert len(pd.read_parquet(tmp_path / "x.parquet")) == len(df2) == 4


def test_async_reader_reads_polls_and_writes(frozen):
    async def main():
        tags = frozen.tags(1, devices=["plc"])
        async with AsyncReader(frozen.endpoint(1)) as r:
            s = await r.read(tags)
            df = await r.poll(tags, period=0.02, count=3)
            v = await r.write(Tag(name="bs", unit=1, area="holding", address=1), 123)
        return s, df, v

    s, df, v = asyncio.run(main())
    assert s.ok and len(df) == 3 and v == 123


def test_sync_reader_works_inside_a_running_event_loop(frozen):
    """What a Jupyter cell does: call the sync API while an event loop runs."""
    async def cell():
        with Reader(frozen.endpoint(1)) as r:
            return r.read(frozen.tags(1, devices=["th"]))

    assert asyncio.run(cell()).ok


def test_reader_over_rtu(rtu):
    plant, _, client_path, parity = rtu
    tags = plant.tags(1)
    with Reader(f"rtu://{client_path}?baudrate=9600&parity={parity}&stopbits=1", max_gap=8, timeout=1.0) as r:
        s = r.read(tags)
    assert s.ok, {k: v for k, v in s.quality.items() if v != "good"}
    assert s.values["plc.nameplate"] == "DAQLAB-PLC-1214"
