"""The item bank: YAML files, one per knowledge area, validated on load.

Item schema (see source/exam/bank/*.yaml)::

    - id: MOD-001            # AREA-NNN, unique and stable
      area: modbus           # one of AREAS
      type: single           # single (4 options) | multiple (4-6 options, >= 2 keys) | truefalse (no options)
      difficulty: 1          # 1..3
      stem: {zh: ..., en: ...}
      options: {A: {zh: ..., en: ...}, ...}
      key: C                 # letter | [letters] | true/false
      explanation: {zh: ..., en: ...}   # cites the rule
      source: "..."          # optional
      pool: contest          # optional: contest (contest papers only) | practice (the default)

Pools: the contest paper draws only from the ``contest`` pool and practice papers only from the
``practice`` pool, so practice feedback (keys and explanations) never shows an item a contest paper can hold.

The bank is instructor-side: :func:`public_items` strips keys, explanations and sources for the copy
shipped to trainees (daqlab/exam/data/items.json), which holds the practice pool only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

#: knowledge areas (shared/reference/domain.md), id prefix, English and Chinese names
AREAS = {
    "concepts": ("CON", "Industrial-internet concepts", "工业互联网概念与政策"),
    "identification": ("IDR", "Identification and resolution", "标识解析"),
    "networks": ("NET", "Networks", "网络技术"),
    "fieldbus": ("FBS", "Fieldbus and serial", "现场总线与串行通信"),
    "modbus": ("MOD", "Modbus RTU/TCP", "Modbus 协议"),
    "opcua": ("OPC", "OPC UA", "OPC UA"),
    "mqtt": ("MQT", "MQTT and platforms", "MQTT 与平台接入"),
    "plc": ("PLC", "PLCs", "可编程控制器"),
    "signals": ("SIG", "Sensors and signals", "传感器与信号"),
    "datatypes": ("DAT", "Data types and encoding", "数据类型与编码"),
    "edge": ("EDG", "Edge computing and gateways", "边缘计算与网关"),
    "dataproc": ("DPR", "Data processing and visualisation", "数据处理与可视化"),
    "security": ("SEC", "Security", "工业网络安全"),
    "standards": ("STD", "Standards, safety, conduct", "标准、安全与职业素养"),
}
TYPES = ("single", "multiple", "truefalse")
TYPE_NAMES = {"single": ("Single choice", "单选题"), "multiple": ("Multiple choice", "多选题"),
              "truefalse": ("True / false", "判断题")}
_FIELDS = {"id", "area", "type", "difficulty", "stem", "options", "key", "explanation", "source", "pool"}
POOLS = ("practice", "contest")
_ID = re.compile(r"^[A-Z]{3}-\d{3}$")


class BankError(ValueError):
    """The bank has invalid items; ``problems`` lists "file: id: reason" lines."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the item bank:\n" + "\n".join(f"  {p}" for p in problems))


@dataclass(frozen=True)
class Item:
    id: str  #: AREA-NNN
    area: str  #: knowledge area (AREAS key)
    type: str  #: single | multiple | truefalse
    difficulty: int  #: 1..3
    stem: dict  #: {"zh": ..., "en": ...}
    options: dict  #: letter -> {"zh": ..., "en": ...}; empty for true/false
    key: object  #: "C" | ("A", "C") | True/False
    explanation: dict  #: {"zh": ..., "en": ...}
    source: str = ""  #: optional reference
    pool: str = "practice"  #: "practice" or "contest" (see the module docstring)

    @property
    def letters(self) -> tuple:
        return tuple(self.options)


def _bilingual(value) -> bool:
    return isinstance(value, dict) and all(isinstance(value.get(k), str) and value[k].strip() for k in ("zh", "en"))


