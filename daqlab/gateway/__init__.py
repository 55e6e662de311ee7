"""``daqlab gateway``: a headless acquisition gateway configured by a point table (网关).

    from daqlab.gateway import Gateway, load
    gw = Gateway(load("gateway.yaml"))      # southbound devices + point table + northbound uplink
    gw.run(count=10)                        # or gw.start() / gw.stop() in a notebook
    gw.points_frame(); gw.devices_frame()   # per-point status, per-device statistics

- :mod:`config`: the YAML configuration and the point table, checked with file and line/row numbers;
- :mod:`engine`: the scan loop (planner-coalesced reads), per-point status, per-device statistics, and the
  northbound thing-model posts and point-status events (daqlab.northbound.Uplink, store-and-forward);
- :mod:`ui`: the same in a notebook: edit the point table, check it, start/stop, watch the status.
"""

from daqlab.gateway.config import ConfigError, GatewayConfig, Northbound, Southbound, load, loads
from daqlab.gateway.engine import DeviceStats, Gateway, PointStatus, devices_frame, points_frame

__all__ = ["ConfigError", "DeviceStats", "Gateway", "GatewayConfig", "Northbound", "PointStatus", "Southbound",
           "devices_frame", "load", "loads", "points_frame"]
