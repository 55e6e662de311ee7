"""State files survive a crash, a full disk, two writers at once and a deleted secrets file (issue 15)."""

import multiprocessing
import resource
import subprocess
import sys

import pytest

from daqlab.course.status import Outcome, StatusError, load_status, save_status, status_path
from daqlab.hub.settings import Secrets, SecretsError


def _grade_many(course, start, n):
    for i in range(start, start + n, 10):  # ten outcomes per save, as a grader saves one assignment
        save_status(course, [Outcome(f"s{j:04d}", "a", "graded", "", 1.0, 1.0, 0.1) for j in range(i, i + 10)])


def test_two_graders_at_once_keep_every_status(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_grade_many, args=(tmp_path, k * 300, 300)) for k in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    assert len(load_status(tmp_path)["a"]) == 600


CUT_SHORT = """
import resource, sys
from daqlab.course.status import Outcome, save_status
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))   # the disk "fills up" after 4 KiB
save_status(sys.argv[1], [Outcome(f"t{i:05d}", "b", "graded", "x" * 50, 1.0, 1.0, 0.1) for i in range(2000)])
"""


def test_a_write_cut_short_leaves_the_previous_good_file(tmp_path):
    save_status(tmp_path, [Outcome("alice", "a", "graded", "", 3.0, 4.0, 0.2)])
    before = status_path(tmp_path).read_bytes()
    p = subprocess.run([sys.executable, "-c", CUT_SHORT, str(tmp_path)], capture_output=True, text=True,
                       preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096)))
    assert p.returncode != 0, "the write really was cut short"
    assert status_path(tmp_path).read_bytes() == before
    assert load_status(tmp_path)["a"]["alice"]["score"] == 3.0
    assert not [f for f in status_path(tmp_path).parent.iterdir() if f.name.startswith(".status.json.")]


def test_an_unreadable_status_file_is_one_clear_error(tmp_path):
    status_path(tmp_path).parent.mkdir(parents=True)
    status_path(tmp_path).write_text('{"a": {"x": ', encoding="utf-8")
    with pytest.raises(StatusError, match="unreadable.*restore it from a backup or delete it"):
        load_status(tmp_path)


def test_secrets_are_never_silently_regenerated(tmp_path):
    first = Secrets.load_or_create(tmp_path, ["alice"])
    assert Secrets.load_or_create(tmp_path, ["alice"]) == first
    assert (tmp_path / "secrets.json").stat().st_mode & 0o777 == 0o600
    (tmp_path / "secrets.json").unlink()
    with pytest.raises(SecretsError, match="missing but this hub issued secrets before"):
        Secrets.load_or_create(tmp_path, ["alice"])
    (tmp_path / "secrets.json").write_text("{trunc", encoding="utf-8")
    with pytest.raises(SecretsError, match="unreadable"):
        Secrets.load_or_create(tmp_path, ["alice"])


def test_an_atomic_write_keeps_the_file_mode_and_group_and_honours_the_umask(tmp_path):
    """The root grading service rewrites files the instructor reads: a replaced file keeps its mode and group,
    a new one gets 0666 minus the umask (mkstemp alone would leave 0600)."""
    import os

    from daqlab.atomic import write_atomic

    old = os.umask(0o007)
    try:
        write_atomic(tmp_path / "new.json", "{}")
        assert oct((tmp_path / "new.json").stat().st_mode & 0o777) == "0o660"
        kept = tmp_path / "kept.json"
        kept.write_text("{}")
        kept.chmod(0o640)
        if os.geteuid() == 0:
            os.chown(kept, -1, 1)  # group "daemon": a group other than ours
        write_atomic(kept, '{"a": 1}')
        assert oct(kept.stat().st_mode & 0o777) == "0o640" and kept.read_text() == '{"a": 1}'
        if os.geteuid() == 0:
            assert kept.stat().st_gid == 1
        write_atomic(tmp_path / "secret.json", "x", mode=0o600)
        assert oct((tmp_path / "secret.json").stat().st_mode & 0o777) == "0o600"
    finally:
        os.umask(old)
