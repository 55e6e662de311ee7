"""Acquisition toolkit: tags, read planning, decoding, polling into pandas, writes.

    from daqlab.acquisition import Reader, load, plan
    tags = load("station.csv")
    print(plan(tags, max_gap=8).table())
    with Reader("tcp://127.0.0.1:5021") as r:
        df = r.poll(tags, period=1.0, count=10, to="data/station.csv")

    # and north to the platform while polling (daqlab.northbound.Uplink, also importable from here)
    from daqlab.acquisition import Uplink
    with Reader(url) as r, Uplink.from_env(qos=1) as up:
        r.poll(tags, period=1.0, count=10, on_sample=up.publish_sample)
"""

from daqlab.acquisition.planner import Plan, ReadRequest, naive, plan
from daqlab.acquisition.reader import AsyncReader, Reader, Sample, WriteError, quality_frame, write_frame
from daqlab.acquisition.tags import Tag, TagError, TagTableError, load, load_csv, load_yaml, parse_neuron

__all__ = ["AsyncReader", "Uplink", "Plan", "ReadRequest", "Reader", "Sample", "Tag", "TagError", "TagTableError", "WriteError",
           "load", "load_csv", "load_yaml", "naive", "parse_neuron", "plan", "quality_frame", "write_frame"]


def __getattr__(name):
    # the uplink lives in daqlab.northbound (it needs paho-mqtt); imported only when asked for
    if name == "Uplink":
        from daqlab.northbound.uplink import Uplink

        return Uplink
    raise AttributeError(f"module 'daqlab.acquisition' has no attribute {name!r}")
