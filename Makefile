# dossier: the README's two commands are `make run` and `make test`; both set up .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False
export DO_NOT_TRACK := 1

.PHONY: setup run test ingest-demo soak bench eval fuzz audit clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# CPU build of torch from this machine's disk first, so nothing pulls a CUDA build
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

ingest-demo: setup
	$(BIN)/dossier ingest sources/docs --manifest sources/manifest.tsv

run: ingest-demo
	$(BIN)/dossier serve

test: setup
	$(BIN)/pytest -q -m "not slow"

soak: setup
	$(BIN)/pytest -q -m slow

bench: setup
	$(BIN)/dossier bench all

eval: setup
	$(BIN)/dossier eval run eval/datasets/seed-dev.jsonl --engine extractive
	$(BIN)/dossier eval run eval/datasets/seed-dev.jsonl --engine llm --local-llm

clean:
	rm -rf $(VENV) data test-artifacts .pytest_cache
