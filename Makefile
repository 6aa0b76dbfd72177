# One entry point for set-up, the main job and the tests (the README's two commands).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SHARED ?= ../shared/data
OUT    ?= .fieldwise
APT_PACKAGES := tesseract-ocr-eng tesseract-ocr-osd poppler-utils qpdf

.PHONY: system install run test test-slow lint bench clean

system:  ## Debian packages: Tesseract language data, poppler (test/benchmark baseline), qpdf (tests)
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing $$missing"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: system $(VENV)/.installed

run: install  ## the main job: ingest the shared credit-card PDFs and print a summary
	$(BIN)/fieldwise ingest $(SHARED)/pdfs/*.pdf --out $(OUT)/pdfs

test: install  ## lint, types, then the tests (what CI runs)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy src
	$(BIN)/pytest -q

test-slow: install
	$(BIN)/pytest -q -m slow

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src

bench: install
	$(BIN)/python benchmarks/ingest.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
