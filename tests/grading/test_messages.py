"""Check messages show values as a trainee reads them (52.3, not 52.300000000000004)."""

from types import SimpleNamespace

from daqlab.grading.assignments import _matches_served


def test_a_float_in_a_check_message_is_shown_rounded():
    ctx = SimpleNamespace(served_values=lambda *a, **k: [52.3])
    ok, msg = _matches_served(ctx, 52.300000000000004, 1, 3, 0, "float32")
    assert ok and "52.3 matches" in msg and "0000000004" not in msg
    ok, msg = _matches_served(ctx, 0.1 + 0.2, 1, 3, 0, "float32")
    assert not ok and "value 0.3 does not match" in msg
