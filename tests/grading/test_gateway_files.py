"""The gateway practical reads two trainee files on the trusted side: never through a symlink, never huge."""

import pytest

from daqlab.grading import gateway as g


def test_a_symlinked_point_table_is_not_read(tmp_path, monkeypatch):
    secret = tmp_path / "instructor-key.txt"
    secret.write_text("the answer key", encoding="utf-8")
    sub = tmp_path / "submission"
    (sub / "gateway").mkdir(parents=True)
    (sub / "gateway" / "points.csv").symlink_to(secret)
    monkeypatch.setenv("DAQLAB_FILES", str(sub))
    with pytest.raises(g.NotHandedIn, match="symbolic link"):
        g.submitted_text(g.POINTS_FILE)
    (sub / "gateway" / "points.csv").unlink()
    (sub / "gateway").rmdir()
    (sub / "gateway").symlink_to(tmp_path)          # a symlinked folder on the way is refused too
    (tmp_path / "points.csv").write_text("name\n", encoding="utf-8")
    with pytest.raises(g.NotHandedIn, match="symbolic link"):
        g.submitted_text(g.POINTS_FILE)


def test_missing_and_oversized_files_are_clear(tmp_path, monkeypatch):
    monkeypatch.setenv("DAQLAB_FILES", str(tmp_path))
    with pytest.raises(g.NotHandedIn, match="gateway/points.csv not found"):
        g.submitted_text(g.POINTS_FILE)
    (tmp_path / "gateway").mkdir()
    (tmp_path / "gateway" / "points.csv").write_bytes(b"x" * (g.MAX_BYTES + 1))
    with pytest.raises(g.NotHandedIn, match="larger"):
        g.submitted_text(g.POINTS_FILE)
    (tmp_path / "gateway" / "points.csv").write_text("\ufeffname,address\nt,2!300002\n", encoding="utf-8")
    assert g.submitted_text(g.POINTS_FILE).startswith("name,address")


def test_the_configuration_is_expanded_with_a_trainees_variables_only(monkeypatch):
    for k, v in {"DAQLAB_ENDPOINT": "tcp://127.0.0.1:5021", "DAQLAB_CONTROL_TOKEN": "s3cret",
                 "DAQLAB_CONTROL_URL": "http://127.0.0.1:9", "DAQLAB_MQTT_PASSWORD": "pw"}.items():
        monkeypatch.setenv(k, v)
    env = g._trainee_env()
    assert env["DAQLAB_ENDPOINT"] == "tcp://127.0.0.1:5021"
    assert "DAQLAB_CONTROL_TOKEN" not in env and "DAQLAB_CONTROL_URL" not in env
    assert env["DAQLAB_MQTT_PASSWORD"] != "pw"
