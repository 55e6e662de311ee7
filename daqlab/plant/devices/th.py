"""Temperature / humidity transmitter (unit 2), SHT20 "XY-MD02" class.

Input registers from 0x0001 (0x0000 is not mapped: reading it is exception 02, a classic trap).
Temperature is int16 two's complement (0xFF33 = -205 -> -20.5 C at x10).
"""

from __future__ import annotations

from daqlab.plant.devices.base import Device, Point

BAUDS = (1200, 2400, 4800, 9600, 19200)


class THSensor(Device):
    kind = "th"
    title = "Temperature/humidity transmitter (SHT20 class)"
    title_zh = "温湿度变送器（SHT20 类）"
    identity = ("DAQ Lab", "DL-TH20", "V1.0")
    notes = (
        ("Address and baud rate writes are stored and read back at once but, as on the real transmitter, "
         "take effect only after a power cycle (the simulator keeps serving at the old settings).",
         "写入地址和波特率后立即可读回，但与实物一样需重新上电才生效（仿真器仍按原设置通信）。"),
        ("Offsets (0x0103/0x0104) are added to the readings immediately.", "温湿度修正值立即叠加到读数。"),
    )

    def __init__(self, station, unit):
        self.config = {"device_address": unit, "baud_rate": station.variant.baudrate,
                       "temp_offset": 0.0, "hum_offset": 0.0}
        super().__init__(station, unit)

    def build_points(self):
        s = 1.0 / self.variant.th_scale
        return [
            Point("temperature", "input", 0x0001, "INT16", "Ambient temperature", "环境温度", unit="°C", scale=s, sensor=True),
            Point("humidity", "input", 0x0002, "UINT16", "Relative humidity", "相对湿度", unit="%RH", scale=s, sensor=True),
            Point("device_address", "holding", 0x0101, "UINT16", "Modbus device address", "设备地址",
                  writable=True, minimum=1, maximum=247),
            Point("baud_rate", "holding", 0x0102, "UINT16", "Baud rate", "波特率", unit="bit/s",
                  writable=True, choices=BAUDS),
            Point("temp_offset", "holding", 0x0103, "INT16", "Temperature offset", "温度修正值", unit="°C",
                  scale=0.1, writable=True, minimum=-10.0, maximum=10.0),
            Point("hum_offset", "holding", 0x0104, "INT16", "Humidity offset", "湿度修正值", unit="%RH",
                  scale=0.1, writable=True, minimum=-10.0, maximum=10.0),
        ]

    def values(self):
        p = self.process
        c = self.config
        # the transmitter sits in the cabinet beside the drive: a little motor heat reaches it
        temp = p.ambient + 0.02 * (p.motor_temp - 26.0) + c["temp_offset"]
        return {"temperature": temp, "humidity": max(0.0, min(100.0, p.humidity + c["hum_offset"])), **c}

    def apply(self, point, value):
        self.config[point.name] = round(value, 1) if isinstance(value, float) else int(value)
