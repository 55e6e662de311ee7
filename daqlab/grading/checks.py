"""Checks with points and a message each; a Report prints them and returns the points earned."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Check:
    name: str  #: what is checked, short
    points: float  #: points available
    passed: bool  #: the trainee's work is right
    message: str  #: why (always filled: what was expected or found)
    earned: float = -1.0  #: points earned (defaults to all or nothing)

    @property
    def score(self) -> float:
        return self.earned if self.earned >= 0 else (self.points if self.passed else 0.0)


class Report:
    """Collects checks for one grade cell. ``report.total()`` prints the table and returns the score."""

    def __init__(self, title: str):
        self.title = title
        self.checks: list[Check] = []

    def add(self, name: str, points: float, passed: bool, message: str, earned: float = -1.0) -> bool:
        self.checks.append(Check(name, points, bool(passed), message, earned))
        return bool(passed)

    def guard(self, name: str, points: float, fn, *args, **kwargs) -> bool:
        """Run a check function that returns (passed, message); an exception fails only this check."""
        try:
            passed, message = fn(*args, **kwargs)
        except Exception as exc:  # a broken answer must not cost the other checks
            passed, message = False, f"无法检查（could not check）：{type(exc).__name__}: {exc}"
        return self.add(name, points, passed, message)

    @property
    def points(self) -> float:
        return sum(c.points for c in self.checks)

    def total(self) -> float:
        earned = sum(c.score for c in self.checks)
        print(f"{self.title}: {earned:g} / {self.points:g}")
        for c in self.checks:
            print(f"  {'✓' if c.passed else '✗'} {c.name} ({c.score:g}/{c.points:g}): {c.message}")
        self._save()
        return earned

    def _save(self) -> None:
        """Per-check results beside the autograded notebook (the results dashboard reads them)."""
        import json
        import os
        from pathlib import Path

        if os.environ.get("NBGRADER_EXECUTION") != "autograde" and not os.environ.get("DAQLAB_RESULTS_DIR"):
            return
        path = Path(os.environ.get("DAQLAB_RESULTS_DIR") or ".") / "practical_results.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"checks": []}
        except (OSError, ValueError):
            data = {"checks": []}
        data["checks"] = [c for c in data["checks"] if c.get("cell") != self.title]
        data["checks"] += [{**asdict(c), "score": c.score, "cell": self.title} for c in self.checks]
        data.update(student=os.environ.get("DAQLAB_STUDENT_ID", ""), assignment=os.environ.get("DAQLAB_ASSIGNMENT", ""))
        from daqlab.atomic import write_atomic

        write_atomic(path, json.dumps(data, ensure_ascii=False, indent=1))
