"""The ingest pipeline into the index: read -> normalize -> chunk -> embed -> store, per source.

Data errors in one source are recorded and the run continues. A document is replaced atomically:
its new vectors are written first, then the catalog switches to the new version in one SQLite
transaction, then the old vectors are deleted. Vectors not (or no longer) in the catalog are never
returned by retrieval and are removed by `repair`.
"""
from __future__ import annotations

import hashlib
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

from dossier.ingest.chunking import chunk_document
from dossier.ingest.discover import expand_inputs, is_url
from dossier.ingest.errors import IngestError, TooLarge
from dossier.ingest.manifest import ManifestIndex, normalize_date
from dossier.ingest.models import Chunk, Document, DocumentMeta
from dossier.ingest.quotes import Quote, extract_quotes

from .service import IndexService


@dataclass
class FileResult:
    source: str
    status: str  # ingested | replaced | unchanged | metadata-updated | skipped | failed | removed
    reason: str = ""
    code: str = ""
    doc_id: str = ""
    title: str = ""
    chunks: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class IngestReport:
    results: list[FileResult] = field(default_factory=list)
    embedded_chunks: int = 0
    seconds: float = 0.0
    repaired: int = 0

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.results:
            out[r.status] = out.get(r.status, 0) + 1
        return out

    def to_dict(self) -> dict:
        return {"results": [r.to_dict() for r in self.results], "counts": self.counts(),
                "embedded_chunks": self.embedded_chunks, "seconds": round(self.seconds, 3)}


@dataclass
class _Prepared:
    result: FileResult
    doc: Document | None = None
    chunks: list[Chunk] = field(default_factory=list)
    replaces: str | None = None
    quotes: list[Quote] | None = None  # found while reading (in the read-ahead thread), stored with the document


ProgressFn = Callable[[int, int, str], None]
_END = object()


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


