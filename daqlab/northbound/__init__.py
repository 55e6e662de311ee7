"""Northbound: acquired data goes up to a platform over MQTT (a gateway's "uplink").

- :mod:`broker` runs DAQ Lab's own Mosquitto (Debian package) on 127.0.0.1 with a generated config;
- :mod:`accounts` makes per-trainee credentials and ACLs from the roster;
- :mod:`thingmodel` is the topic and JSON payload convention (Alink-style property post) and its schema;
- :mod:`uplink` publishes samples or polled DataFrames (QoS, retain, last will, deadband, store-and-forward);
- :mod:`recorder` is the platform side: captures every message with its time, topic and QoS, and replies.
"""

from daqlab.northbound.accounts import Account, device_account, platform_account, roster_accounts
from daqlab.northbound.broker import Broker
from daqlab.northbound.recorder import Record, Recorder
from daqlab.northbound.thingmodel import ThingTopics, identifier, property_post, validate
from daqlab.northbound.uplink import Uplink

__all__ = ["Account", "Broker", "Record", "Recorder", "ThingTopics", "Uplink", "device_account", "identifier",
           "platform_account", "property_post", "roster_accounts", "validate"]