def _check(raw: dict) -> list[str]:
    """Reasons why one raw item is invalid (empty when fine)."""
    why = []
    extra = set(raw) - _FIELDS
    if extra:
        why.append(f"unknown field(s) {sorted(extra)}")
    if not _ID.match(str(raw.get("id", ""))):
        why.append("id must look like MOD-001")
    area = raw.get("area")
    if area not in AREAS:
        why.append(f"unknown area {area!r}")
    elif not str(raw.get("id", "")).startswith(AREAS[area][0] + "-"):
        why.append(f"id prefix must be {AREAS[area][0]} for area {area}")
    kind = raw.get("type")
    if kind not in TYPES:
        why.append(f"type must be one of {TYPES}")
    if raw.get("difficulty") not in (1, 2, 3):
        why.append("difficulty must be 1, 2 or 3")
    if raw.get("pool", "practice") not in POOLS:
        why.append(f"pool must be one of {POOLS}")
    for f in ("stem", "explanation"):
        if not _bilingual(raw.get(f)):
            why.append(f"{f} needs non-empty zh and en")
    options, key = raw.get("options"), raw.get("key")
    if kind == "truefalse":
        if options:
            why.append("true/false items have no options")
        if not isinstance(key, bool):
            why.append("true/false key must be true or false")
    elif kind in ("single", "multiple"):
        if not isinstance(options, dict) or not all(_bilingual(o) for o in options.values()):
            why.append("options need zh and en text")
            return why
        letters = list(options)
        allowed = [list("ABCD")] if kind == "single" else [list("ABCD"), list("ABCDE"), list("ABCDEF")]
        if letters not in allowed:
            why.append(f"{kind} options must be {' or '.join(''.join(a) for a in allowed)}, got {''.join(map(str, letters))}")
        if kind == "single" and key not in letters:
            why.append(f"key {key!r} is not one of the options")
        if kind == "multiple":
            if not isinstance(key, list) or len(key) < 2 or len(set(key)) != len(key) or not set(key) <= set(letters):
                why.append("multiple-choice key must list at least two distinct option letters")
            elif len(key) == len(letters):
                why.append("multiple-choice key must not be every option")
        texts = [(o["en"].strip().lower(), o["zh"].strip()) for o in options.values()]
        if len(set(texts)) != len(texts):
            why.append("two options have the same text")
    return why


def load_bank(path) -> dict[str, Item]:
    """Load and validate every ``*.yaml`` in a folder (or one file); returns items by id.

    Raises BankError listing every problem: schema, duplicate ids, duplicate stems (either language).
    """
    import yaml

    path = Path(path)
    if not path.exists():
        raise BankError([f"{path}: no such bank folder (the instructor's source/exam/bank)"])
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    if not files:
        raise BankError([f"{path}: no *.yaml item files"])
    problems, items, stems, seen = [], {}, {}, set()
    for f in files:
        try:
            data = yaml.load(f.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError as exc:  # file:line:column, as an editor wants it
            mark = getattr(exc, "problem_mark", None)
            where = f"{f}:{mark.line + 1}:{mark.column + 1}" if mark else str(f)
            problems.append(f"{where}: YAML error: {getattr(exc, 'problem', None) or exc}")
            continue
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{f}: cannot read ({exc})")
            continue
        if not isinstance(data, list):
            problems.append(f"{f.name}: expected a list of items")
            continue
        for raw in data:
            iid = raw.get("id", "?") if isinstance(raw, dict) else "?"
            if not isinstance(raw, dict):
                problems.append(f"{f.name}: {iid}: not a mapping")
                continue
            reasons = _check(raw)
            if iid in seen:
                reasons.append("duplicate id")
            seen.add(iid)
            for lang in ("zh", "en"):
                text = re.sub(r"\s+", " ", str((raw.get("stem") or {}).get(lang, ""))).strip().lower()
                if text and (lang, text) in stems:
                    reasons.append(f"same {lang} stem as {stems[(lang, text)]}")
                stems.setdefault((lang, text), iid)
            if reasons:
                problems.extend(f"{f.name}: {iid}: {r}" for r in reasons)
                continue
            key = raw["key"]
            items[iid] = Item(id=iid, area=raw["area"], type=raw["type"], difficulty=raw["difficulty"],
                              stem=dict(raw["stem"]), options=dict(raw.get("options") or {}),
                              key=tuple(sorted(key)) if isinstance(key, list) else key,
                              explanation=dict(raw["explanation"]), source=str(raw.get("source", "")),
                              pool=raw.get("pool", "practice"))
    if problems:
        raise BankError(problems)
    return items


def item_text(i: Item) -> dict:
    """An item without its key, explanation and source: what a trainee may see of it."""
    return {"id": i.id, "area": i.area, "type": i.type, "stem": i.stem, "options": i.options, "pool": i.pool}


def public_items(items: dict[str, Item]) -> list[dict]:
    """What a trainee's environment may hold: the practice pool's ids, areas, types, stems and options. No
    keys, and no contest item at all: a contest item's text reaches a trainee only inside the paper the
    instructor publishes for them (:mod:`daqlab.hub.papers`)."""
    return [item_text(i) for i in sorted(items.values(), key=lambda i: i.id) if i.pool == "practice"]


PUBLIC_FILE = Path(__file__).with_name("data") / "items.json"


def write_public(items: dict[str, Item], path: Path = PUBLIC_FILE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(public_items(items), ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                    encoding="utf-8")
    return path


def load_public(path: Path = PUBLIC_FILE) -> dict[str, dict]:
    """The trainee-side copy of the bank (stems and options), by id."""
    return {d["id"]: d for d in json.loads(path.read_text(encoding="utf-8"))}
