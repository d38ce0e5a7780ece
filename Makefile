# Two commands set everything up on a fresh machine: `make pdf` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PUBLISH := $(BIN)/publish
MANUSCRIPT ?= manuscript
OUT ?= build
DIST ?= dist
# The edition being released, e.g. 1.2.0 from the tag in CI; empty: the v<edition> tag at HEAD, else book.yaml's.
EDITION ?=
STAMP := $(VENV)/.installed

.PHONY: pdf epub all check release test quick clean setup bench example lock docs
.DEFAULT_GOAL := pdf

# Every package comes at the version constraints.txt pins, so that a build a year from now gives the same bytes.
# The editable install's backend warns of a setuptools behaviour no user can act on: hidden.
$(STAMP): pyproject.toml constraints.txt
	@echo "Setting up $(VENV) (first run, about a minute)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip -c constraints.txt
	PYTHONWARNINGS=ignore $(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)
	@echo "$(VENV) is ready."

setup: $(STAMP)

pdf: $(STAMP)
	$(PUBLISH) pdf $(MANUSCRIPT) --out $(OUT)

epub: $(STAMP)
	$(PUBLISH) epub $(MANUSCRIPT) --out $(OUT)

all: $(STAMP)
	$(PUBLISH) all $(MANUSCRIPT) --out $(OUT)

check: $(STAMP)
	$(PUBLISH) check $(MANUSCRIPT) --strict

release: $(STAMP)
	$(PUBLISH) release $(MANUSCRIPT) --dist $(DIST) $(if $(EDITION),--edition $(EDITION))

# A whole real volume, imported from the Office of the Historian's TEI (publish import-tei).
example: $(STAMP)
	$(PUBLISH) all examples/frus1894Nicaragua --out $(OUT)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist worksteal -q

# The edit-test loop: the unit tests only (no whole book laid out), in about a minute.
quick: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist worksteal -q tests/unit

bench: $(STAMP)
	$(BIN)/python bench/bench.py

# The table of book.yaml keys in docs/manuscript.md, rewritten from their declarations (tests/unit/test_docs.py
# fails until this is run after a key changes).
docs: $(STAMP)
	$(BIN)/python -c 'import pathlib, re; from publish.book.config import key_table; \
	  doc = pathlib.Path("docs/manuscript.md"); text = doc.read_text(encoding="utf-8"); \
	  doc.write_text(re.sub(r"(<!-- keys:begin -->\n).*?(<!-- keys:end -->)", lambda m: m[1] + key_table() + m[2], \
	                        text, count=1, flags=re.S), encoding="utf-8")'

# Pin the newest versions pyproject.toml allows (run after changing the dependencies; commit the result).
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip
	.lock-venv/bin/pip install --quiet -e '.[test]'
	{ echo "# Every package the project installs, pinned: made by 'make lock', used by 'make' and CI (pip -c)."; \
	  .lock-venv/bin/pip freeze --all --exclude-editable | grep -v '^frus-publish'; } > constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf $(OUT) $(DIST) .pytest_cache
