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
	$(PY) -m pip install --upgrade pip
	# CPU wheel cached on these machines; any other spec pulls GBs of CUDA wheels.
	$(PY) -m pip install torch==2.13.0
	$(PY) -m pip install -e ".[test]"
	touch $(STAMP)

venv: $(STAMP)

# Debian's Chromium for the browser tests (never `playwright install`).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	  else echo "Chromium missing: install Debian packages chromium and chromium-driver"; fi; \
	fi

run: $(STAMP)
	$(VENV)/bin/workbench serve --port $(PORT)

test: $(STAMP) browser
	$(VENV)/bin/ruff check .
	$(PY) -m pytest tests notebooks --nbval-lax -p no:cacheprovider

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info
