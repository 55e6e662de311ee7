"""The station a lesson works with: the trainee's real bench when the kernel has one, else its own simulated plant.

Every lesson's first code cell says::

    plant = daqlab.lesson.station(stations=1, speed=10, textbook=True)

- No bench in the kernel's environment (the usual case, and on the hub's simulated stations, whose fault switches
  belong to the instructor): the lesson starts its own simulated plant (``daqlab.plant.run(...)``), with every
  fault switch, the model's values and the request log.
- A bench (``DAQLAB_BENCH``, set by ``make lab --bench FILE`` or the hub for a trainee the roster puts at a bench;
  or ``bench="benches/my-bench.yaml"`` chosen in the first cell): the lesson talks to the bench through a
  :class:`daqlab.wirerelay.WireRelay` and gets a :class:`BenchStation`, which answers the same calls a lesson
  makes of a plant — station 1 is the bench — with what a real bench can give:

  ==================  ============================================================================
  call                on a bench
  ==================  ============================================================================
  endpoint, port      the relay (127.0.0.1); the bench's own address is ``bench.connection``
  datasheet, tags     from the bench description (daqlab.benches)
  snapshot            the devices' values read from the bench just now (engineering units)
  log                 the requests this kernel sent through the relay, and the replies
  set_fault ...       injected on the wire by the relay: the kernel sees the fault, the bench runs on
  now                 seconds since the lesson started, times the bench's ``speed`` (1 for real devices)
  serve_rfc2217       the bench's own serial device server on its RS-485 line (its description's ``rs485``)
  stations 2, 3 ...   simulated neighbour stations (a bench is one station)
  ==================  ============================================================================

  What only a simulator has (a frozen clock, OPC UA served from the model, the simulated RS-485 bus and its
  wiring faults; a bus behind a serial device server when the description names none) cannot be had from a bench: a lesson that ``needs`` one of them says so and runs on its own
  simulated station; a single call that needs one raises :class:`NotOnABench` with what to do instead.
"""

from __future__ import annotations

import os
import time

from daqlab.station import my_bench

#: what a lesson may need that only a simulator gives -> why (Chinese first), for the note a bench lesson prints
SIMULATOR_ONLY = {
    "frozen": "冻结的仿真时钟（frozen clock）：真实设备的时间不会停下来",
    "opcua": "仿真工位自带的 OPC UA 服务器（OPC UA server）：实训台的描述里没有 OPC UA 设备",
    "rs485": "仿真的 RS-485 总线及其接线故障（wiring faults）：实训台的总线在网关后面，接线故障要动手接线",
    "bus": "接在串口服务器（serial device server）后面的 RS-485 总线：实训台的描述里没有 rs485 一项",
}
#: needs a bench can meet after all: "bus" when its description names its serial device server (``rs485:``)
_BENCH_MEETS = {"bus": lambda bench: bool(bench.rs485)}


class NotOnABench(RuntimeError):
    """A call only a simulated station can answer, made of a real bench."""


def station(stations: int = 1, *, needs: tuple = (), bench=None, environ=None, **plant_kwargs):
    """The station this lesson works with (see the module docstring): a :class:`BenchStation` for the kernel's bench
    (or ``bench``, a description file), else a started simulated plant (``daqlab.plant.run(stations, **plant_kwargs)``).
    ``needs``: what of :data:`SIMULATOR_ONLY` the lesson cannot do without."""
    import daqlab.plant
    from daqlab.benches import load_bench

    env = os.environ if environ is None else environ
    desc = load_bench(bench) if bench is not None else my_bench(env)
    # how a kernel or a gateway started from this lesson finds the same description (plant.environment)
    if bench is not None:
        described = {"DAQLAB_BENCH": os.path.abspath(bench)}
    elif env.get("DAQLAB_BENCH_YAML"):
        described = {"DAQLAB_BENCH_YAML": env["DAQLAB_BENCH_YAML"]}
    else:
        described = {"DAQLAB_BENCH": os.path.abspath(env.get("DAQLAB_BENCH", ""))}
    if desc is None:
        return daqlab.plant.run(stations=stations, **plant_kwargs).start()
    missing = [n for n in needs if n in SIMULATOR_ONLY and not _BENCH_MEETS.get(n, lambda b: False)(desc)]
    unknown = [n for n in needs if n not in SIMULATOR_ONLY]
    if unknown:
        raise ValueError(f"unknown needs {unknown}; use {', '.join(SIMULATOR_ONLY)}")
    if not desc.connection.startswith("tcp://"):
        missing.append("tcp")
    if missing:
        why = "；".join(SIMULATOR_ONLY.get(n, "Modbus TCP 连接：实训台的描述只有 RTU 连接（connection），本课的客户端走 TCP")
                       for n in missing)
        print(f"实训台「{desc.name}」：本课需要{why}。本课改用自己的仿真工位（simulated station）；"
              "在实训台上怎样做，见下面「在实训台上」一段。")
        return daqlab.plant.run(stations=stations, **plant_kwargs).start()
    return BenchStation(desc, stations=stations, textbook=bool(plant_kwargs.get("textbook")),
                        neighbours={k: v for k, v in plant_kwargs.items() if k != "textbook"}, described=described)


