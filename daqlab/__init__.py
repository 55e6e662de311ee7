"""DAQ Lab: courseware for industrial-internet data acquisition (工业互联网技术·数据采集).

Public entry points:

- ``daqlab.plant.run(stations=1)``: start a simulated production cell (context manager).
- ``daqlab.my_station()``: the station this kernel should talk to (from its environment).
- ``daqlab.lesson.station()``: the station a lesson works with (the kernel's real bench, else its own plant).
"""

from daqlab.station import StationInfo, my_datasheet, my_station

__all__ = ["StationInfo", "my_datasheet", "my_station", "__version__"]
__version__ = "0.1.0"
