import os
import shutil
import subprocess
import termios
import time

import pytest

import daqlab.plant


def need_tool(name: str) -> str:
    """Path of a Debian tool the suite relies on; fail in CI (make test installs it), skip elsewhere."""
    path = shutil.which(name)
    if path is None:
        msg = f"{name} is not installed (make test installs it with apt-get)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return path


def pty_parity(path: str) -> str:
    """"E" (the textbook 8E1) when this kernel lets the pty take even parity, else "N".

    A pty has no wire and no parity bit, so the bytes are the same either way; but recent Linux kernels
    answer EINVAL to a tcsetattr whose only change is turning parity on, and pymodbus's serial connect
    makes exactly that call (it sets the port up, then sets inter_byte_timeout), so 8E1 cannot connect.
    """
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        attrs = termios.tcgetattr(fd)
        attrs[2] |= termios.PARENB
        try:
            termios.tcsetattr(fd, termios.TCSANOW, attrs)
        except termios.error:
            return "N"
        return "E"
    finally:
        os.close(fd)


@pytest.fixture(scope="module")
def rtu(tmp_path_factory):
    """A textbook station (units 1-5, 9600 8E1) served on one end of a socat pty pair; yields
    (plant, plant-side path, client-side path, parity the client side can use)."""
    socat = need_tool("socat")
    tmp = tmp_path_factory.mktemp("rtu")
    plant_path, client_path = tmp / "plant", tmp / "client"
    proc = subprocess.Popen([socat, "-d", "-d", f"pty,raw,echo=0,link={plant_path}",
                             f"pty,raw,echo=0,link={client_path}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 5
        while not (plant_path.exists() and client_path.exists()):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"socat did not create the pty pair: {proc.stderr.read().decode(errors='replace')}")
            time.sleep(0.01)
        with daqlab.plant.run(stations=1, textbook=True) as plant:
            plant.serve_rtu(1, str(plant_path))
            yield plant, str(plant_path), str(client_path), pty_parity(str(client_path))
    finally:
        proc.terminate()
        proc.wait(5)
        proc.stderr.close()
