"""The property-post convention: what is valid, and a clear reason for everything that is not."""

import json

import pytest

from daqlab.northbound import thingmodel as tm


def good(**over):
    doc = {"id": "7", "version": "1.0", "method": "thing.event.property.post",
           "params": {"th_temperature": {"value": 23.4, "time": 1764055200000}, "plc_run": True}}
    doc.update(over)
    return doc


def test_a_well_formed_post_is_valid_as_dict_str_and_bytes():
    assert tm.validate(good()) == []
    assert tm.validate(json.dumps(good())) == []
    assert tm.validate(json.dumps(good()).encode()) == []


@pytest.mark.parametrize("change, fragment", [
    ({"id": 7}, "id"),
    ({"id": "4294967296"}, "above 4294967295"),
    ({"id": "x1"}, "id"),
    ({"version": "2.0"}, "version"),
    ({"method": "thing.event.property.set"}, "method"),
    ({"params": {}}, "params"),
    ({"params": {"1temp": 3}}, "params"),
    ({"params": {"th.temperature": 3}}, "params"),
    ({"params": {"t": {"value": 1.0, "time": 1.5}}}, "params"),
    ({"params": {"t": {"value": 1.0}}}, "params"),
    ({"params": {"t": [1, 2]}}, "params"),
    ({"extra": 1}, "Additional properties"),
])
def test_each_violation_is_reported_with_where_it_is(change, fragment):
    errors = tm.validate(good(**change))
    assert errors and any(fragment in e for e in errors), errors


def test_missing_fields_are_named():
    doc = good()
    del doc["id"], doc["method"]
    errors = " ".join(tm.validate(doc))
    assert "'id' is a required property" in errors and "'method' is a required property" in errors


@pytest.mark.parametrize("payload, fragment", [
    (b"\xff\xfe", "not UTF-8"),
    ("{not json", "not JSON"),
    ('{"id": "1", "version": "1.0", "method": "thing.event.property.post", "params": {"t": NaN}}', "NaN is not JSON"),
    ("[1, 2]", "is not of type 'object'"),
])
def test_payloads_that_are_not_json_objects_are_refused(payload, fragment):
    errors = tm.validate(payload)
    assert errors and fragment in errors[0], errors


def test_property_post_builds_a_valid_message_and_leaves_bad_values_out():
    doc = tm.property_post({"th.temperature": 21.5, "meter.power_total": None, "plc.run": True}, 1764055200123, 3)
    assert tm.validate(doc) == []
    assert doc["id"] == "3" and set(doc["params"]) == {"th_temperature", "plc_run"}
    assert doc["params"]["th_temperature"] == {"value": 21.5, "time": 1764055200123}


def test_property_post_refuses_nan_and_empty_samples():
    with pytest.raises(ValueError, match="NaN"):
        tm.property_post({"a": float("nan")}, 0, 1)
    with pytest.raises(ValueError, match="nothing to publish"):
        tm.property_post({"a": None}, 0, 1)
    with pytest.raises(ValueError, match="outside"):
        tm.property_post({"a": 1}, 0, 2**32)


def test_identifiers_from_tag_names():
    assert tm.identifier("th.temperature") == "th_temperature"
    assert tm.identifier("meter.voltage-l1") == "meter_voltage_l1"
    for bad in ("1abc", "", "x" * 51):
        with pytest.raises(ValueError):
            tm.identifier(bad)


def test_topics_of_a_device_and_parsing_them_back():
    t = tm.ThingTopics("daqlab", "t07")
    assert t.post == "/sys/daqlab/t07/thing/event/property/post"
    assert t.post_reply == "/sys/daqlab/t07/thing/event/property/post_reply"
    assert t.status == "/sys/daqlab/t07/thing/status"
    assert tm.ThingTopics.parse(t.post) == ("daqlab", "t07", "thing/event/property/post")
    assert tm.ThingTopics.parse("sys/daqlab/t07/x") is None
    for bad in ("a/b", "+", "#", "$x", ""):
        with pytest.raises(ValueError):
            tm.ThingTopics("daqlab", bad)


def test_reply_carries_the_id_and_a_code():
    ok = tm.reply(good(id="42"), [])
    assert ok["code"] == 200 and ok["id"] == "42" and ok["method"] == "thing.event.property.post"
    bad = tm.reply(good(id="43"), ["params: bad"])
    assert bad["code"] == 460 and bad["id"] == "43" and "params" in bad["message"]
    assert tm.reply(None, ["payload is not JSON"])["id"] == "0"


def test_values_of_reads_both_forms():
    assert tm.values_of(good()) == {"th_temperature": (23.4, 1764055200000), "plc_run": (True, None)}
