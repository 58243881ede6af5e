# make accept: run the acceptance suite (on the embedded stack unless a target is configured)
# make test:   lint, type-check, unit tests, then the whole acceptance suite (what CI runs)
VENV ?= .venv
BIN := $(VENV)/bin
BEHAVE_ARGS ?=
# TARGET=compose runs the suite against compose/docker-compose.yml (its endpoints: compose/suite.env).
TARGET ?= embedded
ifeq ($(TARGET),compose)
TARGET_ENV := env $(shell grep -v '^\#' compose/suite.env | xargs)
endif

.PHONY: bootstrap accept test lint typecheck deploy-check unit stack report compose-keys soak mutants chaos chaos-short load bench clean
N ?= 20

bootstrap:
	@scripts/bootstrap.sh

# The scenarios run over behave processes, each with its own embedded stack: by default as many
# as suit the machine (2 per core, printed); JOBS=N for N of them, JOBS=1 for one serial behave.
JOBS ?=

accept: bootstrap
	rm -rf reports/allure-results
ifeq ($(JOBS),1)
	$(TARGET_ENV) $(BIN)/behave $(BEHAVE_ARGS)
else
	$(TARGET_ENV) $(BIN)/python -m support.tools.parallel $(if $(JOBS),--jobs $(JOBS)) $(BEHAVE_ARGS)
endif

lint: bootstrap
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: bootstrap
	$(BIN)/mypy

unit: bootstrap
	$(BIN)/pytest

# CI runs the suite over 4 workers on its two cores: the scenarios mostly wait on real time.
TEST_JOBS ?= 4
test: lint typecheck deploy-check unit
	$(MAKE) accept JOBS=$(TEST_JOBS)
	$(MAKE) chaos-short

# The HTML report of the last run (needs Java, which the Allure command line runs on), and the
# living specification beside it (reports/allure-report/specification.html, readable as a file).
report: bootstrap
	@command -v java >/dev/null || { echo "make report: the Allure command line needs Java 8+ (e.g. openjdk-17-jre-headless)"; exit 1; }
	$(BIN)/python -m support.tools.report prepare reports/allure-results reports/allure-report
	node_modules/.bin/allure generate reports/allure-results --clean -o reports/allure-report
	$(BIN)/python -m support.tools.report specification reports/allure-report
	@echo "open reports/allure-report/index.html through a web server, e.g. node_modules/.bin/allure open reports/allure-report"

compose-keys:
	scripts/compose-keys.sh

# The deployment files, checked offline: no Docker engine or cluster is needed.
deploy-check: bootstrap
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec compose/docker-compose.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/acceptance.yml
	$(BIN)/kubernetes-validate --strict --quiet compose/k8s/suite-job.yaml
	$(BIN)/check-jsonschema --schemafile compose/k8s/servicemonitor.schema.json compose/k8s/servicemonitor.yaml

# The default suite N times in a row, each on a fresh embedded stack; pass/fail per scenario.
soak: bootstrap
	$(BIN)/python -m support.tools.soak --runs $(N) $(BEHAVE_ARGS)

# Every Then seen to fail: each mutant of tests/mutants.toml breaks the platform in a copy of
# the repository; its scenario must fail at the Then it names (docs/mutants.md).
mutants: bootstrap
	$(BIN)/python -m support.tools.mutants --jobs 2 --record docs/mutants.md

# Chaos with a history (docs/reliability.md): a workload on a fresh embedded stack while a
# nemesis drawn from SEED kills, pauses and restarts its servers; a checker proves the contract
# over the whole history. make chaos MINUTES=30 SEED=7; CI runs two short ones (chaos-short).
SEED ?= 1
MINUTES ?= 2
chaos: bootstrap
	$(BIN)/python -m support.tools.chaos --seed $(SEED) --minutes $(MINUTES)

chaos-short: bootstrap
	$(BIN)/python -m support.tools.chaos --seed 1 --seed 2 --minutes 1

# A crowd of viewers on Locust: a master and WORKERS worker processes (docs/running.md).
VIEWERS ?= 1000
WORKERS ?= 2
load: bootstrap
	$(BIN)/python bench/crowd.py --viewers $(VIEWERS) --workers $(WORKERS)

# Every benchmark, one after another (figures: docs/performance.md).
bench: bootstrap
	$(BIN)/python bench/stack_boot.py --runs 5
	$(BIN)/python bench/publisher.py
	$(BIN)/python bench/hls_startup.py
	$(BIN)/python bench/latency.py --seconds 60
	$(BIN)/python bench/ladder.py --seconds 30
	$(BIN)/python bench/fanout.py --viewers 100 1000 5000
	$(BIN)/python bench/crowd.py --viewers 5000 --workers 2
	$(BIN)/python bench/publishers.py --publishers 50
	$(BIN)/python bench/suite_wall.py --runs 1  # docs/performance.md has the median of 3

stack: bootstrap
	$(BIN)/python -m support.stack up

clean:
	rm -rf reports .mypy_cache .ruff_cache .pytest_cache
