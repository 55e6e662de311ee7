"""PLC of the conveyor / packaging line (unit 1): start/stop, counters, state and alarms."""

from __future__ import annotations

from daqlab.plant import process as pm
from daqlab.plant.devices.base import Device, ModbusError, Point

NAMEPLATE = "DAQLAB-PLC-1214"
FIRMWARE = 214  # major * 100 + minor -> V2.14
PULSE_S = 0.3  # a part sensor stays on this long after a part passes


class PLC(Device):
    kind = "plc"
    title = "Conveyor line PLC"
    title_zh = "输送线 PLC（可编程控制器）"
    identity = ("DAQ Lab", "DL-PLC1214", "V2.14")
    notes = (
        ("Coil `run` reads 1 while the line is commanded to run; writing 1 starts the VFD at `speed_setpoint`, "
         "writing 0 stops it. `stop` and `reset` are momentary: write 1, they read back 0.",
         "线圈 run 为 1 表示产线运行指令有效；写 1 按 speed_setpoint 启动变频器，写 0 停机。stop、reset 为点动：写 1 执行，读回为 0。"),
        ("`firmware` is major x 100 + minor: 214 means V2.14. `parts` is a uint32 (ABCD: high word first).",
         "firmware = 主版本 x 100 + 次版本，214 即 V2.14。parts 为 32 位无符号整数（ABCD，高字在前）。"),
        ("Alarm word bits: " + ", ".join(f"{b} {n}" for b, n in pm.ALARM_BITS.items()) + ". States: "
         + ", ".join(f"{k} {v}" for k, v in pm.STATE_NAMES.items()) + ".",
         "报警字位定义与状态码见英文说明。"),
    )

    def build_points(self):
        return [
            Point("run", "coil", 0, "BOOL", "Line run command (1 run, 0 stop)", "产线运行指令", writable=True),
            Point("stop", "coil", 1, "BOOL", "Stop (momentary)", "停止（点动）", writable=True),
            Point("reset", "coil", 2, "BOOL", "Reset alarms and faults (momentary)", "复位报警与故障（点动）", writable=True),
            Point("auto_mode", "coil", 3, "BOOL", "Auto mode: speed setpoint follows to the VFD", "自动模式", writable=True),
            Point("part_sensor", "discrete", 0, "BOOL", "Part present at the outfeed photo-eye", "出料光电开关（有料）"),
            Point("reject_sensor", "discrete", 1, "BOOL", "Reject gate active", "剔除门动作"),
            Point("estop_ok", "discrete", 2, "BOOL", "E-stop circuit healthy (NC: 1 = OK)", "急停回路正常（常闭，1=正常）"),
            Point("guard_closed", "discrete", 3, "BOOL", "Safety guard closed", "安全防护门关闭"),
            Point("motor_running", "discrete", 4, "BOOL", "Motor turning (VFD output > 0)", "电机运转"),
            Point("alarm_active", "discrete", 5, "BOOL", "Any alarm active", "有报警"),
            Point("speed_setpoint", "holding", 0, "UINT16", "Line speed setpoint", "线速度设定（频率）", unit="Hz",
                  scale=0.01, writable=True, minimum=0.0, maximum=pm.MAX_FREQ_HZ),
            Point("batch_size", "holding", 1, "UINT16", "Good parts per batch", "每批合格品数量", unit="pcs",
                  writable=True, minimum=1, maximum=9999),
            Point("nameplate", "holding", 0x10, "STRING", "Nameplate (model)", "铭牌（型号）", length=16),
            Point("serial_number", "holding", 0x18, "STRING", "Serial number", "序列号", length=12),
            Point("firmware", "holding", 0x20, "UINT16", "Firmware version (major*100+minor)", "固件版本（主*100+次）"),
            Point("parts", "input", 0, "UINT32", "Part counter (all parts)", "零件计数（总数）", unit="pcs"),
            Point("good", "input", 2, "UINT16", "Good parts", "合格品数", unit="pcs"),
            Point("reject", "input", 3, "UINT16", "Rejected parts", "不合格品数", unit="pcs"),
            Point("state", "input", 4, "UINT16", "Line state (0 stopped,1 starting,2 running,3 stopping,4 fault)",
                  "产线状态（0停止 1启动中 2运行 3停止中 4故障）"),
            Point("alarm_word", "input", 5, "UINT16", "Alarm bit-word (see notes)", "报警字（按位）"),
            Point("cycle_time", "input", 6, "UINT16", "Cycle time per part", "单件节拍", unit="ms"),
            Point("batches", "input", 7, "UINT16", "Completed batches", "完成批次", unit=""),
        ]

    def values(self):
        p = self.process
        t = p.t
        rate = 60.0 * pm.PARTS_PER_S_AT_50HZ * p.out_freq / 50.0 if not p.jammed else 0.0
        return {
            "run": p.run, "stop": False, "reset": False, "auto_mode": p.auto_mode,
            "part_sensor": 0 <= t - p.last_part_t < PULSE_S,
            "reject_sensor": 0 <= t - p.last_reject_t < PULSE_S,
            "estop_ok": not p.estop, "guard_closed": p.guard_closed,
            "motor_running": p.out_freq > 0.0, "alarm_active": p.alarm_word() != 0,
            "speed_setpoint": p.speed_setpoint, "batch_size": p.batch_size,
            "nameplate": NAMEPLATE, "serial_number": self.variant.serial_number, "firmware": FIRMWARE,
            "parts": p.parts, "good": p.good & 0xFFFF, "reject": p.reject & 0xFFFF,
            "state": p.state, "alarm_word": p.alarm_word(),
            "cycle_time": min(65535, round(60000.0 / rate)) if rate > 0.5 else 0,
            "batches": p.batch_done & 0xFFFF,
        }

    def check(self, point, value):
        if point.name == "run" and value and (self.process.estop or self.process.vfd_fault):
            raise ModbusError(4, "plc: cannot start while e-stop or a VFD fault is active (reset first)")

    def apply(self, point, value):
        p = self.process
        if point.name == "run":
            p.start(p.speed_setpoint) if value else p.stop()
        elif point.name == "stop" and value:
            p.stop()
        elif point.name == "reset" and value:
            p.reset()
        elif point.name == "auto_mode":
            p.auto_mode = bool(value)
        elif point.name == "speed_setpoint":
            p.speed_setpoint = round(value, 2)
            if p.auto_mode and p.run:
                p.freq_cmd = p.speed_setpoint
        elif point.name == "batch_size":
            p.batch_size = int(value)
