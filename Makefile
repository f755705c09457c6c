# The two commands of the README, plus the tools a developer uses.
#   make demo   create .venv, install cminbox, run it on the built-in demo community
#   make demo-team  the same with the PostgreSQL extra, on a throwaway local PostgreSQL (two teammates)
#   make test   create .venv with test extras, install the test servers, run the whole suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo demo-team test test-fast lint bench servers snapshots clean

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
	@$(BIN)/python -m pip install -q --disable-pip-version-check -e . 2>&1 | grep -v "^WARNING: Location" || true
	@$(BIN)/cminbox --version >/dev/null
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	@$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test]' 2>&1 | grep -v "^WARNING: Location" || true
	@$(BIN)/python -c "import pytest, hypothesis, respx"
	@touch $@

demo: $(VENV)/.installed
	$(BIN)/cminbox demo

demo-team: $(VENV)/.installed-pg
	$(BIN)/cminbox demo --team

servers:
	@bash tests/servers/install.sh

test: $(VENV)/.installed-test servers
	$(BIN)/ruff check cminbox tests bench
	$(BIN)/ruff format --check cminbox tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -p no:cacheprovider

test-fast: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q -m "not slow and not servers"

lint: $(VENV)/.installed-test
	$(BIN)/ruff check cminbox tests bench
	$(BIN)/ruff format --check cminbox tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy

$(VENV)/.installed-pg: $(VENV)/.installed
	@$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[postgresql]' 2>&1 | grep -v "^WARNING: Location" || true
	@touch $@

bench: $(VENV)/.installed $(VENV)/.installed-pg
	$(BIN)/python bench/run.py
	$(BIN)/python bench/channels.py
	$(BIN)/python bench/pg.py
	$(BIN)/python bench/migrate.py
	$(BIN)/python bench/sentiment.py
	$(BIN)/python bench/rules.py
	$(BIN)/python bench/card.py
	$(BIN)/python bench/side_by_side.py --rounds 1 --keys 50  # NeoMutt/aerc when installed; says so when not

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache
