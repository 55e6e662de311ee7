"""Build the sample submissions in grader/samples/<assignment>/<sample>.ipynb from release/.

Each sample is the released notebook with its answer cells filled the way a trainee would: a perfect
answer, typical mistakes, and the submissions that break naive graders (an endless loop, a loop that
ignores Ctrl-C, a kernel crash, a memory hog, edited or deleted test cells, a file that is not a notebook).
expected.yaml beside this file holds the exact score and status each must get.

    python grader/samples/build.py       # after changing an assignment and regenerating release/
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

P1 = "practical-1-identify"
SERIAL = '''words = client.read_holding_registers(0x18, count=6, device_id=1).registers
serial_number = b"".join(w.to_bytes(2, "big") for w in words).rstrip(b"\\0").decode().strip()
fw = client.read_holding_registers(0x20, count=1, device_id=1).registers[0]
firmware = f"V{fw // 100}.{fw % 100:02d}"
print(serial_number, firmware)'''
SCAN = '''units = []
for u in range(1, 21):
    rr = client.read_holding_registers(0, count=1, device_id=u)
    if not (rr.isError() and getattr(rr, "exception_code", None) == 0x0B):
        units.append(u)
units'''
TH = '''import re
sheet = daqlab.my_datasheet()
scale = float(re.search(r"`temperature` \\| INT16 \\|  \\| 1 \\| x([0-9.]+)", sheet).group(1))
t_raw, h_raw = client.read_input_registers(1, count=2, device_id=2).registers
temperature = (t_raw - 65536 if t_raw > 32767 else t_raw) * scale
humidity = h_raw * scale
print(temperature, humidity)'''

SAMPLES = {
    P1: {
        "perfect": {"answer1": SERIAL, "answer2": SCAN, "answer3": TH},
        # the datasheet's reference 40025 typed as a PDU address: one register too far
        "off_by_one": {"answer1": SERIAL.replace("0x18", "25"), "answer2": SCAN, "answer3": TH},
        "missing_scaling": {"answer1": SERIAL, "answer2": SCAN,
                            "answer3": TH.replace(") * scale", ")").replace("h_raw * scale", "float(h_raw)")},
        "fc03_instead_of_fc04": {"answer1": SERIAL, "answer2": SCAN,
                                 "answer3": TH.replace("read_input_registers", "read_holding_registers")},
        "endless_loop": {"answer1": SERIAL, "answer2": "units = []\nwhile True:\n    pass", "answer3": TH},
        "loop_ignoring_ctrl_c": {"answer1": SERIAL, "answer3": TH, "answer2":
                                 "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"},
        "kernel_crash": {"answer1": SERIAL, "answer2": SCAN, "answer3": "import os\nos._exit(1)"},
        "memory_hog": {"answer1": SERIAL, "answer2": SCAN, "answer3": "hog = bytearray(64 * 1024**3)\n" + TH},
        "edited_tests": {"answer1": SERIAL, "answer2": SCAN, "answer3": TH,
                         "@test-identify": "10  # full marks, surely", "@test-sensor": "6"},
        "deleted_tests": {"answer1": SERIAL, "answer2": SCAN, "answer3": TH, "@test-sensor": None},
    },
}
# Forged submissions: each tries one way to raise its own score without doing the work (issue 13).
# Graded in the same run as the honest samples; each must score 0 for what it forged, or be flagged.
TYPED = '''serial_number = "DL2026A00417"   # typed from a nameplate photo, never read
firmware = "V2.14"                 # typed from the datasheet
units = [1, 2, 3, 4, 5]'''
TYPED_TH = "temperature, humidity = 21.5, 45.0  # typed, never read"
PATCH_GRADER = '''import daqlab.grading.assignments as A
import daqlab.grading.checks as C
import daqlab.grading.evidence as E
A.identify = A.sensor = lambda ns: 16.0                 # "my checks always pass"
C.Report.total = lambda self: 16.0
E.to_data = lambda value, depth=0: "trust me"
''' + TYPED
TRANSFORMER = '''def full_marks(lines):
    # rewrite every test cell into one that prints full marks
    return ["16\\n"] if any("hand_in" in line for line in lines) else lines
get_ipython().input_transformers_post.append(full_marks)
''' + TYPED
EXTRA_EVIDENCE = '''from IPython.display import display
from daqlab.grading.evidence import MIME
def forge(result):
    # after every cell (the test cells too), show extra "evidence" with whatever values I like
    display({MIME: {"values": {"serial_number": "X", "temperature": 1.0}, "missing": []}}, raw=True)
get_ipython().events.register("post_run_cell", forge)
''' + TYPED
FAKE_HAND_IN = '''import daqlab.grading.evidence as E
from IPython.display import display
def hand_in(ns, *names, **kw):  # hand in made-up values, whatever the notebook holds
    display({E.MIME: {"values": {"serial_number": "DL2026A00417", "firmware": "V2.14", "units": [1, 2, 3, 4, 5],
                                 "temperature": 21.5, "humidity": 45.0}, "missing": []}}, raw=True)
E.hand_in = hand_in
''' + TYPED
LEFTOVER = SERIAL + '''
import subprocess
# a helper that keeps polling (and could keep faulting stations) after the notebook ends
subprocess.Popen(["sleep", "600"], start_new_session=True)'''
SAMPLES[P1].update({
    "forged_patched_grader": {"answer1": PATCH_GRADER, "answer2": "", "answer3": TYPED_TH},
    "forged_input_transformer": {"answer1": TRANSFORMER, "answer2": "", "answer3": TYPED_TH},
    "forged_extra_evidence": {"answer1": EXTRA_EVIDENCE, "answer2": "", "answer3": TYPED_TH},
    "forged_fake_hand_in": {"answer1": FAKE_HAND_IN, "answer2": "", "answer3": TYPED_TH},
    "forged_typed_values": {"answer1": TYPED, "answer2": "", "answer3": TYPED_TH},
    "forged_leftover_process": {"answer1": LEFTOVER, "answer2": SCAN, "answer3": TH},
})
NOT_A_NOTEBOOK = {P1: "not_a_notebook"}


def solutions(assignment: str) -> dict[str, str]:
    """The reference solution of every answer cell of an assignment (source/, markers removed)."""
    nb = json.loads((ROOT / "source" / assignment / f"{assignment}.ipynb").read_text("utf-8"))
    out = {}
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            lines = "".join(cell["source"]).splitlines()
            out[meta["grade_id"]] = "\n".join(x for x in lines if x.strip() not in ("### BEGIN SOLUTION",
                                                                                     "### END SOLUTION"))
    return out


FABRICATED_CSV = '''import os
import numpy as np
import pandas as pd

os.makedirs("results", exist_ok=True)
index = pd.date_range("2026-12-01 09:00", periods=prm["poll_count"], freq=f"{int(prm['poll_period_s'] * 1000)}ms")
rng = np.random.default_rng(1)
df = pd.DataFrame({"meter.power_total": 1800 + rng.normal(0, 20, len(index)),
                   "vfd.output_freq": np.full(len(index), 40.0),
                   "plc.parts": np.arange(len(index)) // 2 + 100,
                   "th.temperature": 24 + rng.normal(0, 0.1, len(index))}, index=index)
df.to_csv("results/station_log.csv")'''


def _derived() -> None:
    """Samples of practicals 2 and 3, derived from their reference solutions."""
    p2, p3 = "practical-2-decode", "practical-3-acquire"
    s2, s3 = solutions(p2), solutions(p3)
    SAMPLES[p2] = {
        "perfect": s2,
        # the classic gateway mistake: the meter's words decoded in the other order
        "wrong_word_order": {**s2, "answer1": s2["answer1"].replace(
            'order = tags["meter.voltage_l1"].order',
            'order = "CDAB" if tags["meter.voltage_l1"].order == "ABCD" else "ABCD"  # swapped by mistake')},
    }
    SAMPLES[p3] = {
        "perfect": s3,
        # polled into memory, never saved in the prescribed folder: the evidence is missing
        # forged (issue 13): a CSV made with numpy at the prescribed period, never read from the plant
        "forged_numpy_csv": {**s3, "answer1": FABRICATED_CSV},
        "no_csv": {**s3, "answer1": s3["answer1"].replace(', to="results/station_log.csv"', ""),
                   "answer2": s3["answer2"].replace(
                       'log = pd.read_csv("results/station_log.csv", index_col=0, parse_dates=True)', "log = df")},
    }


# practical 6 answered with plain paho-mqtt 2.x instead of daqlab.northbound.Uplink
PAHO_CONNECT = '''import json
import time

import paho.mqtt.client as mqtt

up = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"gw-{plat.username}")
up.username_pw_set(plat.username, plat.password)
up.will_set(plat.topics.status, json.dumps({"status": "offline"}), qos=1, retain=True)
up.connect(plat.host, plat.port, keepalive=30)
up.loop_start()
up.publish(plat.topics.status, json.dumps({"status": "online", "time": int(time.time() * 1000)}),
           qos=1, retain=True).wait_for_publish(5)'''
PAHO_PUBLISH = '''from daqlab.acquisition import Reader

names = {"temperature": "th.temperature", "humidity": "th.humidity", "active_power": "meter.power_total"}
topic = plat.topics.post
with Reader(me.endpoint) as reader:
    df = reader.poll([tags[n] for n in names.values()], period=prm["publish_period_s"],
                     count=prm["publish_count"], progress=False)
infos = []
for i, (_, row) in enumerate(df.iterrows()):
    t = int(df.attrs["epoch"][i] * 1000)
    payload = {"id": str(i + 1), "version": "1.0", "method": "thing.event.property.post",
               "params": {ident: {"value": float(row[tag]), "time": t} for ident, tag in names.items()}}
    infos.append(up.publish(topic, json.dumps(payload), qos=1))
for info in infos:
    info.wait_for_publish(5)
up.disconnect()
up.loop_stop()'''


def _derived_publish() -> None:
    p6 = "practical-6-publish"
    s6 = solutions(p6)
    SAMPLES[p6] = {
        "perfect": s6,
        "plain_paho": {"answer1": PAHO_CONNECT, "answer2": PAHO_PUBLISH},
        # time in seconds where the convention says milliseconds
        "seconds_not_ms": {**s6, "answer2": s6["answer2"].replace('int(df.attrs["epoch"][i] * 1000)',
                                                                   'int(df.attrs["epoch"][i])')},
        "qos0": {**s6, "answer1": s6["answer1"].replace("qos=1", "qos=0")},
        # "sys/daqlab/..." is not "/sys/daqlab/...": outside the device's topics, refused by the broker
        "no_leading_slash": {"answer1": PAHO_CONNECT,
                             "answer2": PAHO_PUBLISH.replace("topic = plat.topics.post", 'topic = plat.topics.post.lstrip("/")')},
    }


PER_POINT_LOOP = """import time

