# The two commands a fresh machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install lint typecheck unit bench clean system-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## make demo: install into .venv and walk through the main job on generated sample data
demo: $(STAMP)
	$(BIN)/oathdesk demo

## make test: install everything (including dev tools and system tools), then ruff, the layer
## contracts (lint-imports), mypy, pytest
test: $(STAMP) system-deps
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/pytest -q

system-deps:
	@bash scripts/system-deps.sh

## make bench: every benchmark; each prints its figures and ends with one JSON line
bench: $(STAMP)
	$(BIN)/python bench/seeds.py
	$(BIN)/python bench/otp.py
	$(BIN)/python bench/upload.py
	$(BIN)/python bench/handout.py
	$(BIN)/python bench/inventory.py
	$(BIN)/python bench/web.py
	$(BIN)/python bench/nodes.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis .import_linter_cache
