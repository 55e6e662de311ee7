"""The platform convention DAQ Lab uses northbound: topics and the property-post payload (物模型).

It follows the Alink thing-model style that trainees meet on IoT platforms in contests::

    topic   /sys/{productKey}/{deviceName}/thing/event/property/post          device -> platform
    reply   /sys/{productKey}/{deviceName}/thing/event/property/post_reply    platform -> device
    status  /sys/{productKey}/{deviceName}/thing/status                       device -> platform (DAQ Lab's own)

    {"id": "42", "version": "1.0", "method": "thing.event.property.post",
     "params": {"th_temperature": {"value": 23.4, "time": 1764055200000},
                "meter_power_total": {"value": 1520.5, "time": 1764055200000}}}

Rules (checked by :func:`validate`, the same code the platform recorder and the grader use):

- ``id``: a message id, a string of decimal digits, 0 .. 4294967295, unique per device (the reply
  carries it back);
- ``version``: ``"1.0"``; ``method``: ``"thing.event.property.post"``; an optional ``sys`` object
  (``{"ack": 0|1}``); nothing else at the top level;
- ``params``: at least one property; each key an identifier (letters, digits, ``_``, starting with a
  letter, at most 50 characters; :func:`identifier` turns a tag name ``th.temperature`` into
  ``th_temperature``); each value ``{"value": v, "time": t}`` with ``v`` a finite number, a boolean
  or a string, and ``t`` the sample time in **milliseconds** since 1970-01-01 UTC (an integer). The
  short form ``"th_temperature": 23.4`` (no time) is accepted too, as on Alink.
- JSON only: ``NaN`` and ``Infinity`` are not JSON and make the message invalid (publish a bad-quality
  value as absent, not as NaN).

The status topic is not part of Alink: DAQ Lab uses it for the gateway's retained online message and
its last will, ``{"status": "online" | "offline", "time": t}``.

**Point status event** (an Alink event, identifier ``point_status``), sent by ``daqlab gateway``::

    topic   /sys/{productKey}/{deviceName}/thing/event/point_status/post
    {"id": "43", "version": "1.0", "method": "thing.event.point_status.post",
     "params": {"value": {"temperature": "good", "voltage_l1": "timeout", "power": "exception 02"},
                "time": 1764055200000}}

``value`` maps every point's identifier to its quality at ``time``: ``good``, ``timeout``,
``exception NN`` (the Modbus exception code in hex), ``decode error`` or ``invalid``. The gateway sends it
for its first scan and whenever a quality changes, so a point's quality at any time is the one of the last
event before it; a property post carries only good values (checked by :func:`validate_event`).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

from jsonschema import Draft202012Validator

PRODUCT_KEY = "daqlab"  #: default productKey of the DAQ Lab gateway product
METHOD_POST = "thing.event.property.post"
VERSION = "1.0"
MAX_ID = 4294967295
IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,49}$")
CODE_OK, CODE_BAD_REQUEST = 200, 460  #: reply codes: success / request parameter error (Alink's codes)

_VALUE = {"anyOf": [{"type": "number"}, {"type": "boolean"}, {"type": "string", "maxLength": 2048}]}
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "DAQ Lab property post (Alink style)",
    "type": "object",
    "required": ["id", "version", "params", "method"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "pattern": r"^[0-9]{1,10}$"},
        "version": {"const": VERSION},
        "method": {"const": METHOD_POST},
        "sys": {"type": "object", "properties": {"ack": {"enum": [0, 1]}}, "additionalProperties": False},
        "params": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": IDENTIFIER.pattern},
            "additionalProperties": {
                "anyOf": [
                    _VALUE,
                    {"type": "object", "required": ["value", "time"], "additionalProperties": False,
                     "properties": {"value": _VALUE, "time": {"type": "integer", "minimum": 0}}},
                ]
            },
        },
    },
}
_VALIDATOR = Draft202012Validator(SCHEMA)


@dataclass(frozen=True)
class ThingTopics:
    """The topics of one device (gateway) on the platform."""

    product_key: str  #: product the device belongs to (the DAQ Lab course uses "daqlab")
    device_name: str  #: the device; DAQ Lab names a trainee's gateway after the trainee id

    def __post_init__(self):
        for part in (self.product_key, self.device_name):
            if not part or any(c in part for c in "/+#") or part.startswith("$"):
                raise ValueError(f"{part!r} cannot be a topic level (no '/', '+', '#', leading '$')")

    @property
    def base(self) -> str:
        """Every topic of this device starts with this (the ACL grants ``base + '#'``)."""
        return f"/sys/{self.product_key}/{self.device_name}/"

    @property
    def post(self) -> str:
        return self.base + "thing/event/property/post"

    @property
    def post_reply(self) -> str:
        return self.base + "thing/event/property/post_reply"

    @property
    def status(self) -> str:
        return self.base + "thing/status"

    def event(self, ident: str) -> str:
        """Topic of the event ``ident`` (``point_status`` -> ``.../thing/event/point_status/post``)."""
        if not IDENTIFIER.match(ident) or ident == "property":
            raise ValueError(f"{ident!r} is not an event identifier")
        return self.base + f"thing/event/{ident}/post"

    @staticmethod
    def parse(topic: str) -> tuple[str, str, str] | None:
        """``(productKey, deviceName, rest)`` of a ``/sys/...`` topic, or None."""
        parts = topic.split("/", 4)
        if len(parts) < 5 or parts[0] != "" or parts[1] != "sys" or not parts[2] or not parts[3]:
            return None
        return parts[2], parts[3], parts[4]


def identifier(tag_name: str) -> str:
    """The thing-model identifier of a tag: ``th.temperature`` -> ``th_temperature``."""
    ident = re.sub(r"[^A-Za-z0-9_]", "_", tag_name.strip())
    if not IDENTIFIER.match(ident):
        raise ValueError(f"{tag_name!r} gives no valid identifier (letters, digits, _; a letter first; <= 50)")
    return ident


def _clean(value):
    if isinstance(value, bool) or isinstance(value, str):
        return value
    if hasattr(value, "item"):  # numpy / pandas scalars
        value = value.item()
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("NaN/Infinity cannot be published (not JSON): leave the property out")
        return value
    raise TypeError(f"cannot publish a {type(value).__name__} as a property value")


def property_post(values: dict, time_ms, msg_id: int) -> dict:
    """A property-post payload. ``values``: identifier (or tag name) -> value; ``time_ms``: one sample
    time in ms for all, or a dict identifier -> ms. Values that are None are left out."""
    if not 0 <= int(msg_id) <= MAX_ID:
        raise ValueError(f"message id {msg_id} outside 0..{MAX_ID}")
    params = {}
    for name, value in values.items():
        if value is None:
            continue
        ident = identifier(name)
        t = time_ms[name] if isinstance(time_ms, dict) else time_ms
        params[ident] = {"value": _clean(value), "time": int(t)}
    if not params:
        raise ValueError("nothing to publish: every value is None")
    return {"id": str(int(msg_id)), "version": VERSION, "params": params, "method": METHOD_POST}


EVENT_POINT_STATUS = "point_status"
QUALITY = re.compile(r"^(good|timeout|decode error|invalid|exception [0-9A-F]{2})$")
EVENT_SCHEMA = {  # the property post's envelope (id, version, method) around the event's params
    **SCHEMA,
    "title": "DAQ Lab point status event (Alink style)",
    "properties": {
        **{k: v for k, v in SCHEMA["properties"].items() if k in ("id", "version")},
        "method": {"const": f"thing.event.{EVENT_POINT_STATUS}.post"},
        "params": {
            "type": "object", "required": ["value", "time"], "additionalProperties": False,
            "properties": {
                "time": {"type": "integer", "minimum": 0},
                "value": {"type": "object", "minProperties": 1, "propertyNames": {"pattern": IDENTIFIER.pattern},
                          "additionalProperties": {"type": "string", "pattern": QUALITY.pattern}},
            },
        },
    },
}
_EVENT_VALIDATOR = Draft202012Validator(EVENT_SCHEMA)


def point_status(qualities: dict, time_ms: int, msg_id: int) -> dict:
    """A point-status event payload: ``qualities`` maps tag names (or identifiers) to their quality."""
    if not 0 <= int(msg_id) <= MAX_ID:
        raise ValueError(f"message id {msg_id} outside 0..{MAX_ID}")
    value = {identifier(name): str(q) for name, q in qualities.items()}
    bad = [f"{k}={q!r}" for k, q in value.items() if not QUALITY.match(q)]
    if bad or not value:
        raise ValueError(f"not a quality: {', '.join(bad)}" if bad else "no points")
    return {"id": str(int(msg_id)), "version": VERSION, "params": {"value": value, "time": int(time_ms)},
            "method": f"thing.event.{EVENT_POINT_STATUS}.post"}


def validate_event(payload) -> list[str]:
    """Every reason a point-status event breaks the convention (empty list = valid)."""
    try:
        doc = parse(payload)
    except ValueError as exc:
        return [str(exc)]
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(top level)'}: {e.message}"
            for e in sorted(_EVENT_VALIDATOR.iter_errors(doc), key=lambda e: list(e.absolute_path))]


def _reject_constant(name):
    raise ValueError(f"{name} is not JSON")


def parse(payload) -> dict:
    """Decode a payload (bytes, str or dict) strictly: UTF-8 JSON, no NaN/Infinity. Raises ValueError."""
    if isinstance(payload, dict):
        return payload
    if isinstance(payload, bytes | bytearray):
        try:
            payload = payload.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"payload is not UTF-8: {exc}") from None
    try:
        return json.loads(payload, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ValueError(f"payload is not JSON: {exc.msg} at character {exc.pos}") from None


def validate(payload) -> list[str]:
    """Every reason the payload breaks the convention above (empty list = valid)."""
    try:
        doc = parse(payload)
    except ValueError as exc:
        return [str(exc)]
    errors = []
    for err in sorted(_VALIDATOR.iter_errors(doc), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in err.absolute_path) or "(top level)"
        errors.append(f"{where}: {err.message}")
    if isinstance(doc, dict) and isinstance(doc.get("id"), str) and doc["id"].isdigit() and int(doc["id"]) > MAX_ID:
        errors.append(f"id: {doc['id']} is above {MAX_ID}")
    return errors


def reply(request: dict | None, errors: list[str]) -> dict:
    """The platform's answer on ``post_reply``: code 200 when valid, 460 with the first error otherwise."""
    msg_id = request.get("id") if isinstance(request, dict) and isinstance(request.get("id"), str) else "0"
    if errors:
        return {"code": CODE_BAD_REQUEST, "data": {}, "id": msg_id, "message": errors[0][:200],
                "method": METHOD_POST, "version": VERSION}
    return {"code": CODE_OK, "data": {}, "id": msg_id, "message": "success", "method": METHOD_POST, "version": VERSION}


def values_of(doc: dict) -> dict:
    """``identifier -> (value, time_ms or None)`` of a valid post."""
    out = {}
    for ident, v in doc.get("params", {}).items():
        if isinstance(v, dict):
            out[ident] = (v.get("value"), v.get("time"))
        else:
            out[ident] = (v, None)
    return out
