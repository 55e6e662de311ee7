"""The gateway's uplink: publish acquired values to the platform as thing-model messages over MQTT.

    with Uplink.from_env() as up:                 # broker and account from the kernel's environment
        up.publish({"th.temperature": 23.4, "th.humidity": 41.0})
        up.publish_frame(df)                      # a DataFrame from Reader.poll: one message per scan
        up.flush()                                # wait until the broker has acknowledged everything

What it does for you (a contest's "upload to the platform" done right):

- **topics and payloads** by the convention of :mod:`daqlab.northbound.thingmodel` (ids 1, 2, 3 ...;
  tag ``th.temperature`` becomes property ``th_temperature``; sample times in ms);
- **QoS** 0/1/2 and **retain** per uplink; a **last will**: the broker publishes
  ``{"status": "offline"}`` (retained) on the status topic if the gateway vanishes, and the uplink
  publishes ``{"status": "online"}`` (retained) each time it connects;
- **report on change** (``deadband``): a property is sent only when it moved by more than its deadband
  since it was last sent (a number for all, or a dict per tag); ``heartbeat_s`` re-sends every property
  at least that often; bad-quality values (None/NaN) are left out, never sent as NaN;
- **store-and-forward**: while the broker is unreachable, messages are held in order (in memory, and in
  the ``spool`` file if the uplink is closed before they could go) and sent when the connection is back;
  a message counts as delivered only when the broker acknowledged it (PUBACK/PUBCOMP; QoS 0: written).
  Held messages keep their original sample times. Nothing is dropped unless ``max_pending`` is reached,
  and then :attr:`dropped` says how many.
- **confirmed by the platform** (``confirm=True``): a broker's PUBACK means the broker took the message, and
  a broker killed before it passed it on loses it. With ``confirm`` a post counts as delivered only when
  the platform answered it on ``post_reply`` (the thing model's reply, code 200 or 460, matched by id);
  unconfirmed posts are sent again after every reconnect (the platform may see a post twice: it has the
  same id), and :meth:`flush` waits for the replies. Use it with a platform that replies (DAQ Lab's does).

The client runs paho-mqtt 2.x's network thread (``loop_start``), so it works inside a Jupyter kernel;
always :meth:`close` it (or use ``with``), or its thread keeps running.
"""

from __future__ import annotations

import collections
import functools
import itertools
import json
import math
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt

from daqlab.northbound.thingmodel import (
    EVENT_POINT_STATUS,
    PRODUCT_KEY,
    ThingTopics,
    identifier,
    point_status,
    property_post,
)

# identifier() is a pure function (a re.sub and a match, ~0.8 µs) called for every property of every
# message; a gateway has a fixed set of tag names, so remember them (bounded; bad names are not cached).
_identifier = functools.lru_cache(maxsize=4096)(identifier)


class UplinkError(RuntimeError):
    """Connection refused (bad credentials, ...) or a flush that timed out: the message says why."""


def _now_ms() -> int:
    return int(time.time() * 1000)


def _epoch_ms(ts) -> int:
    """Milliseconds since the epoch of a pandas/datetime timestamp (naive = local time)."""
    if getattr(ts, "tzinfo", None) is None and hasattr(ts, "to_pydatetime"):
        return int(ts.to_pydatetime().timestamp() * 1000)
    return int(ts.timestamp() * 1000)


