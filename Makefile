# The two commands of the README: `make test` and `make bench`. Each creates or reuses .venv and
# installs from constraints.txt, torch first (an unpinned torch would pull a CUDA build of GBs).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: test test-paths bench gpu install clean-venv browser

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -c constraints.txt torch
	$(BIN)/pip install -q -c constraints.txt -e .
	touch $(STAMP)

# The numeric tests again on other CPU code paths than the machine's own: torch's lowest
# (ATEN_CPU_CAPABILITY=default, no SIMD) and XLA's lowest ISA (--xla_cpu_max_isa=SSE4_2).
# docs/numerics.md says why; `make test-paths` runs every test on (default, SSE4_2) and (avx2, AVX2).
FORCED_ENV   := ATEN_CPU_CAPABILITY=default XLA_FLAGS=--xla_cpu_max_isa=SSE4_2
NUMERIC_TESTS := tests/test_equivalence.py tests/test_agreement.py tests/test_ensembles.py tests/test_plot.py \
                 tests/test_sparse_parity_equivalence.py

test: $(STAMP) browser
	$(BIN)/python -m pytest tests $(PYTEST_ARGS)
	$(FORCED_ENV) $(BIN)/python -m pytest $(NUMERIC_TESTS) $(PYTEST_ARGS)

test-paths: $(STAMP)
	ATEN_CPU_CAPABILITY=default XLA_FLAGS=--xla_cpu_max_isa=SSE4_2 $(BIN)/python -m pytest tests $(PYTEST_ARGS)
	ATEN_CPU_CAPABILITY=avx2 XLA_FLAGS=--xla_cpu_max_isa=AVX2 $(BIN)/python -m pytest tests $(PYTEST_ARGS)

# The report page's browser test (tests/test_report_page.py) needs a headless browser. Where none is
# and this runs as root with apt-get (CI, a fresh container), Debian's chromium is installed quietly,
# within 10 minutes, its log in BROWSER_LOG; a failed install stops `make test`. Elsewhere the test
# skips, saying why. BROWSER_INSTALL=no: never install.
BROWSERS       := chromium chromium-browser google-chrome google-chrome-stable
BROWSER_LOG    ?= /tmp/paritybench-browser-install.log
BROWSER_INSTALL ?= yes

browser:
	@for b in $(BROWSERS); do command -v $$b >/dev/null 2>&1 && exit 0; done; \
	if [ "$(BROWSER_INSTALL)" != yes ]; then echo "browser: none, not installed (BROWSER_INSTALL=$(BROWSER_INSTALL)): the browser test will skip"; \
	elif [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then \
	  echo "browser: none, and not root with apt-get: the browser test will skip (install chromium to run it)"; \
	else \
	  echo "browser: installing Debian's chromium for the page test (apt-get; log: $(BROWSER_LOG))"; \
	  start=$$(date +%s); \
	  if timeout 600 sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	       --no-install-recommends chromium' >$(BROWSER_LOG) 2>&1 && command -v chromium >/dev/null; then \
	    echo "browser: $$(chromium --version 2>/dev/null | head -n 1), installed in $$(( $$(date +%s) - start )) s"; \
	  else \
	    echo "browser: installing chromium failed; the end of $(BROWSER_LOG):"; tail -n 5 $(BROWSER_LOG); exit 1; \
	  fi; \
	fi

# make bench PROFILE=quick: the headline answer in about a minute (bench/matrix.py PROFILES)
bench: $(STAMP)
	$(BIN)/python -m pytest bench --benchmark-only $(if $(PROFILE),--profile $(PROFILE)) $(PYTEST_ARGS)

# On a GPU host, with the host's own packages (no venv, nothing installed; README "On a GPU host"):
# the GPU tests, the GPU agreement cases and the GPU bench profile in one bounded run, one new JSON.
GPU_PYTHON ?= python3
gpu:
	$(GPU_PYTHON) -m bench.gpu_host $(GPU_ARGS)

clean-venv:
	rm -rf $(VENV)
