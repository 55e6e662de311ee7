"""Variable-frequency drive (unit 4 by default; some stations move it), Delta VFD-E style.

Command word 0x2000: bits 0-1 = 00 no function, 01 stop, 10 run, 11 jog; bits 4-5 = 00 no function,
01 forward, 10 reverse, 11 change direction. Run forward = 0x0012, stop = 0x0001.
Frequencies are in 0.01 Hz (5000 = 50.00 Hz). The status word layout (0x2101) and the fault codes
are the simulator's own, modelled on Delta's: check your drive's manual for the real bits.
"""

from __future__ import annotations

from daqlab.plant import process as pm
from daqlab.plant.devices.base import Device, ModbusError, Point

STATUS_BITS = {0: "running", 1: "jog", 2: "reverse", 3: "fault", 4: "at_speed", 5: "accelerating",
               6: "decelerating", 7: "run_command"}


class VFD(Device):
    kind = "vfd"
    title = "Variable-frequency drive (Delta VFD-E style)"
    title_zh = "变频器（台达 VFD-E 风格）"
    identity = ("DAQ Lab", "DL-VFD-E", "V1.2")
    notes = (
        ("Command word 0x2000: bits 0-1 00 none / 01 stop / 10 run / 11 jog; bits 4-5 00 none / 01 FWD / "
         "10 REV / 11 change direction. Run forward = 0x0012, stop = 0x0001. Other bits set -> exception 03.",
         "控制字 0x2000：bit0-1 00无 / 01停止 / 10运行 / 11点动；bit4-5 00无 / 01正转 / 10反转 / 11换向。"
         "正转运行 = 0x0012，停止 = 0x0001；其余位置 1 返回异常 03。"),
        ("0x2002: bit 0 = external fault (EF) input, bit 1 = reset. Fault codes (0x2100): "
         + ", ".join(f"{k} {v}" for k, v in pm.VFD_FAULTS.items()) + ".",
         "0x2002：bit0 外部故障（EF），bit1 复位。故障代码见英文说明。"),
        ("Status word 0x2101 bits: " + ", ".join(f"{b} {n}" for b, n in STATUS_BITS.items())
         + ". The output ramps at 10 Hz/s; the conveyor counts parts only when running forward.",
         "状态字 0x2101 各位见英文说明。输出频率按 10 Hz/s 斜坡变化；仅正转时计件。"),
    )

    def __init__(self, station, unit):
        self.last_command = 0
        super().__init__(station, unit)

    def build_points(self):
        return [
            Point("command", "holding", 0x2000, "UINT16", "Command word (run/stop/jog, direction)", "控制字",
                  writable=True, minimum=0, maximum=0x3F),
            Point("freq_command", "holding", 0x2001, "UINT16", "Frequency command", "频率指令", unit="Hz",
                  scale=0.01, writable=True, minimum=0.0, maximum=pm.MAX_FREQ_HZ),
            Point("control", "holding", 0x2002, "UINT16", "EF (bit 0) and reset (bit 1)", "外部故障/复位",
                  writable=True, minimum=0, maximum=3),
            Point("fault_code", "holding", 0x2100, "UINT16", "Fault code", "故障代码"),
            Point("status", "holding", 0x2101, "UINT16", "Status word", "状态字"),
            Point("freq_command_rb", "holding", 0x2102, "UINT16", "Frequency command (read back)", "频率指令（读回）",
                  unit="Hz", scale=0.01),
            Point("output_freq", "holding", 0x2103, "UINT16", "Output frequency", "输出频率", unit="Hz", scale=0.01,
                  sensor=True),
            Point("output_current", "holding", 0x2104, "UINT16", "Output current", "输出电流", unit="A", scale=0.01,
                  sensor=True),
            Point("dc_bus", "holding", 0x2105, "UINT16", "DC bus voltage", "直流母线电压", unit="V", scale=0.1,
                  sensor=True),
            Point("output_voltage", "holding", 0x2106, "UINT16", "Output voltage", "输出电压", unit="V", scale=0.1,
                  sensor=True),
        ]

    def status_word(self) -> int:
        p = self.process
        tripped = bool(p.vfd_fault) or p.estop  # a tripped drive holds 0 Hz: not "accelerating"
        target = 0.0 if (tripped or not p.run) else (pm.JOG_HZ if p.jog else p.freq_cmd)
        bits = [p.out_freq > 0, p.jog and p.run, p.reverse, bool(p.vfd_fault),
                p.run and abs(p.out_freq - target) < 0.01, p.out_freq < target - 0.01,
                p.out_freq > target + 0.01, p.run]
        return sum(1 << i for i, b in enumerate(bits) if b)

    def values(self):
        p = self.process
        v_ll = sum(p.volts) / 3 * 3**0.5
        return {
            "command": self.last_command, "freq_command": p.freq_cmd,
            "control": int(p.ext_fault), "fault_code": p.vfd_fault, "status": self.status_word(),
            "freq_command_rb": p.freq_cmd, "output_freq": p.out_freq, "output_current": p.current,
            "dc_bus": v_ll * 1.35, "output_voltage": v_ll * min(1.0, p.out_freq / 50.0),
        }

    def check(self, point, value):
        if point.name == "command" and int(value) & ~0x33:
            raise ModbusError(3, f"vfd: command 0x{int(value):04X} sets undefined bits (only bits 0-1 and 4-5)")

    def apply(self, point, value):
        p = self.process
        if point.name == "command":
            value = int(value)
            self.last_command = value
            direction = (value >> 4) & 3
            if direction == 1:
                p.reverse = False
            elif direction == 2:
                p.reverse = True
            elif direction == 3:
                p.reverse = not p.reverse
            action = value & 3
            if action == 1:
                p.stop()
            elif action == 2:
                p.run, p.jog = True, False
            elif action == 3:
                p.run, p.jog = True, True
        elif point.name == "freq_command":
            p.freq_cmd = round(value, 2)
        elif point.name == "control":
            value = int(value)
            p.ext_fault = bool(value & 1)
            if p.ext_fault:
                p.vfd_fault = 16
            if value & 2:
                p.reset()