class Uplink:
    """One gateway's connection to the platform broker."""

    def __init__(self, host: str, port: int, username: str, password: str, *, product_key: str = PRODUCT_KEY,
                 device_name: str | None = None, qos: int = 1, retain: bool = False, deadband=None,
                 heartbeat_s: float | None = None, keepalive: int = 30, client_id: str | None = None,
                 spool=None, max_pending: int = 1_000_000, max_inflight: int = 20, will: bool = True,
                 connect_timeout: float = 10.0, confirm: bool = False):
        if qos not in (0, 1, 2):
            raise ValueError("qos must be 0, 1 or 2")
        self.topics = ThingTopics(product_key, device_name or username)
        self.qos, self.retain = qos, retain
        self.deadband, self.heartbeat_s = deadband, heartbeat_s
        self.max_pending = max_pending
        self.spool = Path(spool) if spool else None
        self.dropped = 0  #: messages refused because max_pending was reached
        self.sent = 0  #: messages the broker acknowledged
        self._ids = itertools.count(1)
        self._last: dict[str, tuple] = {}  # identifier -> (value, monotonic time sent)
        # Two locks, always taken in this order: _lock (held queue, hand-over to paho) then _ack (acks).
        # paho calls on_publish with its own message mutex held, so on_publish takes _ack only: taking
        # _lock there would deadlock against a publish() that holds _lock while calling into paho.
        self._lock = threading.Lock()
        self._ack = threading.Condition()
        self._held: collections.deque = collections.deque()  # (topic, payload, qos, retain) not yet given to paho
        self._unacked: dict[int, tuple] = {}  # paho mid -> message given to paho, not yet acknowledged
        self._early: set[int] = set()  # mids acknowledged before publish() returned their mid
        self._foreign: set[int] = set()  # mids of the uplink's own status messages (network thread only)
        self.confirm = confirm
        self._unconfirmed: dict[str, tuple] = {}  # post id -> message, until the platform replies (confirm=True)
        self._connected = False
        self._refused: str | None = None
        self._ever_connected = threading.Event()

        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id or f"daqlab-{uuid.uuid4().hex[:12]}",
                        protocol=mqtt.MQTTv311, clean_session=True)
        c.username_pw_set(username, password)
        c.max_inflight_messages_set(max_inflight)
        c.max_queued_messages_set(0)
        c.reconnect_delay_set(min_delay=1, max_delay=4)
        if will:
            c.will_set(self.topics.status, json.dumps({"status": "offline"}), qos=1, retain=True)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_publish = self._on_publish
        if confirm:
            c.on_message = self._on_reply
        self.client = c
        if self.spool and self.spool.exists():
            self._load_spool()
        c.connect_async(host, port, keepalive=keepalive)
        c.loop_start()
        self._wait_first_connect(connect_timeout)

    @classmethod
    def from_env(cls, environ=None, **kwargs) -> Uplink:
        """Broker and account of this kernel (DAQLAB_MQTT_URL/USER/PASSWORD, DAQLAB_PRODUCT_KEY)."""
        from daqlab.station import my_platform

        p = my_platform(environ)
        return cls(p.host, p.port, p.username, p.password, product_key=p.product_key, **kwargs)

    # ------------------------------------------------------------ paho callbacks (network thread)
    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            self._refused = str(reason_code)
            self._ever_connected.set()
            client.disconnect()  # bad credentials will not get better by retrying
            return
        info = client.publish(self.topics.status, json.dumps({"status": "online", "time": _now_ms()}), qos=1,
                              retain=True)
        # its PUBACK is not one of ours: on_publish (this same network thread, later) must not keep it in _early,
        # or when paho's message ids wrap a new message with that id would count as acknowledged at once
        self._foreign = {info.mid}  # a status of an earlier connection is not waited for any more
        if self.confirm:
            client.subscribe(self.topics.post_reply, qos=1)
        with self._lock:
            self._connected = True
            if self.confirm:  # what the broker took but the platform never answered: send again (same id)
                waiting = {m[1] for m in self._held} | {m[1] for m in self._unacked.values()}
                again = [m for m in self._unconfirmed.values() if m[1] not in waiting]
                self._held.extendleft(reversed(again))
            while self._held:
                self._hand_over(self._held.popleft())
        self._ever_connected.set()

    def _on_reply(self, client, userdata, msg):
        try:
            doc = json.loads(msg.payload)
            msg_id = str(doc["id"])
        except (ValueError, KeyError, TypeError):
            return
        with self._ack:
            if self._unconfirmed.pop(msg_id, None) is not None and not self._unconfirmed:
                self._ack.notify_all()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self._connected = False  # a plain store: publish() sees it at its next call

    def _on_publish(self, client, userdata, mid, reason_code, properties):
        if mid in self._foreign:
            self._foreign.discard(mid)
            return
        with self._ack:
            if self._unacked.pop(mid, None) is not None:
                self.sent += 1
            else:
                self._early.add(mid)
            if not self._unacked:  # flush() waits for this (it also re-checks every 0.1 s): waking it
                self._ack.notify_all()  # on every ack took the GIL from this thread thousands of times

    # ---------------------------------------------------------------- internals (lock held)
    def _hand_over(self, msg) -> None:
        topic, payload, qos, retain = msg
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if qos == 0 and info.rc != mqtt.MQTT_ERR_SUCCESS:
            self._held.appendleft(msg)  # QoS 0 is not queued by paho: hold it ourselves
            self._connected = False
            return
        # QoS 1/2 that met a dropped connection stay in paho's queue and are re-sent on reconnect
        with self._ack:
            if info.mid in self._early:
                self._early.discard(info.mid)
                self.sent += 1
            else:
                self._unacked[info.mid] = msg

    def _wait_first_connect(self, timeout: float) -> None:
        if not self._ever_connected.wait(timeout):
            return  # broker down at start: keep holding messages, reconnects go on in the background
        if self._refused:
            self.client.loop_stop()
            raise UplinkError(f"the broker refused the connection: {self._refused} (check user name and password)")

    def _enqueue(self, payload: dict, topic: str | None = None) -> int:
        msg = (topic or self.topics.post, json.dumps(payload, separators=(",", ":"), allow_nan=False), self.qos,
               self.retain if topic is None else False)
        if self.confirm and topic is None:  # the platform answers property posts only
            with self._ack:
                self._unconfirmed[str(payload["id"])] = msg
        with self._lock:
            if len(self._held) + len(self._unacked) >= self.max_pending:
                self.dropped += 1
                raise UplinkError(f"{self.max_pending} messages are waiting for the broker: not accepting more")
            if self._connected and not self._held:
                self._hand_over(msg)
            else:
                self._held.append(msg)
        return int(payload["id"])

    # --------------------------------------------------------------------------- public API
    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def pending(self) -> int:
        """Messages not yet delivered: held while offline + in flight (+ not yet confirmed, with ``confirm``)."""
        with self._lock, self._ack:
            return len(self._held) + len(self._unacked) + len(
                {m[1] for m in self._unconfirmed.values()} - {m[1] for m in self._held} - {m[1] for m in self._unacked.values()})

    def _changed(self, ident: str, value, now: float) -> bool:
        last = self._last.get(ident)
        if last is None or self.deadband is None:
            return True
        if self.heartbeat_s is not None and now - last[1] >= self.heartbeat_s:
            return True
        band = self.deadband.get(ident, self.deadband.get(ident.replace("_", ".", 1), 0.0)) \
            if isinstance(self.deadband, dict) else self.deadband
        if isinstance(value, bool | str) or isinstance(last[0], bool | str):
            return value != last[0]
        return abs(float(value) - float(last[0])) > float(band)

    def publish(self, values: dict, time_ms=None) -> int | None:
        """Publish one sample (tag name or identifier -> value). Returns the message id, or None when
        nothing changed beyond the deadband (or every value was bad)."""
        now = time.monotonic()
        t = _now_ms() if time_ms is None else time_ms
        keep = {}
        for name, value in values.items():
            if hasattr(value, "item"):
                value = value.item()
            if value is None or (isinstance(value, float) and not math.isfinite(value)):
                continue  # bad quality: leave it out
            ident = _identifier(name)
            if self._changed(ident, value, now):
                keep[ident] = value
        if not keep:
            return None
        for ident, value in keep.items():
            self._last[ident] = (value, now)
        return self._enqueue(property_post(keep, t, next(self._ids)))

    def publish_status(self, qualities: dict, time_ms=None) -> int:
        """Publish a point-status event (tag name -> quality, every point) at ``time_ms`` (default now);
        held and forwarded like the posts, in order with them. Returns the message id."""
        t = _now_ms() if time_ms is None else time_ms
        return self._enqueue(point_status(qualities, t, next(self._ids)), self.topics.event(EVENT_POINT_STATUS))

    def publish_sample(self, sample) -> int | None:
        """Publish a daqlab.acquisition Sample (good values only, at the scan's time)."""
        return self.publish(sample.values, int(sample.epoch * 1000) if sample.epoch else _epoch_ms(sample.time))

    def publish_frame(self, df) -> list[int]:
        """Publish a polled DataFrame, one message per row, at each scan's time. Returns the ids sent."""
        epochs = df.attrs.get("epoch")
        ids = []
        for i, (ts, row) in enumerate(df.iterrows()):
            t = int(epochs[i] * 1000) if epochs and epochs[i] else _epoch_ms(ts)
            mid = self.publish(row.to_dict(), t)
            if mid is not None:
                ids.append(mid)
        return ids

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until the broker acknowledged every message (and, with ``confirm``, the platform answered
        every post); UplinkError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            with self._ack:
                # _held only shrinks on connect: a read is enough
                waiting = len(self._held) + len(self._unacked) + len(self._unconfirmed)
                if not waiting:
                    return
                left = deadline - time.monotonic()
                if left <= 0:
                    raise UplinkError(f"{waiting} message(s) not acknowledged after {timeout:g} s "
                                      f"(broker {'connected' if self._connected else 'unreachable'})")
                self._ack.wait(min(left, 0.1))

    # --------------------------------------------------------------------------- spool
    def _load_spool(self) -> None:
        with open(self.spool, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    m = json.loads(line)
                    msg = (m["topic"], m["payload"], m["qos"], m["retain"])
                    self._held.append(msg)
                    if self.confirm and m["topic"] == self.topics.post:
                        self._unconfirmed[str(json.loads(m["payload"])["id"])] = msg
        self.spool.unlink()
        top = max((int(json.loads(p)["id"]) for _t, p, _q, _r in self._held), default=0)
        self._ids = itertools.count(top + 1)

    def _save_spool(self, messages) -> None:
        from daqlab.atomic import write_atomic

        write_atomic(self.spool, "".join(json.dumps({"topic": t, "payload": p, "qos": q, "retain": r}) + "\n"
                                         for t, p, q, r in messages))

    def close(self, timeout: float = 5.0) -> None:
        """Send what can be sent within ``timeout``, save the rest to the spool file (if any), disconnect
        cleanly (a clean DISCONNECT: the broker does not publish the last will)."""
        try:
            self.flush(timeout)
        except UplinkError:
            pass
        with self._lock, self._ack:
            left = list(self._unacked.values()) + list(self._held)
            sent = {m[1] for m in left}
            left += [m for m in self._unconfirmed.values() if m[1] not in sent]  # taken, never answered
            self._held.clear()
            self._unacked.clear()
            self._unconfirmed.clear()
        if left and self.spool:
            self._save_spool(left)
        elif left:
            self.dropped += len(left)
        if self._connected:
            self.client.publish(self.topics.status, json.dumps({"status": "offline", "time": _now_ms()}),
                                qos=1, retain=True).wait_for_publish(2)
        self.client.disconnect()
        self.client.loop_stop()

    def __enter__(self) -> Uplink:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
