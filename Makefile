# painguide: the two commands are `make serve` and `make test`; both bootstrap .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: all serve test lint typecheck pytest bench lock clean demo messages

all: test

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "painguide needs Python >= 3.11 (found %s); set PYTHON=python3.11" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@# byte code of our own sources (the editable install leaves them uncompiled; with PYTHONDONTWRITEBYTECODE
	@# set, every command would compile them again: about 0.05 s of each start, docs/performance.md)
	$(BIN)/python -m compileall -q src
	@touch $(STAMP)

serve: $(STAMP)
	PAINGUIDE_DEMO=$${PAINGUIDE_DEMO:-1} $(BIN)/painguide serve --host $(HOST) --port $(PORT)

test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy src

pytest: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

# Extract every page text marked with _() into the German and English catalogues (docs/i18n.md); then
# translate the new German entries (empty msgstr) in $(LOCALE)/de/LC_MESSAGES/messages.po.
LOCALE := src/painguide/web/locale
PYBABEL_FLAGS := --no-location --no-wrap --sort-output
messages: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg $(PYBABEL_FLAGS) --project painguide -o $(VENV)/messages.pot .
	$(BIN)/pybabel -q update -i $(VENV)/messages.pot -d $(LOCALE) -D messages \
		--no-fuzzy-matching --ignore-obsolete --no-wrap
	rm -f $(VENV)/messages.pot
	@# no dates in the headers: branches that each add texts then merge without header conflicts
	sed -i -e '/^"POT-Creation-Date: /d' -e '/^"PO-Revision-Date: /d' $(LOCALE)/*/LC_MESSAGES/messages.po

bench: $(STAMP)
	$(BIN)/python -m compileall -q src
	$(BIN)/python -m benchmarks

lock:
	$(BIN)/python -m pip freeze --exclude-editable | { echo "# Pinned versions for painguide and its dev tools; used as pip constraints by the Makefile."; echo "# Refresh: make lock"; cat; } > constraints.txt

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
