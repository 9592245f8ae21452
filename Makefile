# The two commands of the README: `make test` and `make bench`. Each creates or reuses .venv and
# installs from constraints.txt, torch first (an unpinned torch would pull a CUDA build of GBs).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: test bench install clean-venv

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -c constraints.txt torch
	$(BIN)/pip install -q -c constraints.txt -e .
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest tests $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m pytest bench --benchmark-only $(PYTEST_ARGS)

clean-venv:
	rm -rf $(VENV)
