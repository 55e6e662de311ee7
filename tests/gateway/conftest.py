import pytest

from daqlab.northbound import Broker, roster_accounts
from daqlab.northbound.accounts import new_secret

from ..northbound.conftest import need_mosquitto


@pytest.fixture(scope="module")
def accounts():
    """g01, g02 (gateways) and the platform account, by user name."""
    return {a.username: a for a in roster_accounts(["g01", "g02", "g03"], new_secret())}


@pytest.fixture(scope="module")
def broker(accounts):
    need_mosquitto()
    with Broker(list(accounts.values()), persistence=True) as b:
        yield b
