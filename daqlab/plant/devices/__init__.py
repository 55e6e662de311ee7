"""The five devices of a station, in their default unit-id order."""

from daqlab.plant.devices.ai import AnalogModule
from daqlab.plant.devices.base import Device, ModbusError, Point
from daqlab.plant.devices.meter import Meter
from daqlab.plant.devices.plc import PLC
from daqlab.plant.devices.th import THSensor
from daqlab.plant.devices.vfd import VFD

#: device kind -> class, in the default unit order 1..5
DEVICE_CLASSES = {"plc": PLC, "th": THSensor, "meter": Meter, "vfd": VFD, "ai": AnalogModule}

__all__ = ["DEVICE_CLASSES", "AnalogModule", "Device", "Meter", "ModbusError", "PLC", "Point", "THSensor", "VFD"]
