"""Security defaults: the CLI process runs offline with Chroma, Gradio and Hugging Face telemetry off
(even when the caller's environment says nothing), contacts nothing off this machine, Chroma's client
is built with telemetry off, the app binds loopback by default, and secrets are never stored in the
settings. (`dossier serve` under load with the same network audit: tests/test_concurrency.py; auth off
loopback: tests/test_api.py.)"""
from __future__ import annotations

import json
import os
import subprocess
import sys

from dossier.app.settings import DossierSettings
from tests.conftest import NET_AUDIT, REPO, outside_contacts

KEYS = ["ANONYMIZED_TELEMETRY", "GRADIO_ANALYTICS_ENABLED", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
        "HF_HUB_DISABLE_TELEMETRY", "DO_NOT_TRACK"]
WANT = {"ANONYMIZED_TELEMETRY": "False", "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1"}

_ENV_DUMP = ("import atexit, json, os\n"
             f"atexit.register(lambda: open(os.environ['ENV_OUT'], 'w').write(json.dumps({{k: os.environ.get(k) for k in {KEYS!r}}})))\n")


def test_cli_process_is_offline_with_telemetry_off_and_contacts_nothing_outside(seed_index, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in KEYS and not k.startswith("DOSSIER_")}
    env.update({"ENV_OUT": str(tmp_path / "env.json"), "NET_AUDIT_OUT": str(tmp_path / "net.jsonl"),
                "DOSSIER_DATA_DIR": str(seed_index.data_dir), "PYTHONPATH": str(REPO)})
    # search opens the catalog, the Chroma client and BM25 (bm25 mode: no model to load)
    proc = subprocess.run([sys.executable, "-c", _ENV_DUMP + NET_AUDIT, "search", "thermal cameras", "--mode", "bm25", "--json"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["results"]
    assert json.loads((tmp_path / "env.json").read_text()) == WANT
    assert outside_contacts(tmp_path / "net.jsonl") == []


def test_chroma_client_is_built_with_telemetry_off(tmp_path):
    from dossier.index.store import VectorStore

    store = VectorStore(data_dir=tmp_path, collection="telemetry-check", embedder_id="e", dim=None, fingerprint="f")
    assert store.client.get_settings().anonymized_telemetry is False


def test_loopback_bind_by_default_and_no_secret_in_settings(monkeypatch):
    from dossier.app.cli_serve import is_loopback

    monkeypatch.setenv("DOSSIER_LLM_API_KEY", "sk-very-secret-value")
    for k in [k for k in os.environ if k.startswith("DOSSIER_") and k != "DOSSIER_LLM_API_KEY"]:
        monkeypatch.delenv(k)
    settings = DossierSettings()
    assert settings.serve.host == "127.0.0.1" and is_loopback(settings.serve.host)
    assert "sk-very-secret-value" not in settings.model_dump_json()  # only the variable's *name* is kept
    assert settings.llm.api_key_env == "DOSSIER_LLM_API_KEY"


def test_an_invalid_collection_name_is_a_one_line_error(run_cli, tmp_path):
    res = run_cli("--data-dir", tmp_path, "search", "x", env={"DOSSIER_INDEX__COLLECTION": "c"})
    assert res.exit_code == 2 and res.stderr.count("\n") == 1 and "invalid collection name 'c'" in res.stderr
