"""DAQ Lab's Mosquitto: its own process and config, anonymous off, per-trainee ACLs, no silent queue limit."""

import threading
import time

import paho.mqtt.client as mqtt
import pytest

from daqlab.northbound import Broker, device_account, platform_account
from daqlab.northbound.broker import BrokerError

from .conftest import need_mosquitto


class Client:
    """A plain paho 2.x client that remembers what happened to it."""

    def __init__(self, broker, username=None, password=None, *, protocol=mqtt.MQTTv5, client_id="", clean=True):
        kwargs = {"protocol": protocol, "client_id": client_id}
        if protocol != mqtt.MQTTv5:
            kwargs["clean_session"] = clean
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, **kwargs)
        if username:
            self.c.username_pw_set(username, password)
        self.c.max_queued_messages_set(0)
        self.connack = None
        self.messages, self.pubacks, self.subacks = [], [], []
        self.connected = threading.Event()
        self.c.on_connect = self._on_connect
        self.c.on_message = lambda c, u, m: self.messages.append((m.topic, m.payload, m.qos))
        self.c.on_publish = lambda c, u, mid, rc, p: self.pubacks.append(rc)
        self.c.on_subscribe = lambda c, u, mid, rcs, p: self.subacks.append(rcs)
        self.c.connect(broker.host, broker.port, keepalive=30)
        self.c.loop_start()
        assert self.connected.wait(5), "no CONNACK"

    def _on_connect(self, c, u, flags, rc, props):
        self.connack = rc
        self.connected.set()

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


