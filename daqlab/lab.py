"""`daqlab lab` (and `make lab`): the plant in the background and JupyterLab on the lessons.

Station 1 is the trainee's; the kernel finds it through DAQLAB_ENDPOINT (see daqlab.station), and its
OPC UA server (port 4840, the OPC UA default, or a free port when 4840 is taken) through DAQLAB_OPCUA_ENDPOINT,
and its account on the lab's MQTT broker (DAQ Lab's own Mosquitto, device "trainee") through DAQLAB_MQTT_*.

``--bench FILE`` (a bench description, daqlab.benches): the trainee's station is that real bench instead —
DAQLAB_ENDPOINT is its connection, DAQLAB_BENCH the file; the lessons follow it (daqlab.lesson) and the practicals
take their datasheet and tags from it.
"""

from __future__ import annotations

import os
import secrets
import socket
import sys
from pathlib import Path

from daqlab import paths
from daqlab.foreground import run_foreground

LAB_DEVICE = "trainee"  #: the lab's MQTT device account (on the hub: the trainee's own id)


def run_lab(args) -> int:
    from daqlab.plant import Plant

    folder = os.path.abspath(args.notebooks or paths.notebooks())
    bench = None
    if getattr(args, "bench", None):
        from daqlab.benches import load_bench

        bench = load_bench(args.bench)  # a BenchError is one clear line (file and line) before anything starts
    token = args.token or secrets.token_hex(16)
    plant = Plant(args.stations, seed=args.seed, base_port=args.base_port, control=True).start()
    opcua_port = args.opcua_port if args.opcua_port and _port_free(args.opcua_port) else 0
    plant.serve_opcua(1, port=opcua_port)  # ~0.1 s with the address-space cache (~2 s the first time)
    plant.serve_rfc2217(1, 0)  # station 1's RS-485 bus behind a serial device server: DAQLAB_RS485_URL
    env = dict(os.environ, **plant.environment(1), DAQLAB_BASE_PORT=str(args.base_port))
    if bench is not None:  # the trainee's station is the bench: no simulated OPC UA or RS-485 of station 1
        for key in ("DAQLAB_OPCUA_ENDPOINT", "DAQLAB_RS485_URL"):
            env.pop(key, None)
        env.update(DAQLAB_ENDPOINT=bench.connection, DAQLAB_STATION=str(bench.station),
                   DAQLAB_BENCH=os.path.abspath(args.bench))
        if bench.rs485:  # the bench's own RS-485 line behind its serial device server
            env["DAQLAB_RS485_URL"] = bench.rs485
    platform = _start_platform()
    if platform is not None:
        env.update(platform[0].environment(LAB_DEVICE))
    lab_config = _lab_config()
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(filter(None, [lab_config, env.get("JUPYTER_CONFIG_PATH")]))
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={args.port}", "--ServerApp.port_retries=0", f"--ServerApp.root_dir={folder}",
           f"--IdentityProvider.token={token}", "--LabApp.default_url=/lab/tree/01-The-Data-Chain.ipynb"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--ServerApp.allow_root=True")
    print("=" * 72)
    print("DAQ Lab is starting · 数据采集实训环境启动中")
    if bench is not None:
        print(f"  bench     {bench.name} = {bench.connection} (your station; {args.bench})")
    print(f"  plant     {args.stations} station(s); " + ("station 1" if bench else "your station 1")
          + f" = {plant.endpoint(1)}")
    print(f"            control API http://127.0.0.1:{plant.control_port}/status, "
          f"datasheet: daqlab plant datasheet --station 1")
    print(f"            OPC UA (station 1) {plant.opcua_endpoint(1)}")
    if bench is None or bench.rs485:
        print(f"            RS-485 bus (your station) {env['DAQLAB_RS485_URL']} (serial settings judged: find them)")
    if platform is not None:
        print(f"  MQTT      {platform[0].url}  user {LAB_DEVICE} (password in $DAQLAB_MQTT_PASSWORD); "
              f"the platform replies on .../post_reply")
    else:
        print("  MQTT      not available: `sudo apt-get install mosquitto` for the MQTT lesson and practical")
    print(f"  lessons   {folder}")
    print(f"  open      http://127.0.0.1:{args.port}/lab?token={token}")
    print("  stop      Ctrl-C")
    print("=" * 72, flush=True)
    try:
        return run_foreground(cmd, env)
    finally:
        import shutil

        shutil.rmtree(lab_config, ignore_errors=True)
        if platform is not None:
            platform[1].close()
            platform[0].close()
        plant.stop()


def _lab_config() -> str:
    """A Jupyter config folder for the lab: JupyterLab's "Jupyter news?" prompt off (the first thing a trainee
    sees is lesson 01, not a question about a news feed)."""
    import json
    import tempfile

    from daqlab.hub.welcome import NO_NEWS

    folder = Path(tempfile.mkdtemp(prefix="daqlab-lab-config-"))
    (folder / "labconfig").mkdir()
    (folder / "labconfig" / "page_config.json").write_text(json.dumps({"disabledExtensions": {NO_NEWS: True}}))
    return str(folder)


def _start_platform():
    """DAQ Lab's own Mosquitto with the lab's device account and a platform recorder that answers posts
    (None, with a note printed by the caller, when Mosquitto is not installed)."""
    from daqlab.northbound import Broker, Recorder, device_account, platform_account
    from daqlab.northbound.accounts import new_secret
    from daqlab.northbound.broker import BrokerError

    secret = new_secret()
    plat = platform_account(secret)
    try:
        broker = Broker([device_account(LAB_DEVICE, secret), plat]).start()
    except BrokerError:
        return None
    return broker, Recorder.connect(broker, plat)


def _port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True
