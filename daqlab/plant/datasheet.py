"""Per-station datasheet in Markdown, generated from the same points that serve the registers.

Addresses are shown twice: the 0-based PDU address used on the wire and in code, and the 1-based
manual reference (3xxxx / 4xxxx ...) that vendor manuals and gateway UIs use
(daqlab.addressing does the conversion).
"""

from __future__ import annotations

from daqlab.addressing import to_reference

AREA_TEXT = {
    "coil": ("Coils (0x), FC 01 read / 05, 15 write", "线圈（0x 区）"),
    "discrete": ("Discrete inputs (1x), FC 02 read", "离散输入（1x 区）"),
    "input": ("Input registers (3x), FC 04 read", "输入寄存器（3x 区）"),
    "holding": ("Holding registers (4x), FC 03 read / 06, 16 write", "保持寄存器（4x 区）"),
}


def datasheet(station, endpoint: str | None = None) -> str:
    v = station.variant
    lines = [
        f"# Station {v.station} datasheet · 工位 {v.station} 设备手册",
        "",
        f"- Modbus TCP: `{endpoint}`" if endpoint else "- Modbus TCP: see `daqlab plant serve` output",
        f"- RS-485 bus (Modbus RTU): {v.baudrate} baud, 8 data bits, parity {v.parity}, {v.stopbits} stop bit(s) "
        f"(8{v.parity}{v.stopbits}) · 串口参数 {v.baudrate} 8{v.parity}{v.stopbits}",
        "- Addresses: **PDU** = 0-based address sent on the wire (use it in pymodbus); **Ref** = 1-based manual "
        "reference. 地址：PDU 为报文中从 0 开始的地址，Ref 为手册中从 1 开始的编号（如 40001 = FC03 地址 0）。",
        "- Unit ids: " + ", ".join(f"{d.unit} {d.kind}" for d in sorted(station.devices.values(), key=lambda d: d.unit))
        + ". Unknown unit ids are answered with exception 0B (gateway target failed to respond)"
        + (" — this plant is set to stay silent instead." if station.unknown_unit == "silent" else "."),
        "",
    ]
    for dev in sorted(station.devices.values(), key=lambda d: d.unit):
        lines += [f"## Unit {dev.unit}: {dev.title} · {dev.title_zh}", ""]
        lines.append(f"Identification (FC 43/14): {' / '.join(dev.identity)}")
        lines.append("")
        for area in ("coil", "discrete", "input", "holding"):
            pts = [p for p in dev.points if p.area == area]
            if not pts:
                continue
            en, zh = AREA_TEXT[area]
            lines += [f"### {en} · {zh}", "",
                      "| PDU | Ref | Name | Type | Order | Regs | Scale | Unit | Access | Limits | Description | 说明 |",
                      "|---|---|---|---|---|---|---|---|---|---|---|---|"]
            for p in sorted(pts, key=lambda p: p.address):
                scale = "" if (p.scale == 1.0 and not p.offset) else (
                    f"x{p.scale:.6g}" + (f" + {p.offset:g}" if p.offset else ""))
                dtype = f"STRING({p.length})" if p.dtype == "STRING" else p.dtype
                order = p.order if p.count > 1 and p.dtype != "STRING" else ""
                access = "R/W" if p.writable else "R"
                lines.append(
                    f"| {p.address} (0x{p.address:04X}) | {to_reference(p.area, p.address)} | `{p.name}` | {dtype} | "
                    f"{order} | {p.count} | {scale} | {p.unit} | {access} | {p.limits_text()} | {p.en} | {p.zh} |")
            lines.append("")
        for en, zh in dev.notes:
            lines.append(f"- {en}  \n  {zh}")
        lines.append("")
    lines += [
        "## Exceptions · 异常码",
        "",
        "01 unsupported function code · 02 address outside the map, a read-only register written, or half of a "
        "32-bit value written · 03 quantity out of range (0, >125 registers, >2000 bits), bad byte count, a value "
        "outside its limits · 04 device refuses now (e.g. start while a fault is active) · 0B unknown unit id.",
        "",
    ]
    return "\n".join(lines)
