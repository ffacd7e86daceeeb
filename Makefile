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
	# the ONNX embedder files (fp32 and int8), exported once from the bundled weights into .venv/var/dossier-onnx
	$(BIN)/python -m index.onnx_embed
	touch $(STAMP)

ingest-demo: setup
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

# Known-vulnerability audit of the installed dependencies. pip-audit fetches advisories from PyPI's
# JSON API (or OSV) and cannot work offline: without network the target says so and fails (exit 2)
# rather than report a clean audit it did not do. `pip check` (consistency of the installed set) runs
# offline either way. AUDIT_OFFLINE=1 skips the network probe (as if there were no network).
AUDIT_ARGS ?= --progress-spinner off --skip-editable --desc on
audit: setup
	$(BIN)/pip check
	@if [ "$(AUDIT_OFFLINE)" != "1" ] && $(BIN)/python -c "import socket; socket.create_connection(('pypi.org', 443), timeout=5).close()" 2>/dev/null; then \
		$(BIN)/pip-audit $(AUDIT_ARGS); \
	else \
		echo "audit: NOT AUDITED: pip-audit needs network access to pypi.org (or osv.dev) for its vulnerability data," >&2; \
		echo "audit: and pypi.org cannot be reached from here. Run 'make audit' on a machine with network access;" >&2; \
		echo "audit: README.md (Security) lists what was last audited and what is known." >&2; \
		exit 2; \
	fi

bench: setup
	$(BIN)/dossier bench all

eval: setup
	$(BIN)/dossier eval run eval/datasets/seed-dev.jsonl --engine extractive
	$(BIN)/dossier eval run eval/datasets/seed-dev.jsonl --engine llm --local-llm

clean:
	rm -rf $(VENV) data test-artifacts .pytest_cache
