"""The document catalog: SQLite in the data dir holding each document's metadata, its normalized
text (what every offset refers to), its chunks' offsets, and the per-file ingest log.

The catalog is the source of truth for which documents exist: vectors in Chroma whose doc_id is not
in the catalog are orphans from an interrupted write and are ignored, then removed by `repair`.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Iterator

from dossier.ingest.models import Chunk, Document, DocumentMeta, PageSpan
from dossier.ingest.quotes import QUOTES_VERSION, Quote, extract_quotes

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
  doc_id TEXT PRIMARY KEY,
  source TEXT NOT NULL UNIQUE,
  sha256 TEXT NOT NULL,
  format TEXT NOT NULL,
  title TEXT, publisher TEXT, date TEXT, kind TEXT, language TEXT, url TEXT,
  text TEXT NOT NULL,
  pages TEXT NOT NULL DEFAULT '[]',
  headings TEXT NOT NULL DEFAULT '[]',
  ingested_at TEXT, retrieved_at TEXT, archive_path TEXT,
  fingerprint TEXT NOT NULL,
  n_chunks INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS chunks (
  chunk_id TEXT PRIMARY KEY,
  doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
  ord INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
  page INTEGER, section TEXT, n_tokens INTEGER, language TEXT
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id, ord);
CREATE INDEX IF NOT EXISTS documents_sha ON documents(sha256);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS quotes (
  doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
  start INTEGER NOT NULL, "end" INTEGER NOT NULL, kind TEXT NOT NULL,
  speaker TEXT NOT NULL, speaker_type TEXT NOT NULL, role TEXT, org TEXT,
  cue_start INTEGER, cue_end INTEGER, page INTEGER
);
CREATE INDEX IF NOT EXISTS quotes_doc ON quotes(doc_id, start);
CREATE INDEX IF NOT EXISTS quotes_speaker ON quotes(speaker);
CREATE TABLE IF NOT EXISTS quote_docs (
  doc_id TEXT PRIMARY KEY REFERENCES documents(doc_id) ON DELETE CASCADE, version TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ingest_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT, source TEXT, status TEXT, code TEXT, reason TEXT, doc_id TEXT
);
"""

_DOC_COLS = "doc_id, source, sha256, format, title, publisher, date, kind, language, url, pages, headings, ingested_at, retrieved_at, archive_path, fingerprint, n_chunks"


