# Patron: `make run` starts it, `make test` checks it. Needs only python3 (3.11+) and make.
#
# `make run`  creates .venv, installs the pinned dependencies (again only when a
#             requirements file changes), migrates, loads the demo data on the first
#             run, creates the first Owner (password printed once) and serves on
#             http://127.0.0.1:8000 (PATRON_PORT changes the port).
# `make test` lints, checks for missing migrations and runs the test suite.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PATRON := $(BIN)/patron
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev

.DEFAULT_GOAL := help
.PHONY: help run test lint format check serve demo clean system-packages

help:
	@echo "make run     install, migrate, load demo data once, create the Owner, serve"
	@echo "make test    ruff, makemigrations --check and the test suite"
	@echo "make lint    ruff check and ruff format --check only"
	@echo "make format  apply ruff's fixes and formatting"
	@echo "make clean   remove .venv (your data in ./var is kept)"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
		{ echo "Patron needs Python 3.11 or newer; '$(PYTHON)' is older. Try: make run PYTHON=python3.11"; exit 1; }
	@echo "==> Creating the virtual environment in $(VENV)"
	@$(PYTHON) -m venv $(VENV) || \
		{ echo "Could not create $(VENV). On Debian or Ubuntu: apt-get install python3-venv"; rm -rf $(VENV); exit 1; }

$(RUNTIME_STAMP): requirements.txt pyproject.toml | $(BIN)/python
	@echo "==> Installing Patron's pinned dependencies"
	@$(BIN)/python -m pip install --quiet --quiet -r requirements.txt
	@$(BIN)/python -m pip install --quiet --quiet --no-deps -e .
	@touch $@

$(DEV_STAMP): requirements-dev.txt $(RUNTIME_STAMP)
	@echo "==> Installing the test tools"
	@$(BIN)/python -m pip install --quiet --quiet -r requirements-dev.txt
	@touch $@

# The Debian packages of PDFs (Pango, HarfBuzz, a font): installed when root or
# passwordless sudo allows, otherwise named in one line; `make run` goes on either way.
system-packages:
	@bash scripts/system-packages

run: system-packages $(RUNTIME_STAMP)
	@echo "==> Updating the database"
	@$(PATRON) migrate --verbosity 0
	@$(PATRON) demo --if-empty
	@$(PATRON) createowner
	@$(PATRON) serve

serve: $(RUNTIME_STAMP)
	@$(PATRON) serve

demo: $(RUNTIME_STAMP)
	@$(PATRON) demo

check: $(RUNTIME_STAMP)
	@$(PATRON) check

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(DEV_STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint
	$(BIN)/python -m django makemigrations --check --dry-run --settings=patron.settings
	$(BIN)/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
