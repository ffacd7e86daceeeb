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

.PHONY: setup setup-run run test ingest-demo soak bench eval fuzz audit clean

# `make run` installs the runtime dependencies only; `make test` adds the test extras on top (llama.cpp,
# compiled from source for minutes, is one of them: the product never needs it)
RUN_STAMP := $(VENV)/.installed-run

setup-run: $(RUN_STAMP)

$(RUN_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# CPU build of torch from this machine's disk first, so nothing pulls a CUDA build
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e .
	# the ONNX embedder files (fp32 and int8), exported once from the bundled weights into .venv/var/dossier-onnx
	$(BIN)/python -m dossier.index.onnx_embed
	touch $(RUN_STAMP)

setup: $(STAMP)

$(STAMP): $(RUN_STAMP)
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

ingest-demo: setup-run
	$(BIN)/dossier ingest sources/docs --manifest sources/manifest.tsv

run: ingest-demo
	$(BIN)/dossier serve

test: setup
	$(BIN)/pytest -q -m "not slow"

soak: setup
	$(BIN)/pytest -q -m slow

# Fuzz the readers for a bounded time (atheris, else hypothesis): only IngestError may escape a reader.
FUZZ_SECONDS ?= 120
fuzz: setup
	$(BIN)/python tests/fuzz_readers.py --seconds $(FUZZ_SECONDS)

# Known-vulnerability audit of the installed dependencies. `pip check` (consistency of the installed
# set) runs offline. pip-audit needs a vulnerability service: PyPI's per-version JSON API
# (/pypi/<name>/<version>/json, its default) or OSV (api.osv.dev). tests/audit_probe.py tries one request
# to each and picks the first that answers; when neither does, the target prints which endpoint failed
# and how, says NOT AUDITED and exits 2. pip-audit runs with --strict, so a dependency it cannot look up
# fails the audit instead of being skipped under a "No known vulnerabilities found" (a TCP connection
# to pypi.org is not enough: a mirror can answer project pages and 404 the per-version API).
# AUDIT_OFFLINE=1 skips the probe (as if there were no network).
AUDIT_ARGS ?= --progress-spinner off --skip-editable --desc on --strict
audit: setup
	$(BIN)/pip check
	@if [ "$(AUDIT_OFFLINE)" = "1" ]; then \
		echo "audit: NOT AUDITED: AUDIT_OFFLINE=1 (pip-audit needs PyPI's per-version JSON API or api.osv.dev)" >&2; \
		exit 2; \
	fi
	@service=$$($(BIN)/python tests/audit_probe.py) || exit 2; \
		echo "audit: pip-audit -s $$service"; \
		$(BIN)/pip-audit $(AUDIT_ARGS) -s $$service

# The 100k store for query latency embeds 5,000 chunks for real and gives the rest perturbed copies of
# those vectors (labelled "synthetic vectors" in the results: latency and memory, not quality); it is
# built once (~7 min on 2 cores) and reused. `dossier bench all --million` adds 1M through a chroma server.
bench: setup
	$(BIN)/dossier bench store --chunks 100k --real-vectors 5000 --if-missing
	$(BIN)/dossier bench all
	# sources in other languages (#16): encoder speed, ingest and query cost at 10k chunks (~6 min)
	$(BIN)/dossier bench store --chunks 10k --if-missing
	$(BIN)/dossier bench multilingual --chunks 10k

eval: setup
	$(BIN)/dossier eval run eval/datasets/seed-dev.jsonl --engine extractive
	$(BIN)/dossier eval run eval/datasets/seed-dev.jsonl --engine llm --local-llm

clean:
	rm -rf $(VENV) data test-artifacts .pytest_cache
