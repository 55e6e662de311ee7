"""The exchange service's rules on a real folder (daqlab.hub.exchange_service.Store) and the careful
unpacking of uploads (daqlab.hub.tarballs): who sees what, who may write what, and uploads that try to
escape their folder. The same service behind a real hub: tests/hub/test_exchange_service.py."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from daqlab.hub import tarballs
from daqlab.hub.exchange_service import Refused, Store, feedback_names

A = "practical-1-identify"


def names(data: bytes) -> set[str]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return {m.name for m in tar}


def folder(tmp_path, name, files: dict[str, str]) -> Path:
    d = tmp_path / name
    for rel, text in files.items():
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        (d / rel).write_text(text)
    return d


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "ex", "daqlab", {"teacher"})
    s.release("teacher", A, tarballs.pack({A: folder(tmp_path, "rel", {f"{A}.ipynb": "{}"})}), force=False)
    return s


def submit(store, tmp_path, user, secret, claimed=None):
    sub = folder(tmp_path, f"sub-{user}-{secret}", {f"{A}.ipynb": user, "submission_secret.txt": secret,
                                                     "timestamp.txt": "2020-01-01 00:00:00.000000 UTC"})
    return store.submit(user, A, tarballs.pack({"submission": sub}))


def test_a_submission_is_named_after_the_signed_in_user_and_stamped_with_the_services_time(store, tmp_path):
    reply = submit(store, tmp_path, "alice", "s1")
    assert reply["student"] == "alice" and reply["name"].startswith(f"alice+{A}+")
    stored = store.course_dir / "inbound" / reply["name"]
    assert (stored / "timestamp.txt").read_text() == reply["timestamp"]
    assert not reply["timestamp"].startswith("2020"), "the client's back-dated time is not kept"
    assert (stored / f"{A}.ipynb").read_text() == "alice"


def test_a_trainee_sees_the_release_and_only_their_own_feedback(store, tmp_path):
    a, b = submit(store, tmp_path, "alice", "sa"), submit(store, tmp_path, "bob", "sb")
    fb = {}
    for who, reply in (("alice", a), ("bob", b)):
        (name,) = feedback_names(store.course_dir / "inbound" / reply["name"])
        fb[who] = name
        (store.course_dir / "feedback" / name).write_text(f"feedback for {who}")
    seen = names(store.view("alice", ["outbound", "feedback"], None))
    assert f"outbound/{A}/{A}.ipynb" in seen and f"feedback/{fb['alice']}" in seen
    assert f"feedback/{fb['bob']}" not in seen and not any(n.startswith("inbound") for n in seen)
    assert {f"feedback/{fb['alice']}", f"feedback/{fb['bob']}"} <= names(store.view("teacher", ["feedback"], None))


@pytest.mark.parametrize("action", ["inbound", "release", "withdraw", "feedback"])
def test_a_trainee_may_not_act_as_the_instructor(store, tmp_path, action):
    submit(store, tmp_path, "bob", "sb")
    with pytest.raises(Refused) as exc:
        if action == "inbound":
            store.view("alice", ["inbound"], A)
        elif action == "release":
            store.release("alice", A, tarballs.pack({A: folder(tmp_path, "evil", {"x.ipynb": "evil"})}), force=True)
        elif action == "withdraw":
            store.withdraw("alice", A)
        else:
            store.feedback("alice", tarballs.pack({"feedback": folder(tmp_path, "fb", {"abcdef12.html": "x"})}))
    assert exc.value.status == 403 and "只有教师" in str(exc.value)
    assert (store.course_dir / "outbound" / A / f"{A}.ipynb").read_text() == "{}"
    assert list((store.course_dir / "feedback").iterdir()) == []


def test_the_instructor_sees_every_submission_of_an_assignment(store, tmp_path):
    submit(store, tmp_path, "alice", "sa")
    submit(store, tmp_path, "bob", "sb")
    seen = {n.split("/")[1].split("+")[0] for n in names(store.view("teacher", ["inbound"], A)) if n.count("/") == 1}
    assert seen == {"alice", "bob"}


def test_unreleased_assignments_a_second_release_and_too_many_submissions_are_refused(tmp_path):
    s = Store(tmp_path / "ex", "daqlab", {"teacher"}, max_submissions=2)
    sub = tarballs.pack({"submission": folder(tmp_path, "sub", {"a.ipynb": "x"})})
    with pytest.raises(Refused, match="尚未发布"):
        s.submit("alice", A, sub)
    rel = tarballs.pack({A: folder(tmp_path, "rel", {"a.ipynb": "{}"})})
    s.release("teacher", A, rel, force=False)
    with pytest.raises(Refused, match="--force"):
        s.release("teacher", A, rel, force=False)
    s.submit("alice", A, sub)
    s.submit("alice", A, sub)
    with pytest.raises(Refused) as exc:
        s.submit("alice", A, sub)
    assert exc.value.status == 429
    s.submit("bob", A, sub)  # the limit is per trainee
    with pytest.raises(Refused, match="没有课程"):
        s.check("another-course", A)
    with pytest.raises(Refused, match="不合法"):
        s.check("daqlab", "../outbound")


def evil_tar(kind: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("submission")
        info.type = tarfile.DIRTYPE
        tar.addfile(info)
        if kind == "dotdot":
            data = b"owned"
            info = tarfile.TarInfo("submission/../../outbound/x.ipynb")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        elif kind == "absolute":
            info = tarfile.TarInfo("/etc/daqlab-owned")
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
        elif kind == "symlink":
            info = tarfile.TarInfo("submission/link")
            info.type, info.linkname = tarfile.SYMTYPE, "/srv/exchange/daqlab/inbound"
            tar.addfile(info)
        elif kind == "device":
            info = tarfile.TarInfo("submission/dev")
            info.type = tarfile.CHRTYPE
            tar.addfile(info)
    return buf.getvalue()


@pytest.mark.parametrize("kind", ["dotdot", "absolute", "symlink", "device", "garbage"])
def test_uploads_that_escape_their_folder_are_refused_and_leave_nothing(store, tmp_path, kind):
    data = b"not a tarball at all" if kind == "garbage" else evil_tar(kind)
    with pytest.raises(Refused) as exc:
        store.submit("alice", A, data)
    assert exc.value.status == 400
    inbound = store.course_dir / "inbound"
    assert list(inbound.iterdir()) == [], "no half upload is left behind"
    assert sorted(p.name for p in (store.course_dir / "outbound").iterdir()) == [A]


def test_an_upload_larger_than_the_limit_is_refused(tmp_path):
    big = folder(tmp_path, "big", {"a.bin": "x" * 5000, "b.bin": "y" * 5000})
    with pytest.raises(tarballs.BadTarball, match="larger"):
        tarballs.unpack(tarballs.pack({"big": big}), tmp_path / "out", max_bytes=8000)
    assert not (tmp_path / "out").exists()
    assert tarballs.MAX_BYTES == 100 * 1000 * 1000  # the default is nbgrader's own max_dir_size (100000 KB)


def test_a_clock_starts_once_per_trainee_and_only_the_instructor_reads_them_all(store, tmp_path):
    first = store.clock("alice", A)
    again = store.clock("alice", A)  # a reload, a restart: the same start
    assert again["started"] == first["started"] and again["now"] >= first["now"]
    store.clock("bob", A)
    assert set(store.clocks("teacher", A)) == {"alice", "bob"}
    with pytest.raises(Refused) as exc:
        store.clocks("alice", A)
    assert exc.value.status == 403
    with pytest.raises(Refused, match="尚未发布"):
        store.clock("alice", "theory-contest")


def test_practice_feedback_keeps_the_first_checked_answer_and_only_the_instructor_uploads_keys(tmp_path):
    import json as _json

    from daqlab.exam.bank import load_bank
    from daqlab.exam.blueprint import for_assignment
    from daqlab.exam.paper import draw
    from daqlab.exam.practice import keys_payload
    from daqlab.exam.score import shown_key

    from ..course_helpers import ROOT

    P = "theory-practice-modbus"
    s = Store(tmp_path / "ex", "daqlab", {"teacher"})
    with pytest.raises(Refused) as exc:
        s.practice("alice", P, _json.dumps({"number": 1, "answer": "A"}).encode())
    assert exc.value.status == 404, "no keys uploaded: no feedback"
    bank = load_bank(ROOT / "source" / "exam" / "bank")
    body = _json.dumps(keys_payload(bank, P, "salt-y")).encode()
    with pytest.raises(Refused) as exc:
        s.practice_keys("alice", P, body)
    assert exc.value.status == 403
    assert s.practice_keys("teacher", P, body)["keys"] > 20
    pi = draw(bank, for_assignment(P), course="daqlab", assignment=P, student="alice", salt="salt-y").items[0]
    key = shown_key(pi, bank[pi.item_id])
    wrong = next(x for x in pi.shown_letters if x != key) if pi.type == "single" else (not key)
    first = s.practice("alice", P, _json.dumps({"number": 1, "answer": wrong}).encode())
    assert first["correct"] is False and first["key"] == key and first["explanation"]["zh"]
    again = s.practice("alice", P, _json.dumps({"number": 1, "answer": key}).encode())
    assert again["answer"] == wrong and again["correct"] is False, "the first checked answer stands"
    with pytest.raises(Refused) as exc:
        s.practice("alice", P, _json.dumps({"number": 99, "answer": "A"}).encode())
    assert exc.value.status == 400
    assert set(s.practice_answers("teacher", P)["alice"]) == {"1"}
    with pytest.raises(Refused):
        s.practice_answers("alice", P)
    assert not (s.course_dir / "outbound" / P).exists() and oct((s.course_dir / "practice" / P / "keys.json")
                                                                 .stat().st_mode & 0o777) == "0o600"
