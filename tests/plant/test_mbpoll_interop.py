"""Interoperability with an independent C client: mbpoll (libmodbus), Debian package."""

import subprocess

import daqlab.plant

from ..conftest import need_tool


def mbpoll(*args):
    return subprocess.run([need_tool("mbpoll"), *map(str, args)], capture_output=True, text=True, timeout=20)


def test_mbpoll_reads_and_writes_the_plant():
    with daqlab.plant.run(stations=1, textbook=True, frozen=True) as plant:
        port = plant.port(1)
        # 1-based references by default: -r 17 = PDU 0x10, the PLC nameplate
        r = mbpoll("-a", 1, "-r", 17, "-c", 2, "-t", 4, "-1", "127.0.0.1", "-p", port)
        assert r.returncode == 0, r.stderr
        assert "[17]: \t17473" in r.stdout and "[18]: \t20812" in r.stdout  # "DA", "QL"
        # float32 meter voltage, big-endian word order (-B) = ABCD
        r = mbpoll("-a", 3, "-r", 1, "-c", 1, "-t", "3:float", "-B", "-1", "127.0.0.1", "-p", port)
        assert r.returncode == 0, r.stderr
        volts = float(r.stdout.strip().splitlines()[-1].split()[-1])
        assert 220 < volts < 240
        # write a holding register, read it back over pymodbus' view of the log
        r = mbpoll("-a", 1, "-r", 2, "-t", 4, "-1", "127.0.0.1", "-p", port, 321)
        assert r.returncode == 0, r.stderr
        assert plant.snapshot(1, "plc")["batch_size"] == 321
        # an exception reply is reported as an error by mbpoll
        r = mbpoll("-a", 1, "-r", 100, "-c", 1, "-t", 4, "-1", "127.0.0.1", "-p", port)
        assert r.returncode != 0 and "Illegal data address" in (r.stderr + r.stdout)
