# hrkg: every set-up step a fresh machine needs lives here, so that `make demo`
# and `make test` work on a clean clone (CI runs `.ci/run`, which calls `make test`).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
BUILD  := build

.PHONY: install demo test lint bench fuzz stress clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[server,dev]'
	touch $(STAMP)

install: $(STAMP)

## demo: a few canned questions on the embedded store, then a Turtle export
demo: install
	$(BIN)/hrkg stats
	$(BIN)/hrkg query run summary
	$(BIN)/hrkg query run office-holders
	$(BIN)/hrkg query run cases
	mkdir -p $(BUILD)
	$(BIN)/hrkg export --format turtle -o $(BUILD)/mali.ttl
	@echo "Turtle export written to $(BUILD)/mali.ttl"

lint: install
	$(BIN)/ruff check src tests benchmarks

## test: installs everything the suite needs, then runs all of it
test: install
	$(MAKE) lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) $(BUILD) .pytest_cache
