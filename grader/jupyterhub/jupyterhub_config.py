"""JupyterHub configuration of the DAQ Lab classroom (one machine).

Start it with ``make hub`` or ``daqlab hub serve`` (which install the proxy from npm, write the settings to
``.hub/hub-settings.json`` and run ``jupyterhub -f`` this file). ``jupyterhub -f
grader/jupyterhub/jupyterhub_config.py`` alone also works once the proxy is installed
(``daqlab hub install-proxy``): it uses the defaults of :class:`daqlab.hub.settings.HubSettings`
(roster grader/roster.csv, instructor grader-daqlab, everything under .hub/).

Everything is built by :func:`daqlab.hub.config.apply_local`; the Kubernetes values
(grader/jupyterhub/z2jh/) are rendered from the same builder. Change the classroom with the command's
options (``daqlab hub serve --help``), not here.
"""

from daqlab.hub.config import apply_local
from daqlab.hub.settings import HubSettings

apply_local(get_config(), HubSettings.load())  # noqa: F821  (get_config is provided by JupyterHub)
