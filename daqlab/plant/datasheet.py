"""Per-station datasheet in Markdown, generated from the same points that serve the registers.

Addresses are shown twice: the 0-based PDU address used on the wire and in code, and the 1-based
manual reference (3xxxx / 4xxxx ...) that vendor manuals and gateway UIs use
(daqlab.addressing does the conversion).
"""

from __future__ import annotations

from daqlab.addressing import to_reference

PARITY_ZH = {"N": "无（N）", "E": "偶校验（E）", "O": "奇校验（O）"}
AREA_TEXT = {
    "coil": ("Coils (0x), FC 01 read / 05, 15 write", "线圈（0x 区）"),
    "discrete": ("Discrete inputs (1x), FC 02 read", "离散输入（1x 区）"),
    "input": ("Input registers (3x), FC 04 read", "输入寄存器（3x 区）"),
    "holding": ("Holding registers (4x), FC 03 read / 06, 16 write", "保持寄存器（4x 区）"),
}


def datasheet(station, endpoint: str | None = None) -> str:
    v = station.variant
    lines = [
        f"# 工位 {v.station} 设备手册 · Station {v.station} datasheet",
        "",
        f"- Modbus TCP: `{endpoint}`" if endpoint else "- Modbus TCP: see `daqlab plant serve` output",
        f"- RS-485 总线（Modbus RTU）串口参数 {v.baudrate} 8{v.parity}{v.stopbits}：波特率 {v.baudrate}，8 位数据位，"
        f"校验 {PARITY_ZH[v.parity]}，{v.stopbits} 位停止位 · RS-485 bus: {v.baudrate} baud, 8 data bits, "
        f"parity {v.parity}, {v.stopbits} stop bit(s) (8{v.parity}{v.stopbits})",
        "- 地址：**PDU** 是报文中从 0 开始的地址（pymodbus 里用它）；**Ref** 是手册中从 1 开始的寄存器编号"
        "（如 40001 = FC 03 地址 0）。Addresses: **PDU** = 0-based address sent on the wire (use it in pymodbus); "
        "**Ref** = 1-based manual reference.",
        "- 从站地址（unit id）：" + "，".join(f"{d.unit} {d.kind}" for d in sorted(station.devices.values(),
                                                                                key=lambda d: d.unit))
        + ("。没有设备的从站地址不回答。" if station.unknown_unit == "silent" else
           "。没有设备的从站地址回答异常码 0B（网关目标设备响应失败）。")
        + " Unit ids: " + ", ".join(f"{d.unit} {d.kind}" for d in sorted(station.devices.values(), key=lambda d: d.unit))
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
                      "| 地址 PDU | 编号 Ref | 名称 Name | 类型 Type | 字序 Order | 寄存器数 Regs | 缩放 Scale | 单位 Unit | "
                      "读写 Access | 范围 Limits | Description | 说明 |",
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
