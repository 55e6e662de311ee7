"""The classroom JupyterHub: settings, accounts from the roster, per-user files, the hub configuration
(single machine and Zero to JupyterHub rendered from the same builder), results publishing for trainees.

- :mod:`daqlab.hub.settings`  HubSettings (ports, folders, plant, MQTT broker, culling) and the generated secrets
- :mod:`daqlab.hub.accounts`  roster -> accounts (instructor + trainees) and each user's environment (station, MQTT)
- :mod:`daqlab.hub.mqtt`      the broker on one machine: Mosquitto present? port free? the service's command
- :mod:`daqlab.hub.files`     the per-role Jupyter/nbgrader config files and a trainee's home on first start
- :mod:`daqlab.hub.auth`      per-account passwords (roster authenticator)
- :mod:`daqlab.hub.hook`      the pre-spawn hook body shared by both platforms (self-contained source; on
                              Kubernetes it also derives each user's MQTT password in the hub pod)
- :mod:`daqlab.hub.config`    the hub configuration: the portable part, the services list, the local part
- :mod:`daqlab.hub.proxy`     configurable-http-proxy installed from npm into the state folder
- :mod:`daqlab.hub.results`   publish each trainee's own results for their dashboard
- :mod:`daqlab.hub.z2jh`      values for Zero to JupyterHub on Kubernetes, rendered from the same builder
"""
