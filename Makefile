# drugref — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
# Development settings for `make run` only: DEBUG on, a development secret key.
DEV_ENV := DEBUG=true

.PHONY: install browser-tools run test lint format migrations-check fixtures deploy-check clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

## browser-tools: axe-core and the Nu HTML checker (vnu-jar) for the browser tests, pinned in browser-tools/
browser-tools/node_modules/.installed: browser-tools/package.json browser-tools/package-lock.json
	cd browser-tools && npm ci --no-audit --no-fund --ignore-scripts
	touch $@

browser-tools: browser-tools/node_modules/.installed

## run: set up the virtualenv, migrate SQLite, load the seed content once, serve on $(HOST):$(PORT)
run: install
	$(DEV_ENV) $(BIN)/python manage.py migrate --no-input
	$(DEV_ENV) $(BIN)/python manage.py load_seed
	$(DEV_ENV) $(BIN)/python manage.py runserver $(HOST):$(PORT)

## test: the whole suite (SQLite by default, PostgreSQL when DATABASE_URL is set); "no tests" is a failure
test: install
	@$(BIN)/pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$rc

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations-check: install
	$(DEV_ENV) $(BIN)/python manage.py makemigrations --check --dry-run

## deploy-check: production settings (DEBUG off, secret and hosts from the environment) pass check --deploy
deploy-check: install
	SECRET_KEY="$$(openssl rand -hex 40)" DEBUG=false ALLOWED_HOSTS=drugref.example \
		$(BIN)/python manage.py check --deploy --fail-level WARNING

fixtures: install
	$(DEV_ENV) $(BIN)/python manage.py build_fixtures

clean:
	rm -rf $(VENV) db.sqlite3 artifacts browser-tools/node_modules

## bench: corpus, import, loaddata, page, search and throughput figures beside their baselines (see README "Benchmark")
bench: install
	$(BIN)/python bench/run.py
