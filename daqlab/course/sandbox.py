"""Run a submission's notebook in a sandbox: its own user, its own folder, its own station, nothing else.

The trusted grader (the nbgrader worker, as the instructor) calls :func:`run`. The notebook runs under
bubblewrap (Debian ``bubblewrap``) with:

- **new pid, network, ipc and uts namespaces**: the submission sees only its own processes, and every
  process it starts (even with a new session) dies when the job ends; its network is a private loopback;
- **a mount tree of its own**: read-only system folders, the Python environment and the daqlab package,
  and a home folder holding a copy of its own submission; no course root, ``source/``, gradebook,
  grading state, exam bank or other submissions exist in it;
- **an unprivileged user per job** (no groups, no capabilities, ``no_new_privs``) with address-space,
  process-count and CPU limits;
- **only its own station**: the sandbox init (daqlab/course/sandbox_init.py) listens on the station's
  port inside the private network and relays to a Unix socket that this module serves, connected to
  that one station (and, for MQTT assignments, to the broker). The plant's control API is not reachable;
- **a whitelisted environment**: the variables named in :data:`KERNEL_VARS` and nothing of the grader's.

What comes back is data: the executed notebook (outputs), the executor's events, and the regular files
the job left in its folder (symlinks and special files are never followed). The sandbox init reports,
on a channel the submission cannot write, any process of the job's user still alive at the end.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from daqlab.course.sandbox_init import pump

HERE = Path(__file__).resolve().parent
HOME = "/home/trainee"  #: the job's home inside the sandbox
UID_BASE = 300000  #: job users are UID_BASE + slot, slot < 20000: above every account and subuid range
#: a system gives out by default (no account needed: nothing resolves them)
MAX_RESULT = 64 * 1024 * 1024  #: bytes of executed notebook read back at most
MAX_FILES, MAX_FILE_BYTES = 500, 32 * 1024 * 1024  #: files copied back from the job's folder at most

#: the only variables a submission's kernel gets (its identity, station and own MQTT account)
KERNEL_VARS = ("DAQLAB_STUDENT_ID", "DAQLAB_ASSIGNMENT", "DAQLAB_COURSE", "DAQLAB_ENDPOINT", "DAQLAB_STATION",
               "DAQLAB_SEED", "DAQLAB_MQTT_URL", "DAQLAB_MQTT_USER", "DAQLAB_MQTT_PASSWORD", "DAQLAB_PRODUCT_KEY",
               "DAQLAB_RS485_URL", "DAQLAB_BENCH_YAML")
#: system files a Python kernel needs (fonts for CJK plots, time zone, loader cache); nothing else of /etc
ETC = ("alternatives", "fonts", "ld.so.cache", "localtime", "hosts", "nsswitch.conf", "ssl", "mime.types",
       "matplotlibrc", "timezone", "passwd", "group")


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces here."""


@dataclass
class Limits:
    cell_timeout: int = 60  #: seconds per cell (interrupted after that)
    job_s: float = 900.0  #: the whole job is killed after this
    memory_mb: int = 3072  #: address space of every process of the job
    nproc: int = 256  #: processes and threads of the job's user
    cpu_s: int = 0  #: CPU seconds (0: only the wall-clock limit)


@dataclass
class Result:
    notebook: dict | None  #: the executed notebook as returned (untrusted data), None if none came back
    events: list = field(default_factory=list)  #: what the executor says happened (untrusted, informational)
    leftovers: list = field(default_factory=list)  #: processes of the job still running at the end (killed)
    timed_out: bool = False  #: the job overran its limit and was killed
    error: str = ""  #: why no notebook came back
    files: list = field(default_factory=list)  #: relative paths copied back from the job's folder
    seconds: float = 0.0  #: wall time
    wire: list | None = None  #: with DAQLAB_WIRE=1: the station's requests and replies recorded on the relay (LogEntry)


def bwrap() -> str:
    return shutil.which("bwrap") or ""


def unavailable() -> str:
    """Why the sandbox cannot run here ("" when it can). Probed once per process (a worker grades many)."""
    if os.geteuid() != 0:
        return "the grading sandbox needs root to switch to per-job users (run the grader as root or via sudo)"
    if not bwrap():
        return "bubblewrap is not installed: apt-get install bubblewrap (make test and make sysdeps do it)"
    return _probe(bwrap())


