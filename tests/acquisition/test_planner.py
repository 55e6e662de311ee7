"""The read planner: protocol limits, gap rule, never splitting values, minimal request count."""

from hypothesis import given, settings
from hypothesis import strategies as st

from daqlab.acquisition import Tag, naive, plan
from daqlab.plant import tag_table

AREAS = ["coil", "discrete", "holding", "input"]
REG_TYPES = {"UINT16": 1, "FLOAT32": 2, "FLOAT64": 4}


@st.composite
def tag_lists(draw):
    n = draw(st.integers(1, 30))
    tags = []
    for i in range(n):
        area = draw(st.sampled_from(AREAS))
        dtype = "BOOL" if area in ("coil", "discrete") else draw(st.sampled_from(list(REG_TYPES)))
        tags.append(Tag(name=f"t{i}", unit=draw(st.integers(1, 3)), area=area, address=draw(st.integers(0, 300)),
                        dtype=dtype))
    return tags


def span(t):
    return t.address, t.address + t.count - 1


def optimum(group, limit, max_gap):
    """Exhaustive minimum over partitions of the sorted group into consecutive runs."""
    group = sorted(group, key=lambda t: (t.address, -t.count))
    best = [0] + [10**9] * len(group)
    for j in range(1, len(group) + 1):
        for i in range(j):
            run = group[i:j]
            start, end, ok = run[0].address, span(run[0])[1], True
            for t in run[1:]:
                if t.address - end - 1 > max_gap:
                    ok = False
                    break
                end = max(end, span(t)[1])
            if ok and end - start + 1 <= limit:
                best[j] = min(best[j], best[i] + 1)
    return best[-1]


@settings(max_examples=300, deadline=None)
@given(tag_lists(), st.integers(4, 125), st.integers(4, 2000), st.integers(0, 12))
def test_plan_properties(tags, max_registers, max_bits, max_gap):
    p = plan(tags, max_registers=max_registers, max_bits=max_bits, max_gap=max_gap)
    covered = [t for r in p for t in r.tags]
    assert sorted(t.name for t in covered) == sorted(t.name for t in tags), "every tag exactly once"
    assert len(p) <= len(tags)
    for r in p:
        limit = max_bits if r.area in ("coil", "discrete") else max_registers
        assert 1 <= r.count <= limit
        for t in r.tags:
            assert (t.unit, t.area) == (r.unit, r.area)
            a, b = span(t)
            assert r.address <= a and b <= r.end, "a value is never split"
    groups = {}
    for t in tags:
        groups.setdefault((t.unit, t.area), []).append(t)
    for (unit, area), group in groups.items():
        limit = max_bits if area in ("coil", "discrete") else max_registers
        mine = sum(1 for r in p if (r.unit, r.area) == (unit, area))
        assert mine == optimum(group, limit, max_gap), "minimal for the gap rule"


def test_contiguous_tags_share_one_request():
    tags = [Tag(name=f"f{i}", unit=3, area="input", address=2 * i, dtype="FLOAT32") for i in range(10)]
    (req,) = plan(tags)
    assert (req.address, req.count, req.function, req.filled) == (0, 20, 4, 0)


def test_limits_and_gaps():
    tags = [Tag(name=f"r{i}", unit=1, area="holding", address=i) for i in range(300)]
    assert [r.count for r in plan(tags)] == [125, 125, 50]
    holes = [Tag(name="a", unit=1, area="holding", address=0), Tag(name="b", unit=1, area="holding", address=5)]
    assert len(plan(holes, max_gap=3)) == 2 and len(plan(holes, max_gap=4)) == 1
    assert plan(holes, max_gap=4)[0].filled == 4
    bits = [Tag(name=f"c{i}", unit=1, area="coil", address=i) for i in range(2500)]
    assert [r.count for r in plan(bits)] == [2000, 500]


def test_station_table_plan_is_at_least_five_times_smaller_than_naive():
    tags = tag_table(1, seed=7)
    p = plan(tags, max_gap=8)
    assert len(naive(tags)) == len(tags) == 77
    assert len(tags) / len(p) >= 5
    table = p.table()
    assert list(table.columns) == ["unit", "FC", "area", "address", "count", "tags", "filled", "names"]
    assert table["tags"].sum() == 77
