"""The platform side: a recorder that captures every message on the broker, and answers posts.

    with Recorder.connect(broker, platform_account(secret), path="mqtt.jsonl") as rec:
        ...                                   # trainees publish
        rec.records(device="t01", kind="post")

It subscribes to ``/sys/#`` at QoS 2 (so each message arrives with the QoS it was published with)
over MQTT 5 with *retain as published* (so the retain flag is seen as the publisher set it) and *no
local* (its own replies are not recorded), and keeps a persistent session (clean start off, one hour
expiry): across a broker restart with persistence on, messages queued for it are not lost.

Each valid property post gets a reply on ``.../post_reply`` (code 200), an invalid one code 460 with
the first reason, as a platform would. Records go to memory and, if ``path`` is given, to a JSONL file
(one JSON object per line, flushed per message) that the grader reads from another process.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from daqlab.northbound import thingmodel
from daqlab.northbound.thingmodel import ThingTopics


@dataclass
class Record:
    time: float  #: when the recorder received it, seconds since the epoch
    topic: str  #: topic it was published on
    qos: int  #: QoS it was published with (the recorder subscribes at 2)
    retain: bool  #: retain flag as the publisher set it
    payload: str  #: the payload as text (invalid UTF-8 replaced)
    device: str = ""  #: deviceName of a ``/sys/{pk}/{dn}/...`` topic
    kind: str = "other"  #: "post", "reply", "status", "event" (point status) or "other"
    dup: bool = False  #: a QoS 1/2 re-delivery flagged DUP
    errors: list = field(default_factory=list)  #: thing-model violations of a post (empty = valid)

    def doc(self):
        """The payload parsed as JSON (None if it is not JSON)."""
        try:
            return thingmodel.parse(self.payload)
        except ValueError:
            return None


def classify(topic: str) -> tuple[str, str]:
    """(device, kind) of a topic."""
    parsed = ThingTopics.parse(topic)
    if parsed is None:
        return "", "other"
    _pk, dn, rest = parsed
    kind = {"thing/event/property/post": "post", "thing/event/property/post_reply": "reply",
            "thing/status": "status",
            f"thing/event/{thingmodel.EVENT_POINT_STATUS}/post": "event"}.get(rest, "other")
    return dn, kind


def distinct_key(r: Record):
    """What makes a message the same message: a property post or an event is its topic and payload (its id
    is in it); anything else is its own record."""
    return (r.topic, r.payload) if r.kind in ("post", "event") else id(r)


def load_records(path) -> list[Record]:
    """Records from a recorder's JSONL file (a half-written last line is ignored)."""
    out = []
    p = Path(path)
    if not p.exists():
        return out
    for line in p.read_text(encoding="utf-8").splitlines():
        try:
            out.append(Record(**json.loads(line)))
        except (ValueError, TypeError):
            continue
    return out


class Recorder:
    """Subscribes to ``topics`` and records everything (see the module docstring)."""

    def __init__(self, host: str, port: int, username: str, password: str, *, topics=("/sys/#",), path=None,
                 reply: bool = True, client_id: str | None = None, connect_timeout: float = 10.0):
        self.topics = list(topics)
        self.reply = reply
        self.path = Path(path) if path else None
        self._fh = open(self.path, "a", encoding="utf-8", buffering=1) if self.path else None  # noqa: SIM115
        self._records: list[Record] = []
        self._lock = threading.Condition()
        self._subscribed = threading.Event()
        self._refused: str | None = None
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id or f"daqlab-recorder-{uuid.uuid4().hex[:8]}",
                        protocol=mqtt.MQTTv5)
        c.username_pw_set(username, password)
        c.max_queued_messages_set(0)
        c.reconnect_delay_set(min_delay=1, max_delay=2)
        c.on_connect = self._on_connect
        c.on_subscribe = self._on_subscribe
        c.on_message = self._on_message
        self.client = c
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        c.connect(host, port, keepalive=30, clean_start=False, properties=props)
        c.loop_start()
        if not self._subscribed.wait(connect_timeout) or self._refused:
            c.loop_stop()
            raise RuntimeError(f"recorder could not subscribe: {self._refused or 'timeout'}")

    @classmethod
    def connect(cls, broker, account, **kwargs) -> Recorder:
        """Connect to ``broker`` (a :class:`daqlab.northbound.Broker`) as ``account``, on its platform listener."""
        port = getattr(broker, "platform_port", None) or broker.port
        return cls(broker.host, port, account.username, account.password, **kwargs)

    # -------------------------------------------------------------- callbacks (network thread)
    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            self._refused = str(reason_code)
            self._subscribed.set()
            return
        opts = SubscribeOptions(qos=2, noLocal=True, retainAsPublished=True)
        client.subscribe([(t, opts) for t in self.topics])

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        bad = [str(rc) for rc in reason_codes if rc.is_failure]
        if bad:
            self._refused = "subscription refused: " + ", ".join(bad)
        self._subscribed.set()

    def _on_message(self, client, userdata, msg):
        device, kind = classify(msg.topic)
        rec = Record(time=time.time(), topic=msg.topic, qos=msg.qos, retain=bool(msg.retain),
                     payload=msg.payload.decode("utf-8", errors="replace"), device=device, kind=kind, dup=bool(msg.dup))
        if kind == "post":
            rec.errors = thingmodel.validate(msg.payload)
            if self.reply:
                parsed = ThingTopics.parse(msg.topic)
                answer = thingmodel.reply(rec.doc(), rec.errors)
                client.publish(ThingTopics(parsed[0], parsed[1]).post_reply, json.dumps(answer), qos=1)
        elif kind == "event":
            rec.errors = thingmodel.validate_event(msg.payload)
        with self._lock:
            self._records.append(rec)
            if self._fh:
                self._fh.write(json.dumps(asdict(rec), ensure_ascii=False) + "\n")
            self._lock.notify_all()

    # --------------------------------------------------------------------------- public API
    def records(self, *, device: str | None = None, kind: str | None = None, since: float | None = None) -> list[Record]:
        with self._lock:
            return [r for r in self._records if (device is None or r.device == device)
                    and (kind is None or r.kind == kind) and (since is None or r.time >= since)]

    def wait_for(self, n: int, *, timeout: float = 10.0, **filters) -> list[Record]:
        """Wait until ``n`` messages match ``filters``, a property post counted once however often it came
        (QoS 1 is at least once: after a broker restart the broker re-sends what it had not seen acknowledged,
        so copies arrive, and counting them would stop early); return every matching record (fewer after
        ``timeout``). Other messages count each time: a last will is the same text every time it is sent."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                got = self.records(**filters)  # same filters as records(), ``since`` included (re-entrant lock)
                left = deadline - time.monotonic()
                if len({distinct_key(r) for r in got}) >= n or left <= 0:
                    return got
                self._lock.wait(min(left, 0.2))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        if self._fh:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
