# drugref — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
PYTEST_WORKERS ?= auto
PIP_VERSION := 26.3
UPGRADE ?=
# Python 3.11 on any platform; every file of each pinned release is listed by its sha256.
LOCK_ARGS := --universal --python-version 3.11 --generate-hashes --custom-compile-command "make lock" --quiet
# Development settings for `make run` only: DEBUG on, a development secret key.
DEV_ENV := DEBUG=true

.PHONY: install lock browser-tools run test lint format migrations-check fixtures deploy-check clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet pip==$(PIP_VERSION)

## install: the whole dependency tree from the hash-pinned lock (what CI tested), into .venv
$(VENV)/.installed: requirements.lock requirements-dev.lock | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@

install: $(VENV)/.installed

## lock: resolve requirements.in and requirements-dev.in (the direct pins) into the hash-pinned locks;
## versions already locked stay unless UPGRADE says otherwise (UPGRADE="--upgrade-package NAME" or "--upgrade")
lock: | $(BIN)/python
	$(BIN)/pip install --quiet "$$(grep '^uv==' requirements-dev.in)"
	$(BIN)/uv pip compile requirements.in $(LOCK_ARGS) $(UPGRADE) -o requirements.lock
	$(BIN)/uv pip compile requirements-dev.in -c requirements.lock $(LOCK_ARGS) $(UPGRADE) -o requirements-dev.lock

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

## test: the whole suite, slow tests included (SQLite by default, PostgreSQL when DATABASE_URL is set), in
## pytest-xdist worker processes (PYTEST_WORKERS=auto: one per core; 0 runs in one process); "no tests" is a failure
test: install
	@$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS); rc=$$?; \
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