def wait(pred, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return pred()


def test_generated_config_runs_our_own_broker_on_loopback(broker):
    conf = (broker.workdir / "mosquitto.conf").read_text()
    assert "allow_anonymous false" in conf and "max_queued_messages 0" in conf
    assert f"listener {broker.port} 127.0.0.1" in conf
    assert broker.running and broker.url == f"mqtt://127.0.0.1:{broker.port}"
    assert "t01:" in (broker.workdir / "passwd").read_text() and "$7$" in (broker.workdir / "passwd").read_text()


@pytest.mark.parametrize("who", ["anonymous", "wrong password", "unknown user"])
def test_connections_without_valid_credentials_are_refused(broker, accounts, who):
    creds = {"anonymous": (None, None), "wrong password": ("t01", "nope"), "unknown user": ("t99", "x")}[who]
    c = Client(broker, *creds)
    try:
        assert c.connack.is_failure and "authori" in str(c.connack).lower()
    finally:
        c.close()


def test_a_trainee_publishes_under_their_own_device_and_the_platform_sees_it(broker, accounts, recorder):
    t01 = accounts["t01"]
    c = Client(broker, t01.username, t01.password)
    try:
        c.c.publish(t01.topics.post, b'{"hello": 1}', qos=1).wait_for_publish(5)
        assert c.pubacks and not c.pubacks[-1].is_failure
        got = recorder.wait_for(1, device="t01", kind="post")
        assert got and got[0].payload == '{"hello": 1}' and got[0].qos == 1
    finally:
        c.close()


def test_a_trainee_is_refused_on_another_trainees_topic(broker, accounts, recorder):
    t01, t02 = accounts["t01"], accounts["t02"]
    c = Client(broker, t01.username, t01.password)
    try:
        c.c.publish(t02.topics.post, b'{"forged": true}', qos=1).wait_for_publish(5)
        assert wait(lambda: c.pubacks) and c.pubacks[-1].is_failure and "Not authorized" in str(c.pubacks[-1])
        # and nobody received it
        time.sleep(0.3)
        assert not recorder.records(device="t02")
    finally:
        c.close()


def test_a_trainee_cannot_read_another_trainees_topics(broker, accounts):
    t01, t02 = accounts["t01"], accounts["t02"]
    spy = Client(broker, t01.username, t01.password)
    owner = Client(broker, t02.username, t02.password)
    try:
        spy.c.subscribe("/sys/daqlab/t02/#", qos=1)
        spy.c.subscribe("/sys/#", qos=1)
        assert wait(lambda: len(spy.subacks) == 2)  # Mosquitto 2.0 grants the SUBACK ...
        owner.c.publish(t02.topics.post, b'{"secret": 1}', qos=1).wait_for_publish(5)
        owner.c.publish(t01.topics.post, b'{"not mine": 1}', qos=1).wait_for_publish(5)  # refused too
        time.sleep(0.5)
        assert spy.messages == []  # ... but delivers nothing the ACL does not allow
        assert owner.pubacks[0].is_failure is False and owner.pubacks[1].is_failure
    finally:
        spy.close()
        owner.close()


def test_an_offline_subscriber_gets_all_5000_qos1_messages(broker, accounts):
    """max_queued_messages 0: the default limit (1000) would silently drop most of these."""
    plat = accounts["platform"]
    sub = Client(broker, plat.username, plat.password, protocol=mqtt.MQTTv311, client_id="slow-sub", clean=False)
    sub.c.subscribe("/sys/daqlab/t01/#", qos=1)
    assert wait(lambda: sub.subacks)
    sub.close()  # offline: the broker queues for it
    t01 = accounts["t01"]
    pub = Client(broker, t01.username, t01.password, protocol=mqtt.MQTTv311)
    infos = [pub.c.publish(t01.topics.post, str(i).encode(), qos=1) for i in range(5000)]
    for info in infos:
        info.wait_for_publish(10)
    pub.close()
    sub = Client(broker, plat.username, plat.password, protocol=mqtt.MQTTv311, client_id="slow-sub", clean=False)
    try:
        assert wait(lambda: len(sub.messages) >= 5000, timeout=20)
        assert sorted(int(p) for _t, p, _q in sub.messages) == list(range(5000))
    finally:
        sub.close()


def test_accounts_can_be_added_to_a_running_broker(secret):
    need_mosquitto()
    with Broker([device_account("t01", secret), platform_account(secret)]) as b:
        t03 = device_account("t03", secret)
        c = Client(b, t03.username, t03.password)
        assert c.connack.is_failure
        c.close()
        b.update_accounts([device_account("t01", secret), t03, platform_account(secret)])
        ok = wait(lambda: not Client(b, t03.username, t03.password).connack.is_failure, timeout=5)
        assert ok, "SIGHUP did not reload the password file"


def test_a_taken_port_is_a_clear_error(broker, accounts):
    need_mosquitto()
    other = Broker(list(accounts.values()), port=broker.port)
    with pytest.raises(BrokerError, match="did not start"):
        other.start(timeout=3)
    other.close()


def test_restart_keeps_the_port(secret):
    need_mosquitto()
    with Broker([platform_account(secret)]) as b:
        port = b.port
        b.restart()
        assert b.port == port and b.running
    assert not b.running


def test_with_a_platform_listener_no_device_can_log_in_there_nor_take_another_session(secret):
    """The hub's broker: devices connect with their user name as client id (``use_username_as_clientid``), so
    alice asking for bob's (or the recorder's) client id gets her own and knocks nobody off; the platform
    accounts are alone on their listener, where a device account is refused."""
    need_mosquitto()
    alice, bob, plat = device_account("alice", secret), device_account("bob", secret), platform_account(secret)
    with Broker([alice, bob, plat], platform_port=0) as b:
        assert b.platform_port and b.platform_port != b.port
        rec = Client(PlatformSide(b), plat.username, plat.password, client_id="rec-x")
        assert str(rec.connack) == "Success"
        intruder = Client(PlatformSide(b), alice.username, alice.password)
        assert str(intruder.connack) in ("Bad user name or password", "Not authorized"), intruder.connack
        intruder.close()
        refused = Client(b, plat.username, plat.password)  # the platform is not on the devices' listener
        assert str(refused.connack) in ("Bad user name or password", "Not authorized"), refused.connack
        refused.close()
        victim = Client(b, bob.username, bob.password, client_id="bob-gateway")
        gone = threading.Event()
        victim.c.on_disconnect = lambda *a: gone.set()
        for cid in ("bob", "bob-gateway", "rec-x"):
            thief = Client(b, alice.username, alice.password, client_id=cid)
            assert str(thief.connack) == "Success"
            thief.close()
        assert not gone.wait(1.0), "bob's session was taken over"
        assert rec.c.is_connected() and victim.c.is_connected()
        victim.close()
        rec.close()


class PlatformSide:
    """A broker seen from its platform listener (host and port for Client)."""

    def __init__(self, broker):
        self.host, self.port = broker.host, broker.platform_port
