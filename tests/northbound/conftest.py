import os

import pytest

from daqlab.northbound import Broker, Recorder, roster_accounts
from daqlab.northbound.accounts import new_secret
from daqlab.northbound.broker import BrokerError, find_tool


def need_mosquitto() -> None:
    try:
        find_tool("mosquitto")
        find_tool("mosquitto_passwd")
    except BrokerError as exc:
        if os.environ.get("CI"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def secret():
    return new_secret()


@pytest.fixture(scope="module")
def accounts(secret):
    """t01, t02 (devices) and the platform account, by user name."""
    return {a.username: a for a in roster_accounts(["t01", "t02"], secret)}


@pytest.fixture(scope="module")
def broker(accounts):
    need_mosquitto()
    with Broker(list(accounts.values())) as b:
        yield b


@pytest.fixture
def recorder(broker, accounts):
    rec = Recorder.connect(broker, accounts["platform"])
    yield rec
    rec.close()
