"""`python -m daqlab.cli ...` (the hub's services start the plant and the broker this way)."""

import sys

from daqlab.cli import main

sys.exit(main())
