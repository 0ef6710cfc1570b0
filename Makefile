# The README's two commands: `make demo` and `make test`. Both create .venv on first use and
# install the exact versions pinned in requirements-dev.lock (hash-checked), the same versions the
# image takes from requirements.lock: byte-identical audit replay depends on them.
# After changing dependencies in pyproject.toml, run `make lock` and commit both lock files
# (tests/deploy/test_lock.py fails while pyproject.toml and the locks disagree).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
LOCKS := requirements.lock requirements-dev.lock
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements-dev.lock | cksum | cut -d' ' -f1)
# The resolver that writes the locks, pinned so that `make lock` gives the same files everywhere.
UV_VERSION := 0.13.9
# `make lock UPGRADE=1` moves every pin to the newest version pyproject.toml allows; without it,
# pins are kept wherever pyproject.toml still allows them.
LOCK_FLAGS := --universal --python-version 3.11 --generate-hashes --custom-compile-command "make lock" \
	$(if $(UPGRADE),--upgrade,)

.PHONY: demo test lint typecheck check schemas bench lock alerts-test clean

$(STAMP): pyproject.toml requirements-dev.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --require-hashes -r requirements-dev.lock
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
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

# The dev lock first (runtime + the dev extra), then the runtime lock constrained to it, so the
# image and CI run the very same versions.
lock: $(VENV)/bin/uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev $(LOCK_FLAGS) -q -o requirements-dev.lock
	$(VENV)/bin/uv pip compile pyproject.toml $(LOCK_FLAGS) -q -c requirements-dev.lock -o requirements.lock

# The alert rules through promtool: its lint and the unit tests in alerts.test.yaml (each alert
# fires where it should and stays quiet where it should not). promtool is not on PyPI: a
# promtool on PATH is used, else it is built with Go (once; several minutes).
PROMETHEUS_MODULE := v0.316.0
PROMTOOL = $(or $(shell command -v promtool 2>/dev/null),$(shell go env GOPATH 2>/dev/null)/bin/promtool)
alerts-test:
	test -x "$(PROMTOOL)" || go install github.com/prometheus/prometheus/cmd/promtool@$(PROMETHEUS_MODULE)
	cd deploy/observability && "$(PROMTOOL)" check rules --lint=all --lint-fatal alerts.yaml
	cd deploy/observability && "$(PROMTOOL)" test rules alerts.test.yaml

$(VENV)/bin/uv:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)

# Wheels into dist/ (issue 16). `make wheel`: pure Python, the fallback that runs anywhere.
# `make wheel-compiled`: rules/ and the decision step compiled with mypyc (setup.py says what
# and why), a wheel for this platform and interpreter; tests/compiled proves it decides as the
# pure code does. Both build from the venv without isolation (mypyc type-checks against the
# installed dependencies, with the venv's mypy), with a pinned setuptools kept beside it: the
# venv's own predates pyproject's license field.
BUILD_SETUPTOOLS_VERSION := 84.2.1
BUILD_TOOLS := $(HOME)/.cache/oncoscrub/build-tools/setuptools-$(BUILD_SETUPTOOLS_VERSION)
WHEEL_BUILD = PYTHONPATH=$(BUILD_TOOLS) $(PY) -m pip wheel -q \
	--disable-pip-version-check --no-deps --no-build-isolation -w dist .

.PHONY: wheel wheel-compiled

wheel: $(STAMP) $(BUILD_TOOLS)
	rm -rf build
	ONCOSCRUB_COMPILE= $(WHEEL_BUILD)

wheel-compiled: $(STAMP) $(BUILD_TOOLS)
	rm -rf build
	ONCOSCRUB_COMPILE=1 $(WHEEL_BUILD)

$(BUILD_TOOLS):
	rm -rf $@.tmp
	$(PY) -m pip install -q --disable-pip-version-check --target $@.tmp \
		setuptools==$(BUILD_SETUPTOOLS_VERSION)
	mv $@.tmp $@

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
