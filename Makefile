# l1t: `make demo` runs the main job, `make test` the test suite; both set everything up first (idempotent).
PYTHON  ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.l1t-setup
SYSTEM_PACKAGES := g++ iverilog yosys
BROWSER_PACKAGES := chromium
PYTEST_ARGS ?=
# one pytest worker per core, each test file on one worker (its module fixtures built once); XDIST= runs serially
XDIST ?= -n auto --dist loadfile

.PHONY: setup system-packages browser-packages test test-all demo bench lint format clean firmware cosim

setup: system-packages $(STAMP)

# Debian packages for the HDL side and the C++ reference (and, for `make test-all`, the headless browser that
# checks the report). Installed when running as root; otherwise the exact command is printed and everything that
# does not need them still works (those tests skip with the tool's name).
system-packages browser-packages:
	@missing=""; for p in $(if $(filter browser-packages,$@),$(BROWSER_PACKAGES),$(SYSTEM_PACKAGES)); do command -v $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "l1t setup: installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else \
	  echo "l1t setup: missing system tools:$$missing"; \
	  echo "l1t setup: install them with: sudo apt-get install -y$$missing"; \
	fi

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; \
	  sys.exit(0 if (3, 10) <= v <= (3, 11) else f"l1t needs Python 3.10 or 3.11 (TensorFlow 2.15); {sys.executable} is {v[0]}.{v[1]}")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[all]'
	@echo "l1t setup: compiling da4ml's solver once (numba caches it; about two minutes)"
	$(PY) -c 'import numpy as np, l1t.emulator.fixed as fx; from l1t.firmware.cmvm import solve; \
	  solve(np.array([[3, 5], [7, -1]]), fx.ap_fixed(8, 8))'
	touch $(STAMP)

test: setup
	$(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

test-all: setup browser-packages
	$(PY) -m pytest -m "slow or not slow" $(XDIST) $(PYTEST_ARGS)

demo: setup
	$(VENV)/bin/l1t demo

# make firmware [MODEL=axol1tl_encoder|cicada_student|l1_tagger|path/to/model.h5] [STAGES=n]
# make cosim [MODELS="axol1tl_encoder cicada_student l1_tagger"] [EVENTS=100000] [DUT=all] [SIMULATOR=all]
MODEL ?= axol1tl_encoder
MODELS ?= axol1tl_encoder cicada_student l1_tagger
FIRMWARE_DIR ?= out/firmware/$(basename $(notdir $(MODEL)))
EVENTS ?= 100000
DUT ?= all
SIMULATOR ?= all

firmware: setup
	$(VENV)/bin/l1t firmware --model $(MODEL) --out $(FIRMWARE_DIR) $(if $(STAGES),--stages $(STAGES))

cosim: setup
	@for m in $(MODELS); do \
	  fw=out/firmware/$$(basename $${m%.*}); \
	  test -f $$fw/report.json || $(VENV)/bin/l1t firmware --model $$m --out $$fw --no-resources || exit 1; \
	  $(VENV)/bin/l1t cosim $$fw --dut $(DUT) --simulator $(SIMULATOR) --events $(EVENTS) || exit 1; \
	done

bench: setup
	$(PY) bench/fixed.py
	$(PY) bench/nn.py
	$(PY) bench/cosim.py
	$(PY) bench/events.py
	$(PY) bench/convert.py
	$(PY) bench/rates.py
	$(PY) bench/fastsim.py
	$(PY) bench/import.py
	$(PY) bench/conv_paths.py
	$(PY) bench/firmware.py

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
