"""The simulated production cell: N stations x 5 Modbus devices over a coupled process model.

    with daqlab.plant.run(stations=1) as plant:
        plant.endpoint(1)

See runner.Plant for the API, devices/ for the register maps, faults for the drills.
"""

from daqlab.plant.devices import DEVICE_CLASSES, ModbusError, Point
from daqlab.plant.faults import MODES as FAULT_MODES
from daqlab.plant.reqlog import LogEntry
from daqlab.plant.runner import Plant, run
from daqlab.plant.tags import station_tags, tag_table
from daqlab.plant.variants import StationVariant

__all__ = ["DEVICE_CLASSES", "FAULT_MODES", "LogEntry", "ModbusError", "Plant", "Point", "StationVariant", "run", "station_tags", "tag_table"]