class Catalog:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self.db.executescript(SCHEMA)
        if "language" not in {r[1] for r in self.db.execute("PRAGMA table_info(chunks)")}:
            # catalogs from before per-chunk languages (#16): their chunks read as their document's language
            self.db.execute("ALTER TABLE chunks ADD COLUMN language TEXT")

    @property
    def db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Several writes in one transaction, one commit. Inside it each `tx()` is a savepoint: a write that
        fails undoes only itself, the writes before it are committed, and the error goes on."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        self._local.batch = True
        try:
            yield
        finally:
            self._local.batch = False
            if db.in_transaction:  # (SQLite may have rolled the whole transaction back itself, e.g. disk full)
                try:
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        db = self.db
        if getattr(self._local, "batch", False):  # inside batch(): a savepoint
            db.execute("SAVEPOINT write")
            try:
                yield db
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK TO write")
                    db.execute("RELEASE write")
                raise
            else:
                db.execute("RELEASE write")
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        else:
            db.execute("COMMIT")

    # --- meta -------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row["value"] if row else None

    def set_meta(self, key: str, value: str, db: sqlite3.Connection | None = None) -> None:
        (db or self.db).execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def version(self) -> int:
        """Bumped on every change of documents: caches (BM25) key on it."""
        return int(self.get_meta("version") or 0)

    def _bump(self, db: sqlite3.Connection) -> None:
        row = db.execute("SELECT value FROM meta WHERE key='version'").fetchone()
        self.set_meta("version", str(int(row["value"] if row else 0) + 1), db)

    # --- documents --------------------------------------------------------------------------
    def put_document(self, doc: Document, chunks: list[Chunk], fingerprint: str, quotes: list[Quote] | None = None) -> str | None:
        """Insert or replace the document for `doc.source` in one transaction, with its chunks and its
        quotations (extracted here when not given). Returns the doc_id it replaced (whose vectors the
        caller deletes), if any."""
        if quotes is None:
            quotes = extract_quotes(doc.text, doc.meta.language or "en")
        with self.tx() as db:
            old = db.execute("SELECT doc_id FROM documents WHERE source=?", (doc.source,)).fetchone()
            old_id = old["doc_id"] if old else None
            if old_id:
                db.execute("DELETE FROM chunks WHERE doc_id=?", (old_id,))
                self._drop_quotes(db, old_id)
                db.execute("DELETE FROM documents WHERE doc_id=?", (old_id,))
            m = doc.meta
            db.execute(
                f"INSERT INTO documents({_DOC_COLS}, text) VALUES ({', '.join('?' * 18)})",
                (
                    doc.doc_id, doc.source, doc.sha256, doc.format, m.title, m.publisher, m.date, m.kind,
                    m.language, m.url, json.dumps([asdict(p) for p in doc.pages]), json.dumps(doc.headings),
                    doc.ingested_at, doc.retrieved_at, doc.archive_path, fingerprint, len(chunks), doc.text,
                ),
            )
            db.executemany(
                'INSERT INTO chunks(chunk_id, doc_id, ord, start, "end", page, section, n_tokens, language) VALUES (?,?,?,?,?,?,?,?,?)',
                [(c.chunk_id, c.doc_id, c.ord, c.start, c.end, c.page, c.section, c.n_tokens, c.language or m.language or "")
                 for c in chunks],
            )
            self._write_quotes(db, doc, quotes)
            self._bump(db)
        return old_id if old_id != doc.doc_id else None

    def update_meta(self, doc_id: str, meta: DocumentMeta) -> None:
        with self.tx() as db:
            db.execute(
                "UPDATE documents SET title=?, publisher=?, date=?, kind=?, language=?, url=? WHERE doc_id=?",
                (meta.title, meta.publisher, meta.date, meta.kind, meta.language, meta.url, doc_id),
            )
            self._bump(db)

    def move_source(self, doc_id: str, source: str) -> None:
        """The document's file was moved or renamed: same content, new path."""
        with self.tx() as db:
            db.execute("UPDATE documents SET source=? WHERE doc_id=?", (source, doc_id))
            self._bump(db)

    def delete_document(self, doc_id: str) -> bool:
        with self.tx() as db:
            self._drop_quotes(db, doc_id)
            cur = db.execute("DELETE FROM documents WHERE doc_id=?", (doc_id,))
            db.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
            self._bump(db)
        return cur.rowcount > 0

    def by_source(self, source: str) -> sqlite3.Row | None:
        return self.db.execute(f"SELECT {_DOC_COLS} FROM documents WHERE source=?", (source,)).fetchone()

    def by_sha(self, sha256: str) -> sqlite3.Row | None:
        return self.db.execute(f"SELECT {_DOC_COLS} FROM documents WHERE sha256=?", (sha256,)).fetchone()

    def document_row(self, doc_id: str) -> dict | None:
        r = self.db.execute(f"SELECT {_DOC_COLS} FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
        return dict(r) if r else None

    def documents(self) -> list[dict]:
        rows = self.db.execute(f"SELECT {_DOC_COLS} FROM documents ORDER BY date, title").fetchall()
        return [dict(r) for r in rows]

    def doc_ids(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT doc_id FROM documents")}

    def get_document(self, doc_id: str) -> Document | None:
        r = self.db.execute(f"SELECT {_DOC_COLS}, text FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
        if r is None:
            return None
        return Document(
            doc_id=r["doc_id"], source=r["source"], sha256=r["sha256"], format=r["format"], text=r["text"],
            meta=DocumentMeta(title=r["title"] or "", publisher=r["publisher"] or "", date=r["date"] or "",
                              kind=r["kind"] or "other", language=r["language"] or "", url=r["url"] or ""),
            pages=[PageSpan(**p) for p in json.loads(r["pages"])],
            headings=[tuple(h) for h in json.loads(r["headings"])],
            ingested_at=r["ingested_at"] or "", retrieved_at=r["retrieved_at"] or "", archive_path=r["archive_path"] or "",
        )

    def doc_text(self, doc_id: str) -> str | None:
        r = self.db.execute("SELECT text FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
        return r["text"] if r else None

    def filter_doc_ids(self, *, kinds=None, publishers=None, doc_ids=None, date_from=None, date_to=None) -> list[str] | None:
        """doc_ids matching every given filter; None when no filter is given (everything)."""
        clauses, args = [], []
        if kinds:
            clauses.append(f"kind IN ({','.join('?' * len(kinds))})"); args += list(kinds)
        if publishers:
            clauses.append("(" + " OR ".join("lower(publisher) LIKE ?" for _ in publishers) + ")")
            args += [f"%{p.lower()}%" for p in publishers]
        if doc_ids:
            clauses.append(f"doc_id IN ({','.join('?' * len(doc_ids))})"); args += list(doc_ids)
        if date_from:
            clauses.append("date != '' AND date >= ?"); args.append(date_from)
        if date_to:
            # partial dates ("2018", "2018-01") compare as their start: "2018" <= "2018-12-31"
            clauses.append("date != '' AND date <= ?"); args.append(date_to + "\uffff" if len(date_to) < 10 else date_to)
        if not clauses:
            return None
        return [r[0] for r in self.db.execute(f"SELECT doc_id FROM documents WHERE {' AND '.join(clauses)}", args)]

    # --- chunks -----------------------------------------------------------------------------
    def chunk_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]

    def iter_chunks(self, batch: int = 10000) -> Iterator[Chunk]:
        """All chunks with their text sliced from the stored document text, in (doc, ord) order."""
        texts: dict[str, str] = {}
        cur = self.db.execute('SELECT c.chunk_id, c.doc_id, c.ord, c.start, c."end", c.page, c.section, c.n_tokens, '
                              'COALESCE(c.language, d.language, \'\') FROM chunks c JOIN documents d USING (doc_id) ORDER BY c.doc_id, c.ord')
        while rows := cur.fetchmany(batch):
            for r in rows:
                t = texts.get(r[1])
                if t is None:
                    texts.clear()
                    t = texts[r[1]] = self.doc_text(r[1]) or ""
                yield Chunk(r[0], r[1], r[2], r[3], r[4], t[r[3]:r[4]], r[7] or 0, r[5], r[6] or "", r[8] or "")

    def get_chunks(self, chunk_ids: list[str]) -> dict[str, Chunk]:
        if not chunk_ids:
            return {}
        out: dict[str, Chunk] = {}
        texts: dict[str, str] = {}
        for i in range(0, len(chunk_ids), 500):
            part = chunk_ids[i : i + 500]
            rows = self.db.execute(
                f'SELECT c.chunk_id, c.doc_id, c.ord, c.start, c."end", c.page, c.section, c.n_tokens, COALESCE(c.language, d.language, \'\') '
                f'FROM chunks c JOIN documents d USING (doc_id) WHERE c.chunk_id IN ({",".join("?" * len(part))})',
                part,
            ).fetchall()
            for r in rows:
                if r[1] not in texts:
                    texts[r[1]] = self.doc_text(r[1]) or ""
                t = texts[r[1]]
                out[r[0]] = Chunk(r[0], r[1], r[2], r[3], r[4], t[r[3]:r[4]], r[7] or 0, r[5], r[6] or "", r[8] or "")
        return out

    def chunk_languages(self, chunk_ids: list[str]) -> dict[str, str]:
        """chunk_id -> its language (its document's for chunks stored before per-chunk languages)."""
        out: dict[str, str] = {}
        for i in range(0, len(chunk_ids), 500):
            part = chunk_ids[i:i + 500]
            out.update((r[0], r[1] or "") for r in self.db.execute(
                f"SELECT c.chunk_id, COALESCE(c.language, d.language) FROM chunks c JOIN documents d USING (doc_id) "
                f"WHERE c.chunk_id IN ({','.join('?' * len(part))})", part))
        return out

    def language_counts(self) -> dict[str, dict[str, int]]:
        """doc_id -> {language: chunks in it} (a document with chunks in several languages has several)."""
        out: dict[str, dict[str, int]] = {}
        for doc_id, lang, n in self.db.execute("SELECT c.doc_id, COALESCE(c.language, d.language, ''), COUNT(*) FROM chunks c "
                                               "JOIN documents d USING (doc_id) GROUP BY 1, 2"):
            out.setdefault(doc_id, {})[lang] = n
        return out

    def chunk_ids_for(self, doc_id: str) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT chunk_id FROM chunks WHERE doc_id=? ORDER BY ord", (doc_id,))]

    # --- quotes -----------------------------------------------------------------------------
    @staticmethod
    def _drop_quotes(db: sqlite3.Connection, doc_id: str) -> None:
        db.execute("DELETE FROM quotes WHERE doc_id=?", (doc_id,))
        db.execute("DELETE FROM quote_docs WHERE doc_id=?", (doc_id,))

    def _write_quotes(self, db: sqlite3.Connection, doc: Document, quotes: list[Quote]) -> None:
        for q in quotes:  # the catalog's promise: every stored quote is an exact span of the stored text
            if doc.text[q.start:q.end] != q.text:
                raise ValueError(f"quote at {q.start}:{q.end} of {doc.doc_id} is not the document's text there")
        db.executemany(
            'INSERT INTO quotes(doc_id, start, "end", kind, speaker, speaker_type, role, org, cue_start, cue_end, page) '
            "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [(doc.doc_id, q.start, q.end, q.kind, q.speaker, q.speaker_type, q.role, q.org, q.cue_start, q.cue_end,
              doc.page_at(q.start)) for q in quotes],
        )
        db.execute("INSERT OR REPLACE INTO quote_docs(doc_id, version) VALUES (?, ?)", (doc.doc_id, QUOTES_VERSION))

    def refresh_quotes(self) -> int:
        """Extract the quotations of documents stored without them (a catalog from before the quote index, or
        from an older extractor); each document in its own transaction. Returns how many were done."""
        stale = [r[0] for r in self.db.execute(
            "SELECT d.doc_id FROM documents d LEFT JOIN quote_docs q ON q.doc_id = d.doc_id "
            "WHERE q.version IS NULL OR q.version != ?", (QUOTES_VERSION,))]
        for doc_id in stale:
            doc = self.get_document(doc_id)
            if doc is None:
                continue
            quotes = extract_quotes(doc.text, doc.meta.language or "en")
            with self.tx() as db:
                if db.execute("SELECT 1 FROM documents WHERE doc_id=? AND sha256=?", (doc_id, doc.sha256)).fetchone() is None:
                    continue  # replaced or removed meanwhile
                self._drop_quotes(db, doc_id)
                self._write_quotes(db, doc, quotes)
        return len(stale)

    def quote_rows(self, *, doc_ids: list[str] | None = None) -> list[dict]:
        """Every stored quotation with its document's title and source, in (document, offset) order; the
        quote text is sliced from the stored document text."""
        sql = ('SELECT q.doc_id, q.start, q."end", q.kind, q.speaker, q.speaker_type, q.role, q.org, q.cue_start, q.cue_end, '
               "q.page, d.title, d.source, d.url FROM quotes q JOIN documents d ON d.doc_id = q.doc_id")
        args: list = []
        if doc_ids:
            sql += f" WHERE q.doc_id IN ({','.join('?' * len(doc_ids))})"
            args = list(doc_ids)
        rows = [dict(r) for r in self.db.execute(sql + " ORDER BY d.date, d.title, q.doc_id, q.start, q.kind", args)]
        texts: dict[str, str] = {}
        for r in rows:
            if r["doc_id"] not in texts:
                texts[r["doc_id"]] = self.doc_text(r["doc_id"]) or ""
            t = texts[r["doc_id"]]
            r["quote"] = t[r["start"]:r["end"]]
            r["cue"] = t[r["cue_start"]:r["cue_end"]] if r["cue_end"] else ""
        return rows

    # --- ingest log -------------------------------------------------------------------------
    def log(self, at: str, source: str, status: str, code: str, reason: str, doc_id: str = "") -> None:
        self.db.execute(
            "INSERT INTO ingest_log(at, source, status, code, reason, doc_id) VALUES (?,?,?,?,?,?)",
            (at, source, status, code, reason, doc_id),
        )

    def recent_log(self, limit: int = 200) -> list[dict]:
        rows = self.db.execute("SELECT at, source, status, code, reason, doc_id FROM ingest_log ORDER BY id DESC LIMIT ?", (limit,))
        return [dict(r) for r in rows]

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
