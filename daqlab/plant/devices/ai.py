"""Analog input module (unit 5): four 4-20 mA channels reported as Siemens S7 raw counts.

Raw counts: 0 = 4 mA, 13824 = 12 mA, 27648 = 20 mA; over-range up to 32511, under-range down to
-4864. This simulated module reports 32767 (0x7FFF) on a broken wire and sets the channel's bit in
the status word (real modules differ: check the manual). Engineering value
= low + raw / 27648 x (high - low); current in mA = 4 + raw / 27648 x 16.
"""

from __future__ import annotations

from daqlab.plant.devices.base import Device, Point

FULL = 27648
OVER, UNDER = 32511, -4864
WIRE_BREAK = 0x7FFF


class AnalogModule(Device):
    kind = "ai"
    title = "Analog input module, 4 x 4-20 mA (S7 raw counts)"
    title_zh = "模拟量输入模块，4 路 4-20 mA（S7 原始码值）"
    identity = ("DAQ Lab", "DL-AI4", "V1.0")
    notes = (
        ("Raw 0..27648 = 4..20 mA = low..high of the channel's range; -4864..32511 is the under/over range. "
         "32767 (0x7FFF) = wire break (status word bit = channel). Status bits 4-7: channel out of nominal range.",
         "原始码 0..27648 对应 4..20 mA 即量程下限..上限；-4864..32511 为欠/超量程。32767（0x7FFF）表示断线"
         "（状态字对应位置 1）。状态字 bit4-7：该通道超出标称量程。"),
    )

    def __init__(self, station, unit):
        self.filter_level = 1
        super().__init__(station, unit)

    def ranges(self):
        v = self.variant
        return [v.pressure_range, v.level_range, (0.0, 150.0), (0.0, 20.0)]

    def build_points(self):
        names = [("pressure", "Air supply pressure", "气源压力", "bar"), ("level", "Tank level", "水箱液位", "m"),
                 ("motor_temp", "Motor winding temperature", "电机绕组温度", "°C"),
                 ("flow", "Coolant flow", "冷却水流量", "m³/h")]
        pts = []
        for ch, ((name, en, zh, unit), (lo, hi)) in enumerate(zip(names, self.ranges(), strict=True)):
            pts.append(Point(name, "input", ch, "INT16", f"Ch{ch} {en} ({lo:g}-{hi:g} {unit} = 4-20 mA)",
                             f"通道{ch} {zh}（{lo:g}-{hi:g} {unit} 对应 4-20 mA）", unit=unit,
                             scale=(hi - lo) / FULL, offset=lo, sensor=True))
        pts.append(Point("status", "input", 0x10, "UINT16", "Diagnostic word (bit n wire break ch n, bit 4+n range)",
                         "诊断字（bit n 通道 n 断线，bit 4+n 超量程）"))
        pts.append(Point("filter", "holding", 0, "UINT16", "Input filter level (0 off .. 3 strong)", "输入滤波等级",
                         writable=True, minimum=0, maximum=3))
        pts.append(Point("range_code", "holding", 1, "UINT16", "Measuring range code (3 = 4-20 mA)", "量程代码（3=4-20 mA）"))
        return pts

    def values(self):
        p = self.process
        out = {"pressure": p.pressure, "level": p.level, "motor_temp": p.motor_temp, "flow": p.flow,
               "filter": self.filter_level, "range_code": 3}
        status = 0
        for ch, (name, (lo, hi)) in enumerate(zip(("pressure", "level", "motor_temp", "flow"), self.ranges(), strict=True)):
            raw = (out[name] - lo) / (hi - lo) * FULL
            if raw > FULL or raw < 0:
                status |= 1 << (4 + ch)
            out[name] = lo + max(UNDER, min(OVER, raw)) * (hi - lo) / FULL
        out["status"] = status
        return out

    def apply(self, point, value):
        self.filter_level = int(value)
