# make accept: run the acceptance suite (on the embedded stack unless a target is configured)
# make test:   lint, type-check, unit tests, then the whole acceptance suite (what CI runs)
VENV ?= .venv
BIN := $(VENV)/bin
BEHAVE_ARGS ?=

.PHONY: bootstrap accept test lint typecheck unit stack clean

bootstrap:
	@scripts/bootstrap.sh

accept: bootstrap
	rm -rf reports/allure-results
	$(BIN)/behave $(BEHAVE_ARGS)

lint: bootstrap
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: bootstrap
	$(BIN)/mypy

unit: bootstrap
	$(BIN)/pytest

test: lint typecheck unit accept

stack: bootstrap
	$(BIN)/python -m support.stack up

clean:
	rm -rf reports .mypy_cache .ruff_cache .pytest_cache