@functools.lru_cache(maxsize=4)
def _probe(exe: str) -> str:
    p = subprocess.run([exe, "--unshare-pid", "--unshare-net", "--ro-bind", "/", "/", "true"],
                       capture_output=True, text=True)
    if p.returncode:
        return f"bubblewrap cannot create namespaces here: {p.stderr.strip()[:200]}"
    return ""


# ----------------------------------------------------------------- relays
class Relay:
    """Unix socket in the job's run folder -> one TCP endpoint outside (the trainee's station)."""

    def __init__(self, path: Path, target: tuple[str, int], wire=None):
        self.path, self.target = path, target
        self.wire = wire  # daqlab.course.wirelog.WireLog: record the Modbus frames passing through (a real bench)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        os.chmod(path, 0o600)  # root only: the sandbox init connects, the trainee's user cannot
        self.sock.listen(64)
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            try:
                up = socket.create_connection(self.target, timeout=10)
                up.settimeout(None)
                up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                conn.close()
                continue
            if self.wire is None:
                for a, b in ((conn, up), (up, conn)):
                    threading.Thread(target=pump, args=(a, b), daemon=True).start()
                continue
            feed_request, feed_reply = self.wire.connection()
            for a, b, feed in ((conn, up, feed_request), (up, conn, feed_reply)):
                threading.Thread(target=_recording_pump, args=(a, b, feed), daemon=True).start()

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class _Tap:
    """A socket whose received bytes are also handed to ``feed`` (a failing feed stops the copy, never the
    connection): what the relay forwards is exactly what it received."""

    def __init__(self, sock: socket.socket, feed):
        self.sock, self.feed = sock, feed

    def recv(self, n: int) -> bytes:
        data = self.sock.recv(n)
        if data and self.feed is not None:
            try:
                self.feed(data)
            except Exception:  # noqa: BLE001 (the record is best effort; the connection is not)
                self.feed = None
        return data

    def shutdown(self, how) -> None:
        self.sock.shutdown(how)


def _recording_pump(src: socket.socket, dst: socket.socket, feed) -> None:
    """pump(), recording a copy of every chunk read from ``src``."""
    pump(_Tap(src, feed), dst)


def _port(url: str) -> tuple[str, int] | None:
    from urllib.parse import urlsplit

    u = urlsplit(url if "://" in url else "tcp://" + url)
    return (u.hostname or "127.0.0.1", u.port) if u.port else None


def forwards_for(env: dict) -> dict[int, tuple[str, int]]:
    """Ports to relay: the station (DAQLAB_ENDPOINT), its RS-485 bus's serial device server (DAQLAB_RS485_URL) and the
    broker (DAQLAB_MQTT_URL), same port inside."""
    out = {}
    for var in ("DAQLAB_ENDPOINT", "DAQLAB_RS485_URL", "DAQLAB_MQTT_URL"):
        target = _port(env.get(var, "")) if env.get(var) else None
        if target:
            out[target[1]] = target
    return out


# -------------------------------------------------------------- the mount tree
def _dirs_for(path: Path, made: set) -> list[str]:
    """bwrap --dir arguments (mode 0755) for every parent of ``path`` not made yet."""
    args = []
    for parent in reversed(path.parents):
        p = str(parent)
        if p == "/" or p in made or p in ("/usr", "/tmp", "/proc", "/dev", "/home", "/run"):
            continue
        made.add(p)
        args += ["--perms", "0755", "--dir", p]
    return args


def mount_args(job: Path, name: str) -> list[str]:
    import daqlab

    args = ["--ro-bind", "/usr", "/usr"]
    for link in ("bin", "sbin", "lib", "lib64", "lib32", "libx32"):
        p = Path("/") / link
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), str(p)]
        elif p.is_dir():
            args += ["--ro-bind", str(p), str(p)]
    for e in ETC:
        if os.path.lexists(f"/etc/{e}"):
            args += ["--ro-bind", f"/etc/{e}", f"/etc/{e}"]
    args += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp",
             "--perms", "0755", "--tmpfs", "/home", "--perms", "0755", "--dir", "/run"]
    made: set = set()
    roots = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), Path(daqlab.__file__).resolve().parent}
    for extra in (Path(sys.executable).resolve().parent.parent,):
        roots.add(extra)
    for r in sorted(roots, key=lambda p: len(p.parts)):
        if any(r != o and o in r.parents for o in roots):
            continue  # already inside another bound tree
        args += _dirs_for(r, made) + ["--ro-bind", str(r), str(r)]
    args += ["--bind", str(job / "home"), HOME, "--bind", str(job / "run"), "/run/daqlab",
             "--chdir", f"{HOME}/{name}"]
    return args


