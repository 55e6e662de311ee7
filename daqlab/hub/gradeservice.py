"""The hub's grading service: the staff grade from their own unprivileged accounts, the grading runs as root.

Grading needs root (each submission runs in a sandbox as its own throw-away user, :mod:`daqlab.course.sandbox`),
but on the hub with per-user accounts the instructor's server is ``dq-<instructor>``, never root. The hub
therefore runs this small service as root (a hub-managed service, like the plant): it listens on a Unix socket
``<state>/grader.sock`` (mode 0660, group ``daqlab-staff``), checks the caller's uid with ``SO_PEERCRED``
(root or a member of ``daqlab-staff``), and runs ``daqlab course grade`` on the hub's course root and roster
with the caller's other options, streaming its output back. ``daqlab course grade`` in the instructor's
terminal or kernel forwards itself here when it is not root and ``$DAQLAB_GRADER_SOCKET`` is set.

Protocol: the client sends one JSON line ``{"args": [...]}`` (options of ``course grade`` without ``--course``
and ``--roster``: the service sets those); the service sends the output as text and ends with a line
``\\0rc=<exit code>``.
"""

from __future__ import annotations

import argparse
import asyncio
import grp
import json
import os
import pwd
import socket
import struct
import sys
from pathlib import Path

END = "\0rc="
FORBIDDEN = ("--course", "--roster")


def _is_staff(uid: int, staff_gid: int) -> bool:
    if uid == 0:
        return True
    try:
        entry = pwd.getpwuid(uid)
    except KeyError:
        return False
    return staff_gid in os.getgrouplist(entry.pw_name, entry.pw_gid)


def check_args(args) -> str:
    """Why ``args`` cannot be run ("" when they can)."""
    if not isinstance(args, list) or not args or not all(isinstance(a, str) for a in args):
        return "send {\"args\": [ASSIGNMENT, options...]}"
    bad = [a for a in args if a.split("=", 1)[0] in FORBIDDEN]
    if bad:
        return f"the grading service grades the hub's course with its roster: leave out {', '.join(bad)}"
    return ""


async def _handle(reader, writer, course: str, roster: str, staff_gid: int, python: str) -> None:
    sock = writer.get_extra_info("socket")
    _pid, uid, _gid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
    try:
        if not _is_staff(uid, staff_gid):
            try:  # read the request first: closing on an unread request would break the caller's send
                await asyncio.wait_for(reader.readline(), 10)
            except (TimeoutError, OSError):
                pass
            writer.write(f"daqlab: uid {uid} is not staff: only the instructor may grade\n{END}2\n".encode())
            return
        try:
            args = json.loads(await reader.readline()).get("args")
        except (ValueError, AttributeError):
            args = None
        why = check_args(args)
        if why:
            writer.write(f"daqlab: {why}\n{END}2\n".encode())
            return
        cmd = [python, "-m", "daqlab.cli", "course", "grade", *args, "--course", course, "--roster", roster]
        proc = await asyncio.create_subprocess_exec(*cmd, cwd=course, stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.STDOUT,
                                                    env=dict(os.environ, DAQLAB_COURSE_ROOT=course),
                                                    preexec_fn=lambda: os.umask(0o007))
        while chunk := await proc.stdout.read(4096):
            writer.write(chunk)
            await writer.drain()
        writer.write(f"{END}{await proc.wait()}\n".encode())
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


def _recv(s) -> bytes:
    try:
        return s.recv(4096)
    except OSError:
        return b""


def forward(socket_path: str, args: list[str], out=None) -> int:
    """Client side: run ``daqlab course grade ARGS`` through the service; print its output; its exit code."""
    out = out or sys.stdout
    with socket.socket(socket.AF_UNIX) as s:
        try:
            s.connect(socket_path)
        except OSError as exc:
            print(f"daqlab: the hub's grading service at {socket_path} does not answer ({exc.strerror}): is the "
                  "hub running?", file=sys.stderr)
            return 2
        try:
            s.sendall(json.dumps({"args": args}).encode() + b"\n")
        except OSError:  # the service already answered (a refusal) and closed: its answer is still to be read
            pass
        buf = b""
        while data := _recv(s):
            buf += data
            text, sep, rest = buf.decode(errors="replace").partition(END)
            if sep:
                out.write(text)
                out.flush()
                return int(rest.strip() or 2)
            keep = len(END)  # the end marker may be split over two reads
            out.write(buf[:-keep].decode(errors="replace"))
            out.flush()
            buf = buf[-keep:]
    print("daqlab: the hub's grading service closed the connection without an answer: see the hub's log",
          file=sys.stderr)
    return 2


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m daqlab.hub.gradeservice",
                                description="The hub's grading service (started by the hub as root).",
                                epilog="Example:\n  python -m daqlab.hub.gradeservice --socket .hub/grader.sock "
                                       "--course . --roster grader/roster.csv",
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--socket", required=True, help="Unix socket to listen on")
    p.add_argument("--course", required=True, help="the hub's course root")
    p.add_argument("--roster", required=True, help="the hub's roster")
    p.add_argument("--staff-group", default="daqlab-staff", help="group allowed to grade (default daqlab-staff)")
    a = p.parse_args(argv)
    gid = grp.getgrnam(a.staff_group).gr_gid
    path = Path(a.socket)
    path.unlink(missing_ok=True)

    async def run():
        server = await asyncio.start_unix_server(
            lambda r, w: _handle(r, w, a.course, a.roster, gid, sys.executable), str(path))
        os.chown(path, 0, gid)
        path.chmod(0o660)
        async with server:
            await server.serve_forever()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
