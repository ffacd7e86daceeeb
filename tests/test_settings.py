"""Settings: the DOSSIER_ environment variables are read, the command line overrides them, and an
invalid value is one clear line naming the variable."""
from __future__ import annotations

from pathlib import Path

import pytest

from dossier.app.settings import DossierSettings


@pytest.fixture
def clean_env(monkeypatch):
    import os

    for k in list(os.environ):
        if k.startswith("DOSSIER_"):
            monkeypatch.delenv(k)
    return monkeypatch


def test_defaults(clean_env):
    s = DossierSettings()
    assert s.data_dir == Path("data") and s.chroma_url == ""
    assert s.index.embed_model == "bundled" and s.index.embed_batch_size == 64
    assert s.ingest.chunk_tokens == 256 and s.ingest.chunk_overlap == 32


def test_environment_variables_are_read(clean_env, tmp_path):
    clean_env.setenv("DOSSIER_DATA_DIR", str(tmp_path / "elsewhere"))
    clean_env.setenv("DOSSIER_CHROMA_URL", "http://127.0.0.1:9999")
    clean_env.setenv("DOSSIER_INDEX__EMBED_BATCH_SIZE", "16")
    clean_env.setenv("DOSSIER_INGEST__CHUNK_TOKENS", "128")
    s = DossierSettings()
    assert s.data_dir == tmp_path / "elsewhere"
    assert s.chroma_url == "http://127.0.0.1:9999"
    assert s.index.embed_batch_size == 16 and s.ingest.chunk_tokens == 128


def test_every_setting_is_described():
    from pydantic import BaseModel

    def walk(model: type[BaseModel], prefix: str):
        for name, field in model.model_fields.items():
            ann = field.annotation
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                walk(ann, f"{prefix}{name}.")  # a section: its fields carry the descriptions
            else:
                assert field.description, f"{prefix}{name} has no description"

    walk(DossierSettings, "")


def test_cli_reads_data_dir_from_the_environment(seed_index, run_cli, tmp_path):
    res = run_cli("sources", "--json", env={"DOSSIER_DATA_DIR": str(seed_index.data_dir)})
    assert res.exit_code == 0 and [d["doc_id"] for d in res.json()["documents"]] == [seed_index.doc_id]
    # --data-dir wins over the variable
    res = run_cli("--data-dir", tmp_path / "empty", "sources", "--json", env={"DOSSIER_DATA_DIR": str(seed_index.data_dir)})
    assert res.json()["documents"] == []


def test_cli_hands_the_batch_size_from_the_environment_to_the_embedder(tmp_path, run_cli, shared_embedder, monkeypatch):
    import dossier.index.service as service_mod

    seen = []

    def embedder_for(settings):  # the real Embedder would load the model again; record what it is given
        seen.append(settings.embed_batch_size)
        return shared_embedder

    monkeypatch.setattr(service_mod, "Embedder", embedder_for)
    src = tmp_path / "a.txt"
    src.write_text("A note.")
    res = run_cli("--data-dir", tmp_path / "data", "ingest", src, env={"DOSSIER_INDEX__EMBED_BATCH_SIZE": "7"})
    assert res.exit_code == 0, res.stderr
    assert seen == [7]


def test_chroma_url_from_the_environment_is_used_and_the_flag_wins(tmp_path, run_cli):
    res = run_cli("--data-dir", tmp_path / "data", "search", "x", env={"DOSSIER_CHROMA_URL": "http://127.0.0.1:1"})
    assert res.exit_code == 2 and "cannot open the Chroma store at http://127.0.0.1:1" in res.stderr
    res = run_cli("--data-dir", tmp_path / "data", "--chroma-url", "", "search", "x", "--json",
                  env={"DOSSIER_CHROMA_URL": "http://127.0.0.1:1"})
    assert res.exit_code == 0 and res.json()["results"] == []  # empty flag: embedded store


@pytest.mark.parametrize("var,value,fragment", [
    ("DOSSIER_INDEX__EMBED_BATCH_SIZE", "abc", "valid integer"),
    ("DOSSIER_INDEX__EMBED_BATCH_SIZE", "0", "greater than or equal to 1"),
    ("DOSSIER_INGEST__CHUNK_TOKENS", "8", "greater than or equal to 32"),
    ("DOSSIER_INDEX__RRF_K", "-1", "greater than or equal to 1"),
    ("DOSSIER_ANSWER__STRICT", "maybe", "valid boolean"),
])
def test_invalid_value_is_one_line_naming_the_variable(run_cli, tmp_path, var, value, fragment):
    res = run_cli("--data-dir", tmp_path / "data", "sources", env={var: value})
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr
    assert lines[0].startswith(f"error: invalid settings: {var}: ") and fragment in lines[0] and repr(value) in lines[0]


def test_missing_model_folder_is_a_clear_error(run_cli, tmp_path):
    res = run_cli("--data-dir", tmp_path / "data", "search", "x", env={"DOSSIER_INDEX__EMBED_MODEL": str(tmp_path / "no-model")})
    assert res.exit_code == 2 and res.stderr.strip().count("\n") == 0
    assert f"embedding model folder not found: {tmp_path / 'no-model'}" in res.stderr
