# Everything runs inside .venv, created from the system Python on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test validate queries serve clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest

validate: $(STAMP)
	$(BIN)/thbkg validate

queries: $(STAMP)
	@for q in queries/cq-*.rq; do echo "== $$q"; $(BIN)/thbkg query $$q; done

clean:
	rm -rf $(VENV) build dist .pytest_cache

serve: $(STAMP)
	$(BIN)/thbkg serve
