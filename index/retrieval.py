"""Hybrid retrieval: dense (Chroma) and BM25 rankings over the same chunks, fused by weighted
reciprocal rank fusion, with metadata filters resolved through the catalog."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from dossier.ingest.models import Chunk

from .bm25 import BM25Index
from .catalog import Catalog
from .embedder import Embedder
from .settings import IndexSettings
from .store import VectorStore


@dataclass
class Filters:
    kinds: list[str] = field(default_factory=list)
    publishers: list[str] = field(default_factory=list)
    doc_ids: list[str] = field(default_factory=list)
    date_from: str = ""
    date_to: str = ""

    def empty(self) -> bool:
        return not (self.kinds or self.publishers or self.doc_ids or self.date_from or self.date_to)


@dataclass
class Hit:
    chunk: Chunk
    score: float
    dense_rank: int | None
    bm25_rank: int | None
    dense_similarity: float | None
    doc: dict  # catalog row: title, publisher, date, kind, source, url, sha256, ...


class Retriever:
    def __init__(self, catalog: Catalog, store: VectorStore, bm25: BM25Index, embedder: Embedder, settings: IndexSettings):
        self.catalog, self.store, self.bm25, self.embedder, self.settings = catalog, store, bm25, embedder, settings
        from .multilingual import MultilingualIndex  # #16: the sentence vectors of non-English chunks, own collection

        self.multilingual = MultilingualIndex(catalog, lambda: store, settings)
        self.last_timings: dict[str, float] = {}

    def search(self, query: str, k: int = 8, filters: Filters | None = None, mode: str = "hybrid") -> list[Hit]:
        """mode: 'hybrid' (default), 'dense' or 'bm25'."""
        t0 = time.perf_counter()
        doc_ids = None
        if filters and not filters.empty():
            doc_ids = self.catalog.filter_doc_ids(
                kinds=filters.kinds, publishers=filters.publishers, doc_ids=filters.doc_ids,
                date_from=filters.date_from or None, date_to=filters.date_to or None,
            )
            if not doc_ids:
                return []
        n = max(self.settings.candidates, k)
        dense: list[tuple[str, float]] = []
        sparse: list[tuple[str, float]] = []
        t1 = time.perf_counter()
        mapped = False
        if mode in ("hybrid", "dense"):
            vec = self._question_vector(query)
            mapped = vec is not None
            vec = vec if mapped else self.embedder.embed_query(query)
            t1 = time.perf_counter()
            dense = [(h.chunk_id, 1.0 - h.distance) for h in self.store.query(vec, n, doc_ids)]
        t2 = time.perf_counter()
        if mode in ("hybrid", "bm25"):
            sparse = self.bm25.search(query, n, doc_ids)
        t3 = time.perf_counter()
        # #16: the multilingual collection's ranking joins the fusion (empty, and skipped, in an English-only library)
        multi = self.multilingual.search(query, n, doc_ids) if mode in ("hybrid", "dense") else []
        t3m = time.perf_counter()
        fused: dict[str, float] = {}
        drank = {cid: r for r, (cid, _) in enumerate(dense, 1)}
        srank = {cid: r for r, (cid, _) in enumerate(sparse, 1)}
        dsim = dict(dense)
        for cid, r in drank.items():
            fused[cid] = fused.get(cid, 0.0) + self.settings.dense_weight / (self.settings.rrf_k + r)
        for cid, r in srank.items():
            fused[cid] = fused.get(cid, 0.0) + self.settings.bm25_weight / (self.settings.rrf_k + r)
        if multi:  # each ranking counted only for the pairs of languages it can read (index.multilingual.fuse)
            from .multilingual import cross_only, enough, fuse, within_reach

            mrank = {cid: r for r, (cid, _) in enumerate(multi, 1)}
            langs = self.catalog.chunk_languages(list(set(fused) | set(mrank)))
            fused = fuse(query, drank, srank, mrank, langs, self.settings, mapped)
            cross = cross_only(query, langs, mapped) & set(fused)
        order = sorted(fused, key=lambda c: (-fused[c], c))
        # keep only chunks the catalog knows (vectors of interrupted writes are ignored)
        chunks = self.catalog.get_chunks(order)  # at most 2 x candidates ids
        docs: dict[str, dict] = {}
        hits: list[Hit] = []
        for cid in order:
            chunk = chunks.get(cid)
            if chunk is None:
                continue
            if chunk.doc_id not in docs:
                docs[chunk.doc_id] = self._doc_row(chunk.doc_id)
            hits.append(Hit(chunk, fused[cid], drank.get(cid), srank.get(cid), dsim.get(cid), docs[chunk.doc_id]))
            if len(hits) >= k and (not multi or enough(hits, cross, k)):
                break
        if multi:  # k passages in the question's reach, and up to k more only the multilingual ranking reads
            hits = within_reach(hits, query, langs, k, mapped)
        t4 = time.perf_counter()
        self.last_timings = {"embed": (t1 - t0) * 1000, "dense": (t2 - t1) * 1000, "bm25": (t3 - t2) * 1000,
                             "fuse": (t4 - t3m) * 1000, "total": (t4 - t0) * 1000}
        if multi:
            self.last_timings["multilingual"] = (t3m - t3) * 1000
        return hits

    def _question_vector(self, query: str) -> list[float] | None:
        """#16: a question not in English, mapped into the English embedder's space from its multilingual vector
        (index.multilingual.QuestionMap), so that it reaches English chunks without their having multilingual
        vectors; None for an English question (embedded as always), with multilingual retrieval off, or when the
        map does not fit the configured embedder."""
        if self.settings.multilingual == "off":
            return None
        from .multilingual import query_language, shared_question_map

        if query_language(query) == "en":
            return None

        qmap = shared_question_map()
        if qmap is None or not qmap.applies_to(self.embedder.id):
            return None
        return qmap(self.multilingual.encoder.encode([query])[0])

    def _doc_row(self, doc_id: str) -> dict:
        row = self.catalog.db.execute(
            "SELECT doc_id, source, sha256, title, publisher, date, kind, language, url, retrieved_at, ingested_at FROM documents WHERE doc_id=?",
            (doc_id,),
        ).fetchone()
        return dict(row) if row else {"doc_id": doc_id}
