"""Which trusted check scores which grade cell, and what evidence the cell hands in.

Keyed by the grade cell's ``grade_id`` (the same id means the same task in every assignment, e.g. the
final reuses ``test-identify``). The grader (daqlab.course.trusted) calls the check with the evidence
values as its namespace; the check reads the plant's truth and request log itself. tests/ check that
every grade cell of every practical assignment is in this table and hands in these names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from daqlab.grading import assignments, gateway, publish, serial


@dataclass(frozen=True)
class GradeCell:
    check: object  #: function(evidence values) -> points, printing its report
    names: tuple = ()  #: plain values handed in
    figures: tuple = ()  #: matplotlib figures handed in as summaries
    calls: dict = field(default_factory=dict)  #: functions called in the kernel: name -> times
    files: tuple = ()  #: files the task saves (the grader reads its own copy of them)

    def hand_in_source(self) -> str:
        """The grade cell's body in the source notebook (and so in the release)."""
        args = ", ".join(repr(n) for n in self.names)
        extra = []
        if self.files:
            extra.append(f"files={self.files!r}")
        if self.figures:
            extra.append(f"figures={self.figures!r}")
        if self.calls:
            extra.append(f"calls={self.calls!r}")
        inner = ", ".join(x for x in [args, *extra] if x)
        return f"from daqlab.grading.evidence import hand_in\nhand_in(globals(){', ' if inner else ''}{inner})"


CELLS: dict[str, GradeCell] = {
    "test-identify": GradeCell(assignments.identify, ("serial_number", "firmware", "units")),
    "test-sensor": GradeCell(assignments.sensor, ("temperature", "humidity")),
    "test-meter": GradeCell(assignments.meter, ("voltage_l1", "energy_import")),
    "test-analog": GradeCell(assignments.analog, ("pressure", "motor_temp")),
    "test-status": GradeCell(assignments.status, ("alarm_flags", "state_name")),
    "test-csv": GradeCell(assignments.acquisition_csv, (), files=("results/station_log.csv",)),
    "test-kpis": GradeCell(assignments.acquisition_kpis, ("kpis",)),
    "test-figure": GradeCell(assignments.acquisition_figure, (), figures=("fig",)),
    "test-start": GradeCell(assignments.control_start, ("reached_freq",)),
    "test-stop": GradeCell(assignments.control_stop, ("stopped_freq",)),
    "test-diagnose": GradeCell(assignments.diagnose, ("meter_unit", "meter_order", "th_status")),
    # read_parts() is called 20 times at hand-in: with 30 % of the PLC's requests dropped a read without retries
    # survives 20 calls once in ~1,200 (0.7**20), however the drops fall; with 8 retries a call fails once in 50,000
    "test-troubleshoot": GradeCell(assignments.troubleshoot, ("meter_unit", "meter_order", "voltage_l1", "th_status"),
                                   calls={"read_parts": assignments.PARTS_CALLS}),
    # graded at the broker: `up` is handed in only so that a blank notebook says "not answered yet"
    "test-connect": GradeCell(publish.status, ("up",)),
    "test-posts": GradeCell(publish.posts, ("up",)),
    # the gateway practical: the two files as the grader copied them, then what reached the broker
    "test-points": GradeCell(gateway.point_table, (), files=(gateway.POINTS_FILE,)),
    "test-config": GradeCell(gateway.configuration, (), files=(gateway.CONFIG_FILE,)),
    "test-uplink": GradeCell(gateway.uplink, ("gw",)),
    # the mock final's RS-485 task: the bus's settings and a value read over it (daqlab.grading.serial)
    "test-serial": GradeCell(serial.serial, ("serial_settings", "rtu_output_freq")),
}
