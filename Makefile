# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name python3 >/dev/null
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/retention-sim demo --out results/demo --overwrite

# the report's browser test renders it in Debian's chromium: installed here when missing
# and running as root; never fails the build (the test then says why it was skipped)
browser:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		(apt-get install -y -qq chromium >/dev/null 2>&1 || \
		 (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1)) || \
		echo "chromium could not be installed: the report's browser test will be skipped"; \
	fi

test: $(STAMP) browser
	$(BIN)/ruff check src tests benchmarks notebooks
	$(BIN)/python -m pytest -n 2 -q --durations=15

validate: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q -m heavy

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks notebooks

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_engine.py

clean:
	rm -rf $(VENV) results .pytest_cache
