"""The Chroma vector store: embedded `PersistentClient` in the data dir, or `HttpClient` to a
`chroma run` server. The collection records the embedder id and chunking fingerprint and refuses a
mismatch."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from .errors import EmbedderMismatch, StoreUnavailable



@dataclass
class VectorHit:
    chunk_id: str
    doc_id: str
    distance: float


class VectorStore:
    def __init__(self, *, data_dir: Path, collection: str, embedder_id: str, dim: int | None, fingerprint: str,
                 chroma_url: str | None = None):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        self.mode = "server" if chroma_url else "embedded"
        try:
            if chroma_url:
                u = urlparse(chroma_url if "://" in chroma_url else f"http://{chroma_url}")
                if u.scheme not in ("http", "https") or not u.hostname:
                    raise StoreUnavailable(f"invalid Chroma URL {chroma_url!r}: expected http://HOST:PORT")
                self.client = chromadb.HttpClient(host=u.hostname, port=u.port or (443 if u.scheme == "https" else 8000),
                                                  ssl=u.scheme == "https", settings=chroma_settings)
                self.client.heartbeat()
            else:
                path = Path(data_dir) / "chroma"
                path.mkdir(parents=True, exist_ok=True)
                self.client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        except StoreUnavailable:
            raise
        except Exception as exc:  # connection refused, bad server, etc.
            where = chroma_url or str(Path(data_dir) / "chroma")
            raise StoreUnavailable(f"cannot open the Chroma store at {where}: {_first_line(exc)}") from exc
        self.embedder_id = embedder_id
        self.fingerprint = fingerprint
        self.name = collection
        self.collection = self._open(collection, embedder_id, dim, fingerprint)

    def _open(self, name: str, embedder_id: str, dim: int | None, fingerprint: str):
        want = {"embedder": embedder_id, "chunking": fingerprint}
        if dim:
            want["dim"] = dim
        try:
            coll = self.client.get_or_create_collection(name=name, metadata={**want, "hnsw:space": "cosine"},
                                                        embedding_function=None)
        except Exception as exc:  # chromadb's validation of the name, or a store it cannot open
            if "name" in str(exc).lower() and "expected" in str(exc).lower():
                raise StoreUnavailable(f"invalid collection name {name!r} (DOSSIER_INDEX__COLLECTION): expected 3-512 "
                                       f"characters from [a-zA-Z0-9._-], starting and ending with a letter or digit") from exc
            raise StoreUnavailable(f"cannot open collection {name!r}: {_first_line(exc)}") from exc
        have = coll.metadata or {}
        for key in ("embedder", "chunking"):
            if have.get(key) and have[key] != want[key]:
                what = "embedder" if key == "embedder" else "chunking settings"
                raise EmbedderMismatch(
                    f"collection {name!r} was built with {what} {have[key]!r}, but {want[key]!r} is configured; "
                    f"to re-index, run `dossier ingest` again into a new --data-dir or collection "
                    f"(DOSSIER_INDEX__COLLECTION), or delete this collection first"
                    + (f"; or set DOSSIER_INDEX__EMBED_BACKEND={_backend_of(have[key])} to use the embedder it was built with"
                       if key == "embedder" and _backend_of(have[key]) else "")
                )
        return coll

    def count(self) -> int:
        return self.collection.count()

    def upsert(self, ids: list[str], embeddings: list[list[float]], metadatas: list[dict], batch: int = 2000) -> None:
        for i in range(0, len(ids), batch):
            self.collection.upsert(ids=ids[i:i + batch], embeddings=embeddings[i:i + batch], metadatas=metadatas[i:i + batch])

    def delete_doc(self, doc_id: str) -> None:
        self.collection.delete(where={"doc_id": doc_id})

    def delete_ids(self, ids: list[str]) -> None:
        for i in range(0, len(ids), 2000):
            self.collection.delete(ids=ids[i:i + 2000])

    def ids_for_doc(self, doc_id: str) -> set[str]:
        """Every vector id stored for one document."""
        return set(self.collection.get(where={"doc_id": doc_id}, include=[]).get("ids") or [])

    def doc_ids(self) -> set[str]:
        """Distinct doc_ids present in the collection (for repair)."""
        seen: set[str] = set()
        offset, page = 0, 5000
        while True:
            got = self.collection.get(include=["metadatas"], limit=page, offset=offset)
            metas = got.get("metadatas") or []
            seen.update(m.get("doc_id", "") for m in metas if m)
            if len(metas) < page:
                return seen
            offset += page

    def query(self, embedding: list[float], k: int, doc_ids: list[str] | None = None) -> list[VectorHit]:
        if doc_ids is not None and not doc_ids:
            return []
        where = None
        if doc_ids is not None:
            where = {"doc_id": doc_ids[0]} if len(doc_ids) == 1 else {"doc_id": {"$in": list(doc_ids)}}
        # no count() first: chromadb 1.x returns what there is for n_results past the collection's size
        # (and nothing for an empty one); the count cost 7 ms per query at 100k chunks
        res = self.collection.query(query_embeddings=[embedding], n_results=k, where=where,
                                    include=["metadatas", "distances"])
        ids = res["ids"][0]
        metas = res["metadatas"][0]
        dists = res["distances"][0]
        return [VectorHit(i, (m or {}).get("doc_id", ""), float(d)) for i, m, d in zip(ids, metas, dists)]

    def drop(self) -> None:
        self.client.delete_collection(self.name)


def _backend_of(embedder_id: str) -> str:
    """The embed_backend setting that produces an embedder id of the bundled model family ('' if unknown)."""
    if not embedder_id.startswith("sentence-transformers/"):
        return ""
    return "onnx-int8" if embedder_id.endswith("+onnx-int8") else "onnx"


def _first_line(exc: Exception) -> str:
    msg = str(exc).strip().splitlines()
    return msg[0][:300] if msg else exc.__class__.__name__
