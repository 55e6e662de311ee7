"""Instructor control API of a running plant: a tiny JSON-over-HTTP server on ``base_port``.

Used by ``daqlab plant status|fault|log|advance`` and by dashboards. Bound to the plant's host
(127.0.0.1 by default). When the plant has a control token, requests must carry it in the
``X-DAQLab-Token`` header (so trainees on the same machine cannot flip faults).

    GET  /status                       plant time, stations, ports, active faults
    GET  /log?station=3&limit=50&since=T   served requests of a station (since wall time T)
    GET  /station?station=3            documented vs served installation, faults, scenario
    POST /reset   {"station": 3}                          (a fresh bench, empty log)
    POST /scenario {"station": 3, "name": "troubleshoot"} (reset, then a drill; station "all" for every one)
    POST /fault   {"station": 3, "device": "meter", "mode": "offline", "value": true}
    POST /clear   {"station": 3, "device": "meter"}      (both optional)
    POST /advance {"seconds": 5}                          (frozen clock only)
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qs, urlsplit


async def serve_control(plant, host: str, port: int):
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        try:
            status, body = await asyncio.wait_for(_request(plant, reader), 10)
        except Exception as exc:  # malformed HTTP: answer and close, never crash the plant
            status, body = 400, {"error": str(exc)}
        data = json.dumps(body, ensure_ascii=False).encode()
        writer.write(f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode() + data)
        try:
            await writer.drain()
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port, reuse_address=True)


async def _request(plant, reader):
    line = (await reader.readline()).decode("latin-1").strip()
    method, target, _ = line.split(" ", 2)
    headers = {}
    while True:
        h = (await reader.readline()).decode("latin-1").strip()
        if not h:
            break
        k, _, v = h.partition(":")
        headers[k.strip().lower()] = v.strip()
    length = int(headers.get("content-length", "0") or 0)
    if length > 65536:
        return 413, {"error": "body too large"}
    raw = await reader.readexactly(length) if length else b""
    if plant.control_token and headers.get("x-daqlab-token") != plant.control_token:
        return 403, {"error": "missing or wrong X-DAQLab-Token"}
    url = urlsplit(target)
    query = {k: v[-1] for k, v in parse_qs(url.query).items()}
    payload = json.loads(raw) if raw else {}
    try:
        return 200, _route(plant, method, url.path, query, payload)
    except (KeyError, ValueError, RuntimeError) as exc:
        return 400, {"error": str(exc).strip("'\"")}


def _route(plant, method, path, query, payload):
    if method == "GET" and path == "/status":
        return plant.status()
    if method == "GET" and path == "/log":
        station = int(query.get("station", 1))
        limit = int(query.get("limit", 100)) or None
        since = float(query["since"]) if "since" in query else None
        return {"station": station, "entries": [e.to_dict() for e in plant.log(station, limit=limit, since=since)]}
    if method == "GET" and path == "/station":
        return plant.station_info(int(query.get("station", 1)))
    if method == "POST" and path == "/reset":
        plant.reset_station(int(payload["station"]))
        return {"reset": int(payload["station"])}
    if method == "POST" and path == "/scenario":
        targets = list(plant.stations) if payload.get("station") == "all" else [int(payload["station"])]
        for k in targets:
            plant.apply_scenario(k, payload["name"])
        return {"scenario": payload["name"], "stations": targets}
    if method == "POST" and path == "/fault":
        faults = plant.set_fault(int(payload["station"]), payload["device"], payload["mode"], payload.get("value", True))
        return {"station": int(payload["station"]), "device": payload["device"], "faults": faults}
    if method == "POST" and path == "/clear":
        station = payload.get("station")
        plant.clear_faults(int(station) if station is not None else None, payload.get("device"))
        return {"cleared": True}
    if method == "POST" and path == "/advance":
        return {"plant_time": plant.advance(float(payload["seconds"]))}
    raise KeyError(f"no route {method} {path}")
