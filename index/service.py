"""One object that opens everything an index needs from a data dir: catalog, vector store, BM25,
embedder and retriever. Nothing heavy happens until it is used (the embedder loads on first embed)."""
from __future__ import annotations

import functools
from pathlib import Path

from ingest.chunking import chunking_fingerprint
from ingest.settings import IngestSettings

from .bm25 import BM25Index
from .catalog import Catalog
from .embedder import Embedder
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

    @functools.cached_property
    def store(self) -> VectorStore:
        return VectorStore(data_dir=self.data_dir, collection=self.index_settings.collection, embedder_id=self.embedder.id,
                           dim=None, fingerprint=self.fingerprint, chroma_url=self.chroma_url)

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

    def repair(self) -> int:
        """Remove vectors whose document is not in the catalog (left by an interrupted write)."""
        known = self.catalog.doc_ids()
        orphans = [d for d in self.store.doc_ids() if d not in known]
        for d in orphans:
            self.store.delete_doc(d)
        return len(orphans)

    def remove_document(self, doc_id: str) -> bool:
        if not self.catalog.delete_document(doc_id):
            return False
        self.store.delete_doc(doc_id)
        return True
