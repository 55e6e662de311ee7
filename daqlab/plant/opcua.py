"""OPC UA view of a station: an asyncua server on the plant's own event loop, beside its Modbus TCP server.

    with daqlab.plant.run(opcua_base_port=0) as plant:      # or plant.serve_opcua(1)
        plant.opcua_endpoint(1)      # 'opc.tcp://127.0.0.1:<port>/daqlab/station1'

Address space and NodeId scheme (all plant nodes in namespace 2, ``urn:daqlab:plant``; string
identifiers; namespace 0 is the OPC UA standard, namespace 1 the server itself)::

    Objects (i=85)
    └─ Station1                          ns=2;s=Station1                 object
       ├─ plant_time                     ns=2;s=Station1.plant_time      Double, s: model time of the values
       ├─ PLC                            ns=2;s=Station1.PLC             object, one per device:
       │  ├─ run                         ns=2;s=Station1.PLC.run         PLC, TH, Meter, VFD, AI
       │  └─ speed_setpoint              ns=2;s=Station1.PLC.speed_setpoint
       │     └─ EngineeringUnits         ns=2;s=Station1.PLC.speed_setpoint.EngineeringUnits
       └─ Meter
          └─ power_total                 ns=2;s=Station1.Meter.power_total

One variable per documented point, named like the point (and like the tag ``meter.power_total``
of :meth:`Plant.tags`), with the description ``English · 中文`` from the point, a data type matching
the point (see :mod:`daqlab.plant.opcua_nodes`), and, when the point has a unit, the type
AnalogUnitType with an ``EngineeringUnits`` property (EUInformation, UNECE code).

Values — an OPC UA read equals the Modbus value of the same point at the same plant time:

- Read service: every Read of a point's Value is evaluated at that moment on the plant loop, as
  ``point.decode(device.read(area, address, count))`` — the very registers a Modbus request would
  get, so station variants, scaling and value faults look the same; link faults become Bad statuses.
- Subscriptions: asyncua reports data changes when a node's stored value changes, so a refresh task
  re-evaluates every point each ``REFRESH_S`` (0.1 s wall time, published as the variables'
  MinimumSamplingInterval) — only when the model has stepped (0.1 plant-s) or something was written
  or a fault changed — and stores the values that changed; a write through OPC UA refreshes at once.
  A frozen plant therefore notifies subscribers within 0.1 s after ``plant.advance()``.

Writes: a Write of a writable point's Value goes through the device's own Modbus write path
(``Device.write``: limits, choices, device checks; nothing applied unless accepted) and shows at
once in the Modbus registers; refusals map to Bad statuses (BadOutOfRange for an out-of-range
setpoint) per item. Everything else in namespace 2 is read-only (BadNotWritable), and remote
clients never get the asyncua admin role, so the standard nodes keep their access levels.
OPC UA requests are not written to the station's Modbus request log.

Security: endpoints offer only security mode None with anonymous login. That is acceptable for
training on 127.0.0.1 only; a real plant network uses Sign or SignAndEncrypt (e.g. policy
Basic256Sha256) with application instance certificates, and user authentication.

Start-up: asyncua loads the standard address space (~1 s); :mod:`daqlab.plant.opcua_cache` keeps it
as a per-user shelf so later servers start in ~50 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from datetime import UTC, datetime

from asyncua import Server, ua

from daqlab.plant import opcua_nodes as nodes
from daqlab.plant.opcua_cache import AddressSpaceCache

REFRESH_S = 0.1  #: wall seconds between subscription refreshes (MinimumSamplingInterval, in ms, = 100)
_log = logging.getLogger(__name__)


class StationOpcUaServer:
    """The OPC UA server of one station. Create, start and stop it on the plant's event loop."""

    def __init__(self, station, host: str = "127.0.0.1", port: int = 0, *,
                 cache: AddressSpaceCache | None = None):
        self.station = station
        self.host = host
        self.requested_port = port
        self.port: int | None = None
        self.cache = AddressSpaceCache.default() if cache is None else cache
        self.server: Server | None = None
        self.points: dict[ua.NodeId, nodes.PointBinding] = {}
        self._time_node = nodes.node_id(station.number, "plant_time")
        self._last: dict[ua.NodeId, tuple] = {}
        self._key = None
        self._task: asyncio.Task | None = None
        self.started_from_cache = False  # True when the standard nodes came from the shelf

    @property
    def endpoint(self) -> str:
        """``opc.tcp://host:port/daqlab/station<k>``."""
        return f"opc.tcp://{self.host}:{self.port}/daqlab/station{self.station.number}"

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> StationOpcUaServer:
        self.server = await self._new_server()
        k = self.station.number
        server = self.server
        server.set_endpoint(f"opc.tcp://{self.host}:{self.requested_port}/daqlab/station{k}")
        server.set_server_name(f"DAQ Lab plant, station {k}")
        await server.set_application_uri(f"urn:daqlab:plant:station{k}")
        server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        server.set_identity_tokens([ua.AnonymousIdentityToken])
        server.allow_remote_admin(False)
        # asyncua clients ask for 1 h sessions and derive a subscription's keep-alive count from it
        # (27 000 at 100 ms); grant both, else every connect/subscribe logs a warning in notebooks
        server.iserver.max_session_timeout_ms = 3_600_000
        server.iserver.max_keep_alive_count = 100_000
        idx = await server.register_namespace(nodes.NAMESPACE_URI)
        if idx != nodes.NAMESPACE_INDEX:
            raise RuntimeError(f"namespace {nodes.NAMESPACE_URI} got index {idx}, expected {nodes.NAMESPACE_INDEX}")
        results = await server.iserver.isession.add_nodes(self._node_items())
        for r in results:
            r.StatusCode.check()
        # reads and writes of plant points are answered from the station (see the module docstring)
        server.iserver.attribute_service = _PlantAttributeService(server.iserver.attribute_service, self)
        await server.start()
        self.port = server.bserver.port
        await self.refresh(force=True)
        self._task = asyncio.create_task(self._refresh_loop())
        return self

    async def _new_server(self) -> Server:
        cache = self.cache
        if cache.ready():
            server = Server()
            try:
                await server.init(shelf_file=cache.shelf)
                self.started_from_cache = True
                return server
            except Exception:  # an unreadable shelf (disk trouble): drop it, start the slow way
                _log.warning("OPC UA address-space cache %s unreadable; rebuilding it", cache.folder, exc_info=True)
                cache.discard()
        server = Server()
        build = cache.new_build()
        if build is None:
            await server.init()
        else:
            await server.init(shelf_file=build / "aspace")
            cache.publish(build)
        return server

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.server is not None:
            await self.server.stop()
            self.server = None

    # ------------------------------------------------------------ values
    def read(self, nodeid: ua.NodeId, now: datetime | None = None) -> ua.DataValue | None:
        """A fresh DataValue for a plant node's Value (None when ``nodeid`` is not a plant value)."""
        binding = self.points.get(nodeid)
        if binding is not None:
            return nodes.datavalue(binding, now)
        if nodeid == self._time_node:
            self.station.sync()
            now = now or datetime.now(UTC)
            return ua.DataValue(ua.Variant(self.station.process.t, ua.VariantType.Double),
                                SourceTimestamp=now, ServerTimestamp=now)
        return None

    async def refresh(self, force: bool = False) -> int:
        """Store the current value of every point whose value or status changed (this is what
        subscriptions see); skipped when the model has not stepped and nothing changed. Returns the
        number of nodes updated."""
        st = self.station
        st.sync()
        key = (id(st.process), st.process.step, st.revision)
        if key == self._key and not force:
            return 0
        self._key = key
        now = datetime.now(UTC)
        changed = 0
        for nodeid in (self._time_node, *self.points):
            dv = self.read(nodeid, now)
            sig = _signature(dv)
            if self._last.get(nodeid) == sig:
                continue
            self._last[nodeid] = sig
            await self.server.write_attribute_value(nodeid, dv)
            changed += 1
        return changed

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_S)
            try:
                await self.refresh()
            except Exception:  # never let one bad value stop the subscriptions of a classroom
                _log.exception("OPC UA refresh of station %s failed", self.station.number)

    async def write(self, nodeid: ua.NodeId, variant: ua.Variant | None) -> ua.StatusCode:
        """Apply a client's write of a plant point's Value (see opcua_nodes.write_value)."""
        binding = self.points.get(nodeid)
        if binding is None:
            return ua.StatusCode(ua.StatusCodes.BadNotWritable)
        status = nodes.write_value(binding, variant)
        if status.is_good():
            await self.refresh(force=True)
        return status

    # ------------------------------------------------------------ address space
    def _node_items(self) -> list[ua.AddNodesItem]:
        st = self.station
        k = st.number
        items = [_object(nodes.node_id(k), f"Station{k}", ua.NodeId(ua.ObjectIds.ObjectsFolder),
                         ua.ObjectIds.Organizes, f"Station {k} of the DAQ Lab plant · 实训工位 {k}")]
        items += _variable(self._time_node, "plant_time", nodes.node_id(k), ua.VariantType.Double,
                           st.process.t, "Plant time of the values (model seconds) · 仿真时间（秒）", "s", False)
        for dev in sorted(st.devices.values(), key=lambda d: d.unit):
            dev_id = nodes.node_id(k, dev.kind)
            items.append(_object(dev_id, nodes.DEVICE_NAMES[dev.kind], nodes.node_id(k), ua.ObjectIds.HasComponent,
                                 f"{dev.title} · {dev.title_zh}"))
            for p in dev.points:
                nid = nodes.node_id(k, dev.kind, p.name)
                binding = nodes.PointBinding(st, dev.kind, p.name, nid, nodes.variant_type(p), p.writable)
                self.points[nid] = binding
                value, _ = nodes.read_value(binding)
                items += _variable(nid, p.name, dev_id, binding.vtype, value, f"{p.en} · {p.zh}", p.unit, p.writable)
        return items


