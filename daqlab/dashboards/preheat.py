"""Pre-heated dashboard kernels: the slow start happens before anyone asks.

``daqlab dashboard results`` and ``scoreboard`` start Voila with a pool of one pre-heated kernel
(``--VoilaConfiguration.preheat_kernel=True``): Voila starts the kernel and runs the notebook before any browser
asks for the page. The notebook's first code cell calls :func:`preheat`: in a pooled kernel it runs ``warm``
(imports, reading the course, a first figure: what makes a cold page slow), then blocks in
:func:`voila.utils.wait_for_request` until a browser takes the kernel. The cells after it run *after* the
request, so the page always shows the course as it is when it was asked for (re-reading it is fast: files
unchanged since the warm-up are not parsed again, see ``daqlab.dashboards.data``). Outside a pooled kernel
(Voila inside JupyterLab or the hub, a plain notebook, tests) :func:`preheat` does nothing.

``DAQLAB_PREHEAT_READY=<file>`` (optional): a warmed kernel appends a line to that file just before it starts to wait
(a readiness probe for scripts and tests: the next visit is served from a warm kernel).
"""

from __future__ import annotations

import os
from collections.abc import Callable


def pooled(environ=None) -> bool:
    """True in a kernel Voila started for its pre-heated pool (Voila sets ``VOILA_PREHEAT=True`` there)."""
    return (os.environ if environ is None else environ).get("VOILA_PREHEAT") == "True"


def preheat(warm: Callable[[], object] | None = None, environ=None) -> bool:
    """In a pooled kernel: run ``warm`` (its errors are left for the page to report), then wait for the request.
    Returns True when it waited; False (at once) outside a pooled kernel."""
    if not pooled(environ):
        return False
    if warm is not None:
        try:
            warm()
        except Exception:  # noqa: BLE001 - the page itself reads the course again and shows what is wrong
            pass
    mark = (os.environ if environ is None else environ).get("DAQLAB_PREHEAT_READY")
    if mark:
        with open(mark, "a", encoding="utf-8") as fh:  # append: one line per warmed kernel, never a torn file
            fh.write(f"{os.getpid()}\n")
    from voila.utils import wait_for_request

    wait_for_request()
    return True


def warm_figures() -> None:
    """Draw and encode one small figure: matplotlib's first figure loads fonts and the Agg canvas."""
    import io

    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 1))
    fig.add_subplot().bar([0, 1], [1, 2])
    fig.savefig(io.BytesIO(), format="png")
