"""Blueprints: what a paper contains (counts per type and area, points, duration, pass mark, feedback).

The contest paper reproduces the 2023 Shenzhen theory format (shared/reference/domain.md):
50 single x 1 + 15 multiple x 2 (all-or-nothing) + 20 true/false x 1 = 100 points, 60 minutes,
pass mark 60, explanations hidden (exam mode). Its per-area quotas weight Modbus, data types and
signals most, as the sample papers do. Practice papers take 20 items from one area with
explanations in the feedback.

Quotas are fixed per area, so every trainee's paper has the same points per area: the autograder
records one nbgrader grade cell per area and the gradebook holds the area subtotals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from daqlab.exam.bank import AREAS, TYPES

POINTS = {"single": 1, "multiple": 2, "truefalse": 1}

# area: (single, multiple, true/false) on the contest paper
CONTEST_QUOTAS = {
    "modbus": (10, 3, 4), "datatypes": (5, 2, 2), "signals": (4, 1, 2), "fieldbus": (4, 1, 2),
    "networks": (4, 1, 2), "concepts": (3, 1, 1), "identification": (2, 1, 1), "opcua": (3, 1, 1),
    "mqtt": (3, 1, 1), "plc": (3, 1, 1), "edge": (3, 1, 1), "dataproc": (2, 1, 1), "security": (2, 0, 1),
    "standards": (2, 0, 0),
}


@dataclass(frozen=True)
class Blueprint:
    name: str  #: assignment-friendly name, e.g. "theory-contest"
    title: dict  #: {"en": ..., "zh": ...}
    quotas: dict  #: area -> {type: count}
    points: dict = field(default_factory=lambda: dict(POINTS))  #: type -> points per item
    minutes: int = 60  #: duration
    pass_mark: float = 60.0  #: points needed to pass
    feedback: bool = False  #: show keys and explanations in feedback (practice) or not (exam mode)
    pool: str = "practice"  #: the bank pool it draws from: "contest" items never reach a practice paper

    def __post_init__(self):
        for area, q in self.quotas.items():
            if area not in AREAS:
                raise ValueError(f"{self.name}: unknown area {area!r}")
            if set(q) - set(TYPES):
                raise ValueError(f"{self.name}: unknown item type in {q}")

    def count(self, kind: str) -> int:
        return sum(q.get(kind, 0) for q in self.quotas.values())

    @property
    def total_points(self) -> float:
        return sum(self.points[k] * self.count(k) for k in TYPES)

    def area_points(self, area: str) -> float:
        return sum(self.points[k] * n for k, n in self.quotas.get(area, {}).items())

    @property
    def areas(self) -> list[str]:
        """Areas on the paper, in the bank's area order."""
        return [a for a in AREAS if self.area_points(a) > 0]


def contest() -> Blueprint:
    return Blueprint(
        name="theory-contest",
        title={"en": "Theory round (contest format)", "zh": "理论赛（竞赛模拟卷）"},
        quotas={a: dict(zip(TYPES, q, strict=True)) for a, q in CONTEST_QUOTAS.items()},
        minutes=60, pass_mark=60.0, feedback=False, pool="contest",
    )


def practice(area: str) -> Blueprint:
    if area not in AREAS:
        raise ValueError(f"unknown area {area!r}; use one of {', '.join(AREAS)}")
    _, en, zh = AREAS[area]
    return Blueprint(
        name=f"theory-practice-{area}",
        title={"en": f"Practice: {en}", "zh": f"专项练习：{zh}"},
        quotas={area: {"single": 10, "multiple": 4, "truefalse": 6}},
        minutes=25, pass_mark=15.0, feedback=True,  # 60 % of 24, rounded up
    )


def all_blueprints() -> dict[str, Blueprint]:
    out = {"theory-contest": contest()}
    out.update({f"theory-practice-{a}": practice(a) for a in AREAS})
    return out


def for_assignment(assignment: str) -> Blueprint:
    """The blueprint behind an nbgrader assignment id."""
    bps = all_blueprints()
    if assignment not in bps:
        raise KeyError(f"no exam blueprint for assignment {assignment!r}; known: {', '.join(bps)}")
    return bps[assignment]