class _PlantAttributeService:
    """Stands in for asyncua's AttributeService of one server: Value reads and writes of plant nodes
    are answered by the station, one status per item; everything else goes to asyncua's service."""

    def __init__(self, inner, owner: StationOpcUaServer):
        self.inner = inner
        self.owner = owner

    def read(self, params: ua.ReadParameters) -> list[ua.DataValue]:
        results = self.inner.read(params)
        now = datetime.now(UTC)
        for i, rv in enumerate(params.NodesToRead):
            if rv.AttributeId == ua.AttributeIds.Value:
                dv = self.owner.read(rv.NodeId, now)
                if dv is not None:
                    results[i] = dv
        return results

    async def write(self, params: ua.WriteParameters, user=None) -> list[ua.StatusCode]:
        results = []
        for wv in params.NodesToWrite:
            if wv.NodeId.NamespaceIndex == nodes.NAMESPACE_INDEX:
                if wv.AttributeId == ua.AttributeIds.Value:
                    results.append(await self.owner.write(wv.NodeId, wv.Value.Value if wv.Value else None))
                else:
                    results.append(ua.StatusCode(ua.StatusCodes.BadNotWritable))
            else:
                one = ua.WriteParameters(NodesToWrite=[wv])
                results.extend(await (self.inner.write(one) if user is None else self.inner.write(one, user=user)))
        return results


