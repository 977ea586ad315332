# Two commands matter: `make run` and `make test`. Both build .venv from pyproject.toml on first use.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
HOME_DIR ?= var

.PHONY: run test lint soak bench samples report clean help

help:
	@echo "make run      process sample_files/ end to end into $(HOME_DIR)/"
	@echo "make test     check the layers and the style, then run the test suite"
	@echo "make lint     only the checks: import-linter layers, ruff lint and format"
	@echo "make soak     the fault and bad-input campaigns with many more examples"
	@echo "make report   (re)build the reports of the latest cycle in $(HOME_DIR)/ (runs the samples first if empty)"
	@echo "make samples  regenerate sample_files/ with the synthetic generator"
	@echo "make bench    run the benchmarks and append to BENCHMARKS.md"

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,spark]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m pipeline.cli.sample_run --samples sample_files --home $(HOME_DIR)

report: $(STAMP)
	@test -f $(HOME_DIR)/fpls.duckdb || $(MAKE) --no-print-directory run
	$(BIN)/fpls report --home $(HOME_DIR)

test: lint $(STAMP)
	$(BIN)/python -m pytest

# The layers (import-linter contracts in pyproject.toml) and one style (ruff), checked before the tests.
lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

soak: $(STAMP)
	FPLS_SOAK_EXAMPLES=60 $(BIN)/python -m pytest tests/pipeline/safeguards tests/pipeline/files/test_fuzz.py tests/pipeline/files/test_fixedscan.py --hypothesis-seed=random -p no:cacheprovider

samples: $(STAMP)
	$(BIN)/fpls generate --persons 2000 --states KS,MO,OK --seed 7 --as-of 2026-11-02 --samples --out sample_files

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) $(HOME_DIR) bench/data
