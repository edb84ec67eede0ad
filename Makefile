# The two set-up commands are `make run` and `make test`; both create .venv/ when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SCENARIO ?= scenarios/ilrs_baseline.yaml

.PHONY: run test fuzz bench figures clean

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

# Long generated-input runs: every test under tests/fuzz/ marked `fuzz` (minutes, not seconds),
# then 10,000 mutated scenarios through the loader and a 50-trial run (about an hour on two
# loaded cores), whose tally goes into the README.
fuzz: $(VENV)/.test-installed
	$(BIN)/python -m pytest -q -m fuzz tests/fuzz
	$(BIN)/python tests/fuzzer.py --cases 10000 --seed 11 --write-readme

# pmcontrols, measured side by side, lives in the benchmark's own environment.
bench/.venv/.installed:
	$(PYTHON) -m venv bench/.venv
	bench/.venv/bin/pip install --quiet --disable-pip-version-check pmcontrols==0.2.1
	touch $@

bench: $(VENV)/.installed bench/.venv/.installed
	$(BIN)/python bench/benchmark.py --write-readme

figures: $(VENV)/.installed
	$(BIN)/python docs/make_figures.py

clean:
	rm -rf $(VENV) bench/.venv .pytest_cache .hypothesis build *.egg-info
