# Two commands: `make run` (set up, initialise a demo group, serve) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: `make run` installs only what running needs, `make test` adds the test
# and PostgreSQL extras (a later `make run` leaves those in place); each installs again
# when pyproject.toml changed.
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test test-postgres bench clean

# The PostgreSQL the suite runs against with `make test-postgres` (a fresh schema per test).
TEST_POSTGRES ?= postgresql://postgres@127.0.0.1:5432/test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $(RUN_STAMP)

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,postgres]'
	touch $(TEST_STAMP)

run: $(RUN_STAMP)
	$(BIN)/lets init --demo
	$(BIN)/lets serve

test: $(TEST_STAMP)
	$(BIN)/python -m pytest

test-postgres: $(TEST_STAMP)
	LETS_TEST_DATABASE=$(TEST_POSTGRES) $(BIN)/python -m pytest

bench: $(TEST_STAMP)
	$(BIN)/python bench/inbound.py

clean:
	rm -rf $(VENV) var
