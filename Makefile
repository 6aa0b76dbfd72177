# One entry point for set-up, the main job and the tests (the README's two commands).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SHARED ?= ../shared/data
OUT    ?= .fieldwise
GOLD   := $(SHARED)/pdfs/gold_fields.json
FIELDS := examples/credit-cards/fields.yaml
CC     := $(OUT)/credit-cards
MODEL  := $(OUT)/models/credit-cards
HOLD_OUT ?= amex__*
TRAIN_MINUTES ?= 15
APT_PACKAGES := tesseract-ocr-eng tesseract-ocr-osd poppler-utils qpdf curl
# Tesseract's accurate English model (tessdata_best, integer weights) from the npm registry;
# Debian's tesseract-ocr-eng is the smaller "fast" model (OCR F1 on FUNSD 0.845 against 0.853).
TESSDATA     := $(VENV)/share/fieldwise/tessdata
TESSDATA_TGZ := https://registry.npmjs.org/@tesseract.js-data/eng/-/eng-1.0.0.tgz
TESSDATA_SHA := c9bddf2e2f0a214ac7918f3f4a3caf45e09ce8674fe26662ae7787ac8927f7bb

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

$(TESSDATA)/eng.traineddata: | $(VENV)/.installed
	mkdir -p $(TESSDATA)
	curl -fsSL --retry 3 -o $(TESSDATA)/eng.tgz $(TESSDATA_TGZ)
	echo "$(TESSDATA_SHA)  $(TESSDATA)/eng.tgz" | sha256sum -c --quiet
	tar -xzOf $(TESSDATA)/eng.tgz package/4.0.0_best_int/eng.traineddata.gz | gunzip > $@.part
	mv $@.part $@ && rm $(TESSDATA)/eng.tgz

install: system $(VENV)/.installed $(TESSDATA)/eng.traineddata

run: install  ## the main job: credit-card fields end to end, scored on an issuer never trained on
	$(BIN)/fieldwise ingest $(SHARED)/pdfs/*.pdf --out $(OUT)/pdfs
	$(BIN)/fieldwise annotate from-values --gold $(GOLD) --fields $(FIELDS) \
	  --pages $(OUT)/pdfs/pages.manifest.jsonl --out $(CC)/labels.jsonl --report $(CC)/labels.report.json
	$(BIN)/fieldwise annotate split $(CC)/labels.jsonl --hold-out '$(HOLD_OUT)'
	@if [ -f $(MODEL)/metrics.json ]; then echo "reusing the trained $(MODEL) (delete it to train again)"; \
	else $(BIN)/fieldwise train --train $(CC)/labels.train.jsonl --fields $(FIELDS) --out $(MODEL) \
	  --max-minutes $(TRAIN_MINUTES); fi
	$(BIN)/fieldwise extract $(SHARED)/pdfs/$(HOLD_OUT).pdf --model $(MODEL) --fields $(FIELDS) \
	  --out $(CC)/held-out
	$(BIN)/fieldwise evaluate-fields --gold $(GOLD) --results $(CC)/held-out/results.jsonl \
	  --out $(CC)/held-out/evaluation.json

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
