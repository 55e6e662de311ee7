"""Tag validation and tag-table import (CSV, YAML, manual references, Neuron addresses)."""

import math

import pytest

from daqlab.acquisition import Tag, TagError, TagTableError, load, load_csv, load_yaml, parse_neuron
from daqlab.acquisition.codec import encode
from daqlab.acquisition.tags import to_rows
from daqlab.plant import tag_table


@pytest.mark.parametrize(("kwargs", "reason"), [
    (dict(name="x", unit=0, area="holding", address=0), "broadcast"),
    (dict(name="x", unit=1, area="coil", address=0, dtype="INT16"), "single bits"),
    (dict(name="x", unit=1, area="holding", address=0, dtype="BOOL"), "use type BIT"),
    (dict(name="x", unit=1, area="holding", address=0, dtype="BIT"), "bit 0..15"),
    (dict(name="x", unit=1, area="holding", address=0, dtype="STRING"), "positive length"),
    (dict(name="x", unit=1, area="holding", address=65535, dtype="FLOAT32"), "run past 65535"),
    (dict(name="x", unit=1, area="holding", address=0, order="ACBD"), "byte order"),
    (dict(name="x", unit=1, area="eeprom", address=0), "unknown register area"),
    (dict(name="x", unit=1, area="holding", address=0, dtype="INT24"), "unknown data type"),
    (dict(name="x", unit=1, area="holding", address=0, scale=0), "scale"),
])
def test_bad_tags_are_rejected_at_construction(kwargs, reason):
    with pytest.raises(ValueError, match=reason):
        Tag(**kwargs)


@pytest.mark.parametrize(("suffix", "order"), [("LL", "ABCD"), ("LB", "BADC"), ("BL", "CDAB"), ("BB", "DCBA")])
def test_neuron_32_bit_endian_suffixes(suffix, order):
    fields = parse_neuron(f"3!300001#{suffix}")
    assert fields == {"unit": 3, "area": "input", "address": 0, "order": order}
    tag = Tag(name="v", dtype="FLOAT32", **fields)
    assert math.isclose(tag.decode(encode(230.0, "FLOAT32", order)), 230.0)


def test_neuron_bits_strings_and_16_bit_suffixes():
    assert parse_neuron("1!400010.4") == {"unit": 1, "area": "holding", "address": 9, "bit": 4, "dtype": "BIT"}
    assert parse_neuron("1!400004#B")["order"] == "BADC"
    assert parse_neuron("1!400004#L")["order"] == "ABCD"
    assert parse_neuron("1!400017.16H") == {"unit": 1, "area": "holding", "address": 16, "dtype": "STRING",
                                             "length": 16, "order": "ABCD"}
    assert parse_neuron("1!400017.10", "STRING")["order"] == "BADC"  # Neuron's default string order L
    assert parse_neuron("1!400017.10")["dtype"] == "BIT" and parse_neuron("1!400017.10")["bit"] == 10
    with pytest.raises(TagError, match="bit 16 outside"):
        parse_neuron("1!400017.16")
    with pytest.raises(TagError, match="not a Neuron address"):
        parse_neuron("1:400001")
    with pytest.raises(TagError, match="registers, not to coils"):
        parse_neuron("1!000001.3")


CSV = """name,slave_id,register,address,type,byte_order,scale,offset,unit,description
voltage,3,input,0,FLOAT32,CDAB,,,V,phase 1
temperature,2,,30002,INT16,,0.1,,°C,SHT20
energy,,,3!300073#BL,FLOAT32,,,,kWh,Neuron style
speed,1,4x,4x0001,UINT16,,0.01,,Hz,4x notation
freq,4,holding,0x2103,UINT16,,0.01,,Hz,hex PDU address
run,1,coil,0,,,,,,coil defaults to BOOL
"""


def test_csv_rows_convert_addresses_exactly_once():
    v, t, e, s, f, r = load_csv(CSV)
    assert (f.area, f.address) == ("holding", 0x2103)
    assert (v.unit, v.area, v.address, v.order, v.eng_unit) == (3, "input", 0, "CDAB", "V")
    assert (t.area, t.address, t.scale) == ("input", 1, 0.1)
    assert (e.unit, e.area, e.address, e.order) == (3, "input", 72, "CDAB")
    assert (s.area, s.address) == ("holding", 0)
    assert (r.area, r.dtype) == ("coil", "BOOL")


def test_bad_rows_are_all_reported_with_row_numbers():
    text = ("name,slave_id,register,address,type\n"
            "a,1,holding,40001,INT16\n"       # row 2 ambiguous
            "b,1,holding,12,INT16\n"          # row 3 fine
            "b,1,holding,13,INT16\n"          # row 4 duplicate
            "c,1,input,2!300001,INT16\n"      # row 5 slave mismatch
            "d,x,holding,1,INT16\n"           # row 6 bad unit
            "e,1,holding,3,INT16,extra\n")    # row 7 unknown column (None key is dropped) -> fine
    with pytest.raises(TagTableError) as exc:
        load_csv(text)
    rows = dict(exc.value.errors)
    assert set(rows) == {2, 4, 5, 6}
    assert "ambiguous" in rows[2] and "4x0001" in rows[2]
    assert "duplicate name 'b'" in rows[4]
    assert "slave 2" in rows[5]
    assert "not an integer" in rows[6]


def test_yaml_with_defaults(tmp_path):
    path = tmp_path / "meter.yaml"
    path.write_text("defaults: {slave_id: 3, register: input, type: FLOAT32, byte_order: CDAB}\n"
                    "tags:\n  - {name: v1, address: 0, unit: V}\n  - {name: f, address: 70, unit: Hz}\n"
                    "  - {name: bad, address: 4x0001}\n", encoding="utf-8")
    with pytest.raises(TagTableError) as exc:
        load(path)
    assert exc.value.errors[0][0] == 3 and "holding area but register says input" in exc.value.errors[0][1]
    path.write_text(path.read_text().replace("  - {name: bad, address: 4x0001}\n", ""), encoding="utf-8")
    v1, f = load_yaml(path)
    assert (v1.unit, v1.order, f.address, f.eng_unit) == (3, "CDAB", 70, "Hz")


def test_station_tag_table_round_trips_through_csv(tmp_path):
    import csv

    tags = tag_table(4, seed=7)
    assert len(tags) == 77
    path = tmp_path / "station4.csv"
    rows = to_rows(tags)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=[k for k in rows[0] if k != "reference"], extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    again = load(path)
    assert [(t.name, t.unit, t.area, t.address, t.dtype, t.order, t.length) for t in again] == \
           [(t.name, t.unit, t.area, t.address, t.dtype, t.order, t.length) for t in tags]
