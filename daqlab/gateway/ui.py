"""The gateway in a notebook: edit the point table, check it, start and stop, watch every point (网关配置页).

    from daqlab.gateway.ui import GatewayPanel
    GatewayPanel("gateway.yaml")          # displays itself in the notebook

What a gateway's web page offers, as widgets: the point table as CSV text (saved to the file the
configuration names, atomically), **检查（Check）** lists every problem with its row, **启动（Start）** runs the
gateway in a background thread (the notebook stays usable), the status refreshes every second (per device:
scans, requests per scan, counts of each quality; per point: quality, value, since when), **停止（Stop）**
stops it and sends or spools what is left.
"""

from __future__ import annotations

import html
import threading
from pathlib import Path

import ipywidgets as w

from daqlab.atomic import write_atomic
from daqlab.gateway.config import ConfigError, load
from daqlab.gateway.engine import Gateway, devices_frame, points_frame

_QUALITY_COLOUR = {"good": "#1a7f37", "timeout": "#b35900", "not read": "#777"}


class GatewayPanel(w.VBox):
    def __init__(self, config_path, *, environ=None, refresh_s: float = 1.0):
        self.path = Path(config_path)
        self.environ = environ
        self.refresh_s = refresh_s
        self.gateway: Gateway | None = None
        self._refresher: threading.Thread | None = None
        self._quit = threading.Event()
        self.table = w.Textarea(value=self._points_text(), layout=w.Layout(width="100%", height="180px"),
                                description="点表", style={"description_width": "40px"})
        self.check_button = w.Button(description="检查（Check）", icon="check")
        self.start_button = w.Button(description="启动（Start）", icon="play", button_style="success")
        self.stop_button = w.Button(description="停止（Stop）", icon="stop", button_style="danger", disabled=True)
        self.message = w.HTML()
        self.status = w.HTML()
        self.check_button.on_click(lambda _b: self.check())
        self.start_button.on_click(lambda _b: self.start())
        self.stop_button.on_click(lambda _b: self.stop())
        super().__init__([w.HTML(f"<b>网关配置（gateway configuration）</b> {html.escape(str(self.path))}"),
                          self.table, w.HBox([self.check_button, self.start_button, self.stop_button]),
                          self.message, self.status])

    # --------------------------------------------------------------------------- the table file
    def _points_file(self) -> Path | None:
        import yaml

        try:
            doc = yaml.safe_load(self.path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            return None
        pts = doc.get("points") if isinstance(doc, dict) else None
        return self.path.parent / pts if isinstance(pts, str) and pts.lower().endswith(".csv") else None

    def _points_text(self) -> str:
        f = self._points_file()
        try:
            return f.read_text(encoding="utf-8-sig") if f else ""
        except OSError:
            return "name,device,address,type,byte_order,scale,unit\n"

    # ------------------------------------------------------------------------------- actions
    def check(self):
        """Save the table, load the configuration; show every problem, or the read plan. Returns the config."""
        f = self._points_file()
        if f is not None and self.table.value.strip():
            write_atomic(f, self.table.value if self.table.value.endswith("\n") else self.table.value + "\n")
        try:
            cfg = load(self.path, environ=self.environ)
        except ConfigError as exc:
            rows = "".join(f"<li><code>{html.escape(where)}</code>：{html.escape(why)}</li>" for where, why in exc.problems)
            self.message.value = (f"<div style='color:#b00020'>✘ 有 {len(exc.problems)} 处问题"
                                  f"（{len(exc.problems)} problem(s)）：<ul>{rows}</ul></div>")
            return None
        from daqlab.acquisition.planner import plan

        parts = [f"{s.name}：{len(cfg.points_of(s.name))} 个点位，每次扫描 "
                 f"{len(plan(cfg.points_of(s.name), max_gap=s.max_gap))} 个请求" for s in cfg.southbound]
        self.message.value = (f"<div style='color:#1a7f37'>✔ 配置正确（OK）：{'；'.join(parts)}；"
                              f"{'北向 ' + cfg.northbound.host + ':' + str(cfg.northbound.port) if cfg.northbound else '不上报（no northbound）'}"
                              "</div>")
        return cfg

    def start(self) -> None:
        if self.gateway is not None and self.gateway.running:
            return
        cfg = self.check()
        if cfg is None:
            return
        try:
            self.gateway = Gateway(cfg).start()
        except Exception as exc:  # e.g. the broker refused the account: say it on the page
            self.message.value = f"<div style='color:#b00020'>✘ 无法启动（cannot start）：{html.escape(str(exc))}</div>"
            return
        self.start_button.disabled, self.stop_button.disabled, self.table.disabled = True, False, True
        self._quit.clear()
        self._refresher = threading.Thread(target=self._refresh_loop, daemon=True, name="gateway-panel")
        self._refresher.start()

    def stop(self) -> None:
        self._quit.set()
        if self.gateway is not None:
            self.gateway.close()
            self.refresh()
        self.start_button.disabled, self.stop_button.disabled, self.table.disabled = False, True, False

    def _refresh_loop(self) -> None:
        while not self._quit.wait(self.refresh_s):
            self.refresh()

    def refresh(self) -> None:
        """Redraw the status from the running gateway."""
        if self.gateway is None:
            return
        st = self.gateway.status()
        nb = st["northbound"]
        head = (f"<p><b>{html.escape(st['gateway'])}</b>：已扫描 {st['scans']} 次（scans）"
                + ("" if not nb else f"；北向{'已连接' if nb['connected'] else '<b>未连接</b>'}，已确认 {nb['sent']} 条，"
                   f"待发送 {nb['pending']} 条") + "</p>")
        dev = devices_frame(st)[["url", "planned", "scans", "requests", "good", "timeout", "exception", "invalid"]]
        pts = points_frame(st)
        rows = "".join(
            f"<tr><td>{html.escape(n)}</td><td>{html.escape(r['device'])}</td>"
            f"<td style='color:{_QUALITY_COLOUR.get(r['quality'], '#b00020')}'>{html.escape(r['quality'])}</td>"
            f"<td>{'' if _missing(r['value']) else html.escape(str(r['value']))}</td>"
            f"<td>{'' if _missing(r['since']) else r['since'].strftime('%H:%M:%S')}</td></tr>"
            for n, r in pts.iterrows())
        self.status.value = (head + dev.to_html(border=0) +
                             "<table><tr><th>点位（point）</th><th>设备</th><th>质量码（quality）</th><th>值</th>"
                             f"<th>自（since）</th></tr>{rows}</table>")


def _missing(v) -> bool:
    """None, NaN or NaT (a point not read yet: pandas fills its cells with NaN/NaT)."""
    import pandas as pd

    return v is None or (not isinstance(v, str | bool) and bool(pd.isna(v)))
