# The two commands: `make run` serves Flywheel, `make test` runs the whole suite.
# Both set everything up on a fresh machine with Python 3.11; `make test` also brings Debian's
# chromium for the browser tests (or says at once how to install it).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test chromium bench-tools lint format bench reliability migrate setup clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

migrate: setup
	$(FLASK) db upgrade

run: migrate
	$(FLASK) projects ensure-first
	@echo "Serving on $${BIND:-127.0.0.1:8000} with the survey worker beside it (Ctrl-C stops both)."
	@trap 'trap - INT TERM EXIT; kill 0' INT TERM EXIT; \
	$(FLASK) surveys worker & \
	$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

chromium:
	@bash .ci/chromium

# The load generator and the instruction counter the benchmarks drive.
bench-tools:
	@bash .ci/apt-need "make bench" "wrk and valgrind" wrk:wrk valgrind:valgrind

test: chromium migrate $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: bench-tools migrate $(VENV)/.installed-dev
	$(BIN)/python -m bench

# Long load and fault runs (about six minutes, loopback only); not part of `make test`.
reliability: migrate $(VENV)/.installed-dev
	$(BIN)/python -m bench.reliability

clean:
	rm -rf $(VENV) var
