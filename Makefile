# b24explorer — the two commands that matter: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: run test lint bench reliability fidelity package clean sandbox

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,package]'
	rm -f $(VENV)/.installed-*
	touch $@

venv: $(STAMP)

## Open the explorer connected to the built-in sandbox portal.
run: $(STAMP)
	$(PY) -m b24explorer --sandbox

## Run the whole test suite (Qt offscreen; keyring tests under a private D-Bus + gnome-keyring).
test: $(STAMP)
	QT_QPA_PLATFORM=offscreen scripts/run-tests $(PY) -m pytest $(PYTEST_ARGS)

## ruff, mypy over the whole package, actionlint over the workflows.
lint: $(STAMP)
	$(PY) -m ruff check b24explorer tests bench packaging
	$(PY) -m mypy
	$(VENV)/bin/actionlint

sandbox: $(STAMP)
	$(PY) -m b24explorer.cli sandbox

bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) bench/run_all.py

## The sandbox against outside references, offline: the official Python SDK and fast_bitrix24 as clients, and
## the answers' shapes, field sets and errors the REST docs give (README: the JS SDK's suite, by hand).
fidelity: $(STAMP)
	QT_QPA_PLATFORM=offscreen scripts/run-tests $(PY) -m pytest -q tests/sandbox/test_sandbox_peers.py \
		tests/sandbox/test_sandbox_docs_answers.py tests/sandbox/test_sandbox_fidelity.py \
		tests/sandbox/test_sandbox_more_methods.py

reliability: $(STAMP)
	QT_QPA_PLATFORM=offscreen scripts/run-tests $(PY) bench/reliability.py

package: $(STAMP)
	$(PY) packaging/build.py

clean:
	rm -rf build dist .pytest_cache .ruff_cache .mypy_cache tests/artifacts
