"""A content-addressed cache of chunk vectors on disk, so ingest embeds each text once.

Keyed by (embedder id, sha256 of the chunk text): an identical text, in the same document or another,
re-ingested or in a new version of a document, takes its vector from here instead of the embedder.
It lives in the data dir (`vector-cache.sqlite`, in server mode too: it is this machine's cache,
beside the catalog, not part of the shared store). Bounded: past `max_entries` the least recently used
entries go. Entries of another embedder id are dropped when the cache is opened, so a vector never
outlives a change of embedder.
"""
from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from pathlib import Path

import numpy as np


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class VectorCache:
    def __init__(self, path: Path, embedder_id: str, max_entries: int = 200_000):
        if max_entries < 1:
            raise ValueError(f"expected max_entries to be a positive int, got {max_entries!r}")
        self.path, self.embedder_id, self.max_entries = Path(path), embedder_id, max_entries
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, embedder TEXT NOT NULL, "
                         "vec BLOB NOT NULL, used INTEGER NOT NULL)")
        self._db.execute("CREATE INDEX IF NOT EXISTS vectors_used ON vectors(used)")
        self._db.execute("DELETE FROM vectors WHERE embedder != ?", (embedder_id,))

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])

    def get_many(self, texts: list[str]) -> dict[int, list[float]]:
        """Vectors of the texts found, by position in `texts`; each found entry becomes the most recent."""
        keys = [text_key(t) for t in texts]
        found: dict[str, list[float]] = {}
        with self._lock:
            for s in range(0, len(keys), 500):
                part = list(dict.fromkeys(keys[s:s + 500]))
                marks = ",".join("?" * len(part))
                rows = self._db.execute(f"SELECT key, vec FROM vectors WHERE embedder = ? AND key IN ({marks})",
                                        [self.embedder_id, *part]).fetchall()
                found.update((k, np.frombuffer(v, dtype=np.float32).tolist()) for k, v in rows)
            if found:
                now = time.time_ns()
                self._db.executemany("UPDATE vectors SET used = ? WHERE key = ?", [(now, k) for k in found])
        return {i: found[k] for i, k in enumerate(keys) if k in found}

    def put_many(self, texts: list[str], vectors: list[list[float]]) -> None:
        if not texts:
            return
        now = time.time_ns()
        rows = [(text_key(t), self.embedder_id, np.asarray(v, dtype=np.float32).tobytes(), now) for t, v in zip(texts, vectors)]
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO vectors (key, embedder, vec, used) VALUES (?, ?, ?, ?)", rows)
            n = int(self._db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])
            if n > self.max_entries:  # evict the least recently used, down to 90% (not one row per insert)
                drop = n - int(self.max_entries * 0.9)
                self._db.execute("DELETE FROM vectors WHERE key IN (SELECT key FROM vectors ORDER BY used LIMIT ?)", (drop,))
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()