from daqlab.acquisition import Reader
from daqlab.gateway import load
from daqlab.northbound import Uplink

cfg = load("gateway/gateway.yaml")
gw = Uplink.from_env(qos=1)
with Reader(me.endpoint) as reader:
    for _ in range(prm["gateway_scans"]):
        t0 = time.time()
        values = {}
        for point in cfg.points:
            values.update(reader.read([point]).values)  # one request per point
        gw.publish(values, int(t0 * 1000))
        time.sleep(max(0.0, prm["gateway_period_s"] - (time.time() - t0)))
gw.close()"""


STALE_POSTS = """import time

from daqlab.acquisition import Reader
from daqlab.gateway import load
from daqlab.northbound import Uplink

cfg = load("gateway/gateway.yaml")
with Reader(me.endpoint) as reader:
    values = reader.read(cfg.points).values  # read once
gw = Uplink.from_env(qos=1)
t0 = time.time()
for i in range(prm["gateway_scans"]):  # the same values again and again, at made-up scan times
    gw.publish(values, int((t0 + i * prm["gateway_period_s"]) * 1000))
    time.sleep(prm["gateway_period_s"])
gw.close()"""


def _derived_gateway() -> None:
    p7 = "practical-7-gateway"
    s7 = solutions(p7)
    SAMPLES[p7] = {
        "perfect": s7,
        # section 1 fails: the meter's floats with their words the other way round (ABCD <-> CDAB)
        "wrong_word_order": {**s7, "answer1": s7["answer1"].replace(
            '[t.order] if t.count == 2', '[{"ABCD": "CDAB", "CDAB": "ABCD"}[t.order] if t.dtype == "FLOAT32" else '
                                         't.order] if t.count == 2')},
        # section 1: the sensor's raw counts, the ×0.1 scale left out
        "missing_scale": {**s7, "answer1": s7["answer1"].replace(
            "{t.scale:g}", "{(1 if name.startswith('th.') else t.scale):g}")},
        # section 2: the period left at the example's 1 s
        "wrong_period": {**s7, "answer2": s7["answer2"].replace('scan_period_s: {prm["gateway_period_s"]}',
                                                                "scan_period_s: 1.0")},
        # section 3: no northbound: the gateway acquires, nothing reaches the platform
        "no_northbound": {**s7, "answer2": s7["answer2"].replace("northbound:\n  broker: env\n  qos: 1\n", "")},
        # section 3: the same points read one request each by a hand-written loop (no gateway): no point-status
        # events, and 6 requests per scan where the plan needs 5
        "per_point_polling": {**s7, "answer3": PER_POINT_LOOP},
        # forged: read once, then the same values posted ten times as if scanned: the station was not polled
        "forged_stale_posts": {**s7, "answer3": STALE_POSTS},
        # attack: ${...} of the grader's own secret in a file the grader reads; it must stay unexpanded
        "forged_secret_in_config": {**s7, "answer2": s7["answer2"].replace(
            "url: ${{DAQLAB_ENDPOINT}}", "url: tcp://${{DAQLAB_CONTROL_TOKEN}}:502")},
    }


FROM_SURVEY = '''import json
import os
try:
    found = json.loads(os.environ["DAQLAB_BENCH_SURVEY"])   # the grader's own reads of the bench, if they leaked
except (KeyError, ValueError):
    found = {}
meter_unit = found.get("units", {}).get("meter", tags["meter.voltage_l1"].unit)
meter_order = found.get("meter_order") or tags["meter.voltage_l1"].order
'''


def _derived_mock() -> None:
    """The mock final: perfect, and one sample per section failing (what a trainee typically gets wrong there)."""
    pm = "practical-mock-final"
    sm = solutions(pm)
    SAMPLES[pm] = {
        "perfect": sm,
        # 1: a guess at the bus settings, never confirmed: odd parity (no station uses it), so nothing answers
        "s1_guessed_serial": {**sm, "answer2": sm["answer2"].replace(
            'baud, parity, stop = answered[0].baudrate, answered[0].parity, answered[0].stopbits',
            'baud, parity, stop = 9600, "O", 1  # guessed, not scanned')},
        # 2: the point table copied from the datasheet: the meter's moved unit and swapped words not noticed
        "s2_datasheet_point_table": {**sm, "answer3": sm["answer3"].replace(
            "    t = real[name]\n", "    t = tags[name]  # as documented\n")},
        # 3: the energy decoded in the datasheet's word order
        "s3_energy_documented_order": {**sm, "answer4": sm["answer4"].replace(
            "energy_import = f32(client.read_input_registers(0x48, count=2, device_id=meter_unit).registers, meter_order)",
            "energy_import = f32(client.read_input_registers(0x48, count=2, device_id=meter_unit).registers, "
            'tags["meter.energy_import"].order)')},
        # 4: the gateway configured without its northbound: it acquires, nothing reaches the platform
        "s4_no_northbound": {**sm, "answer3": sm["answer3"].replace("northbound:\n  broker: env\n  qos: 1\n", "")},
        # 5: the T/H transmitter taken at its word
        "s5_sensor_trusted": {**sm, "answer7": sm["answer7"].replace(
            'th_status = "broken" if raw == 0x7FFF else "ok"', 'th_status = "ok"  # it answers, so it works')},
        # 5: the meter's unit id copied from the datasheet, never scanned
        "s5_meter_unit_from_datasheet": {**sm, "answer7": sm["answer7"].replace(
            "print(meter_unit", 'meter_unit = tags["meter.voltage_l1"].unit  # as documented\nprint(meter_unit')},
        # forged: part 5's answers taken from what the grader found on a bench (its survey), if the kernel could see
        # it, else from the datasheet: the same score on a simulated station and a bench proves it never leaks
        "forged_survey_from_env": {**sm, "answer7": sm["answer7"].replace("print(meter_unit", FROM_SURVEY + "print(meter_unit")},
    }


def _edit(text: str, old: str, new: str) -> str:
    """``text`` with ``old`` replaced by ``new``; ``old`` must be there (a sample that silently stays perfect is no sample)."""
    if old not in text:
        raise ValueError(f"not in the reference solution: {old!r}")
    return text.replace(old, new)


# practical 4, forged: the commands are written, the two readings are typed (the setpoint and 0 Hz), never read
FORGED_READINGS_START = '''vfd = tags["vfd.freq_command"].unit
client.write_register(0x2001, round(setpoint * 100), device_id=vfd)
client.write_register(0x2000, 0x0012, device_id=vfd)
reached_freq = setpoint   # "it always reaches the setpoint"'''
FORGED_READINGS_STOP = '''client.write_register(0x2000, 0x0001, device_id=vfd)
stopped_freq = 0.0        # "a stopped drive shows 0 Hz"'''
# practical 4: the run command sent as a coil (FC 05), as on a PLC's start bit; the drive has no coils (exception 02)
RUN_COIL = '''def run_coil(on):
    rr = client.write_coil(0x2000, on, device_id=vfd)  # the "run coil"
    assert not rr.isError(), f"run coil refused: {rr}"
'''


def _derived_control() -> None:
    """Practical 4 (clean station, line stopped): start at the setpoint, then stop."""
    p4 = "practical-4-control"
    s4 = solutions(p4)
    start = "write(0x2001, round(setpoint * 100))\nwrite(0x2000, 0x0012)\n"
    SAMPLES[p4] = {
        "perfect": s4,
        # run forward first, the setpoint after it: the drive starts towards whatever frequency it last had
        "run_before_setpoint": {**s4, "answer1": _edit(s4["answer1"], start,
                                                       "write(0x2000, 0x0012)\nwrite(0x2001, round(setpoint * 100))\n")},
        # the setpoint in 0.1 Hz (as on some drives) where this one counts 0.01 Hz: it ramps to a tenth of it
        "setpoint_in_tenths": {**s4, "answer1": _edit(s4["answer1"], "write(0x2001, round(setpoint * 100))",
                                                      "write(0x2001, round(setpoint * 10))")},
        # run and stop as a coil (FC 05) instead of the command word (FC 06): refused, the checked write raises
        "run_as_coil": {
            "answer1": _edit(s4["answer1"], start, RUN_COIL + "\nwrite(0x2001, round(setpoint * 100))\nrun_coil(True)\n"),
            "answer2": _edit(s4["answer2"], "write(0x2000, 0x0001)", "run_coil(False)")},
        # the conveyor left running: the output frequency read back without a stop command
        "no_stop": {**s4, "answer2": _edit(s4["answer2"], "write(0x2000, 0x0001)\nwait_for(0.0)\n", "")},
        # a fixed sleep instead of polling: 1 s into a 10 Hz/s ramp-down the drive still turns
        "stop_not_awaited": {**s4, "answer2": _edit(s4["answer2"], "wait_for(0.0)", "time.sleep(1.0)")},
        # forged: the commands are real, the readings typed: nothing was read back from the drive
        "forged_typed_readings": {"answer1": FORGED_READINGS_START, "answer2": FORGED_READINGS_STOP},
    }


# practical 5, forged: nothing read; answers a classmate passed on ("the words are always the other way round,
# the sensor is always broken"), a plausible voltage and a made-up part count
FORGED_TROUBLESHOOT = '''meter_unit = 13
meter_order = "CDAB" if tags["meter.voltage_l1"].order == "ABCD" else "ABCD"
voltage_l1 = 230.0
th_status = "broken"

def read_parts() -> int:
    return 1234'''
# practical 5: read_parts without retries: one request, and a dropped one raises
ONE_SHOT_PARTS = '''plc = tags["plc.parts"].unit
parts_client = ModbusTcpClient(me.host, port=me.port, timeout=0.3, retries=0)
parts_client.connect()

def read_parts() -> int:
    hi, lo = parts_client.read_input_registers(0, count=2, device_id=plc).registers
    return hi << 16 | lo'''


def _derived_troubleshoot() -> None:
    """Practical 5 (meter moved and its words swapped, 30 % PLC drops, T/H sensor broken)."""
    p5 = "practical-5-troubleshoot"
    s5 = solutions(p5)
    SAMPLES[p5] = {
        "perfect": s5,
        # the meter's unit id taken from the datasheet, never scanned: nothing answers there (exception 0B)
        "datasheet_unit": {**s5, "answer1": _edit(s5["answer1"], s5["answer1"][s5["answer1"].index("documented = "):],
                                                  'meter_unit = tags["meter.voltage_l1"].unit  # as documented\n')},
        # the documented word order trusted: the voltage decoded the wrong way round
        "datasheet_order": {**s5, "answer2": _edit(
            s5["answer2"], "(meter_order,) = [o for o, volts in candidates.items() if all(180 <= v <= 260 for v in volts)]",
            'meter_order = tags["meter.voltage_l1"].order  # as documented')},
        # the T/H transmitter taken at its word
        "sensor_trusted": {**s5, "answer3": _edit(s5["answer3"], 'th_status = "broken" if raw == 0x7FFF else "ok"',
                                                  'th_status = "ok"  # it answers, so it works')},
        # one request per call, no retry: the dropped requests raise
        "no_retry": {**s5, "answer4": ONE_SHOT_PARTS},
        "forged_typed_answers": {"answer1": FORGED_TROUBLESHOOT, "answer2": "", "answer3": "", "answer4": ""},
    }


# the final, forged: the four tags read once, the same row written poll_count times at made-up scan times
REPLICATED_CSV = '''import os
from dataclasses import replace

import pandas as pd

from daqlab.acquisition import Reader

names = ["meter.power_total", "vfd.output_freq", "plc.parts", "th.temperature"]
poll_tags = [replace(tags[n], order=meter_order) if n.startswith("meter.") else tags[n] for n in names]
with Reader(me.endpoint) as reader:
    once = reader.read(poll_tags).values   # one real scan
index = pd.date_range(pd.Timestamp.now(), periods=prm["poll_count"], freq=f"{int(prm['poll_period_s'] * 1000)}ms")
df = pd.DataFrame([once] * prm["poll_count"], index=index)
os.makedirs("results", exist_ok=True)
df.to_csv("results/station_log.csv")'''


def _derived_final() -> None:
    """The final (line running at 40 Hz, meter words opposite to the datasheet, T/H sensor broken)."""
    pf = "practical-final"
    sf = solutions(pf)
    scan = _edit(sf["answer1"], sf["answer1"][sf["answer1"].index("units = []"):],
                 "units = sorted({t.unit for t in tags.values()})  # from the datasheet")
    SAMPLES[pf] = {
        "perfect": sf,
        # 1: the unit ids copied from the datasheet, never scanned
        "units_from_datasheet": {**sf, "answer1": scan},
        # 2 and 3: the meter decoded (and polled) in the documented word order, which this meter does not use
        "documented_word_order": {
            **sf,
            "answer2": _edit(sf["answer2"], "meter_order = plausible[0] if len(plausible) == 1 else "
                                            'tags["meter.voltage_l1"].order', 'meter_order = tags["meter.voltage_l1"].order'),
            "answer3": _edit(sf["answer3"], 'replace(tags[n], order=meter_order) if n.startswith("meter.") else tags[n]',
                             "tags[n]")},
        # 3: polled every second, not every poll_period_s
        "wrong_period": {**sf, "answer3": _edit(sf["answer3"], 'period=prm["poll_period_s"]', "period=1.0")},
        # 4: no run command: the drive already turns at 40 Hz, so the new setpoint alone moves it
        "no_run_command": {**sf, "answer4": _edit(sf["answer4"], "write(0x2000, 0x0012)\n", "")},
        # forged: one scan copied into every row of the CSV at made-up times
        "forged_replicated_csv": {**sf, "answer3": REPLICATED_CSV},
    }


def build() -> list[Path]:
    _derived()
    _derived_publish()
    _derived_gateway()
    _derived_mock()
    _derived_control()
    _derived_troubleshoot()
    _derived_final()
    out = []
    for assignment, samples in SAMPLES.items():
        release = json.loads((ROOT / "release" / assignment / f"{assignment}.ipynb").read_text("utf-8"))
        folder = HERE / assignment
        folder.mkdir(exist_ok=True)
        for name, edits in samples.items():
            nb = json.loads(json.dumps(release))
            cells = []
            for cell in nb["cells"]:
                gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                if f"@{gid}" in edits:
                    if edits[f"@{gid}"] is None:
                        continue  # the trainee deleted this cell
                    cell["source"] = edits[f"@{gid}"]
                elif gid in edits:
                    cell["source"] = edits[gid]
                cells.append(cell)
            nb["cells"] = cells
            path = folder / f"{name}.ipynb"
            path.write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
            out.append(path)
        if assignment in NOT_A_NOTEBOOK:
            path = folder / f"{NOT_A_NOTEBOOK[assignment]}.ipynb"
            path.write_text("I saved my answers in Word, sorry · 我用 Word 保存了答案\n", encoding="utf-8")
            out.append(path)
    return out


if __name__ == "__main__":
    for p in build():
        print(p.relative_to(ROOT))
