# scenarios: `make help` lists the targets. Every target sets up .venv itself when needed.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PARAMS ?= params/base.yaml

## help: list the targets
help:
	@grep -E '^## ' $(MAKEFILE_LIST) | sed -e 's/^## /  /'

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,dask]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $(STAMP)

## setup: create .venv with python3 -m venv and install the package with its test tools
setup: $(STAMP)

## test: check style and layers (make lint), then run the whole test suite on every core, up to 4 (sets up .venv first)
test: lint
	$(PY) -m pytest -n auto --maxprocesses=4

## report: build the default report (params/base.yaml) into reports/ (sets up .venv first)
report: $(STAMP)
	$(VENV)/bin/scenarios report $(PARAMS)

## forecast: print every question's forecast for PARAMS (default params/base.yaml)
forecast: $(STAMP)
	$(VENV)/bin/scenarios forecast $(PARAMS)

## backtest: score PARAMS's forecasts, as of every evidence date, against its resolutions: file
backtest: $(STAMP)
	$(VENV)/bin/scenarios backtest $(PARAMS) --samples 100000

# JupyterLab's options: on this machine only, no browser; as root (e.g. in a container) JupyterLab
# refuses to start without --allow-root.  Override with make lab LAB_ARGS="...".
LAB_ARGS ?= --ip=127.0.0.1 --no-browser $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)

## lab: open the notebooks in JupyterLab (options in LAB_ARGS; --allow-root added when run as root)
lab: $(STAMP)
	$(VENV)/bin/jupyter lab $(LAB_ARGS) notebooks/

## bench: run the speed benchmarks (engine against a plain-numpy floor, scoring)
bench: $(STAMP)
	$(PY) benchmarks/bench_engine.py
	@for b in benchmarks/bench_*.py; do [ "$$b" = benchmarks/bench_engine.py ] || $(PY) $$b; done

## lint: check style with ruff and the package's layers with import-linter (contracts in pyproject.toml)
lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/lint-imports

## clean: remove the virtual environment, caches and built reports
clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache build src/*.egg-info reports
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

.PHONY: help setup test report forecast backtest lab bench lint clean
