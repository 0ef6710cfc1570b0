# The README's two commands: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test lint typecheck check schemas bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	rm -f $(VENV)/.installed-* && touch $(STAMP)

demo: $(STAMP)
	$(PY) -m deploy.demo

# Everything: lint, types, unit and broker tests (the broker starts itself if none is given).
test: $(STAMP) lint typecheck
	$(PY) -m pytest -q -p no:cacheprovider -ra

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

schemas: $(STAMP)
	$(PY) -m schemas.export

bench: $(STAMP)
	$(PY) -m bench.worker_throughput

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