class BenchStation:
    """A real bench as a lesson's plant (station 1), plus simulated neighbours (stations 2..n) on demand."""

    simulated = False

    def __init__(self, bench, *, stations: int = 1, textbook: bool = False, neighbours: dict | None = None,
                 described: dict | None = None):
        from daqlab.wirerelay import WireRelay

        self.bench = bench
        self.described = dict(described or {})  #: DAQLAB_BENCH (the file) or DAQLAB_BENCH_YAML (its text)
        self.n = stations
        self.host = "127.0.0.1"
        self.speed = bench.speed
        self.model = bench.station_model()
        self._neighbour_kwargs = dict(neighbours or {})
        self._neighbours = None
        self.relay = WireRelay.for_bench(bench)
        self._t0 = time.monotonic()
        print(f"实训台（real bench）「{bench.name}」：{bench.connection}。本课经中继（relay）{self.endpoint(1)} "
              "连接它：中继记录每一条请求，故障演练也在中继上模拟（设备本身照常运行）。")
        serial = [f"{d.kind}（{d.url}）" for d in bench.devices.values() if not d.url.startswith("tcp://")]
        if serial:
            print("注意：这些设备只有串口连接，经中继读不到：" + "、".join(serial) + "。")
        if textbook:
            self._compare_with_textbook()

    # ------------------------------------------------------------- the bench
    def _compare_with_textbook(self) -> None:
        from daqlab.plant.variants import StationVariant

        book, mine = StationVariant.default(1), self.bench.variant
        diffs = [f"{k} 从站 {book.units[k]} → {mine.units[k]}" for k in self.bench.devices
                 if mine.units[k] != book.units[k]]
        if mine.meter_order != book.meter_order:
            diffs.append(f"电表字序 {book.meter_order} → {mine.meter_order}")
        if mine.th_scale != book.th_scale:
            diffs.append(f"温湿度分辨率 ×{1 / book.th_scale:g} → ×{1 / mine.th_scale:g}")
        missing = [k for k in ("plc", "th", "meter", "vfd", "ai") if k not in self.bench.devices]
        if missing:
            diffs.append(f"缺少设备 {', '.join(missing)}")
        if diffs:
            print("注意：本课按教材工位（textbook station）编写，你的实训台与它不同：" + "；".join(diffs)
                  + "。请按实训台的设备手册（plant.datasheet(1)）改写示例中的从站地址等参数。")

    def _mine(self, k: int) -> bool:
        if k == 1:
            return True
        if not 1 <= k <= self.n:
            raise KeyError(f"no station {k}; this lesson has stations 1..{self.n}")
        return False

    def _others(self):
        """The simulated neighbour stations (2..n), started on first use."""
        if self._neighbours is None:
            import daqlab.plant

            self._neighbours = daqlab.plant.run(stations=self.n, **self._neighbour_kwargs).start()
        return self._neighbours

    def station(self, k: int = 1):
        return self.model if self._mine(k) else self._others().station(k)

    @property
    def stations(self) -> dict:
        return {k: self.station(k) for k in range(1, self.n + 1)}

    def port(self, k: int = 1) -> int:
        return self.relay.port if self._mine(k) else self._others().port(k)

    def endpoint(self, k: int = 1) -> str:
        return f"tcp://{self.host}:{self.port(k)}" if self._mine(k) else self._others().endpoint(k)

    def environment(self, k: int = 1) -> dict:
        """Variables that point a kernel (or a gateway) at station ``k``: the relay, and the bench description."""
        if not self._mine(k):
            return self._others().environment(k)
        env = {"DAQLAB_ENDPOINT": self.endpoint(1), "DAQLAB_STATION": str(self.bench.station), "DAQLAB_SEED": "0",
               **self.described}
        if self.bench.rs485:
            env["DAQLAB_RS485_URL"] = self.bench.rs485
        return env

    def now(self) -> float:
        """Seconds since the lesson started, in the bench's time (its ``speed``: 1 for real devices)."""
        return (time.monotonic() - self._t0) * self.speed

    def datasheet(self, k: int = 1) -> str:
        return self.bench.datasheet() if self._mine(k) else self._others().datasheet(k)

    def tags(self, k: int = 1, devices=None) -> list:
        from daqlab.plant.tags import station_tags

        return station_tags(self.model, devices) if self._mine(k) else self._others().tags(k, devices)

    def snapshot(self, k: int, device) -> dict:
        """The device's values read from the bench just now (engineering units, no fault of the relay applied)."""
        if not self._mine(k):
            return self._others().snapshot(k, device)
        from daqlab.acquisition import Reader

        dev = self._device(device)
        tags = self.tags(1, devices=[dev.kind])
        with Reader(self.bench.devices[dev.kind].url, timeout=2.0) as reader:
            sample = reader.read(tags)
        bad = [n for n, q in sample.quality.items() if q != "good"]
        if bad:
            raise RuntimeError(f"实训台读不到 {', '.join(bad)}（{sample.quality[bad[0]]}）：检查设备与接线 · "
                               "the bench did not answer these points")
        return {t.meta["point"]: sample.values[t.name] for t in tags}

    def _device(self, device):
        try:
            return self.model.device(device)
        except KeyError:
            raise KeyError(f"实训台没有设备 {device!r}；它有 {', '.join(self.bench.devices)}") from None

    # ---------------------------------------------------------------- faults
    def set_fault(self, k: int, device, mode: str, value=True) -> dict:
        """A fault injected on the wire between this kernel and the bench (see daqlab.wirerelay)."""
        if not self._mine(k):
            return self._others().set_fault(k, device, mode, value)
        if device == "bus":
            raise NotOnABench("接线故障（wiring fault）只能在仿真总线上演练；在实训台上请按老师指导，断电后交换 A/B "
                              "线或拆下终端电阻 · wiring faults need the simulated bus")
        dev = self._device(device)
        stuck = self.snapshot(1, dev.kind) if mode == "stuck" else None
        return self.relay.set_fault(dev.unit, mode, value, stuck_values=stuck)

    def clear_faults(self, k: int | None = None, device=None) -> None:
        if k is None or self._mine(k):
            self.relay.clear_faults(None if device in (None, "bus") else self._device(device).unit)
        if (k is None or not self._mine(k)) and self._neighbours is not None:
            self._neighbours.clear_faults(k, device)

    def log(self, k: int = 1, **filters) -> list:
        """The requests this kernel sent to the bench through the relay (filters: since, unit, function, limit)."""
        return self.relay.log(**filters) if self._mine(k) else self._others().log(k, **filters)

    # ------------------------------------------------- only a simulator can
    def _simulator_only(self, what: str):
        raise NotOnABench(f"{what}只有仿真工位才有；本课在实训台上运行，这一步请在仿真工位上做"
                          "（去掉内核环境里的 DAQLAB_BENCH 后重新运行本课）· only a simulated station can do this")

    def advance(self, seconds: float):
        self._simulator_only("冻结时钟（frozen clock）")

    def apply_scenario(self, k: int, name: str):
        self._simulator_only("演练场景（scenario）")

    def reset_station(self, k: int):
        self._simulator_only("复位工位（reset）")

    def serve_rtu(self, k: int, device_path: str, **kwargs):
        self._simulator_only("在 pty 上提供 RTU 从站服务")

    def serve_rfc2217(self, k: int, *args, **kwargs) -> str:
        """The bench's own serial device server on its RS-485 line (the description's ``rs485``)."""
        if not self._mine(k):
            return self._others().serve_rfc2217(k, *args, **kwargs)
        if not self.bench.rs485:
            self._simulator_only("仿真 RS-485 总线的串口服务器（serial device server）")
        return self.bench.rs485

    def set_wiring(self, k: int, state: str):
        self._simulator_only("RS-485 接线故障")

    def rtu_lines(self, k: int):
        self._simulator_only("RS-485 线路计数器")

    def opcua_endpoint(self, k: int = 1):
        self._simulator_only("OPC UA 服务器")

    # ------------------------------------------------------------ lifecycle
    def stop(self) -> None:
        self.relay.close()
        if self._neighbours is not None:
            self._neighbours.stop()
            self._neighbours = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"BenchStation({self.bench.name!r}, {self.bench.connection}, relay port {self.relay.port})"
