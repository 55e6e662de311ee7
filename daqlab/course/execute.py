"""Run one submitted notebook inside the grading sandbox, as the job's unprivileged user.

    python daqlab/course/execute.py TIMEOUT < notebook.json > result.json

This file runs on the *untrusted* side (see daqlab.course.sandbox): it is started by the sandbox's init
already as the job's user, and the trainee's code runs in the kernel it starts. Nothing it prints is
trusted: the grader takes back the cells' outputs as data and scores nothing from them but the evidence
the grade cells hand in. It is run as a file (not ``-m daqlab...``) so it imports neither daqlab nor
anything the trainee could have shadowed in the working folder before the kernel starts.

What it does: execute every code cell with ``TIMEOUT`` seconds per cell (interrupting a cell that runs
over); when a cell kills the kernel or ignores the interrupt, it records that, replaces the cell by an
error and runs the notebook again from the start (at most three such cells), so the rest still counts.
The result is one JSON object on the standard output it was started with:
``{"notebook": {...}, "events": [{"cell": i, "what": "..."}]}``.
"""

from __future__ import annotations

import json
import os
import sys

MAX_BAD_CELLS = 3
GRACE_S = 10  #: after an interrupt, how long the kernel has to become responsive again
ZH = {"killed": "使内核崩溃", "ran": "超时且不响应中断"}  #: what the trainee reads first, by the event's first word
TIMEOUT_MARK = "DAQLabCellTimeout"  #: the reply nbclient fakes for a cell that ran past its limit


def _error(ename: str, text: str) -> dict:
    return {"output_type": "error", "ename": ename, "evalue": text, "traceback": [f"{ename}: {text}"]}


def run_once(nb, timeout: int, cwd: str, skip: dict[int, str]):
    """Execute ``nb`` once; returns (bad cell index or None, why)."""
    from jupyter_core.utils import run_sync
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    timeouts: set = set()

    def on_executed(cell=None, cell_index=None, execute_reply=None, **_):
        if (execute_reply or {}).get("content", {}).get("ename") == TIMEOUT_MARK:
            timeouts.add(cell_index)

    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            interrupt_on_timeout=True, shutdown_kernel="immediate",
                            error_on_timeout={"ename": TIMEOUT_MARK, "evalue": "", "traceback": []},
                            on_cell_executed=on_executed,
                            extra_arguments=["--HistoryManager.hist_file=:memory:"],
                            resources={"metadata": {"path": cwd}})
    with client.setup_kernel(cwd=cwd):
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            cell.outputs = []
            if i in skip:
                cell.outputs = [_error("RuntimeError", f"评分时未运行此单元格：它{ZH.get(skip[i].split(' ')[0], '')}"
                                                       f"（DAQ Lab grader: this cell {skip[i]}; it was not run）")]
                continue
            try:
                client.execute_cell(cell, i)
            except DeadKernelError:
                return i, "killed the kernel"
            except (CellTimeoutError, TimeoutError):
                return i, f"ran past the {timeout} s limit and ignored the interrupt"
            except CellExecutionError:
                continue
            if i in timeouts:
                # nbclient interrupted the cell: is the kernel back, or did the cell ignore SIGINT?
                cell.outputs.append(_error("KeyboardInterrupt", f"单元格超时，已中断（the cell ran past the {timeout} s "
                                           "limit and was interrupted）"))
                try:
                    reply = run_sync(client.kc.execute_interactive)("pass", timeout=GRACE_S, store_history=False)
                    if reply.get("content", {}).get("status") not in ("ok", "error"):
                        raise TimeoutError
                except Exception:
                    return i, f"ran past the {timeout} s limit and ignored the interrupt"
    return None, ""


def main() -> None:
    timeout = int(sys.argv[1])
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")  # private copy: the kernel inherits neither
    os.dup2(2, 1)  # anything printed to fd 1 from now on (by us or the kernel) goes to stderr
    import nbformat

    nb = nbformat.reads(sys.stdin.read(), as_version=4)
    cwd = os.getcwd()
    skip: dict[int, str] = {}
    events = []
    for _ in range(MAX_BAD_CELLS + 1):
        try:
            bad, why = run_once(nb, timeout, cwd, skip)
        except Exception as exc:  # the kernel could not even start: report, the grader decides
            events.append({"cell": None, "what": f"the notebook could not be run: {type(exc).__name__}: {exc}"[:300]})
            break
        if bad is None:
            break
        skip[bad] = why
        events.append({"cell": bad, "what": why})
    for i, cell in enumerate(nb.cells):
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error" and o.get("ename") == "MemoryError":
                events.append({"cell": i, "what": "ran out of memory (limit per submission)"})
            if o.get("output_type") == "error" and o.get("ename") == "KeyboardInterrupt" and i not in skip \
                    and "单元格超时" in o.get("evalue", ""):
                events.append({"cell": i, "what": f"ran past the {timeout} s limit and was interrupted"})
    json.dump({"notebook": nb, "events": events}, out)
    out.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
