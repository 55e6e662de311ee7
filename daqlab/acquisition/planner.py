"""Read planning (pure, no I/O): group tags into the fewest Modbus read requests.

Rules, per unit id and register area:

- a request reads at most ``max_registers`` registers (FC 03/04, protocol limit 125) or ``max_bits``
  bits (FC 01/02, limit 2000);
- two neighbouring tags share a request only when the unrequested registers between them (the gap
  fill) are at most ``max_gap`` (0 = only touching tags; gap-filled registers must be readable on the
  device, so raise it only as far as the device's datasheet allows);
- a multi-register value is never split.

The greedy sweep (sort by address, extend the open request while both rules hold) is minimal for
these rules: any feasible sub-run of a feasible run is feasible, so taking the longest possible
prefix never costs a request (the property tests check it against an exhaustive search).
"""

from __future__ import annotations

from dataclasses import dataclass

from daqlab.acquisition.tags import BIT_AREAS, Tag

FUNCTION = {"coil": 1, "discrete": 2, "holding": 3, "input": 4}
MAX_REGISTERS, MAX_BITS = 125, 2000


@dataclass(frozen=True)
class ReadRequest:
    unit: int  #: unit id
    area: str  #: register area
    address: int  #: 0-based start address
    count: int  #: registers (or bits) to read
    tags: tuple  #: the tags this request serves

    @property
    def function(self) -> int:
        """Function code that reads the area (01 coils, 02 discrete, 03 holding, 04 input)."""
        return FUNCTION[self.area]

    @property
    def end(self) -> int:
        """Last address read (inclusive)."""
        return self.address + self.count - 1

    @property
    def filled(self) -> int:
        """Registers read that no tag uses (the price of coalescing)."""
        used = set()
        for t in self.tags:
            used.update(range(t.address, t.address + t.count))
        return self.count - len(used)

    def words_for(self, tag: Tag, words):
        """The slice of this request's reply that belongs to ``tag``."""
        start = tag.address - self.address
        return words[start:start + tag.count]


class Plan(list):
    """A list of ReadRequest with a readable summary (``plan.table()``; trainees learn from it)."""

    def table(self):
        import pandas as pd

        return pd.DataFrame([{"unit": r.unit, "FC": f"{r.function:02d}", "area": r.area, "address": r.address,
                              "count": r.count, "tags": len(r.tags), "filled": r.filled,
                              "names": ", ".join(t.name for t in r.tags)} for r in self])

    @property
    def tags(self) -> int:
        return sum(len(r.tags) for r in self)

    def __repr__(self) -> str:
        return f"Plan({len(self)} requests for {self.tags} tags)"


def plan(tags, *, max_registers: int = MAX_REGISTERS, max_bits: int = MAX_BITS, max_gap: int = 0) -> Plan:
    """The fewest read requests that cover ``tags`` under the rules in the module docstring."""
    if not 1 <= max_registers <= MAX_REGISTERS:
        raise ValueError(f"max_registers must be 1..{MAX_REGISTERS} (FC 03/04 limit)")
    if not 1 <= max_bits <= MAX_BITS:
        raise ValueError(f"max_bits must be 1..{MAX_BITS} (FC 01/02 limit)")
    if max_gap < 0:
        raise ValueError("max_gap must be >= 0")
    groups: dict[tuple[int, str], list[Tag]] = {}
    for t in tags:
        groups.setdefault((t.unit, t.area), []).append(t)
    out = Plan()
    for (unit, area), group in sorted(groups.items(), key=lambda kv: (kv[0][0], FUNCTION[kv[0][1]])):
        limit = max_bits if area in BIT_AREAS else max_registers
        group.sort(key=lambda t: (t.address, -t.count))
        start = end = None
        members: list[Tag] = []
        for t in group:
            t_end = t.address + t.count - 1
            if t.count > limit:
                raise ValueError(f"{t.name}: {t.count} registers exceed max_registers={limit}")
            if start is not None and t.address - end - 1 <= max_gap and max(end, t_end) - start + 1 <= limit:
                end = max(end, t_end)
                members.append(t)
                continue
            if start is not None:
                out.append(ReadRequest(unit, area, start, end - start + 1, tuple(members)))
            start, end, members = t.address, t_end, [t]
        if start is not None:
            out.append(ReadRequest(unit, area, start, end - start + 1, tuple(members)))
    return out


def naive(tags) -> Plan:
    """One request per tag: what a first script does (for comparison)."""
    return Plan(ReadRequest(t.unit, t.area, t.address, t.count, (t,)) for t in tags)
