"""The grading sandbox's init: the trusted first process inside the sandbox's namespaces.

    python daqlab/course/sandbox_init.py        (started by bubblewrap; see daqlab.course.sandbox)

It runs as root *inside* fresh pid, network, ipc and uts namespaces and a private mount tree that holds
only the system, the Python environment, the daqlab package and the job's own folder. It reads its
orders as the first line of standard input (JSON: uid, limits, command, environment, port forwards),
then:

1. listens on 127.0.0.1:<port> inside the private network namespace for every forward and relays each
   connection to a Unix socket that the grader bound into the sandbox (the trainee's own station, and
   for MQTT assignments the broker); nothing else outside is reachable;
2. starts the command as the job's unprivileged user (no groups, no capabilities, no new privileges)
   with memory, process-count and CPU limits, and hands it the rest of standard input;
3. waits for it, then finds every process of the job's user still alive in the namespace, kills them
   and reports them: ``{"exit": ..., "timed_out": ..., "leftovers": [...]}`` on the report pipe the
   grader passed (its number is in the orders), which the command cannot write (it is not inherited).

When it exits, the kernel ends every process left in the pid namespace. Run as a file, importing only
the standard library: nothing in the job's folder can shadow what it imports.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time


def pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _serve(listener: socket.socket, path: str) -> None:
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            up.connect(path)
        except OSError:
            conn.close()
            up.close()
            continue
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for a, b in ((conn, up), (up, conn)):
            threading.Thread(target=pump, args=(a, b), daemon=True).start()


def _leftovers(uid: int) -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
                status = f.read()
            uids = next(line.split()[1:] for line in status.splitlines() if line.startswith("Uid:"))
            if int(uids[0]) != uid and int(uids[1]) != uid:
                continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()[:120]
            os.kill(int(pid), signal.SIGKILL)
            found.append(cmd or f"pid {pid}")
        except (OSError, StopIteration, IndexError, ValueError):
            continue
    return found


def main() -> None:
    orders = json.loads(sys.stdin.buffer.readline())
    report = os.fdopen(int(orders["report_fd"]), "w", encoding="utf-8")
    uid = int(orders["uid"])
    for port, path in orders.get("forwards", []):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", int(port)))
        listener.listen(64)
        threading.Thread(target=_serve, args=(listener, path), daemon=True).start()

    mem = int(orders.get("memory_mb") or 0) * 1024 * 1024
    nproc = int(orders.get("nproc") or 0)
    cpu = int(orders.get("cpu_s") or 0)

    def limits() -> None:  # runs in the child after it became the job's user
        if mem:
            resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        if nproc:
            resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
        if cpu:
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    child = subprocess.Popen(orders["cmd"], stdin=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             env=orders["env"], cwd=orders["cwd"],
                             user=uid, group=uid, extra_groups=[], preexec_fn=limits, close_fds=True)
    payload = sys.stdin.buffer.read()
    try:
        child.stdin.write(payload)
        child.stdin.close()
    except OSError:
        pass
    timed_out = False
    try:
        code = child.wait(float(orders.get("seconds") or 3600))
    except subprocess.TimeoutExpired:
        timed_out = True
        child.kill()
        code = child.wait()
    time.sleep(0.05)  # let a process that was just forked appear in /proc
    left = _leftovers(uid)
    report.write(json.dumps({"exit": code, "timed_out": timed_out, "leftovers": left}) + "\n")
    report.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
