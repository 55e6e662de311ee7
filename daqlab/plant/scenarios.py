"""Drill scenarios: what an instructor (or the grading pipeline) switches on for an exercise.

A scenario resets a station and then changes what is *served* without changing the datasheet: a
device moved to another unit id, a word order that differs from the documentation, faults, or a
process state (line running, e-stop pressed). Random choices come from the plant seed, the station
and an instructor-side ``salt``, so trainees cannot compute them from the public code.

=============  ==============================================================================
scenario       what the station does
=============  ==============================================================================
clean          as documented, line stopped (the default)
decode         e-stop pressed and the VFD's external-fault input on: alarm bits estop + vfd_fault
acquire        the line running at 45 Hz
troubleshoot   meter moved to a unit id 10-19, meter word order opposite to the datasheet,
               30 % of PLC requests unanswered, the T/H transmitter's sensor broken
final          the line running at 40 Hz, the T/H sensor broken, meter word order opposite
mock           the mock final (contest shape): the line running at 40 Hz, the meter moved to a unit id 10-19
               with its word order opposite to the datasheet, the T/H transmitter's sensor broken
=============  ==============================================================================

A real bench is prepared for a scenario by the organiser (line running, e-stop pressed, meter readdressed, sensor
unplugged), but nobody makes a line drop requests on purpose: the faults in :data:`WIRE_FAULTS` are what the
grader injects on its own relay in front of a bench (daqlab.course.grade), so a task grades the same there.
"""

from __future__ import annotations

import random
from dataclasses import replace

from daqlab.plant.variants import station_seed


def _flip(order: str) -> str:
    return "CDAB" if order == "ABCD" else "ABCD"


def _run_line(station, hz: float) -> None:
    p = station.process
    p.start(hz)
    p.speed_setpoint = hz
    p.out_freq = hz  # already at speed when the exercise starts


#: scenario -> (device class, fault mode, value) made on the wire: on a simulated station by the plant, in front of a
#: real bench by the grader's relay (daqlab.wirerelay), never by the organiser
WIRE_FAULTS = {"troubleshoot": (("plc", "drop", 30),)}


def wire_faults_text(name: str) -> str:
    """The scenario's wire faults in words, e.g. "plc: drop 30 %" ("" when it has none)."""
    return ", ".join(f"{kind}: {mode} {value} %" if mode == "drop" else f"{kind}: {mode} {value}"
                     for kind, mode, value in WIRE_FAULTS.get(name, ()))


def apply(station, name: str, *, plant_seed: int = 0, salt: str = "", wire: bool = True) -> None:
    """Reset ``station`` and set scenario ``name`` up on it. ``wire=False`` leaves out :data:`WIRE_FAULTS` (what an
    organiser sets on a real bench; the grader's relay adds the rest)."""
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; use one of {', '.join(SCENARIOS)}")
    doc = station.documented
    rng = random.Random(station_seed(plant_seed, doc.station, "scenario", name, salt))
    if name == "clean":
        station.reset(scenario=name)
    elif name == "decode":
        station.reset(scenario=name)
        p = station.process
        p.estop, p.ext_fault, p.vfd_fault = True, True, 16
    elif name == "acquire":
        station.reset(scenario=name)
        _run_line(station, 45.0)
    elif name in ("troubleshoot", "mock"):
        taken = set(doc.units.values())
        meter_unit = rng.choice([u for u in range(10, 20) if u not in taken])
        served = replace(doc, units={**doc.units, "meter": meter_unit}, meter_order=_flip(doc.meter_order))
        station.reset(served, scenario=name)
        if name == "mock":
            _run_line(station, 40.0)
        station.set_fault("th", "broken", True)
    elif name == "final":
        station.reset(replace(doc, meter_order=_flip(doc.meter_order)), scenario=name)
        _run_line(station, 40.0)
        station.set_fault("th", "broken", True)
    for kind, mode, value in WIRE_FAULTS.get(name, ()) if wire else ():
        station.set_fault(kind, mode, value)


SCENARIOS = ("clean", "decode", "acquire", "troubleshoot", "final", "mock")
