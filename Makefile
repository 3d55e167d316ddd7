# hrkg: every set-up step a fresh machine needs lives here, so that `make demo`
# and `make test` work on a clean clone (CI runs `.ci/run`, which calls `make test`).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
BUILD  := build
UI     := src/hrkg/server/ui
UI_STAMP := $(UI)/node_modules/.installed-stamp
CHROMIUM := /usr/bin/chromium

.PHONY: install demo test lint browser bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[server,dev]'
	touch $(STAMP)

# YASGUI for the SPARQL editor page, from the npm registry into $(UI)/node_modules (served
# at /vendor/yasgui; never committed). Without npm the page says the editor is missing.
$(UI_STAMP): $(UI)/package.json $(wildcard $(UI)/package-lock.json)
	@if command -v npm >/dev/null 2>&1; then \
		if [ -f $(UI)/package-lock.json ]; then npm ci --prefix $(UI) --no-audit --no-fund; \
		else npm install --prefix $(UI) --no-audit --no-fund; fi && touch $@; \
	else echo "npm not found: the SPARQL editor page will say YASGUI is missing"; fi

install: $(STAMP) $(UI_STAMP)

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

## browser: Debian's Chromium for the browser tests (Playwright drives it; it downloads none)
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
		apt-get update && apt-get install -y --no-install-recommends chromium; \
	fi

## test: installs everything the suite needs, then runs all of it
test: install browser
	$(MAKE) lint
	$(BIN)/pytest

## bench: fast-path validation against full pySHACL, and a bounded loopback load test of
## `hrkg serve`; each compares with a baseline in the same run. Results: benchmarks/results/
bench: install
	$(BIN)/python benchmarks/validation.py --scales 10k,100k,1M --full-up-to 100k --repeat 5
	$(BIN)/python benchmarks/load.py

clean:
	rm -rf $(VENV) $(BUILD) .pytest_cache
