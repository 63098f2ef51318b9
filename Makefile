# geopera-web: the two commands are `make demo` and `make test`. Both bootstrap what is missing
# (Debian packages, services, the virtualenv, the database with PostGIS) and are safe to re-run.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export DJANGO_SETTINGS_MODULE := geopera_web.settings

# Tools only a check needs, each in its own virtualenv (their pins must not meet the app's).
TOOLS ?= var/tools
STAC_API_VALIDATOR_VERSION := 0.6.8
SCHEMATHESIS_VERSION := 4.32.5
# tipg serves the same capture table's vector tiles beside ours in `make bench` (with uvicorn).
TIPG_VERSION := 1.6.1
UVICORN_VERSION := 0.38.0

.PHONY: help demo test bench bootstrap system-deps browser-deps services venv db migrate seed run lint fmt tools tipg

help:
	@echo "make demo   - install what is missing, set up the database, load demo data, run web + worker + beat"
	@echo "make test   - the same bootstrap (plus Chromium), then lint and the whole test suite"
	@echo "make tools  - stac-api-validator and schemathesis in their own virtualenvs under var/tools"
	@echo "make bench  - seed its own database at catalog scale, run gunicorn and tipg, print the performance table"

bootstrap: system-deps services venv db

system-deps:
	@scripts/bootstrap-system.sh

browser-deps:
	@scripts/bootstrap-system.sh --browser

services:
	@scripts/start-services.sh

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -e ".[dev]"
	@touch $@

tools: $(TOOLS)/stac-api-validator/.installed-$(STAC_API_VALIDATOR_VERSION) $(TOOLS)/schemathesis/.installed-$(SCHEMATHESIS_VERSION)

$(TOOLS)/stac-api-validator/.installed-$(STAC_API_VALIDATOR_VERSION):
	@rm -rf $(TOOLS)/stac-api-validator && python3 -m venv $(TOOLS)/stac-api-validator
	@$(TOOLS)/stac-api-validator/bin/pip install --quiet "stac-api-validator==$(STAC_API_VALIDATOR_VERSION)"
	@touch $@

tipg: $(TOOLS)/tipg/.installed-$(TIPG_VERSION)-$(UVICORN_VERSION)

$(TOOLS)/tipg/.installed-$(TIPG_VERSION)-$(UVICORN_VERSION):
	@rm -rf $(TOOLS)/tipg && python3 -m venv $(TOOLS)/tipg
	@$(TOOLS)/tipg/bin/pip install --quiet "tipg==$(TIPG_VERSION)" "uvicorn==$(UVICORN_VERSION)"
	@touch $@

$(TOOLS)/schemathesis/.installed-$(SCHEMATHESIS_VERSION):
	@rm -rf $(TOOLS)/schemathesis && python3 -m venv $(TOOLS)/schemathesis
	@$(TOOLS)/schemathesis/bin/pip install --quiet "schemathesis==$(SCHEMATHESIS_VERSION)"
	@touch $@

db: venv services
	@scripts/create-database.sh
	@$(PY) manage.py migrate --noinput -v 0

seed: db
	@$(PY) manage.py seed_demo

demo: bootstrap seed
	@$(PY) manage.py collectstatic --noinput -v 0
	@mkdir -p var
	@echo ""
	@echo "  geopera-web is starting on http://127.0.0.1:$(PORT)/   (Ctrl-C stops web, worker and beat)"
	@echo ""
	@echo "  Demo logins (password: demo-pass-2026)"
	@echo "    admin@acme.test          org admin, Acme Agriculture (credits; also viewer at Blue Harbour)"
	@echo "    operator@acme.test       operator, Acme Agriculture"
	@echo "    viewer@acme.test         viewer, Acme Agriculture"
	@echo "    admin@blueharbour.test   org admin, Blue Harbour Ports (enterprise invoice)"
	@echo "    admin@kite.test          org admin, Kite Survey Co (card)"
	@echo "    support@geopera.test     support staff: /support/ and /admin/"
	@echo ""
	@PORT=$(PORT) $(VENV)/bin/honcho -f Procfile start

test: bootstrap browser-deps tools
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(PY) manage.py makemigrations --check --dry-run -v 0
	@$(VENV)/bin/pytest

# Not part of `make test`: minutes of seeding and measuring (BENCH_CAPTURES=200000 for a quick run).
bench: bootstrap tipg
	@$(PY) scripts/bench.py

lint:
	@$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

fmt:
	@$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .
