# One-word tasks. Each creates the virtual environment on demand (.venv, Python 3.11).
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed

.PHONY: lab hub hubproxy test sysdeps bench lint clean help

help:
	@echo "make lab     - plant + JupyterLab with the lessons on 127.0.0.1 (creates .venv if missing)"
	@echo "make hub     - the classroom JupyterHub on http://127.0.0.1:8000 (accounts from grader/roster.csv)"
	@echo "make test    - install everything needed (apt: mbpoll socat chromium mosquitto npm bubblewrap; the hub proxy) and run the whole suite"
	@echo "make bench   - benchmarks (bench/*.py), tables for README"
	@echo "make lint    - ruff"

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	touch $(STAMP)

lab: $(STAMP)
	@$(MAKE) -s sysdeps || echo "note: could not install the Debian extras (mbpoll, socat, CJK font); the lab runs without them"
	$(VENV)/bin/daqlab lab

# The classroom JupyterHub (grader/jupyterhub/): installs configurable-http-proxy from npm into .hub/
# (gitignored; hub state, homes and the exchange live there too), then runs `daqlab hub serve`.
hub: $(STAMP)
	@command -v npm >/dev/null || $(MAKE) -s sysdeps
	$(VENV)/bin/daqlab hub serve

hubproxy: $(STAMP)
	@command -v npm >/dev/null || $(MAKE) -s sysdeps
	$(VENV)/bin/daqlab hub install-proxy

# Debian packages: mbpoll (independent C Modbus client), socat (virtual serial pairs),
# fonts-wqy-microhei (a small CJK font so Chinese plot titles render), chromium (the browser the
# dashboard tests drive with Playwright: Debian's, never `playwright install`), mosquitto (the MQTT
# broker; DAQ Lab starts its own instance with a generated config, never the system service), npm (the
# hub's configurable-http-proxy comes from npm), bwrap from bubblewrap (the grading sandbox: every graded
# notebook runs in its own namespaces as its own unprivileged user; grading refuses to run without it).
sysdeps:
	@missing=""; for c in mbpoll socat chromium mosquitto npm; do command -v $$c >/dev/null || missing="$$missing $$c"; done; \
	command -v bwrap >/dev/null || missing="$$missing bubblewrap"; \
	fc-list 2>/dev/null | grep -qi "WenQuanYi" || missing="$$missing fonts-wqy-microhei"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

test: $(STAMP) sysdeps hubproxy
	$(PY) -m ruff check daqlab tests bench grader
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) bench/plant.py
	$(PY) bench/acquisition.py
	$(PY) bench/northbound.py
	$(PY) bench/relay.py

lint: $(STAMP)
	$(PY) -m ruff check daqlab tests bench grader

clean:
	rm -rf $(VENV) .pytest_cache build test-artifacts
