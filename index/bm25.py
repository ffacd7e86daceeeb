"""BM25 over the same chunks as the vector store (bm25s: sparse matrices, saved to disk, memory-mapped).

The index is rebuilt from the catalog when the catalog's version changes and persisted under
`<data_dir>/bm25/`, so a fresh process loads it instead of re-tokenizing every chunk.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import threading
import time
from pathlib import Path

import numpy as np

from .catalog import Catalog

_POINTER = "current.json"  # {"version": n, "dir": name}: which saved index is the current one
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

        try:
            pointer = json.loads((self.folder / _POINTER).read_text())
            path = self.folder / pointer["dir"]
        except (OSError, ValueError, KeyError, TypeError):
            path = self.folder / "current"  # the layout before the pointer file
        try:
            meta = json.loads((path / "dossier.json").read_text())
            if meta.get("version") != version:
                return False
            model = bm25s.BM25.load(str(path), mmap=True, show_progress=False)
        except Exception:  # missing, half-removed by another process, damaged: rebuild from the catalog
            return False
        self._model = model
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
            try:
                self._save(model, version, ids, docs)
            except OSError:
                pass  # a read-only data dir: the index still serves from memory
        self._model = model
        self._set_ids(ids, docs, version)

    def _save(self, model, version: int, ids: list[str], docs: list[str]) -> None:
        """Save under a name no other process uses, then switch the pointer file atomically (os.replace):
        the server and a CLI search may rebuild the same version at the same time without clashing."""
        name = f"v{version}-{os.getpid()}-{secrets.token_hex(4)}"
        tmp = self.folder / (name + ".tmp")
        tmp.mkdir(parents=True)
        model.save(str(tmp), show_progress=False)
        (tmp / "dossier.json").write_text(json.dumps({"version": version, "chunk_ids": ids, "doc_ids": docs}))
        tmp.rename(self.folder / name)
        pointer = self.folder / f"{_POINTER}.{name}"
        pointer.write_text(json.dumps({"version": version, "dir": name}))
        os.replace(pointer, self.folder / _POINTER)
        # other versions go; files another process still has mapped stay readable until it closes them
        now = time.time()
        for old in self.folder.iterdir():
            if old.name == name or old.name == _POINTER:
                continue
            try:
                if old.name.endswith(".tmp") or old.name.startswith(_POINTER + "."):
                    if now - old.stat().st_mtime < 600:  # another process may be writing it right now
                        continue
                if old.is_dir():
                    shutil.rmtree(old, ignore_errors=True)
                else:
                    old.unlink(missing_ok=True)
            except OSError:
                pass

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


