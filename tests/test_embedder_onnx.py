"""The ONNX embedder backends against sentence-transformers, with the real bundled model and real text."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dossier.index.embedder import Embedder, bundled_model_path
from dossier.index.errors import EmbedderMismatch
from dossier.index.settings import IndexSettings
from dossier.ingest.chunking import chunk_document
from dossier.ingest.models import Document, DocumentMeta
from dossier.ingest.settings import IngestSettings

REPO = Path(__file__).resolve().parents[1]


def _real_texts() -> list[str]:
    """Chunks of the seed article and the fixture corpus, plus questions and short claims."""
    texts: list[str] = []
    files = [REPO / "sources/docs/equipping-a-dictator.txt", *sorted((REPO / "tests/fixtures/corpus").glob("*.txt")),
             *sorted((REPO / "tests/fixtures/corpus").glob("*.md"))]
    for i, f in enumerate(files):
        text = f.read_text(encoding="utf-8")
        doc = Document(doc_id=f"d{i}", source=str(f), sha256="0" * 64, format="txt", text=text, meta=DocumentMeta(title=f.stem))
        texts += [c.text for c in chunk_document(doc, IngestSettings())]
    for line in (REPO / "eval/datasets/seed-dev.jsonl").read_text(encoding="utf-8").splitlines()[:40]:
        texts.append(json.loads(line)["question"])
    texts += ["  leading and trailing spaces  ", "x", "Ünïcödé — “quotes” and 12,345.67 €", "word " * 400]
    return texts


@pytest.fixture(scope="module")
def texts() -> list[str]:
    t = _real_texts()
    assert len(t) >= 60
    return t


@pytest.fixture(scope="module")
def torch_vectors(shared_embedder, texts):
    if shared_embedder.backend == "torch":
        return np.array(shared_embedder.embed(texts))
    return np.array(Embedder(IndexSettings(embed_backend="torch")).embed(texts))


def test_onnx_fp32_matches_sentence_transformers(texts, torch_vectors):
    emb = Embedder(IndexSettings(embed_backend="onnx"))
    vecs = np.array(emb.embed(texts, batch_size=16))  # other batches and padding than the torch run
    assert vecs.shape == torch_vectors.shape == (len(texts), 384)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    cos = (vecs * torch_vectors).sum(axis=1)
    assert cos.min() > 0.99999, (cos.min(), texts[int(cos.argmin())][:80])
    assert emb.id == "sentence-transformers/all-MiniLM-L6-v2" == Embedder(IndexSettings(embed_backend="torch")).id
    assert emb.dim == 384
    # one text alone gives the same vector as inside a padded batch
    np.testing.assert_allclose(emb.embed_query(texts[0]), vecs[0], atol=1e-5)


def test_onnx_int8_close_to_sentence_transformers_with_its_own_id(texts, torch_vectors):
    emb = Embedder(IndexSettings(embed_backend="onnx-int8"))
    vecs = np.array(emb.embed(texts))
    cos = (vecs * torch_vectors).sum(axis=1)
    assert cos.min() > 0.97 and cos.mean() > 0.985, (cos.min(), cos.mean())
    assert emb.id.endswith("+onnx-int8") and emb.id != Embedder(IndexSettings(embed_backend="onnx")).id
    # a text's vector does not depend on the batch it is embedded in (one text per run)
    np.testing.assert_allclose(np.array(emb.embed(texts[:3], batch_size=64)), vecs[:3], atol=1e-6)
    np.testing.assert_allclose(emb.embed_query(texts[5]), vecs[5], atol=1e-6)
    # still the same ranking of an obviously relevant passage over unrelated ones
    q = np.array(emb.embed_query("How far can the cameras detect people?"))
    sims = vecs @ q
    best = texts[int(np.argmax(sims[:-44]))]  # among the document chunks
    assert "camera" in best.lower() or "detect" in best.lower(), best[:200]


def test_onnx_file_cached_and_keyed_by_variant(tmp_path):
    from dossier.index.onnx_embed import ensure_onnx, onnx_path

    model = bundled_model_path()
    fp32, int8 = onnx_path(model, "fp32"), onnx_path(model, "int8")
    assert fp32 != int8 and fp32.parent == int8.parent
    assert ensure_onnx(model, "int8") == int8 and int8.exists() and fp32.exists()
    meta = json.loads(int8.with_suffix(".json").read_text())
    assert meta["variant"] == "int8"
    assert not list(int8.parent.glob("*.tmp"))  # built atomically: no temporary left behind
    with pytest.raises(ValueError):
        onnx_path(model, "fp16")


def test_onnx_query_path_imports_neither_torch_nor_sentence_transformers():
    """A fresh process embedding with the ONNX backend (file already built) never imports torch."""
    Embedder(IndexSettings(embed_backend="onnx-int8")).embed(["build the file first if needed"])
    code = ("import sys; from index.embedder import Embedder; from index.settings import IndexSettings; "
            "v = Embedder(IndexSettings(embed_backend='onnx-int8')).embed_query('cameras'); "
            "bad = [m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules]; "
            "print(len(v), bad)")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "384 []"


def test_store_built_with_int8_refuses_the_torch_embedder(tmp_path):
    from dossier.index.store import VectorStore

    int8 = Embedder(IndexSettings(embed_backend="onnx-int8"))
    VectorStore(data_dir=tmp_path, collection="coll1", embedder_id=int8.id, dim=None, fingerprint="f")
    with pytest.raises(EmbedderMismatch):
        VectorStore(data_dir=tmp_path, collection="coll1", embedder_id=Embedder(IndexSettings(embed_backend="torch")).id,
                    dim=None, fingerprint="f")


def test_two_processes_building_the_same_file_at_once(tmp_path):
    """Each build works in its own temporary files and renames atomically: both succeed, one file each."""
    code = ("from index.onnx_embed import ensure_onnx; from index.embedder import bundled_model_path; "
            "print(ensure_onnx(bundled_model_path(), 'int8'))")
    env = {**os.environ, "PYTHONPATH": str(REPO), "DOSSIER_ONNX_CACHE": str(tmp_path / "cache")}
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-1500:] for o in outs]
    assert outs[0][0].strip() == outs[1][0].strip()
    assert sorted(f.name.rsplit("-", 1)[-1] for f in (tmp_path / "cache").iterdir()) == ["fp32.json", "fp32.onnx", "int8.json", "int8.onnx"]
    assert not [f for f in tmp_path.iterdir() if f.name != "cache"]  # nothing written to the working directory


def test_adopt_store_follows_a_torch_built_store_only_when_the_backend_is_defaulted():
    torch_id = Embedder(IndexSettings(embed_backend="torch")).id
    default = Embedder(IndexSettings())
    assert default.backend == "onnx-int8"
    default.adopt_store(torch_id)
    assert default.backend == "onnx" and default.id == torch_id
    explicit = Embedder(IndexSettings(embed_backend="onnx-int8"))
    explicit.adopt_store(torch_id)
    assert explicit.backend == "onnx-int8" and explicit.id != torch_id
    fresh = Embedder(IndexSettings())
    fresh.adopt_store(None)
    fresh.adopt_store("sentence-transformers/other-model")
    assert fresh.backend == "onnx-int8"


def test_mismatch_message_names_the_backend_that_matches(tmp_path):
    from dossier.index.store import VectorStore

    VectorStore(data_dir=tmp_path, collection="coll2", embedder_id="sentence-transformers/all-MiniLM-L6-v2", dim=None, fingerprint="f")
    with pytest.raises(EmbedderMismatch, match="DOSSIER_INDEX__EMBED_BACKEND=onnx "):
        VectorStore(data_dir=tmp_path, collection="coll2", embedder_id="sentence-transformers/all-MiniLM-L6-v2+onnx-int8",
                    dim=None, fingerprint="f")


def test_a_store_built_with_fp32_vectors_is_reopened_under_the_default_backend(tmp_path):
    """A data dir built before onnx-int8 became the default (torch or fp32 ONNX vectors) keeps working:
    the service follows the recorded embedder instead of refusing the store."""
    from dossier.index.indexer import Ingestor
    from dossier.index.service import IndexService

    doc = tmp_path / "note.txt"
    doc.write_text("The harbour master counted 140 fishing boats in the bay on Monday.\n", encoding="utf-8")
    built = IndexService(tmp_path / "data", IndexSettings(embed_backend="onnx"), IngestSettings())
    Ingestor(built).run([str(doc)])
    reopened = IndexService(tmp_path / "data", IndexSettings(), IngestSettings())
    assert reopened.embedder.backend == "onnx" and reopened.embedder.id == built.embedder.id
    hits = reopened.retriever.search("How many fishing boats were in the bay?", k=1)
    assert hits and "140 fishing boats" in hits[0].chunk.text


def test_int8_vectors_against_fp32_onnx_within_the_suite_tolerance(texts):
    """The int8 kernels differ by instruction set (AVX2, AVX-512 VNNI): the suite relies on int8 vectors
    staying within cosine 0.97 of the fp32 ONNX ones (mean 0.985), and on question-to-chunk similarities
    moving by less than 0.08 (0.043 measured on AVX-512 VNNI), so no retrieval test may rest on a smaller margin. The measured figures and
    the CPU's vector extensions are written to test-artifacts/int8-vs-fp32.json."""
    fp32 = np.array(Embedder(IndexSettings(embed_backend="onnx")).embed(texts))
    int8 = np.array(Embedder(IndexSettings(embed_backend="onnx-int8")).embed(texts))
    cos = (fp32 * int8).sum(axis=1)
    questions = [i for i, t in enumerate(texts) if t.endswith("?")]
    chunks = [i for i, t in enumerate(texts) if not t.endswith("?")]
    assert len(questions) >= 20 and len(chunks) >= 20
    shift = np.abs(int8[questions] @ int8[chunks].T - fp32[questions] @ fp32[chunks].T)
    # the vector extensions this process sees (CPUID, as numpy reads it: right under an emulator too)
    from numpy._core._multiarray_umath import __cpu_features__ as features

    record = {"n": len(texts), "cosine_min": float(cos.min()), "cosine_mean": float(cos.mean()),
              "similarity_shift_max": float(shift.max()), "similarity_shift_p99": float(np.quantile(shift, 0.99)),
              "cpu": sorted(f for f in ("AVX2", "AVX512F", "AVX512VNNI", "AVX512_SPR") if features.get(f))}
    out = REPO / "test-artifacts"
    out.mkdir(exist_ok=True)
    (out / "int8-vs-fp32.json").write_text(json.dumps(record, indent=1) + "\n")
    assert cos.min() > 0.97 and cos.mean() > 0.985, record
    assert shift.max() < 0.08, record
