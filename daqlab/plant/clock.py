"""Plant time: real time, accelerated (``speed``), or frozen (advanced only by :meth:`advance`).

Plant time is in seconds since the plant started. The process model integrates in fixed steps of
plant time, so the same seed and the same writes at the same plant times give the same values
whatever the wall clock does.
"""

from __future__ import annotations

import time


class PlantClock:
    """Source of plant time. ``speed=10`` runs ten plant seconds per wall second."""

    def __init__(self, *, speed: float = 1.0, frozen: bool = False):
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = float(speed)  # plant seconds per wall second
        self.frozen = bool(frozen)  # frozen: time moves only through advance()
        self._t0 = time.monotonic()
        self._frozen_at = 0.0

    def now(self) -> float:
        """Current plant time in seconds."""
        if self.frozen:
            return self._frozen_at
        return (time.monotonic() - self._t0) * self.speed

    def advance(self, seconds: float) -> float:
        """Move a frozen clock forward (deterministic grading and tests); returns the new time."""
        if not self.frozen:
            raise RuntimeError("advance() is only for a frozen clock; start the plant with frozen=True")
        if seconds < 0:
            raise ValueError("plant time cannot go backwards")
        self._frozen_at += seconds
        return self._frozen_at