class Ingestor:
    READ_AHEAD = 256  # most sources read and chunked ahead of the embedder (a flush is 512 chunks: ~130 typical documents)

    def __init__(self, service: IndexService, *, overrides: dict[str, str] | None = None,
                 manifests: ManifestIndex | None = None, flush_chunks: int | None = None, read_ahead: int | None = None):
        self.svc = service
        self.read_ahead = max(1, read_ahead or self.READ_AHEAD)
        self.settings = service.ingest_settings
        self.overrides = {k: v for k, v in (overrides or {}).items() if v}
        self.manifests = manifests or ManifestIndex([])
        self.flush_chunks = flush_chunks or self.settings.flush_chunks
        self.archive_dir = service.data_dir / "archive"

    # --- public -------------------------------------------------------------------------
    def run(self, inputs: list[str], *, prune: bool = False, progress: ProgressFn | None = None) -> IngestReport:
        t0 = time.perf_counter()
        report = IngestReport()
        svc = self.svc
        # the data dir's writer lock first (StoreInUse when another process writes), before anything opens
        with svc.writing("ingest"):
            svc.check_catalog_fingerprint()
            svc.store  # open the vector store first: a wrong URL or embedder fails before any reading or embedding
            report.repaired = svc.repaired
            sources, missing = expand_inputs(inputs)
            for item, reason in missing:
                report.results.append(FileResult(item, "failed", reason, "missing"))
            self._process(sources, report, progress)
            order = {s: i for i, s in enumerate(sources)}
            report.results.sort(key=lambda r: order.get(r.source, -1))
            if prune:
                report.results.extend(self.prune())
        # the journal is removed only after a run that finished: a crash, kill or Ctrl-C mid-write leaves
        # it, and the next writer removes the vectors that write left behind
        for r in report.results:
            svc.catalog.log(_now(), r.source, r.status, r.code, r.reason, r.doc_id)
        report.seconds = time.perf_counter() - t0
        return report

    def prune(self) -> list[FileResult]:
        out = []
        for d in self.svc.catalog.documents():
            src = d["source"]
            if not is_url(src) and not Path(src).exists():
                self.svc.remove_document(d["doc_id"])
                out.append(FileResult(src, "removed", "file is gone", doc_id=d["doc_id"], title=d["title"] or ""))
        return out

    # --- pipeline -----------------------------------------------------------------------
    def _process(self, sources: list[str], report: IngestReport, progress: ProgressFn | None) -> None:
        pending: list[_Prepared] = []
        pending_chunks = 0
        total = len(sources)
        # read+chunk the next sources in a worker thread while the main thread embeds and writes. The
        # read-ahead is bounded: at most `read_ahead` sources in flight, and none added while the prepared
        # ones waiting already hold two flushes' worth of chunks, so memory does not grow with the corpus
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dossier-read") as pool:
            todo = iter(sources)
            window: deque = deque()

            def top_up() -> None:
                while len(window) < self.read_ahead:
                    ready = sum(len(f.result().chunks) for f in window if f.done())
                    if ready >= 2 * self.flush_chunks:
                        return
                    src = next(todo, _END)
                    if src is _END:
                        return
                    window.append(pool.submit(self._prepare, src))

            top_up()
            seen_docs: dict[str, str] = {}
            i = 0
            while window:
                prep = window.popleft().result()
                i += 1
                top_up()
                if prep.doc is not None and prep.doc.doc_id in seen_docs:
                    prep = _Prepared(FileResult(prep.result.source, "skipped", f"same content as {seen_docs[prep.doc.doc_id]}",
                                                "duplicate", prep.doc.doc_id))
                if prep.doc is not None:
                    seen_docs[prep.doc.doc_id] = prep.result.source
                if prep.doc is None:
                    report.results.append(prep.result)
                else:
                    pending.append(prep)
                    pending_chunks += len(prep.chunks)
                    if pending_chunks >= self.flush_chunks:
                        report.embedded_chunks += self._flush(pending, report)
                        pending, pending_chunks = [], 0
                if progress:
                    progress(i, total, prep.result.source)
            if pending:
                report.embedded_chunks += self._flush(pending, report)

    def _prepare(self, source: str) -> _Prepared:
        from dossier.ingest.language import detect_language
        from dossier.ingest.readers import read_bytes

        res = FileResult(source, "failed")
        try:
            data, fetched = self._load_bytes(source)
            sha = hashlib.sha256(data).hexdigest()
            row = self.manifests.match(source)
            wanted = dict(row.overrides() if row else {})
            wanted.update(self.overrides)
            cat = self.svc.catalog
            existing = cat.by_source(source)
            moved_from = ""
            if existing is None:
                dup = cat.by_sha(sha)
                if dup and not is_url(dup["source"]) and not Path(dup["source"]).exists():
                    # the file was moved or renamed: its stored document follows it (so --prune keeps it)
                    moved_from = dup["source"]
                    cat.move_source(dup["doc_id"], source)
                    existing = cat.by_source(source)
            if existing and existing["sha256"] == sha and existing["fingerprint"] == self.svc.fingerprint:
                res.doc_id, res.title = existing["doc_id"], existing["title"] or ""
                res.chunks = existing["n_chunks"]
                changed = {k: v for k, v in wanted.items() if k != "language" and (existing[k] or "") != v}
                if changed:
                    meta = DocumentMeta(**{k: existing[k] or "" for k in ("title", "publisher", "date", "kind", "language", "url")})
                    for k, v in changed.items():
                        setattr(meta, k, v)
                    cat.update_meta(existing["doc_id"], meta)
                    res.status, res.reason = "metadata-updated", "content unchanged; metadata updated: " + ", ".join(sorted(changed))
                elif moved_from:
                    res.status, res.reason = "metadata-updated", "content unchanged; metadata updated: source"
                else:
                    res.status, res.reason = "unchanged", "content unchanged, nothing to do"
                if moved_from:
                    res.reason += f" (moved from {moved_from})"
                return _Prepared(res)
            dup = cat.by_sha(sha)
            if dup and dup["source"] != source:
                res.status, res.code = "skipped", "duplicate"
                res.reason = f"same content as {dup['source']} (doc {dup['doc_id']})"
                res.doc_id = dup["doc_id"]
                return _Prepared(res)
            read = read_bytes(data, Path(source).name if not is_url(source) else source, self.settings)
            meta = DocumentMeta(
                title=read.meta.get("title", "") or (Path(source).stem if not is_url(source) else source),
                publisher=read.meta.get("publisher", ""),
                date=normalize_date(read.meta.get("date", "")[:10]),
                kind="other",
                language=read.meta.get("language", "") or detect_language(read.text),
                url=source if is_url(source) else "",
            )
            for k, v in wanted.items():
                setattr(meta, k, v)
            doc = Document(
                doc_id="d" + sha[:15], source=source, sha256=sha, format=read.format, text=read.text, meta=meta,
                pages=read.pages, headings=read.headings, ingested_at=_now(),
                retrieved_at=fetched.retrieved_at if fetched else "",
                archive_path=str(fetched.archive_path) if fetched else "",
            )
            chunks = chunk_document(doc, self.settings)
            if not chunks:
                res.code, res.reason = "no-text", "no text to index after extraction"
                return _Prepared(res)
            quotes = extract_quotes(doc.text, meta.language or "en")
            res.status = "replaced" if existing else "ingested"
            res.doc_id, res.title, res.chunks = doc.doc_id, meta.title, len(chunks)
            if read.warnings:
                res.reason = "; ".join(read.warnings)
            return _Prepared(res, doc, chunks, existing["doc_id"] if existing else None, quotes)
        except IngestError as exc:
            res.code, res.reason = exc.code, exc.reason
            return _Prepared(res)
        except Exception as exc:  # a reader bug must not take the run down: record it plainly
            res.code, res.reason = "error", f"unexpected {exc.__class__.__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
            return _Prepared(res)

    def _load_bytes(self, source: str):
        if is_url(source):
            from dossier.ingest.fetch import fetch_url

            fetched = fetch_url(source, self.archive_dir, self.settings)
            return fetched.data, fetched
        path = Path(source)
        size = path.stat().st_size
        limit = self.settings.max_file_mb * 1024 * 1024
        if size > limit:
            raise TooLarge(f"file is {size / 1048576:.1f} MB, over the {self.settings.max_file_mb:g} MB limit")
        return path.read_bytes(), None

    def _flush(self, batch: list[_Prepared], report: IngestReport) -> int:
        texts = [c.text for p in batch for c in p.chunks]
        try:
            vectors = self.svc.embedder.embed(texts)
        except Exception as exc:
            for p in batch:
                p.result.status, p.result.code = "failed", "embed"
                p.result.reason = f"embedding failed: {exc}"
                report.results.append(p.result)
            return 0
        svc = self.svc
        store, cat = svc.store, svc.catalog
        # journal every document first, then one upsert for the whole flush (one call instead of one per
        # document: each is an HTTP request in server mode), then switch the catalog document by document
        svc.note_writing([d for p in batch for d in (p.doc.doc_id if p.doc else "", p.replaces or "")])
        stale: dict[int, list[str]] = {}
        for i, p in enumerate(batch):
            if p.doc is not None and p.replaces == p.doc.doc_id:  # same content, new chunking
                keep = {c.chunk_id for c in p.chunks}
                stale[i] = [cid for cid in cat.chunk_ids_for(p.doc.doc_id) if cid not in keep]
        chunks = [c for p in batch for c in p.chunks]
        store.upsert([c.chunk_id for c in chunks], vectors,
                     [{"doc_id": c.doc_id, "ord": c.ord, "start": c.start, "end": c.end} for c in chunks])
        for i, p in enumerate(batch):
            assert p.doc is not None
            replaced = cat.put_document(p.doc, p.chunks, self.svc.fingerprint, quotes=p.quotes)
            if replaced:
                store.delete_doc(replaced)
            if stale.get(i):
                store.delete_ids(stale[i])
            report.results.append(p.result)
        return len(texts)


def ingest_paths(service: IndexService, inputs: Iterable[str], **kw) -> IngestReport:
    prune = kw.pop("prune", False)
    progress = kw.pop("progress", None)
    return Ingestor(service, **kw).run(list(inputs), prune=prune, progress=progress)
