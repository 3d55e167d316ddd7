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

.PHONY: install demo test lint allocator browser servers valgrind bench bench-ci fuzz stress clean

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

## demo: a few canned questions on the embedded store, then a Turtle export (mimalloc is
## optional here: without it, hrkg runs on the C library's malloc, only slower)
demo: install
	-@$(MAKE) --no-print-directory allocator
	$(BIN)/hrkg stats
	$(BIN)/hrkg query run summary
	$(BIN)/hrkg query run office-holders
	$(BIN)/hrkg query run cases
	mkdir -p $(BUILD)
	$(BIN)/hrkg export --format turtle -o $(BUILD)/mali.ttl
	@echo "Turtle export written to $(BUILD)/mali.ttl"

lint: install
	$(BIN)/ruff check src tests benchmarks

## allocator: mimalloc 2 from Debian's packages, the malloc that hrkg's own processes
## restart on (src/hrkg/allocator.py: at 1M triples the questions take a quarter less time).
## Nothing to do where src/hrkg/allocator.py already finds it.
allocator:
	@if ! PYTHONPATH=src $(PYTHON) -c "import sys; from hrkg.allocator import chosen_library; sys.exit(chosen_library({}) is None)"; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
			libmimalloc2.0; \
	fi

## browser: Debian's Chromium for the browser tests (Playwright drives it; it downloads none)
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
		apt-get update && apt-get install -y --no-install-recommends chromium; \
	fi

## valgrind: Debian's valgrind, whose callgrind counts the instructions each question
## executes (benchmarks/instruction_growth.py: growth of work, free of the machine's speed)
valgrind:
	@if ! command -v valgrind >/dev/null 2>&1; then \
		apt-get update && apt-get install -y --no-install-recommends valgrind; \
	fi

## servers: Virtuoso Open Source from Debian for the external-store tests (the Oxigraph
## server comes with the dev extra). Non-interactive: the dba password is preseeded, and a
## temporary policy-rc.d keeps the package from starting its system service; the tests run
## their own virtuoso-t on a database in a temporary folder (tests/external_servers.py).
VIRTUOSO_PW_QUESTION := virtuoso-opensource-7 virtuoso-opensource-7/dba-password
servers:
	@if ! command -v virtuoso-t >/dev/null 2>&1; then \
		set -e; apt-get update; \
		echo "$(VIRTUOSO_PW_QUESTION) password dba" | debconf-set-selections; \
		echo "$(VIRTUOSO_PW_QUESTION)-again password dba" | debconf-set-selections; \
		own_policy=no; \
		if [ ! -e /usr/sbin/policy-rc.d ]; then \
			printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; \
			chmod +x /usr/sbin/policy-rc.d; own_policy=yes; \
		fi; \
		status=0; DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
			virtuoso-opensource || status=$$?; \
		if [ $$own_policy = yes ]; then rm -f /usr/sbin/policy-rc.d; fi; \
		service virtuoso-opensource-7 stop >/dev/null 2>&1 || true; \
		exit $$status; \
	fi

## test: installs everything the suite needs, then runs all of it
test: install allocator browser servers valgrind
	$(MAKE) lint
	$(BIN)/pytest

## bench: fast-path validation against full pySHACL, a bounded loopback load test of
## `hrkg serve`, its two kinds of query worker, its answer cache and --warm, the store's own cost
## per row as it grows (in seconds, and in instructions under valgrind), every question on
## an Oxigraph server and on Virtuoso (hence `servers`), and hrkg against rdflib at 10k,
## 100k and 1M triples (load, every stored question on both stores, export, validation,
## memory, reopening a store); each compares with a baseline in the same run. Results:
## benchmarks/results/ (about an hour; rdflib at 1M dominates).
## `make bench SCALES=10M BENCH_ARGS="--query-timeout 900 --repeat 1"` adds 10M triples:
## hrkg alone, on its persistent store (bulk load, then every question); rdflib is skipped
## past 1M and the table says so.
SCALES ?= 10k,100k,1M
BENCH_ARGS ?=
bench: install allocator servers valgrind
	$(BIN)/python benchmarks/validation.py --scales 10k,100k,1M --full-up-to 100k --repeat 5
	$(BIN)/python benchmarks/load.py
	$(BIN)/python benchmarks/engine_growth.py --scales 10k,100k,1M
	$(BIN)/python benchmarks/instruction_growth.py --scales 100k,1M
	$(BIN)/python benchmarks/allocator.py --scale 1M
	$(BIN)/python benchmarks/server_workers.py --scale 1M
	$(BIN)/python benchmarks/answer_cache.py --scale 1M
	$(BIN)/python benchmarks/warming.py --scale 1M
	$(BIN)/python benchmarks/export_memory.py --scale 1M
	$(BIN)/python benchmarks/export_processes.py --scale 1M
	$(BIN)/python benchmarks/external_stores.py --scale 1M
	$(BIN)/python benchmarks/run.py --scale $(SCALES) $(BENCH_ARGS)

## bench-ci: hrkg and rdflib at 100k, one run each; the instructions of every question at
## 10k and 100k; then every question on both servers at 100k (median of 3, so that one
## hiccup of a server fails nothing). Exits 1 if an answer differs, something failed to
## run, a question's instruction count grows faster than the data (^1.1: work that fans
## out, whatever the machine's speed), or a question takes a server over 100 times its
## embedded time (a planner fault no test can see; other timings are reported, never
## asserted). About six minutes.
bench-ci: install allocator servers valgrind
	$(BIN)/python benchmarks/run.py --scale 100k --repeat 1 --ci
	$(BIN)/python benchmarks/instruction_growth.py --scales 10k,100k --max-exponent 1.1 \
		--results benchmarks/results/ci
	$(BIN)/python benchmarks/external_stores.py --scale 100k --repeat 3 --results benchmarks/results/ci

## fuzz: the fuzz targets and injection properties with many more examples (the normal
## suite runs them briefly)
fuzz: install
	HRKG_LONG_TESTS=1 $(BIN)/pytest tests/test_fuzz.py tests/test_injection.py tests/test_incremental_w3c.py tests/test_incremental_random.py

## stress: the server under hostile load (loopback only, bounded), and 200 SIGKILLs of `hrkg add`
stress: install
	$(BIN)/python benchmarks/stress.py
	HRKG_CRASH_TRIALS=200 $(BIN)/pytest -s tests/test_crash_safety.py

clean:
	rm -rf $(VENV) $(BUILD) .pytest_cache
