# kzgraph — two commands: `make run` and `make test`. Needs only Python 3.11+ and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
OUT    := build

.PHONY: run test install validate build stats showcase docs bench loadtest clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("kzgraph needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
	@touch $(STAMP)

install: $(STAMP)

validate: install
	$(BIN)/kzgraph validate

build: install
	$(BIN)/kzgraph build -o $(OUT)

stats: install
	$(BIN)/kzgraph stats

showcase: install
	@echo "== The state's effective ownership, multiplied along chains of stakes =="
	@$(BIN)/kzgraph query effective-state-ownership
	@echo
	@echo "== Internet users in Kazakhstan: every claim with its source, conflicts marked =="
	@$(BIN)/kzgraph series "internet users"
	@echo
	@echo "== Shutdowns, throttling and blocking in order =="
	@$(BIN)/kzgraph timeline --kind disruption

run: validate build stats showcase

docs: install
	$(BIN)/python -m kzgraph.docs docs

bench: install
	$(BIN)/python bench/run.py
	$(BIN)/python bench/validate.py

loadtest: install
	$(BIN)/python bench/loadtest.py

test: install
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache bench/data bench/results.json bench/validate.json bench/serve-results.json
