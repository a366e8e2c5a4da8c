# Everything runs inside .venv, created from the system Python on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test-tools engines test validate queries serve clean bench diagram

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Tools the tests drive for real: Debian's chromium (never a downloaded browser), Graphviz, and a
# JDK (a SPARQL client on Java's own HTTP client, the one Apache Jena and JVM tools use, run from
# its source in tests/java/) from apt, and the npm package cytoscape (pinned) that checks our
# Cytoscape.js export loads.
APT_TOOLS := /usr/bin/chromium /usr/bin/chromedriver /usr/bin/dot /usr/bin/java /usr/bin/javac
CYTOSCAPE := $(VENV)/node/node_modules/cytoscape/package.json

# $(call apt_install,FILES,PACKAGES,FIRST): unless every one of FILES (programs, jars) is there, install Debian's
# PACKAGES with apt-get (through sudo when not root), after the shell commands FIRST (which may use
# $$sudo); the package lists are updated only when the install needs it.
define apt_install
	@missing=0; for tool in $(1); do [ -e $$tool ] || missing=1; done; [ $$missing = 0 ] && exit 0; \
	if ! command -v apt-get >/dev/null; then \
	  echo "The tests need Debian's $(2), and apt-get is not available: install them, then run make test" \
	       "again." >&2; \
	  exit 1; \
	fi; \
	sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	$(3) \
	install="$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(2)"; \
	$$install 2>/dev/null || { $$sudo apt-get update && $$install; }
endef

test-tools:
	$(call apt_install,$(APT_TOOLS),chromium chromium-driver graphviz default-jdk-headless,)

# Remote SPARQL engines the tests start in temporary folders (src/thbkg/backend/engine_servers.py): Oxigraph's server
# comes with the test extra (the `oxigraph` wheel); Virtuoso is Debian's. virtuoso-opensource-7-bin
# holds only the binaries (virtuoso-t, isql-vt): no service and no prompt; the DBA password is
# preseeded anyway, in case apt ever pulls in virtuoso-opensource-7, whose service we never need.
VIRTUOSO := /usr/bin/virtuoso-t /usr/bin/isql-vt
VIRTUOSO_PRESEED := printf '%s\n' 'virtuoso-opensource-7 virtuoso-opensource-7/dba-password password dba' \
	  'virtuoso-opensource-7 virtuoso-opensource-7/dba-password-again password dba' | $$sudo debconf-set-selections &&

engines:
	$(call apt_install,$(VIRTUOSO),virtuoso-opensource-7-bin,$(VIRTUOSO_PRESEED))

$(CYTOSCAPE): | $(STAMP)
	npm install --silent --no-audit --no-fund --prefix $(VENV)/node cytoscape@3.34.4

test: $(STAMP) test-tools engines $(CYTOSCAPE)
	NODE_PATH=$(CURDIR)/$(VENV)/node/node_modules $(BIN)/python -m pytest

validate: $(STAMP)
	$(BIN)/thbkg validate

queries: $(STAMP)
	@for q in queries/cq-*.rq; do echo "== $$q"; $(BIN)/thbkg query $$q; done

clean:
	rm -rf $(VENV) build dist .pytest_cache

serve: $(STAMP)
	$(BIN)/thbkg serve

# The class diagrams in docs/ (README, /ontology), redrawn from ontology/thb.ttl; needs Graphviz (`dot`).
DIAGRAM_VIEWS := hierarchy relations

diagram: $(STAMP)
	@for view in $(DIAGRAM_VIEWS); do \
	  $(BIN)/thbkg diagram --view $$view --format dot -o docs/class-diagram-$$view.dot && \
	  $(BIN)/thbkg diagram --view $$view --format svg -o docs/class-diagram-$$view.svg || exit 2; \
	  echo "docs/class-diagram-$$view.dot, docs/class-diagram-$$view.svg"; \
	done

# Side by side with Oxigraph's server and rdflib-endpoint (minutes; never part of `make test`).
# make bench BENCH_ARGS="--datasets bundled,100k,1m"   (python benchmarks/run.py --help for the rest)
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(call apt_install,/usr/bin/wrk,wrk,)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)
