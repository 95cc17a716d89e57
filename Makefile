# microcred — the commands a newcomer needs: `make demo`, `make test`.
# Every target installs what it needs first (venv, Python and npm packages).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY_STAMP   := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
SYS_STAMP  := $(VENV)/.system-packages
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYTEST_ARGS ?=

.PHONY: help deps test-deps test test-second-node bench demo shell contracts i18n clean

help:
	@echo "make demo       run the whole system locally (installs what is missing); LAN=1 for a phone, FRESH=1 to start over"
	@echo "make shell      a shell with the microcred command on the PATH (exit leaves it)"
	@echo "make test       install everything and run the test suite (ledger tests on Anvil and Hardhat Network)"
	@echo "make bench      run the benchmarks in bench/"
	@echo "make contracts  recompile the Solidity contracts into contracts/artifacts/"
	@echo "make i18n       extract the pages' strings, update the it/de/fr catalogues, compile them"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# pip and npm run quietly (their progress is hundreds of lines): one line each says what is being installed.
$(PY_STAMP): pyproject.toml | $(BIN)/python
	@echo "Installing microcred and its Python packages into $(VENV) (a minute or two the first time, no output meanwhile)"
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: installing Debian's nodejs and npm"; $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q nodejs npm; }
	@echo "Installing the Node tooling (Anvil, solc, the interoperability peers) into node_modules (under a minute the first time)"
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Debian's Chromium for the browser tests (Playwright cannot download browsers here),
# and Debian's redis-server for the shared-store tests (tests/conftest.py starts one).
$(SYS_STAMP): | $(BIN)/python
	@if ! command -v chromium >/dev/null; then \
	  echo "Installing Debian's chromium and chromium-driver for the browser tests"; \
	  $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium chromium-driver fonts-dejavu-core; \
	fi
	@if ! command -v redis-server >/dev/null; then \
	  echo "Installing Debian's redis-server for the shared-store tests"; \
	  $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q redis-server; \
	fi
	@touch $@

deps: $(PY_STAMP) $(NODE_STAMP)

test-deps: deps $(SYS_STAMP)

# pytest exits 5 when it collected no test; that alone is not a failure here.
# The whole suite (PYTEST_ARGS empty) runs the ledger tests on the second node too.
test: test-deps
	@$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest: no tests ran"; rc=0; fi; exit $$rc
	@$(if $(strip $(PYTEST_ARGS)),true,$(MAKE) --no-print-directory test-second-node)

# The ledger integration tests (tests/ledger) and the verifier's chain-reading ones (~2 min) again on a
# second, independent EVM node from npm, Hardhat Network (tests/evm_nodes.py says why not Ganache or
# Hardhat 3): the ledger code must need nothing but standard Ethereum JSON-RPC.
# MICROCRED_TEST_NODE=anvil|hardhat picks the node of any run.
SECOND_NODE ?= hardhat
SECOND_NODE_TESTS ?= tests/ledger tests/verifier/test_api.py tests/verifier/test_evidence.py \
	tests/verifier/test_issuance_anchor_api.py tests/verifier/test_did_mcr_issuer.py
test-second-node: test-deps
	@echo "== the ledger tests on $(SECOND_NODE)"
	@MICROCRED_TEST_NODE=$(SECOND_NODE) $(BIN)/python -m pytest $(SECOND_NODE_TESTS)

# bench/http_servers.py loads the servers with Debian's wrk (a C load generator) and times the Redis store on a
# redis-server of its own.
bench: deps
	@$(BIN)/python -m pip install --quiet -e '.[bench]'
	@command -v wrk >/dev/null && command -v redis-server >/dev/null || { echo "Installing Debian's wrk and redis-server for bench/http_servers.py"; \
	  $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q wrk redis-server; }
	@for script in bench/bench_*.py bench/http_*.py; do echo "== $$script"; $(BIN)/python $$script || exit $$?; done

# LAN=1: serve on this machine's LAN address over HTTPS, for a phone. FRESH=1: start over (demo --fresh).
# The demo says how long installing took apart from its own start: make passes the time it started.
demo: export MICROCRED_DEMO_MAKE_STARTED := $(shell date +%s)
demo: deps
	$(BIN)/microcred demo $(if $(LAN),--lan,) $(if $(FRESH),--fresh,)

# The README's `microcred …` commands, without typing .venv/bin: a shell with it first on the PATH.
shell: deps
	@echo "microcred and the project's tools are on the PATH in this shell; type exit to leave it"
	@PATH="$(CURDIR)/$(BIN):$$PATH" VIRTUAL_ENV="$(CURDIR)/$(VENV)" $${SHELL:-/bin/sh} -i

contracts: deps
	$(BIN)/python -m ledger.compile

# The pages' languages (infra/i18n.py): extract every string (babel.cfg) into the template, merge it into
# each catalogue (new strings come untranslated: translate them, tests/infra/test_i18n.py fails until then),
# compile the .mo files the apps load (committed, so that a fresh clone runs without this step).
I18N_DIR := infra/translations
i18n: deps
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext --no-location --sort-output --project microcred \
	  --version 0.1.0 --copyright-holder "the microcred authors" -o $(I18N_DIR)/messages.pot .
	$(BIN)/pybabel update -i $(I18N_DIR)/messages.pot -d $(I18N_DIR) --no-fuzzy-matching --ignore-obsolete \
	  --width 120
	$(BIN)/pybabel compile -d $(I18N_DIR) --statistics

clean:
	rm -rf $(VENV) node_modules build *.egg-info .pytest_cache .coverage
