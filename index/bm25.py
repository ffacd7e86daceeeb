"""BM25 over the same chunks as the vector store (bm25s: sparse matrices, saved to disk, memory-mapped).

The index is rebuilt from the catalog when the catalog's version changes and persisted under
`<data_dir>/bm25/`, so a fresh process loads it instead of re-tokenizing every chunk.
"""
from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import numpy as np

from .catalog import Catalog

_TOKEN = r"(?u)\b\w+\b"  # keep one-character tokens and bare numbers: names and figures matter here


def _tokens(texts: list[str]):
    import bm25s

    return bm25s.tokenize(texts, lower=True, token_pattern=_TOKEN, stopwords="english", show_progress=False)


class BM25Index:
    def __init__(self, catalog: Catalog, folder: Path):
        self.catalog = catalog
        self.folder = Path(folder)
        self._lock = threading.Lock()
        self._version = -1
        self._model = None
        self._chunk_ids: list[str] = []
        self._doc_of: np.ndarray | None = None
        self._doc_index: dict[str, int] = {}

    def _ensure(self) -> None:
        version = self.catalog.version()
        if version == self._version:
            return
        with self._lock:
            if version == self._version:
                return
            if not self._load(version):
                self._build(version)

    def _load(self, version: int) -> bool:
        import bm25s

        path = self.folder / "current"
        info = path / "dossier.json"
        if not info.exists():
            return False
        meta = json.loads(info.read_text())
        if meta.get("version") != version:
            return False
        self._model = bm25s.BM25.load(str(path), mmap=True, show_progress=False)
        self._set_ids(meta["chunk_ids"], meta["doc_ids"], version)
        return True

    def _build(self, version: int) -> None:
        import bm25s

        ids, docs, texts = [], [], []
        for c in self.catalog.iter_chunks():
            ids.append(c.chunk_id)
            docs.append(c.doc_id)
            texts.append(c.text)
        model = None
        if texts:
            model = bm25s.BM25()
            model.index(_tokens(texts), show_progress=False)
            tmp = self.folder / f"tmp-{version}"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            model.save(str(tmp), show_progress=False)
            (tmp / "dossier.json").write_text(json.dumps({"version": version, "chunk_ids": ids, "doc_ids": docs}))
            cur = self.folder / "current"
            old = self.folder / f"old-{version}"
            if cur.exists():
                cur.rename(old)
            tmp.rename(cur)
            shutil.rmtree(old, ignore_errors=True)
        self._model = model
        self._set_ids(ids, docs, version)

    def _set_ids(self, ids: list[str], docs: list[str], version: int) -> None:
        self._chunk_ids = ids
        self._doc_index = {}
        codes = np.empty(len(docs), dtype=np.int32)
        for i, d in enumerate(docs):
            codes[i] = self._doc_index.setdefault(d, len(self._doc_index))
        self._doc_of = codes
        self._version = version

    def search(self, query: str, k: int, doc_ids: list[str] | None = None) -> list[tuple[str, float]]:
        """Top-k (chunk_id, score) with score > 0, restricted to doc_ids when given."""
        self._ensure()
        if self._model is None or not self._chunk_ids:
            return []
        q = _tokens([query])
        vocab_inv = {v: k for k, v in q.vocab.items()}
        qtok = [vocab_inv[i] for i in q.ids[0]]
        qtok = [t for t in qtok if t in self._model.vocab_dict]
        if not qtok:
            return []
        mask = None
        if doc_ids is not None:
            wanted = [self._doc_index[d] for d in doc_ids if d in self._doc_index]
            if not wanted:
                return []
            mask = np.isin(self._doc_of, np.array(wanted, dtype=np.int32)).astype(np.float32)
        scores = self._model.get_scores(qtok, weight_mask=mask)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self._chunk_ids[i], float(scores[i])) for i in top if scores[i] > 0]


