"""Matplotlib set-up for bilingual figures: a CJK-capable font first, so 中文 titles render.

Importing daqlab.plotting (or calling :func:`setup`) puts the first installed CJK font (WenQuanYi Micro
Hei from Debian's fonts-wqy-microhei, which `make test`/`make lab` install; Noto Sans CJK; SimHei ...)
ahead of the default sans-serif family, and keeps the minus sign drawable. Without any CJK font the
figures still draw (Chinese as boxes) and the glyph warnings are silenced.
"""

from __future__ import annotations

import warnings

CJK_FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "SimHei",
             "Microsoft YaHei", "PingFang SC")


def setup() -> str | None:
    """Configure matplotlib; returns the CJK font used (None when none is installed)."""
    import matplotlib
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    font = next((f for f in CJK_FONTS if f in installed), None)
    if font is None:  # installed after matplotlib cached its font list: register the files directly
        for path in font_manager.findSystemFonts():
            if any(k in path.lower() for k in ("wqy", "notosanscjk", "noto-cjk", "sourcehan", "simhei", "msyh")):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        installed = {f.name for f in font_manager.fontManager.ttflist}
        font = next((f for f in CJK_FONTS if f in installed), None)
    if font:
        matplotlib.rcParams["font.sans-serif"] = [font, *matplotlib.rcParams["font.sans-serif"]]
        matplotlib.rcParams["font.family"] = "sans-serif"
    else:
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
    matplotlib.rcParams["axes.unicode_minus"] = False
    return font


FONT = setup()
