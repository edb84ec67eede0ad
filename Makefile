# The two set-up commands are `make run` and `make test`; both create .venv/ when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SCENARIO ?= scenarios/ilrs_baseline.yaml

.PHONY: run test bench figures clean

$(BIN)/ilrs: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/ilrs

run: $(BIN)/ilrs
	$(BIN)/ilrs run $(SCENARIO)

test: $(BIN)/ilrs
	$(BIN)/python -m pytest -q

bench: $(BIN)/ilrs
	$(BIN)/python bench/benchmark.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info

figures: $(BIN)/ilrs
	$(BIN)/python docs/make_figures.py