def kernel_env(env: dict, uid: int, name: str) -> dict:
    home = HOME
    out = {k: env[k] for k in KERNEL_VARS if env.get(k)}
    out.update(HOME=home, USER=env.get("DAQLAB_STUDENT_ID", "trainee"), LOGNAME=env.get("DAQLAB_STUDENT_ID", "trainee"),
               PATH=os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
               LANG="C.UTF-8", LC_ALL="C.UTF-8", PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg",
               MPLCONFIGDIR=f"{home}/.config/matplotlib", JUPYTER_RUNTIME_DIR=f"{home}/.local/share/jupyter/runtime",
               TMPDIR="/tmp", NBGRADER_EXECUTION="autograde", PYTHONHASHSEED="0", SANDBOXED="1")
    out["DAQLAB_SANDBOX_UID"] = str(uid)
    return out


# -------------------------------------------------------------------- run
def _copy_in(folder: Path, dst: Path, skip: str) -> None:
    """The submission's own files (regular files only, never following links) into the job folder."""
    for root, _dirs, files in os.walk(folder, followlinks=False):
        rel = Path(root).relative_to(folder)
        if any(part.startswith(".ipynb_checkpoints") for part in rel.parts):
            continue
        (dst / rel).mkdir(parents=True, exist_ok=True)
        for f in files:
            src = Path(root) / f
            if rel == Path(".") and f == skip:
                continue
            if stat.S_ISREG(os.lstat(src).st_mode):
                shutil.copyfile(src, dst / rel / f)


def _copy_out(work: Path, dst: Path, skip: str) -> list[str]:
    """Regular files the job left in its folder -> ``dst`` (no symlinks, devices, fifos; size-capped)."""
    copied: list[str] = []
    for root, dirs, files in os.walk(work, followlinks=False):
        dirs[:] = [d for d in dirs if not d.startswith(".") and stat.S_ISDIR(os.lstat(Path(root) / d).st_mode)]
        for f in files:
            src = Path(root) / f
            rel = src.relative_to(work)
            if str(rel) == skip or f.startswith(".") or len(copied) >= MAX_FILES:
                continue
            try:
                fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            except OSError:
                continue
            with os.fdopen(fd, "rb") as fh:
                st = os.fstat(fh.fileno())
                if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_FILE_BYTES:
                    continue
                target = dst / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(fh.read(MAX_FILE_BYTES))
            copied.append(str(rel))
    return copied


def _chown_tree(path: Path, uid: int) -> None:
    for root, dirs, files in os.walk(path):
        for n in dirs + files:
            os.lchown(Path(root) / n, uid, uid)
    os.lchown(path, uid, uid)


def _read_capped(stream, cap: int, sink: list) -> None:
    total, chunks = 0, []
    while True:
        data = stream.read(65536)
        if not data:
            break
        total += len(data)
        if total <= cap:
            chunks.append(data)
    sink.append(b"".join(chunks) if total <= cap else None)


