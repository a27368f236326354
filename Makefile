# Build, test and run targets for handover.  Works from a fresh clone on Debian 12:
# `make test` installs the system packages it needs, builds .venv and runs the whole suite.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := test

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Stamp file: the venv is (re)built only when it is missing or pyproject.toml changed.
STAMP := $(VENV)/.installed
LOCALE_DIR := src/handover/locale
POT := $(LOCALE_DIR)/messages.pot
PYTEST_ARGS ?=

.PHONY: venv system-deps run test lint bench messages clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@

system-deps:
	bash scripts/system-deps.sh

run: venv
	$(BIN)/handover init
	$(BIN)/handover demo
	$(BIN)/handover serve

# system-deps first: on a bare Debian machine it also provides python3-venv.
test: system-deps venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: system-deps venv
	$(BIN)/python -m bench

# Extract to the .pot, then update and compile whichever catalogues already exist
# (pybabel update/compile fail outright when there are none, so skip them then).
# Start a new language with: $(BIN)/pybabel init -i $(POT) -d $(LOCALE_DIR) -l LANG
messages: venv
	mkdir -p $(LOCALE_DIR)
	$(BIN)/pybabel extract -F babel.cfg -o $(POT) src
	if compgen -G '$(LOCALE_DIR)/*/LC_MESSAGES/messages.po' > /dev/null; then \
		$(BIN)/pybabel update -i $(POT) -d $(LOCALE_DIR); \
		$(BIN)/pybabel compile -d $(LOCALE_DIR); \
	else \
		echo "no catalogues under $(LOCALE_DIR); only $(POT) written"; \
	fi

# Back to a fresh clone's state, venv included (compiled .mo catalogues are kept).
clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache .hypothesis .import_linter_cache
	find . -path ./.git -prune -o \( -name __pycache__ -o -name '*.egg-info' \) -prune -exec rm -rf {} +
