# Two entry points: `make demo` (the main job) and `make test` (the suite).
# Each sets up what it needs by itself: a virtual environment with the CPU build
# of PyTorch and the project, and Debian's Chromium for the agent's browser.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.llmos-installed

.PHONY: demo test test-all venv chromium bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

chromium:
	@test -x /usr/bin/chromium || { \
	  SUDO=$$(test "$$(id -u)" = 0 || echo sudo); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium; }

demo: venv
	$(VENV)/bin/llmos demo

test: venv chromium
	$(PY) -m pytest -n 2 -q

test-all: venv chromium
	$(PY) -m pytest -n 2 -q -m "slow or not slow"

bench: venv chromium    # the benchmarks' extra peers (gensim); then run any script in bench/
	$(PY) -m pip install -q -e '.[dev,bench]'

clean:
	rm -rf $(VENV) runs build *.egg-info
