"""One object that opens everything an index needs from a data dir: catalog, vector store, BM25,
embedder and retriever. Nothing heavy happens until it is used (the embedder loads on first embed)."""
from __future__ import annotations

import functools
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from dossier.ingest.chunking import chunking_fingerprint
from dossier.ingest.settings import IngestSettings

from .bm25 import BM25Index
from .catalog import Catalog
from .embedder import Embedder
from .lock import acquire as acquire_lock
from .lock import release as release_lock
from .retrieval import Retriever
from .settings import IndexSettings
from .store import VectorStore


class IndexService:
    def __init__(self, data_dir: Path, index: IndexSettings, ingest: IngestSettings, chroma_url: str | None = None):
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.index_settings = index
        self.ingest_settings = ingest
        self.chroma_url = chroma_url or None
        self.fingerprint = chunking_fingerprint(ingest)
        self.catalog = Catalog(self.data_dir / "catalog.sqlite")
        self.embedder = Embedder(index)
        # a store built by 'torch'/'onnx' keeps being read with those vectors when the backend is left at its default
        self.embedder.adopt_store(self.catalog.get_meta("embedder"))
        self.repaired = 0  # documents repaired by the last outermost writing() block
        self._writes = 0  # depth of nested writing() blocks in this process
        self._writes_guard = threading.RLock()

    @functools.cached_property
    def store(self) -> VectorStore:
        return VectorStore(data_dir=self.data_dir, collection=self.index_settings.collection, embedder_id=self.embedder.id,
                           dim=None, fingerprint=self.fingerprint, chroma_url=self.chroma_url)

    @functools.cached_property
    def vector_cache(self):
        """The data dir's content-addressed chunk vectors (None when `vector_cache_entries` is 0)."""
        from .vector_cache import VectorCache

        n = self.index_settings.vector_cache_entries
        return VectorCache(self.data_dir / "vector-cache.sqlite", self.embedder.id, n) if n else None

    @functools.cached_property
    def bm25(self) -> BM25Index:
        return BM25Index(self.catalog, self.data_dir / "bm25")

    @functools.cached_property
    def retriever(self) -> Retriever:
        return Retriever(self.catalog, self.store, self.bm25, self.embedder, self.index_settings)

    def check_catalog_fingerprint(self) -> None:
        """The catalog records the chunking fingerprint and embedder too (it holds the chunk offsets)."""
        from .errors import EmbedderMismatch

        for key, want in (("chunking", self.fingerprint), ("embedder", self.embedder.id)):
            have = self.catalog.get_meta(key)
            if have is None:
                self.catalog.set_meta(key, want)
            elif have != want and self.catalog.chunk_count():
                raise EmbedderMismatch(
                    f"the store in {self.data_dir} was built with {key} {have!r}, but {want!r} is configured; "
                    f"to re-index, run `dossier ingest` again into a new --data-dir (or delete {self.data_dir} first)"
                )
            elif have != want:
                self.catalog.set_meta(key, want)

    # --- writing: one writer per data dir, and a journal of what an unfinished write touched -------
    @property
    def journal_path(self) -> Path:
        """Present while a write is under way or after one was interrupted: its first line is the
        writer's pid, then the doc_ids whose vectors it was writing or deleting, one per line."""
        return self.data_dir / "ingest.inprogress"

    def hold_store_lock(self, what: str) -> None:
        """Take the data dir's writer lock for the rest of this process (`dossier serve`)."""
        acquire_lock(self.data_dir, what)

    @contextmanager
    def writing(self, what: str) -> Iterator[None]:
        """A write to the store: holds the data dir's lock (StoreInUse if another process has it), repairs
        what an interrupted write left, and keeps the journal until the outermost block ends normally; an
        exception or a kill leaves the journal, so the next writer repairs."""
        acquire_lock(self.data_dir, what)
        try:
            with self._writes_guard:
                outermost = self._writes == 0
                self._writes += 1
            try:
                if outermost:
                    self.repaired = self.repair() if self.journal_path.exists() else 0
                    self.journal_path.write_text(f"{os.getpid()}\n")
                yield
            except BaseException:
                with self._writes_guard:
                    self._writes -= 1
                raise
            with self._writes_guard:
                self._writes -= 1
                if self._writes == 0:
                    self.journal_path.unlink(missing_ok=True)
        finally:
            release_lock(self.data_dir)

    def note_writing(self, doc_ids: Iterable[str]) -> None:
        """Record doc_ids before their vectors are written or deleted (inside `writing`)."""
        ids = [d for d in doc_ids if d]
        if ids:
            with open(self.journal_path, "a", encoding="utf-8") as f:
                f.write("".join(d + "\n" for d in ids))

    def journal_ids(self) -> list[str]:
        try:
            lines = self.journal_path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        return list(dict.fromkeys(x.strip() for x in lines[1:] if x.strip()))

    def repair(self) -> int:
        """Remove vectors left by an interrupted write; returns how many documents had some removed.

        Every document named in the journal gets its vectors brought back in line with the catalog (all
        removed when the catalog does not have it; those of chunks it no longer has otherwise). With the
        embedded store, which belongs to this data dir alone, vectors of any document the catalog does not
        know are removed too; a Chroma server's collection may also hold other data dirs' documents, so
        there only the journal is trusted."""
        acquire_lock(self.data_dir, "repair")
        try:
            known = self.catalog.doc_ids()
            touched: set[str] = set()
            if self.store.mode == "embedded":
                for d in self.store.doc_ids():
                    if d not in known:
                        self.store.delete_doc(d)
                        touched.add(d)
            for d in self.journal_ids():
                if d in touched:
                    continue
                have = self.store.ids_for_doc(d)
                extra = have - set(self.catalog.chunk_ids_for(d)) if d in known else have
                if extra:
                    self.store.delete_ids(sorted(extra))
                    touched.add(d)
            return len(touched)
        finally:
            release_lock(self.data_dir)

    def remove_document(self, doc_id: str) -> bool:
        with self.writing("remove"):
            self.note_writing([doc_id])
            if not self.catalog.delete_document(doc_id):
                return False
            self.store.delete_doc(doc_id)
            return True
