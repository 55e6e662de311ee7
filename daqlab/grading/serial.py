"""Hidden-test body of the RS-485 task (mock final, part 1): the bus's settings, and a value read over it.

The grading plant serves each station's RS-485 bus behind a serial device server (RFC 2217; the kernel's
``DAQLAB_RS485_URL``) that judges the client's settings: a frame sent with a wrong baud rate or parity is
garbage to the devices and gets no reply. The request log names such a line's requests by its URL, so a value
"read over RS-485" is checked against what the plant served on that line only (a TCP read does not count).
"""

from __future__ import annotations

from daqlab.grading.assignments import FC_READ_HOLDING, _close, _v, _var
from daqlab.grading.checks import Report
from daqlab.grading.context import context

OUTPUT_FREQ = 0x2103  #: VFD output frequency, holding register, 0.01 Hz


def serial(ns: dict) -> float:
    r = Report("RS-485 串口参数（RS-485 serial settings）")
    ctx = context()
    s = ctx.served
    want = (int(s["baudrate"]), str(s["parity"]), int(s["stopbits"]))

    def settings():
        got = _var(ns, "serial_settings")
        if not isinstance(got, dict) or not {"baudrate", "parity", "stopbits"} <= set(got):
            raise TypeError("serial_settings 应为字典 {\"baudrate\": ..., \"parity\": ..., \"stopbits\": ...}"
                            "（serial_settings must be a dict with baudrate, parity, stopbits）")
        mine = (int(got["baudrate"]), str(got["parity"]).strip().upper()[:1], int(got["stopbits"]))
        text = f"{mine[0]} 8{mine[1]}{mine[2]}"
        return mine == want, (f"{text}，与总线一致（matches the bus）" if mine == want else
                              f"{text}：与总线的串口参数不一致（提示：停止位靠扫描测不出来，以设备手册为准）"
                              "（not the bus's settings; a scan cannot tell the stop bits: use the datasheet's）")

    r.guard("波特率、校验位、停止位（baud rate, parity, stop bits）", 3, settings)

    def over_rs485():
        got = _var(ns, "rtu_output_freq")
        vfd = s["units"]["vfd"]
        served = [e.values[OUTPUT_FREQ - e.address] / 100 for e in ctx.log(unit=vfd, function=FC_READ_HOLDING)
                  if e.status == "ok" and str(e.client).startswith("rfc2217://") and e.address is not None
                  and e.address <= OUTPUT_FREQ < e.address + e.count]
        if not served:
            return False, ("变频器没有在 RS-485 总线上应答过你对 0x2103 的读取：串口参数不对时，设备不会应答"
                           "（no read of the VFD's 0x2103 was answered on the RS-485 line: with wrong settings a "
                           "device does not answer）")
        ok = any(_close(got, v, 0.005) for v in served)
        return ok, f"rtu_output_freq {_v(got)} Hz" + ("，与总线上返回的值一致（matches the value served on the bus）"
                                                       if ok else f"，总线上返回的是 {_v(served[-1])} Hz（served）")

    r.guard("经 RS-485 读取变频器输出频率（VFD output frequency read over RS-485）", 2, over_rs485)
    return r.total()
