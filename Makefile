# Two commands: `make run` (set up, then serve the workbench on http://localhost:5006)
# and `make test` (set up, then run every test, notebooks included).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 5006

.PHONY: run test bench venv browser clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# setuptools too: tests/test_core_install.py builds workbench offline with this one
	$(PY) -m pip install --upgrade pip "setuptools>=77"
	# CPU wheel cached on these machines; any other spec pulls GBs of CUDA wheels.
	$(PY) -m pip install torch==2.13.0
	$(PY) -m pip install -e ".[all,test]"
	touch $(STAMP)

venv: $(STAMP)

# Debian's Chromium for the browser tests (never `playwright install`), installed only when it
# is missing. Another process may hold apt's locks (unattended upgrades, a second job): apt-get
# waits up to 5 minutes for dpkg's lock (DPkg::Lock::Timeout), and `apt-get update`, which does
# not wait for its lists lock, is retried while that lock is held (up to 5 minutes too).
browser: CHROMIUM ?= /usr/bin/chromium
browser: APT_GET = apt-get -o DPkg::Lock::Timeout=300
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    for try in $$(seq 60); do \
	      out=$$($(APT_GET) update -qq 2>&1) && break; \
	      echo "$$out"; \
	      if [ $$try = 60 ] || ! grep -q "Could not get lock" <<<"$$out"; then exit 1; fi; \
	      echo "apt's package lists are locked by another process; trying again in 5 s"; \
	      sleep 5; \
	    done; \
	    DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq chromium chromium-driver; \
	  else echo "Chromium missing: install Debian packages chromium and chromium-driver"; fi; \
	fi

run: $(STAMP)
	$(VENV)/bin/workbench serve --port $(PORT)

test: $(STAMP) browser
	$(VENV)/bin/ruff check .
	$(PY) -m pytest tests notebooks --nbval-lax -p no:cacheprovider

bench: $(STAMP)
	$(PY) -m pip install -q -e ".[bench]" || echo "peers for the benchmarks not installed: their columns are skipped"
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info
