"""Acquisition toolkit: tags, read planning, decoding, polling into pandas, writes.

    from daqlab.acquisition import Reader, load, plan
    tags = load("station.csv")
    print(plan(tags, max_gap=8).table())
    with Reader("tcp://127.0.0.1:5021") as r:
        df = r.poll(tags, period=1.0, count=10, to="data/station.csv")
"""

from daqlab.acquisition.planner import Plan, ReadRequest, naive, plan
from daqlab.acquisition.reader import AsyncReader, Reader, Sample, WriteError, quality_frame, write_frame
from daqlab.acquisition.tags import Tag, TagError, TagTableError, load, load_csv, load_yaml, parse_neuron

__all__ = ["AsyncReader", "Plan", "ReadRequest", "Reader", "Sample", "Tag", "TagError", "TagTableError", "WriteError",
           "load", "load_csv", "load_yaml", "naive", "parse_neuron", "plan", "quality_frame", "write_frame"]