def run(notebook: str, folder: Path, env: dict, *, slot: int = 0, limits: Limits | None = None,
        out_dir: Path | None = None) -> Result:
    """Execute ``notebook`` (its JSON text) in a sandbox holding a copy of ``folder`` (the submission).

    ``env`` is the job's environment on the trusted side; only :data:`KERNEL_VARS` of it reach the kernel.
    Regular files the job leaves in its folder are copied to ``out_dir`` (when given).
    """
    import time

    lim = limits or Limits()
    reason = unavailable()
    if reason:
        raise SandboxUnavailable(reason)
    t0 = time.monotonic()
    uid = UID_BASE + slot
    name = Path(folder).name or "work"
    nb_name = env.get("DAQLAB_NOTEBOOK", "notebook.ipynb")
    job = Path(tempfile.mkdtemp(prefix="daqlab-sandbox-"))
    relays: list[Relay] = []
    try:
        (job / "run").mkdir(mode=0o700)
        work = job / "home" / name
        work.mkdir(parents=True)
        _copy_in(Path(folder), work, nb_name)
        os.chmod(job / "home", 0o700)
        _chown_tree(job / "home", uid)
        forwards = []
        station_port = (_port(env.get("DAQLAB_ENDPOINT", "")) or (None, None))[1]
        wire = None
        if env.get("DAQLAB_WIRE") == "1":  # a real bench: the grader records the station's traffic itself
            from daqlab.course.wirelog import WireLog

            wire = WireLog(int(env.get("DAQLAB_STATION", "1")))
        for port, target in forwards_for(env).items():
            path = job / "run" / f"fwd-{port}.sock"
            relays.append(Relay(path, target, wire if port == station_port else None))
            forwards.append([port, f"/run/daqlab/{path.name}"])
        r_fd, w_fd = os.pipe()
        orders = {"uid": uid, "forwards": forwards, "memory_mb": lim.memory_mb, "nproc": lim.nproc,
                  "cpu_s": lim.cpu_s, "seconds": lim.job_s, "cwd": f"{HOME}/{name}", "report_fd": w_fd,
                  "env": kernel_env(env, uid, name),
                  "cmd": [sys.executable, "-I", str(HERE / "execute.py"), str(lim.cell_timeout)]}
        cmd = [bwrap(), "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
               "--die-with-parent", "--new-session", "--hostname", "daqlab-sandbox", "--clearenv",
               *mount_args(job, name), sys.executable, "-I", str(HERE / "sandbox_init.py")]
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                pass_fds=(w_fd,), env={"PATH": "/usr/bin:/bin"})
        os.close(w_fd)
        out: list = []
        reader = threading.Thread(target=_read_capped, args=(proc.stdout, MAX_RESULT, out), daemon=True)
        reader.start()
        try:
            proc.stdin.write(json.dumps(orders).encode() + b"\n" + notebook.encode("utf-8"))
            proc.stdin.close()
        except OSError:
            pass
        timed_out = False
        try:
            proc.wait(lim.job_s + 30)
        except subprocess.TimeoutExpired:
            timed_out = True
            proc.kill()  # --die-with-parent ends the sandbox init, and with it the pid namespace
            proc.wait()
        reader.join(30)
        with os.fdopen(r_fd, "rb") as f:
            report_raw = f.read(1 << 20)
        try:
            report = json.loads(report_raw.decode("utf-8").splitlines()[0])
        except (ValueError, IndexError, UnicodeDecodeError):
            report = {}
        res = Result(None, timed_out=timed_out or bool(report.get("timed_out")),
                     leftovers=list(report.get("leftovers") or []))
        raw = out[0] if out else None
        if raw is None:
            res.error = "the notebook's output was larger than the grader accepts" if out else "no result"
        elif not raw:
            res.error = "the job was stopped before it finished" if res.timed_out else "the notebook runner exited without a result"
        else:
            try:
                data = json.loads(raw)
                res.notebook = data["notebook"] if isinstance(data.get("notebook"), dict) else None
                res.events = [e for e in data.get("events", []) if isinstance(e, dict)][:20]
            except (ValueError, AttributeError, TypeError):
                res.error = "the notebook runner's result was not readable"
        if out_dir is not None:
            res.files = _copy_out(work, Path(out_dir), nb_name)
        if wire is not None:
            for r in relays:
                r.close()
            res.wire = wire.entries()
        res.seconds = time.monotonic() - t0
        return res
    finally:
        for r in relays:
            r.close()
        shutil.rmtree(job, ignore_errors=True)


def run_unconfined(notebook: str, folder: Path, env: dict, *, limits: Limits | None = None) -> Result:
    """The same run without the sandbox (the grader's own user, network and file system): for
    bench/grading.py to measure what the sandbox costs. Never used to grade."""
    import time

    lim = limits or Limits()
    t0 = time.monotonic()
    nb_name = env.get("DAQLAB_NOTEBOOK", "notebook.ipynb")
    with tempfile.TemporaryDirectory(prefix="daqlab-unconfined-") as tmp:
        work = Path(tmp) / (Path(folder).name or "work")
        work.mkdir()
        _copy_in(Path(folder), work, nb_name)
        kenv = kernel_env(env, os.getuid(), work.name)
        kenv.update(HOME=tmp, MPLCONFIGDIR=f"{tmp}/.mpl", JUPYTER_RUNTIME_DIR=f"{tmp}/.rt")
        try:
            p = subprocess.run([sys.executable, "-I", str(HERE / "execute.py"), str(lim.cell_timeout)], cwd=work,
                               input=notebook.encode("utf-8"), capture_output=True, env=kenv, timeout=lim.job_s)
        except subprocess.TimeoutExpired:
            return Result(None, timed_out=True, seconds=time.monotonic() - t0)
        data = json.loads(p.stdout)
        return Result(data["notebook"], data.get("events", []), seconds=time.monotonic() - t0)
