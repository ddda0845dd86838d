# Tessella: `make run` and `make test` do all the set-up on a fresh Debian machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Qt/OpenGL/X libraries napari needs, and Xvfb for tests and head-less runs.
APT_PACKAGES := xvfb xauth libgl1 libegl1 libglib2.0-0 libfontconfig1 libdbus-1-3 \
	libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 \
	libxcb-randr0 libxcb-render-util0 libxcb-image0 libxcb-xinerama0 libxcb-xkb1
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYTEST_ARGS ?=
# the suite runs in one process per core, at most 4 (pytest-xdist; each uses one torch thread, see
# tests/conftest.py): with 1093 tests 7.7 minutes instead of 13.7 on 2 cores; 2496 tests took 14:51
# and 15:46 on 2 cores on 2026-12-07. TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); echo $$(( n < 4 ? n : 4 )))

.PHONY: run test apt venv lint format bench clean

run: $(STAMP)
	@if [ -z "$$DISPLAY" ] && [ -z "$$WAYLAND_DISPLAY" ]; then \
		echo "No display found: starting napari on a virtual X server (xvfb-run)."; \
		xvfb-run -a -s "-screen 0 1600x1000x24" $(BIN)/python -m tessella.launch; \
	else \
		$(BIN)/python -m tessella.launch; \
	fi

test: $(STAMP)
	XDG_CONFIG_HOME=$$(mktemp -d) XDG_CACHE_HOME=$$(mktemp -d) \
		$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

venv: $(STAMP)

# torch goes first, pinned (the CPU build on this machine); every later pip call is constrained to it.
$(STAMP): pyproject.toml constraints.txt | apt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install "torch==2.13.0"
	$(BIN)/python -m pip install -c constraints.txt -e ".[dev]"
	touch $(STAMP)

apt:
	@missing=""; for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "Installing system packages:$$missing"; \
		$(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends $$missing; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools
	$(BIN)/python -m mypy

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks tools
	$(BIN)/ruff check --fix src tests benchmarks tools

# on a virtual X server, as the tests get one (pytest-xvfb): the Tune suite opens a napari viewer
bench: $(STAMP)
	XDG_CONFIG_HOME=$$(mktemp -d) XDG_CACHE_HOME=$$(mktemp -d) \
		xvfb-run -a $(BIN)/python -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache
