# The two commands: `make up` (the whole platform locally) and `make test` (the whole suite).
# Everything they need is installed from this repository's own files.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
UV = $(shell scripts/bootstrap-uv.sh)
MEMBERS := shared devstack services/submissions services/review services/voting services/stocktaking web
PYPROJECTS := pyproject.toml $(addsuffix /pyproject.toml,$(MEMBERS))
export UV_PYTHON_DOWNLOADS := never
export UV_NO_PROGRESS := 1

.PHONY: help up test test-faults test-unit lint fmt bench install tools lock token clean

help:
	@echo "make up      start Kafka, MongoDB and the four services with demo data (Ctrl-C stops all)"
	@echo "make test    run the whole test suite against a real broker and mongod"
	@echo "make test-faults   the fault-injection suite (kills the broker, mongod, workers)"
	@echo "make lint    ruff check, ruff format --check, mypy --strict"
	@echo "make fmt     format and autofix"
	@echo "make bench   run the benchmarks under bench/"
	@echo "make lock    re-resolve dependencies into requirements.lock"
	@echo "make token ROLE=admin [ORG=org-1] [SUB=me]   print a dev JWT"

install: $(VENV)/.installed

$(VENV)/.installed: requirements.lock $(PYPROJECTS)
	@uv="$(UV)"; \
	[ -x $(PY) ] || $$uv venv --quiet --python python3 $(VENV); \
	$$uv pip sync --quiet --python $(PY) --require-hashes requirements.lock; \
	$$uv pip install --quiet --python $(PY) --no-deps --no-build-isolation $(addprefix -e ,$(MEMBERS))
	@touch $@

tools: install
	@$(PY) -m wsis_devstack ensure-tools

up: tools
	@$(PY) -m wsis_devstack up

test: tools
	@$(PY) -m pytest --ignore=tests/faults $(PYTEST_ARGS)

# Its own session: these tests kill and restart the broker and mongod under everything else.
test-faults: tools
	@$(PY) -m pytest tests/faults -s $(PYTEST_ARGS)

test-unit: install
	@$(PY) -m pytest tests/unit tests/contract $(PYTEST_ARGS)

lint: install
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/mypy $(addsuffix /src,$(MEMBERS)) tests bench

fmt: install
	@$(VENV)/bin/ruff check --fix .
	@$(VENV)/bin/ruff format .

bench: tools
	@$(PY) -m bench

lock:
	@uv="$(UV)"; $$uv lock --quiet && \
	$$uv export --quiet --frozen --no-emit-workspace --all-groups --format requirements-txt -o requirements.lock
	@echo "requirements.lock updated"

token: install
	@$(PY) -m wsis_shared token --role $(or $(ROLE),admin) $(if $(ORG),--org $(ORG)) $(if $(SUB),--sub $(SUB))

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
