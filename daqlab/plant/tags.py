"""A station's tag table, built from the same points that serve its registers and fill its datasheet."""

from __future__ import annotations

from daqlab.acquisition.tags import Tag


def station_tags(station, devices=None) -> list[Tag]:
    """Tags for every point of a station (or of the named devices), named ``device.point``."""
    out = []
    for dev in sorted(station.devices.values(), key=lambda d: d.unit):
        if devices is not None and dev.kind not in devices:
            continue
        for p in dev.points:
            out.append(Tag(name=f"{dev.kind}.{p.name}", unit=dev.unit, area=p.area, address=p.address,
                           dtype="BOOL" if p.area in ("coil", "discrete") else p.dtype, order=p.order,
                           scale=p.scale, offset=p.offset, eng_unit=p.unit, description=p.en, length=p.length,
                           meta={"device": dev.kind, "point": p.name, "zh": p.zh, "writable": p.writable}))
    return out


def tag_table(station: int = 1, *, seed: int = 0, textbook: bool = False, devices=None) -> list[Tag]:
    """Tag table of station ``station`` of a plant with ``seed`` (no plant needs to run)."""
    from daqlab.plant.runner import Plant

    plant = Plant(station, seed=seed, textbook=textbook, control=False)
    return station_tags(plant.station(station), devices)
