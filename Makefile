# Huoban: the two set-up commands are `make run` (start the product with a seeded demo on embedded defaults)
# and `make test` (install and run every check). Both create .venv and install into it first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Use the machine's PostgreSQL and Redis when they answer on their usual ports; otherwise the embedded
# PostgreSQL under .huoban and in-process tasks. An explicit DATABASE_URL / REDIS_URL always wins.
PG_UP := $(shell (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null && echo yes)
REDIS_UP := $(shell (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && echo yes)
TEST_DATABASE_URL := $(or $(DATABASE_URL),$(if $(PG_UP),postgresql://postgres@127.0.0.1:5432/huoban,))
TEST_REDIS_URL := $(or $(REDIS_URL),$(if $(REDIS_UP),redis://127.0.0.1:6379/15,))
TEST_ENV := HUOBAN_TESTING=1 $(if $(TEST_DATABASE_URL),DATABASE_URL=$(TEST_DATABASE_URL)) \
	$(if $(TEST_REDIS_URL),REDIS_URL=$(TEST_REDIS_URL))

.PHONY: run test install lint check-migrations pytest bench messages clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## Start Huoban with the two demo hubs: http://huoban.localhost:8000/ (hubs at http://<slug>.huoban.localhost:8000/)
run: $(STAMP)
	$(BIN)/huoban serve --demo

## Every check CI runs: lint, format, types, import layers, migrations in step with models, the test suite.
test: $(STAMP)
	@echo "database: $(or $(TEST_DATABASE_URL),embedded PostgreSQL under .huoban)"
	@echo "redis:    $(or $(TEST_REDIS_URL),none (in-process tasks; the real-worker test is skipped))"
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(TEST_ENV) $(BIN)/mypy platform tenants hubs billing
	$(BIN)/lint-imports
	$(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	$(TEST_ENV) $(BIN)/pytest $(PYTEST_ARGS)

## Benchmarks (not part of `make test`); each prints its figures and ratios.
bench: $(STAMP)
	$(TEST_ENV) $(BIN)/pytest tests/perf -s -p no:cacheprovider $(PYTEST_ARGS)

## Re-extract translatable strings and recompile catalogs (no gettext needed to compile).
messages: $(STAMP)
	$(BIN)/python manage.py makemessages -l en --ignore=.venv --ignore=tests --ignore=docker --ignore=infra
	$(BIN)/python platform/huoban/locale/compile.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
