"""Shared pytest fixtures."""
from __future__ import annotations

import os

# Offline and quiet before anything imports transformers or chromadb.
for _k, _v in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
               "TOKENIZERS_PARALLELISM": "false", "DO_NOT_TRACK": "1"}.items():
    os.environ[_k] = _v

import sys
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest

from dossier.app.local_llm import LLMServerError, running_llm_server


@pytest.fixture(scope="session")
def llm_server():
    """Base URL ("http://127.0.0.1:PORT/v1") of a real llama.cpp server running SmolLM2-135M-Instruct."""
    try:
        with running_llm_server() as base_url:
            yield base_url
    except LLMServerError as e:
        pytest.fail(f"llama.cpp server fixture: {e}", pytrace=False)


# --- index: the real bundled embedder, loaded once per session -------------------------------------

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
SEED = REPO / "sources" / "docs" / "equipping-a-dictator.txt"
SEED_MANIFEST = REPO / "sources" / "manifest.tsv"


@pytest.fixture(scope="session")
def shared_embedder():
    """The real bundled all-MiniLM-L6-v2 embedder, loaded once for the whole session."""
    from dossier.index.embedder import Embedder
    from dossier.index.settings import IndexSettings

    emb = Embedder(IndexSettings())
    emb.embed(["warm-up"])
    return emb


def build_service(data_dir: Path, embedder, *, chroma_url: str | None = None, index=None, ingest=None):
    """A real IndexService in `data_dir` that reuses an already loaded embedder."""
    from dossier.index.service import IndexService
    from dossier.index.settings import IndexSettings
    from dossier.ingest.settings import IngestSettings

    svc = IndexService(Path(data_dir), index or IndexSettings(), ingest or IngestSettings(), chroma_url=chroma_url)
    if index is None or index.embed_model == "bundled":
        svc.embedder = embedder
    return svc


@pytest.fixture(scope="session")
def eval_settings(tmp_path_factory):
    """Default settings with a throwaway data dir (run_eval replaces it by OUT/store anyway)."""
    from dossier.app.settings import DossierSettings

    return DossierSettings(data_dir=tmp_path_factory.mktemp("eval-data"), chroma_url="")


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    """URL of a real `chroma run` server on loopback, persisted in a temp dir; stopped after the module."""
    from dossier.eval.bench.server import chroma_server as running_chroma

    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.exists():
        pytest.fail(f"the chroma executable is missing: {chroma} (run `make setup`)", pytrace=False)
    try:
        with running_chroma(tmp_path_factory.mktemp("chroma-server") / "db") as url:
            yield url
    except RuntimeError as exc:
        pytest.fail(f"chroma server: {exc}", pytrace=False)


@pytest.fixture
def make_service(tmp_path, shared_embedder):
    """Factory: make_service(data_dir=None, chroma_url=None, index=None, ingest=None) -> IndexService."""

    def make(data_dir: Path | None = None, **kw):
        return build_service(data_dir or tmp_path / "data", shared_embedder, **kw)

    return make


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory, shared_embedder):
    """The seed article ingested once with its manifest. Read-only: tests must not change it."""
    from dossier.index.indexer import Ingestor
    from dossier.ingest.manifest import ManifestIndex, load_manifest

    data_dir = tmp_path_factory.mktemp("seed-index")
    svc = build_service(data_dir, shared_embedder)
    manifests = ManifestIndex([(SEED_MANIFEST, load_manifest(SEED_MANIFEST))])
    report = Ingestor(svc, manifests=manifests).run([str(SEED)])
    assert [r.status for r in report.results] == ["ingested"], report.to_dict()
    return SimpleNamespace(svc=svc, report=report, data_dir=data_dir, doc_id=report.results[0].doc_id)


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self):
        import json

        return json.loads(self.stdout)


@pytest.fixture
def run_cli(monkeypatch, capsys, shared_embedder):
    """Run the real `dossier` entry point (dossier.cli:main) in this process: argv in, (exit code, stdout,
    stderr) out. DOSSIER_* variables from the outer environment are cleared; `env` sets some. The
    bundled embedder is the session's instance, so the model is not loaded again."""
    import dossier.index.service as service_mod
    from dossier.cli import main

    real_embedder = service_mod.Embedder
    monkeypatch.setattr(service_mod, "Embedder",
                        lambda s: shared_embedder if s.embed_model == "bundled" else real_embedder(s))
    for k in list(os.environ):
        if k.startswith("DOSSIER_"):
            monkeypatch.delenv(k)

    def run(*args, env: dict[str, str] | None = None) -> CliResult:
        with monkeypatch.context() as m:
            for k, v in (env or {}).items():
                m.setenv(k, v)
            m.setattr(sys, "argv", ["dossier", *map(str, args)])
            capsys.readouterr()
            try:
                main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run
