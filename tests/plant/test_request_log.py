"""The served-request log records what each client read and wrote, in memory and as JSONL."""

import json
import time

import daqlab.plant

from .conftest import connect


def test_log_records_reads_writes_and_exceptions(tmp_path):
    path = tmp_path / "requests.jsonl"
    with daqlab.plant.run(stations=1, textbook=True, frozen=True, log_path=path) as plant:
        c = connect(plant)
        local = f"127.0.0.1:{c.socket.getsockname()[1]}"
        rr = c.read_input_registers(1, count=2, device_id=2)
        c.write_register(0, 2500, device_id=1)
        c.read_holding_registers(0x40, count=1, device_id=1)
        c.read_coils(0, count=2, device_id=1)
        c.close()
        entries = plant.log(1)
        time.sleep(0.7)  # the plant flushes the JSONL file every 0.5 s
    read, write, bad, coils = entries[-4:]
    assert (read.unit, read.function, read.address, read.count) == (2, 4, 1, 2)
    assert read.values == tuple(rr.registers) and read.status == "ok" and read.client == local
    assert (write.function, write.address, write.values, write.exception) == (6, 0, (2500,), None)
    assert (bad.function, bad.address, bad.exception, bad.status) == (3, 0x40, 2, "exception")
    assert coils.values == (False, False)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[-4]["values"] == list(rr.registers) and lines[-1]["function"] == 1
    assert {"time", "plant_time", "station", "client", "unit", "function", "address", "count", "values",
            "exception", "status"} <= set(lines[0])


def test_log_is_bounded_and_filterable():
    with daqlab.plant.run(stations=1, textbook=True, frozen=True, log_size=50) as plant:
        c = connect(plant)
        for _ in range(80):
            c.read_input_registers(0, count=1, device_id=1)
        c.read_input_registers(1, count=1, device_id=2)
        c.close()
        assert len(plant.log(1)) == 50
        assert len(plant.log(1, unit=2)) == 1
        assert len(plant.log(1, function=4, limit=5)) == 5
        assert plant.status()["stations"][0]["requests"] == 81