async def serve_station_opcua(station, host: str = "127.0.0.1", port: int = 0) -> StationOpcUaServer:
    """Start the OPC UA server of ``station`` on the running (plant) loop; ``port=0`` picks a free port."""
    return await StationOpcUaServer(station, host, port).start()


# ----------------------------------------------------------------- node items
def _signature(dv: ua.DataValue) -> tuple:
    v = dv.Value.Value if dv.Value is not None else None
    if isinstance(v, float) and math.isnan(v):
        v = "nan"  # NaN != NaN: a broken float sensor would otherwise "change" on every refresh
    return dv.StatusCode.value if dv.StatusCode else 0, v


def _object(nid: ua.NodeId, name: str, parent: ua.NodeId, reftype: int, description: str) -> ua.AddNodesItem:
    attrs = ua.ObjectAttributes(DisplayName=ua.LocalizedText(name), Description=ua.LocalizedText(description),
                                EventNotifier=0, WriteMask=0, UserWriteMask=0)
    return ua.AddNodesItem(ParentNodeId=parent, ReferenceTypeId=ua.NodeId(reftype), RequestedNewNodeId=nid,
                           BrowseName=ua.QualifiedName(name, nodes.NAMESPACE_INDEX), NodeClass=ua.NodeClass.Object,
                           NodeAttributes=attrs, TypeDefinition=ua.NodeId(ua.ObjectIds.BaseObjectType))


def _variable(nid: ua.NodeId, name: str, parent: ua.NodeId, vtype: ua.VariantType, value, description: str,
              unit: str, writable: bool) -> list[ua.AddNodesItem]:
    access = ua.AccessLevel.CurrentRead.mask | (ua.AccessLevel.CurrentWrite.mask if writable else 0)
    attrs = ua.VariableAttributes(
        DisplayName=ua.LocalizedText(name), Description=ua.LocalizedText(description),
        Value=ua.Variant(value, vtype) if value is not None else ua.Variant(),
        DataType=ua.NodeId(vtype.value), ValueRank=ua.ValueRank.Scalar, AccessLevel=access, UserAccessLevel=access,
        MinimumSamplingInterval=REFRESH_S * 1000, Historizing=False, WriteMask=0, UserWriteMask=0)
    typedef = ua.ObjectIds.AnalogUnitType if unit else ua.ObjectIds.BaseDataVariableType
    items = [ua.AddNodesItem(ParentNodeId=parent, ReferenceTypeId=ua.NodeId(ua.ObjectIds.HasComponent),
                             RequestedNewNodeId=nid, BrowseName=ua.QualifiedName(name, nodes.NAMESPACE_INDEX),
                             NodeClass=ua.NodeClass.Variable, NodeAttributes=attrs,
                             TypeDefinition=ua.NodeId(typedef))]
    if unit:
        eu = ua.VariableAttributes(
            DisplayName=ua.LocalizedText("EngineeringUnits"), Description=ua.LocalizedText(f"Unit · 单位: {unit}"),
            Value=ua.Variant(nodes.eu_information(unit)), DataType=ua.NodeId(ua.ObjectIds.EUInformation),
            ValueRank=ua.ValueRank.Scalar, AccessLevel=ua.AccessLevel.CurrentRead.mask,
            UserAccessLevel=ua.AccessLevel.CurrentRead.mask, WriteMask=0, UserWriteMask=0)
        items.append(ua.AddNodesItem(
            ParentNodeId=nid, ReferenceTypeId=ua.NodeId(ua.ObjectIds.HasProperty),
            RequestedNewNodeId=ua.NodeId(f"{nid.Identifier}.EngineeringUnits", nodes.NAMESPACE_INDEX),
            BrowseName=ua.QualifiedName("EngineeringUnits", 0), NodeClass=ua.NodeClass.Variable, NodeAttributes=eu,
            TypeDefinition=ua.NodeId(ua.ObjectIds.PropertyType)))
    return items
