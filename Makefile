# `make run`: set up, ingest corpus/, open the chat on http://127.0.0.1:7860.
# `make test`: set up, run the whole test suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# chromium: browser tests; fonts-wqy-microhei: PDFs and scans the tests print; libgl1, libglib2.0-0: OpenCV (OCR);
# postgresql: the store tests' throwaway Postgres cluster (tests/postgres.py)
APT_PACKAGES := chromium fonts-wqy-microhei libgl1 libglib2.0-0 postgresql
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False

.PHONY: setup run test bench bench-scale lint apt model

setup: $(VENV)/.installed apt model

# CPU torch first, from the local wheel, so nothing later pulls a CUDA build.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

apt:
	@if ! dpkg -s $(APT_PACKAGES) >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES); \
		else echo "OCR, the browser and the Postgres tests need: sudo apt-get install -y $(APT_PACKAGES)"; fi; \
	fi

model: $(VENV)/.installed
	$(BIN)/reportqa model

run: setup
	$(BIN)/reportqa ingest corpus/
	$(BIN)/reportqa serve

test: setup
	$(BIN)/ruff check .
	$(BIN)/pytest -q

bench: setup
	$(BIN)/python -m tests.bench

# 10^5 reports' facts and 3×10^5 chunks filled directly (no embedding); REPORTQA_DB_URL picks the database.
bench-scale: setup
	$(BIN)/python -m tests.bench_scale

lint: $(VENV)/.installed
	$(BIN)/ruff check .
