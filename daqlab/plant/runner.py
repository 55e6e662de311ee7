"""Run a plant: N stations, station k on TCP port ``base_port + k``, in the foreground or in a thread.

From Python (notebooks, tests, grading) the plant runs on its own event loop in a background thread,
so it works inside a Jupyter kernel whose loop is already running::

    with daqlab.plant.run(stations=2) as plant:
        plant.endpoint(1)            # 'tcp://127.0.0.1:5021' (or a free port)
        plant.serve_opcua(1)         # 'opc.tcp://127.0.0.1:<port>/daqlab/station1' (see daqlab.plant.opcua)

All state is touched only on the plant's loop thread; the public methods below hop onto it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

from daqlab.plant.clock import PlantClock
from daqlab.plant.reqlog import JsonlSink, LogEntry
from daqlab.plant.server import serve_station
from daqlab.plant.station import Station
from daqlab.plant.variants import StationVariant

TICK_S = 0.5  #: wall seconds between background model catch-ups and log flushes


class Plant:
    """A simulated production cell. ``base_port=0`` picks free ports (tests); otherwise station k
    listens on ``base_port + k`` and the control API (daqlab plant fault/status) on ``base_port``."""

    simulated = True  #: a lesson's station may be a real bench instead (daqlab.lesson.BenchStation)

    def __init__(self, stations: int = 1, *, seed: int = 0, host: str = "127.0.0.1", base_port: int = 0,
                 speed: float = 1.0, frozen: bool = False, log_size: int = 100_000, log_path=None,
                 unknown_unit: str = "exception", textbook: bool = False, control: bool | None = None,
                 control_token: str | None = None, scenario_salt: str = "", opcua_base_port: int | None = None,
                 owners=None):
        if not 1 <= stations <= 500:
            raise ValueError("stations must be 1..500")
        self.n = stations
        self.seed = seed
        self.host = host
        self.base_port = base_port
        self.clock = PlantClock(speed=speed, frozen=frozen)
        self.sink = JsonlSink(log_path) if log_path else None
        draw = StationVariant.default if textbook else StationVariant.draw
        self.stations: dict[int, Station] = {
            k: Station(draw(k, seed) if textbook else draw(seed, k), self.clock, plant_seed=seed,
                       log_size=log_size, sink=self.sink, unknown_unit=unknown_unit)
            for k in range(1, stations + 1)
        }
        self.ports: dict[int, int] = {}
        self.control_enabled = bool(base_port) if control is None else control
        self.control_token = control_token
        self.scenario_salt = scenario_salt  # instructor-side: makes drill choices unguessable
        self.control_port: int | None = None
        self._servers: list = []
        self._connections: dict[int, set] = {}
        self._rtu: list = []
        self._rs485: dict = {}  # station -> rfc2217:// URL of its RS-485 bus (the first served), for environment()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._tick_task = None
        # OPC UA (daqlab.plant.opcua): None = off; 0 = every station on a free port; P = station k on P + k
        self.opcua_base_port = opcua_base_port
        self._opcua: dict = {}
        self.owners = owners  # daqlab.plant.peers.Owners: who may connect to which station (None: anyone)

    # ------------------------------------------------------------- lifecycle
    async def astart(self) -> Plant:
        """Start serving on the running loop (foreground use: ``daqlab plant serve``)."""
        self._loop = asyncio.get_running_loop()
        for k, st in self.stations.items():
            port = self.base_port + k if self.base_port else 0
            gate = None if self.owners is None else (lambda uid, k=k: self.owners.allows(k, uid))
            server, conns = await serve_station(st, self.host, port, gate)
            self._servers.append(server)
            self._connections[k] = conns
            self.ports[k] = server.sockets[0].getsockname()[1]
        if self.control_enabled:
            from daqlab.plant.control import serve_control

            server = await serve_control(self, self.host, self.base_port)
            self._servers.append(server)
            self.control_port = server.sockets[0].getsockname()[1]
        if self.opcua_base_port is not None:
            for k in self.stations:
                await self.aserve_opcua(k, self.opcua_base_port + k if self.opcua_base_port else 0)
        self._tick_task = asyncio.create_task(self._tick())
        return self

    async def astop(self) -> None:
        if self._tick_task is not None:
            self._tick_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tick_task
        # together: each asyncua server waits up to 1 s for its clock task
        await asyncio.gather(*(asyncio.wait_for(o.stop(), 5.0) for o in self._opcua.values()), return_exceptions=True)
        self._opcua.clear()
        for rtu in self._rtu:
            rtu.close()
        for server in self._servers:
            server.close()
        for conns in self._connections.values():
            for proto in list(conns):
                if proto.transport is not None:
                    proto.transport.abort()
        for server in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2.0)
        self._servers.clear()
        if self.sink is not None:
            self.sink.close()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            for st in self.stations.values():
                st.sync()
            if self.sink is not None:
                self.sink.flush()

    def start(self) -> Plant:
        """Start on a background thread (works inside a running Jupyter kernel)."""
        if self._thread is not None:
            raise RuntimeError("plant already started")
        ready = threading.Event()
        error: list = []

        def main():
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.astart())
            except BaseException as exc:  # report start-up errors (port in use) to the caller
                error.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.astop())
            loop.close()

        self._thread = threading.Thread(target=main, name="daqlab-plant", daemon=True)
        self._thread.start()
        ready.wait(30)
        if error:
            self._thread = None
            raise error[0]
        return self

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._thread = None

    def __enter__(self) -> Plant:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------ thread hop
    def call(self, fn, *args, **kwargs):
        """Run ``fn(*args, **kwargs)`` on the plant's loop thread and return its result."""
        loop = self._loop
        if loop is None or not loop.is_running() or threading.current_thread() is self._thread:
            return fn(*args, **kwargs)
        with contextlib.suppress(RuntimeError):
            if asyncio.get_running_loop() is loop:  # foreground plant: already on its loop
                return fn(*args, **kwargs)

        async def wrapper():
            return fn(*args, **kwargs)

        return asyncio.run_coroutine_threadsafe(wrapper(), loop).result(30)

    # ----------------------------------------------------------------- API
    def station(self, k: int) -> Station:
        if k not in self.stations:
            raise KeyError(f"no station {k}; this plant has stations 1..{self.n}")
        return self.stations[k]

    def port(self, k: int) -> int:
        self.station(k)
        return self.ports[k]

    def endpoint(self, k: int = 1) -> str:
        """``tcp://host:port`` of station ``k``."""
        return f"tcp://{self.host}:{self.port(k)}"

    def environment(self, k: int = 1) -> dict:
        """Environment variables that point a kernel at station ``k`` (see daqlab.my_station)."""
        env = {"DAQLAB_ENDPOINT": self.endpoint(k), "DAQLAB_STATION": str(k), "DAQLAB_SEED": str(self.seed)}
        if k in self._opcua:
            env["DAQLAB_OPCUA_ENDPOINT"] = self.opcua_endpoint(k)
        if k in self._rs485:
            env["DAQLAB_RS485_URL"] = self._rs485[k]
        return env

    def now(self) -> float:
        """Plant time, seconds."""
        return self.clock.now()

    def advance(self, seconds: float) -> float:
        """Advance a frozen plant clock and integrate every station up to it."""
        def _adv():
            t = self.clock.advance(seconds)
            for st in self.stations.values():
                st.sync()
            return t
        return self.call(_adv)

    def reset_station(self, station: int) -> None:
        """Start a station afresh: as documented, no faults, empty request log."""
        self.call(self.station(station).reset)

    def apply_scenario(self, station: int, name: str, *, wire: bool = True) -> dict:
        """Reset a station and switch a drill scenario on (see daqlab.plant.scenarios); ``wire=False`` leaves out the
        faults a grader makes on its relay in front of a real bench (scenarios.WIRE_FAULTS)."""
        from daqlab.plant import scenarios

        st = self.station(station)
        self.call(scenarios.apply, st, name, plant_seed=self.seed, salt=self.scenario_salt, wire=wire)
        return self.station_info(station)

    def station_info(self, station: int) -> dict:
        """Documented vs served installation, faults, scenario (what grading oracles check against)."""
        return self.call(self.station(station).info)

    def set_fault(self, station: int, device, mode: str, value=True) -> dict:
        """Switch a fault on a device of a station (see daqlab.plant.faults for the modes). Device "bus": the
        station's RS-485 wiring, mode "ab_swapped" or "no_termination" (a false/0/off value rewires it "ok")."""
        if device == "bus":
            from daqlab.plant.faults import parse_value
            from daqlab.plant.rtu import WIRING

            if mode not in WIRING[1:]:
                raise ValueError(f"bus faults: {', '.join(WIRING[1:])}")
            on = parse_value("offline", value)  # an on/off value
            self.set_wiring(station, mode if on else "ok")
            return {"wiring": mode if on else "ok"}
        return self.call(self.station(station).set_fault, device, mode, value)

    def clear_faults(self, station: int | None = None, device=None) -> None:
        targets = [self.station(station)] if station is not None else list(self.stations.values())
        for st in targets:
            if device in (None, "bus") and getattr(st, "wiring", "ok") != "ok":
                self.set_wiring(st.number, "ok")
            if device != "bus":
                self.call(st.clear_faults, device)

    def log(self, station: int, **filters) -> list[LogEntry]:
        """Served-request log of a station (filters: since, unit, function, limit)."""
        return self.call(self.station(station).log.entries, **filters)

    def snapshot(self, station: int, device) -> dict:
        """Engineering values of a device now, as the model has them (no faults applied)."""
        def _snap():
            st = self.station(station)
            st.sync()
            return dict(st.device(device).current_values())
        return self.call(_snap)

    def tags(self, station: int, devices=None) -> list:
        """Tag table of a station (every point, named ``device.point``), ready for daqlab.acquisition."""
        from daqlab.plant.tags import station_tags

        return station_tags(self.station(station), devices)

    def datasheet(self, station: int) -> str:
        from daqlab.plant.datasheet import datasheet

        return datasheet(self.station(station), endpoint=self.endpoint(station) if self.ports else None)

    def status(self) -> dict:
        def _status():
            return {
                "plant_time": round(self.clock.now(), 3), "speed": self.clock.speed, "frozen": self.clock.frozen,
                "seed": self.seed, "host": self.host, "control_port": self.control_port,
                "stations": [{"station": k, "port": self.ports.get(k), "units": {d.kind: d.unit for d in st.devices.values()},
                              "faults": st.describe_faults(), "requests": st.log.total,
                              "connections": len(self._connections.get(k, ())),
                              "opcua": self._opcua[k].endpoint if k in self._opcua else None,
                              "wiring": getattr(st, "wiring", "ok"),
                              "rtu": [{"line": srv.device_path, "crc_errors": srv.crc_errors,
                                       "line_errors": srv.line_errors} for srv in self._rtu if srv.station is st]}
                             for k, st in self.stations.items()],
            }
        return self.call(_status)

    def serve_rtu(self, station: int, device_path: str, **serial_kwargs):
        """Serve station ``station`` as a Modbus RTU bus on a serial device (see daqlab.plant.rtu)."""
        from daqlab.plant.rtu import RtuServer

        st = self.station(station)

        def _open():
            srv = RtuServer(st, device_path, **serial_kwargs)
            srv.open(self._loop)
            self._rtu.append(srv)
            return srv
        return self.call(_open)

    def serve_rfc2217(self, station: int, port: int = 0, host: str = "127.0.0.1", **serial_kwargs) -> str:
        """Serve station ``station``'s RS-485 bus behind a serial device server (RFC 2217 on TCP ``host:port``,
        0 = a free port) that judges the client's serial settings (see daqlab.plant.serial_server); returns
        its URL, e.g. ``rfc2217://127.0.0.1:7001`` (a pyserial / pymodbus serial port name). With ``owners`` only
        the station's owner (and staff) may open it, as for Modbus TCP."""
        from daqlab.plant.serial_server import Rfc2217Server

        st = self.station(station)

        gate = None if self.owners is None else (lambda uid: self.owners.allows(station, uid))

        def _open():
            srv = Rfc2217Server(st, host, port, gate=gate, **serial_kwargs)
            srv.open(self._loop)
            self._rtu.append(srv)
            return srv.url
        url = self.call(_open)
        self._rs485.setdefault(station, url)
        return url

    def set_wiring(self, station: int, state: str) -> None:
        """Wire the RS-485 bus of ``station`` (every RTU line serving it): "ok", "ab_swapped" (A and B
        exchanged: nothing gets through) or "no_termination" (no 120 Ω terminator: reflections corrupt bits, more
        often at higher baud rates)."""
        from daqlab.plant.rtu import WIRING

        if state not in WIRING:
            raise ValueError(f"wiring must be one of {', '.join(WIRING)}")
        st = self.station(station)

        def _set():
            for srv in self._rtu:
                if srv.station is st:
                    srv.set_wiring(state)
            st.wiring = state
        self.call(_set)

    def rtu_lines(self, station: int) -> list:
        """The RTU lines serving ``station`` (their counters: crc_errors, line_errors, discarded)."""
        st = self.station(station)
        return [srv for srv in self._rtu if srv.station is st]

    # ----------------------------------------------------------------- OPC UA
    async def aserve_opcua(self, station: int, port: int = 0) -> str:
        """Start the OPC UA server of ``station`` on the running plant loop; returns its endpoint."""
        from daqlab.plant.opcua import serve_station_opcua

        st = self.station(station)
        if station in self._opcua:
            raise RuntimeError(f"station {station} already serves OPC UA on {self.opcua_endpoint(station)}")
        self._opcua[station] = await serve_station_opcua(st, self.host, port)
        return self.opcua_endpoint(station)

    def serve_opcua(self, station: int, port: int = 0) -> str:
        """Serve station ``station`` over OPC UA too (``port=0``: a free port) and return its endpoint
        ``opc.tcp://host:port/daqlab/station<k>``; stopped with the plant. Call it from outside the
        plant's loop (a notebook, a test); ``daqlab plant serve`` uses ``opcua_base_port`` instead."""
        loop = self._loop
        if loop is None or not loop.is_running():
            raise RuntimeError("start the plant first (plant.start() or `with daqlab.plant.run(...)`)")
        if threading.current_thread() is self._thread:
            raise RuntimeError("serve_opcua() blocks: on the plant's own loop, await plant.aserve_opcua() instead")
        return asyncio.run_coroutine_threadsafe(self.aserve_opcua(station, port), loop).result(60)

    def opcua_endpoint(self, station: int = 1) -> str:
        """``opc.tcp://host:port/daqlab/station<k>`` of station ``station``'s OPC UA server."""
        self.station(station)
        if station not in self._opcua:
            raise KeyError(f"station {station} has no OPC UA server; use plant.serve_opcua({station}) "
                           "or start the plant with opcua_base_port")
        return self._opcua[station].endpoint


def run(stations: int = 1, **kwargs) -> Plant:
    """Start a plant in the background; use as a context manager (``with run() as plant:``)."""
    return Plant(stations, **kwargs)
