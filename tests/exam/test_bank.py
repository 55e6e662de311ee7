"""The item bank: schema, coverage and no duplicates; a bad bank is refused with every reason."""

from collections import Counter
from pathlib import Path

import pytest
import yaml

from daqlab.exam.bank import AREAS, BankError, load_bank, load_public, public_items

BANK = Path(__file__).resolve().parents[2] / "source" / "exam" / "bank"


@pytest.fixture(scope="module")
def bank():
    return load_bank(BANK)


def test_bank_size_and_coverage(bank):
    assert len(bank) >= 300
    per_area = Counter(i.area for i in bank.values())
    assert set(per_area) == set(AREAS)
    assert min(per_area.values()) >= 15
    assert per_area["modbus"] + per_area["datatypes"] + per_area["signals"] >= 60
    kinds = Counter(i.type for i in bank.values())
    assert kinds["single"] >= 150 and kinds["multiple"] >= 50 and kinds["truefalse"] >= 60


def test_every_item_is_well_formed(bank):
    for item in bank.values():
        assert item.id.startswith(AREAS[item.area][0])
        assert item.stem["zh"] and item.stem["en"] and item.explanation["zh"] and item.explanation["en"]
        if item.type == "single":
            assert list(item.options) == list("ABCD") and item.key in item.options
        elif item.type == "multiple":
            assert 4 <= len(item.options) <= 6 and 2 <= len(item.key) < len(item.options)
            assert set(item.key) <= set(item.options)
        else:
            assert item.options == {} and isinstance(item.key, bool)


def test_keys_are_spread_out(bank):
    singles = Counter(i.key for i in bank.values() if i.type == "single")
    assert min(singles.values()) >= 0.15 * sum(singles.values()), singles
    tf = Counter(i.key for i in bank.values() if i.type == "truefalse")
    assert abs(tf[True] - tf[False]) <= 0.2 * sum(tf.values()), tf


def test_trainee_copy_is_in_sync_and_has_no_keys(bank):
    public = load_public()
    assert sorted(public.values(), key=lambda d: d["id"]) == public_items(bank), "run `daqlab exam build`"
    for d in public.values():
        assert set(d) == {"id", "area", "type", "stem", "options", "pool"} and d["pool"] == "practice"
    contest = {i.id for i in bank.values() if i.pool == "contest"}
    assert contest and not contest & set(public), "no contest item's text is in the trainee-side copy"


def test_the_contest_pool_is_apart_and_big_enough_for_every_paper(bank):
    """Practice papers draw only practice items and the contest paper only contest items, and each pool holds
    what its blueprints need in every area and type: practice feedback never shows a contest item."""
    from collections import Counter

    from daqlab.exam.blueprint import all_blueprints

    have = Counter((i.pool, i.area, i.type) for i in bank.values())
    for bp in all_blueprints().values():
        for area, quota in bp.quotas.items():
            for kind, n in quota.items():
                assert have[(bp.pool, area, kind)] >= n, (bp.name, area, kind, have[(bp.pool, area, kind)], n)


def test_a_bad_bank_is_refused_with_every_reason(tmp_path):
    good = yaml.safe_load((BANK / "modbus.yaml").read_text(encoding="utf-8"))[:3]
    bad = [dict(good[0]), dict(good[1]), dict(good[2]), dict(good[0])]
    bad[0]["key"] = "E"                               # key not an option
    bad[1] = {**bad[1], "stem": {"zh": "", "en": "x"}}  # missing Chinese
    bad[2] = {**bad[2], "type": "multiple", "key": ["A"]} if bad[2]["type"] != "truefalse" else {**bad[2], "key": "yes"}
    (tmp_path / "modbus.yaml").write_text(yaml.safe_dump(bad, allow_unicode=True), encoding="utf-8")
    with pytest.raises(BankError) as exc:
        load_bank(tmp_path)
    text = "\n".join(exc.value.problems)
    assert "is not one of the options" in text
    assert "stem needs non-empty zh and en" in text
    assert "duplicate id" in text
    assert len(exc.value.problems) >= 4
