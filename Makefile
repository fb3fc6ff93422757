# Two commands: `make run` (set up, initialise a demo group, serve) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-postgres bench clean

# The PostgreSQL the suite runs against with `make test-postgres` (a fresh schema per test).
TEST_POSTGRES ?= postgresql://postgres@127.0.0.1:5432/test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,postgres]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/lets init --demo
	$(BIN)/lets serve

test: $(STAMP)
	$(BIN)/python -m pytest

test-postgres: $(STAMP)
	LETS_TEST_DATABASE=$(TEST_POSTGRES) $(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/inbound.py

clean:
	rm -rf $(VENV) var
