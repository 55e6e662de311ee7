"""Times on screens in the centre's zone (Asia/Shanghai by default), whole seconds, never microseconds."""

from datetime import UTC, datetime

from daqlab.localtime import clock, stamp


def test_times_show_in_the_centres_zone_without_microseconds():
    assert clock(0, {}) == "08:00:00", "1970-01-01 00:00 UTC is 08:00 in China"
    assert clock(0, {"DAQLAB_TZ": "UTC"}) == "00:00:00"
    assert stamp("2026-12-03 15:45:08.097326 UTC", {}) == "2026-12-03 23:45"
    assert stamp(datetime(2026, 12, 5, 2, 0, tzinfo=UTC), {"DAQLAB_TZ": "Europe/Berlin"}) == "2026-12-05 03:00"
