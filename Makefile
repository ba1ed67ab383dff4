# The two commands a fresh machine needs: `make demo` and `make test`.
# Everything is installed into .venv from PyPI; the browser tests use Debian's chromium.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo sandbox test lint typecheck unit notebooks browser bench chromium clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Runs the app on the embedded demo cluster (the sandbox with the demo world).
demo: install
	$(VENV)/bin/nim-widget app --demo

# The local Kubernetes API server alone, with a kubeconfig for kubectl.
sandbox: install
	$(VENV)/bin/nim-widget sandbox --kubeconfig-out sandbox.kubeconfig

lint: install
	$(PY) -m ruff check nim_widget tests bench
	$(PY) -m ruff format --check nim_widget tests bench

typecheck: install
	$(PY) -m mypy

unit: install
	$(PY) -m pytest -q -n 2 --dist loadfile tests

notebooks: install
	@if ls notebooks/*.ipynb >/dev/null 2>&1; then \
	  NIM_WIDGET_DEMO=1 $(PY) -m pytest -q -p no:python --nbval-lax --nbval-current-env --nbval-cell-timeout=120 notebooks; \
	else echo "no notebooks yet"; fi

# Chromium comes from Debian; Playwright never downloads a browser of its own.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium; fi; }

test: install chromium lint typecheck unit notebooks

bench: install
	for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info test-output
