# The two set-up commands are `make run` and `make test`; both create .venv/ when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SCENARIO ?= scenarios/ilrs_baseline.yaml

.PHONY: run test bench fuzz figures clean

# Stamp files: reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/ilrs run $(SCENARIO)

test: $(VENV)/.test-installed
	$(BIN)/ruff check sim tests bench docs
	$(BIN)/mypy sim
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed
	$(BIN)/python bench/benchmark.py --write-readme

# 10,000 mutated scenarios (about an hour on two cores); writes its tally into the README.
fuzz: $(VENV)/.test-installed
	$(BIN)/python tests/fuzzer.py --cases 10000 --write-readme

figures: $(VENV)/.installed
	$(BIN)/python docs/make_figures.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
