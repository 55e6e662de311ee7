"""YAML that remembers where things are: configuration errors name the file and the line.

    doc = load_lines(text)            # mappings carry "__line__" (their first line) and "__lines__" (per key)
    where(doc, "url", "bench.yaml")   # -> "bench.yaml line 7"
    plain(doc)                        # the same data without the line bookkeeping

A SafeLoader underneath: no Python objects are ever built from a file (files may come from trainees).
"""

from __future__ import annotations

import yaml

LINE, LINES = "__line__", "__lines__"


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that records the line of every mapping and of each of its keys (1-based)."""


def _mapping(loader, node):
    loader.flatten_mapping(node)
    out = {loader.construct_object(k, deep=True): loader.construct_object(v, deep=True) for k, v in node.value}
    out[LINE] = node.start_mark.line + 1
    out[LINES] = {loader.construct_object(k, deep=True): k.start_mark.line + 1 for k, _v in node.value}
    return out


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


class ProblemsError(ValueError):
    """A file that cannot be used; ``problems`` lists every (where, why) found, so all are fixed in one go."""

    what = "the file"  #: what the file is, in the message ("the gateway configuration" ...)

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in {self.what}:\n" +
                         "\n".join(f"  {w}: {why}" for w, why in problems))


def load_lines(text: str):
    """Parse YAML text (safely) keeping line numbers; yaml.YAMLError on bad YAML (see :func:`yaml_error`)."""
    return yaml.load(text, Loader=_LineLoader)  # noqa: S506 (a SafeLoader subclass)


def yaml_error(exc: yaml.YAMLError, source: str) -> tuple[str, str]:
    """(where, why) of a YAML syntax error."""
    mark = getattr(exc, "problem_mark", None)
    return (f"{source} line {mark.line + 1}" if mark else source), f"not valid YAML: {getattr(exc, 'problem', exc)}"


def where(node, key=None, source: str = "") -> str:
    """``"<source> line N"`` of a mapping (or of one of its keys), or just the source when unknown."""
    line = None
    if isinstance(node, dict):
        line = (node.get(LINES, {}).get(key) if key is not None else None) or node.get(LINE)
    return f"{source} line {line}" if line else source


def plain(d):
    """The data without the line bookkeeping."""
    if isinstance(d, dict):
        return {k: plain(v) for k, v in d.items() if k not in (LINE, LINES)}
    if isinstance(d, list):
        return [plain(v) for v in d]
    return d
