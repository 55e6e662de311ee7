"""Three-phase energy meter (unit 3), Eastron SDM630 class.

Input registers (FC 04), IEEE-754 float32, two registers per value, at the SDM630's addresses
(manual numbers 30001 + address). Word order is ABCD on the real meter; some stations of the
plant are installed behind a gateway that swaps words (CDAB): the datasheet says which.
Configuration lives in float32 holding registers (FC 03, written with FC 16).
"""

from __future__ import annotations

from daqlab.plant.devices.base import Device, Point

# (address, name, en, zh, unit)
_INPUTS = [
    (0x00, "voltage_l1", "Phase 1 line-to-neutral voltage", "L1 相电压", "V"),
    (0x02, "voltage_l2", "Phase 2 line-to-neutral voltage", "L2 相电压", "V"),
    (0x04, "voltage_l3", "Phase 3 line-to-neutral voltage", "L3 相电压", "V"),
    (0x06, "current_l1", "Phase 1 current", "L1 电流", "A"),
    (0x08, "current_l2", "Phase 2 current", "L2 电流", "A"),
    (0x0A, "current_l3", "Phase 3 current", "L3 电流", "A"),
    (0x0C, "power_l1", "Phase 1 active power", "L1 有功功率", "W"),
    (0x0E, "power_l2", "Phase 2 active power", "L2 有功功率", "W"),
    (0x10, "power_l3", "Phase 3 active power", "L3 有功功率", "W"),
    (0x12, "apparent_l1", "Phase 1 apparent power", "L1 视在功率", "VA"),
    (0x14, "apparent_l2", "Phase 2 apparent power", "L2 视在功率", "VA"),
    (0x16, "apparent_l3", "Phase 3 apparent power", "L3 视在功率", "VA"),
    (0x18, "reactive_l1", "Phase 1 reactive power", "L1 无功功率", "VAr"),
    (0x1A, "reactive_l2", "Phase 2 reactive power", "L2 无功功率", "VAr"),
    (0x1C, "reactive_l3", "Phase 3 reactive power", "L3 无功功率", "VAr"),
    (0x1E, "pf_l1", "Phase 1 power factor", "L1 功率因数", ""),
    (0x20, "pf_l2", "Phase 2 power factor", "L2 功率因数", ""),
    (0x22, "pf_l3", "Phase 3 power factor", "L3 功率因数", ""),
    (0x2A, "voltage_avg", "Average line-to-neutral voltage", "平均相电压", "V"),
    (0x2E, "current_avg", "Average line current", "平均电流", "A"),
    (0x30, "current_sum", "Sum of line currents", "电流之和", "A"),
    (0x34, "power_total", "Total system active power", "总有功功率", "W"),
    (0x38, "apparent_total", "Total system apparent power", "总视在功率", "VA"),
    (0x3C, "reactive_total", "Total system reactive power", "总无功功率", "VAr"),
    (0x3E, "pf_total", "Total system power factor", "总功率因数", ""),
    (0x46, "frequency", "Supply frequency", "电网频率", "Hz"),
    (0x48, "energy_import", "Import active energy", "正向有功电能", "kWh"),
    (0x4A, "energy_export", "Export active energy", "反向有功电能", "kWh"),
    (0x156, "energy_total", "Total active energy", "总有功电能", "kWh"),
]
PARITY_CODES = (0.0, 1.0, 2.0, 3.0)  # one stop bit no parity, even, odd; two stop bits no parity
BAUD_CODES = (0.0, 1.0, 2.0, 3.0, 4.0)  # 2400, 4800, 9600, 19200, 38400
BAUD_BY_CODE = {0: 2400, 1: 4800, 2: 9600, 3: 19200, 4: 38400}


class Meter(Device):
    kind = "meter"
    title = "Three-phase energy meter (SDM630 class)"
    title_zh = "三相电能表（SDM630 类）"
    identity = ("DAQ Lab", "DL-EM630", "V1.5")
    notes = (
        ("All values are float32 over two registers; read them in pairs starting at an even address. "
         "Settings (holding registers) must be written as float32 with FC 16; they take effect after a power cycle.",
         "所有数值均为 float32（占两个寄存器），须从偶地址成对读取。参数（保持寄存器）须用 FC16 以 float32 写入，重新上电后生效。"),
        ("Parity/stop code: 0 = 1 stop bit no parity, 1 = 1 stop even, 2 = 1 stop odd, 3 = 2 stop bits no parity. "
         "Baud code: 0 = 2400, 1 = 4800, 2 = 9600, 3 = 19200, 4 = 38400 (SDM630 convention; check your meter's manual).",
         "校验/停止位代码与波特率代码见英文说明（按 SDM630 约定，以实际电表手册为准）。"),
    )

    def __init__(self, station, unit):
        v = station.variant
        parity_code = {"N": 3.0 if v.stopbits == 2 else 0.0, "E": 1.0, "O": 2.0}[v.parity]
        baud_code = {b: c for c, b in BAUD_BY_CODE.items()}.get(v.baudrate, 2)
        self.config = {"parity_stop": parity_code, "node_address": float(unit), "baud_code": float(baud_code)}
        super().__init__(station, unit)

    def build_points(self):
        order = self.variant.meter_order
        pts = [Point(n, "input", a, "FLOAT32", en, zh, unit=u, order=order, sensor=True) for a, n, en, zh, u in _INPUTS]
        pts += [
            Point("parity_stop", "holding", 0x12, "FLOAT32", "Parity and stop bits code", "校验位/停止位代码",
                  order=order, writable=True, choices=PARITY_CODES),
            Point("node_address", "holding", 0x14, "FLOAT32", "Modbus node address", "Modbus 地址", order=order,
                  writable=True, minimum=1.0, maximum=247.0),
            Point("baud_code", "holding", 0x1C, "FLOAT32", "Baud rate code", "波特率代码", order=order,
                  writable=True, choices=BAUD_CODES),
        ]
        return pts

    def values(self):
        p = self.process
        vs = p.volts
        cs = p.phase_currents()
        pw = p.phase_powers()
        out = {}
        for i in range(3):
            P, Q, S = pw[i]
            k = str(i + 1)
            out["voltage_l" + k] = vs[i]
            out["current_l" + k] = cs[i]
            out["power_l" + k] = P
            out["apparent_l" + k] = S
            out["reactive_l" + k] = Q
            out["pf_l" + k] = P / S if S else 1.0
        P = sum(x[0] for x in pw)
        Q = sum(x[1] for x in pw)
        S = sum(x[2] for x in pw)
        out.update(
            voltage_avg=sum(vs) / 3, current_avg=sum(cs) / 3, current_sum=sum(cs), power_total=P,
            apparent_total=S, reactive_total=Q, pf_total=P / S if S else 1.0, frequency=p.hz,
            energy_import=p.energy_kwh, energy_export=0.0, energy_total=p.energy_kwh,
        )
        out.update(self.config)
        return out

    def apply(self, point, value):
        self.config[point.name] = float(round(value))
