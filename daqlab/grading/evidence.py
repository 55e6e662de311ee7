"""Evidence: what a grade cell hands to the grader, as data. The only grading code a kernel runs.

A practical assignment's grade cell calls :func:`hand_in`, which shows the named answers as data (an
output of type :data:`MIME`) and tells the trainee which answers were handed in. No key, check or
oracle runs in the kernel: the trusted grader (daqlab.course.trusted) reads the evidence from the grade
cell's outputs and checks it against the grading plant's truth and its served-request log. Evidence is
only ever a claim ("my serial number is X"); a forged claim is checked like any other, and a value the
plant never served to the submission earns no "read from the device" points.

Kinds of evidence, all plain JSON: values (numbers, strings, lists, dicts), a figure's summary (axis
labels, lines' y data) and the results of calling a trainee's function a few times in the kernel.
"""

from __future__ import annotations

import math

MIME = "application/vnd.daqlab.evidence+json"
MAX_ITEMS = 5000  #: list/dict entries kept per value (a CSV belongs in a file, not in evidence)


def to_data(value, depth: int = 0):
    """A JSON-safe copy of ``value`` (numpy and pandas scalars become numbers; others their repr)."""
    if depth > 6:
        return {"__repr__": "nested too deeply"}
    if value is None or isinstance(value, (bool, str)):
        return value[:10000] if isinstance(value, str) else value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "shape", None) == ():
        try:
            return to_data(item(), depth + 1)
        except (TypeError, ValueError):
            pass
    if isinstance(value, dict):
        return {str(k): to_data(v, depth + 1) for k, v in list(value.items())[:MAX_ITEMS]}
    if isinstance(value, (list, tuple, set, frozenset)):
        seq = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [to_data(v, depth + 1) for v in list(seq)[:MAX_ITEMS]]
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        try:
            return to_data(tolist(), depth + 1)
        except (TypeError, ValueError):
            pass
    return {"__repr__": repr(value)[:200], "__type__": type(value).__name__}


def figure_summary(fig) -> dict:
    """What the grader needs of a matplotlib figure: per axes its labels, title and lines' y data."""
    axes = []
    for ax in getattr(fig, "axes", [])[:10]:
        lines = []
        for line in ax.get_lines()[:50]:
            y = [float(v) for v in list(line.get_ydata())[:MAX_ITEMS]]
            lines.append({"label": str(line.get_label()), "y": [v if math.isfinite(v) else None for v in y]})
        axes.append({"xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel(), "title": ax.get_title(), "lines": lines})
    return {"__figure__": True, "axes": axes}


def collect(ns: dict, names=(), *, figures=(), calls=None, files=()) -> dict:
    """The evidence dict for ``names`` in the namespace ``ns`` (see :func:`hand_in`)."""
    import os

    values, missing = {}, []
    for f in files:  # the grader reads the file itself (copied out of the sandbox); this only says it is there
        if os.path.isfile(f):
            values[f] = {"__file__": f, "bytes": os.path.getsize(f)}
        else:
            missing.append(f)
    for n in names:
        if n in ns:
            values[n] = to_data(ns[n])
        else:
            missing.append(n)
    for n in figures:
        if n in ns:
            try:
                values[n] = figure_summary(ns[n])
            except Exception as exc:  # not a figure: say so in the evidence
                values[n] = {"__repr__": f"not a figure: {type(exc).__name__}"}
        else:
            missing.append(n)
    for n, times in (calls or {}).items():
        fn = ns.get(n)
        if not callable(fn):
            missing.append(n)
            continue
        results = []
        for _ in range(int(times)):
            try:
                results.append(to_data(fn()))
            except Exception as exc:  # a failing call is evidence too
                results.append({"__error__": f"{type(exc).__name__}: {exc}"[:200]})
        values[n] = {"__calls__": results}
    return {"values": values, "missing": missing}


def hand_in(ns: dict, *names: str, figures=(), calls=None, files=()) -> dict:
    """Grade cell body: hand in the answers ``names`` (and figures, and calls of functions) as data.

    Shows which answers were handed in. Correctness is checked when the instructor grades, against
    what your station really served to you. Raises NameError when none of the answers exists yet
    (so validating an untouched notebook says so).
    """
    from IPython.display import display

    ev = collect(ns, names, figures=figures, calls=calls, files=files)
    asked = list(files) + list(names) + list(figures) + list(calls or {})
    lines = ["已提交的作答（answers handed in）："]
    for n in asked:
        lines.append(f"  {'✓' if n in ev['values'] else '·'} {n}" + ("" if n in ev["values"] else " 未作答（not answered yet）"))
    lines.append("答案齐全且格式可读；是否正确在评分时对照你工位的设备检查"
                 "（all answers present and readable; correctness is checked at grading against your station）")
    display({MIME: ev, "text/plain": "\n".join(lines)}, raw=True)
    if asked and not ev["values"]:
        raise NameError(f"尚未作答：{', '.join(asked)} 都还没有定义（none of {', '.join(asked)} is defined yet）")
    return ev


# ------------------------------------------------------------- trusted side
def read(outputs: list) -> tuple[dict | None, str]:
    """(evidence, problem) from a grade cell's outputs as the grader got them back (untrusted data).

    Exactly one evidence output is expected; anything else is a problem the grader flags.
    """
    found = [o.get("data", {}).get(MIME) for o in outputs or []
             if isinstance(o, dict) and o.get("output_type") in ("display_data", "execute_result")
             and isinstance(o.get("data"), dict) and MIME in o["data"]]
    if not found:
        return None, "评分单元格没有提交作答数据（the grade cell handed in no evidence）"
    if len(found) > 1:
        return None, f"评分单元格有 {len(found)} 份作答数据，应为 1 份（the grade cell shows {len(found)} evidence outputs instead of one）"
    ev = found[0]
    if not isinstance(ev, dict) or not isinstance(ev.get("values"), dict):
        return None, "作答数据格式不正确（the grade cell's evidence is malformed）"
    return ev, ""
