"""The ingest pipeline into the index: read -> normalize -> chunk -> embed -> store, per source.

Data errors in one source are recorded and the run continues. A document is replaced atomically:
its new vectors are written first, then the catalog switches to the new version in one SQLite
transaction, then the old vectors are deleted. Vectors not (or no longer) in the catalog are never
returned by retrieval and are removed by `repair`.

Chunks wait for the embedder in one queue, in input order, and are embedded a step (`flush_chunks`)
at a time; after each step every document whose chunks all have vectors is written, so a finished
document is searchable at once and never waits behind a larger one. Vectors come from the data dir's
content-addressed cache where the same text was embedded before (index/vector_cache.py). A stop request
(`Ingestor.request_stop`, Ctrl-C or SIGTERM in the CLI) is honoured between steps: documents already
written stay, the ones in flight are not written, and the report says which.
"""
from __future__ import annotations

import gc
import hashlib
import threading
import time
from collections import deque
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator

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
    embedded_chunks: int = 0  # chunks the embedder computed
    reused_chunks: int = 0  # chunks whose vectors came from the cache
    seconds: float = 0.0
    repaired: int = 0
    interrupted: str = ""  # the stop request's reason ("SIGINT", "SIGTERM") when the run was stopped
    not_started: list[str] = field(default_factory=list)  # inputs a stopped run never read

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.results:
            out[r.status] = out.get(r.status, 0) + 1
        return out

    def summary(self) -> dict:
        """The run's totals (the `--json` stream's last object)."""
        stored = sum(r.chunks for r in self.results if r.status in ("ingested", "replaced"))
        return {"counts": self.counts(), "chunks": stored, "embedded": self.embedded_chunks,
                "reused": self.reused_chunks, "seconds": round(self.seconds, 3), "repaired": self.repaired,
                "interrupted": self.interrupted or None, "not_started": len(self.not_started)}

    def to_dict(self) -> dict:
        return {"results": [r.to_dict() for r in self.results], **self.summary(), "embedded_chunks": self.embedded_chunks}


class IngestListener:
    """What a caller hears while a run goes (every method optional to override)."""

    def result(self, result: FileResult, done: int, total: int) -> None:
        """An input's outcome, as soon as it is final (`done` of `total` inputs)."""

    def embedding(self, source: str, done: int, total: int, chunks_per_s: float) -> None:
        """After each embedding step: the document being embedded, its chunks with vectors so far."""


class _ProgressListener(IngestListener):
    """The older per-input callback, progress(done, total, source)."""

    def __init__(self, fn):
        self.fn = fn

    def result(self, result: FileResult, done: int, total: int) -> None:
        self.fn(done, total, result.source)


@dataclass
class _Prepared:
    result: FileResult
    doc: Document | None = None
    chunks: list[Chunk] = field(default_factory=list)
    replaces: str | None = None
    quotes: list[Quote] | None = None  # found while reading (in the read-ahead thread), stored with the document


@dataclass
class _Work:
    """A prepared document on its way to the store: its chunks' vectors as they arrive."""
    prep: _Prepared
    vectors: list
    missing: int


ProgressFn = Callable[[int, int, str], None]
_END = object()


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


class Ingestor:
    READ_AHEAD = 256  # most sources read and chunked ahead of the embedder
    # while the next source is still being read, queued chunks are embedded only once there are this many
    # (or the oldest has waited IDLE_WAIT_S): one small step per small file would pay a store write and a
    # catalog commit per file, which dominates ingest when files are small
    IDLE_STEP_CHUNKS = 32
    IDLE_WAIT_S = 0.25
    IDLE_POLL_S = 0.02

    def __init__(self, service: IndexService, *, overrides: dict[str, str] | None = None,
                 manifests: ManifestIndex | None = None, flush_chunks: int | None = None, read_ahead: int | None = None,
                 workers: int | None = None):
        from .embedder import resolve_workers

        self.svc = service
        self.read_ahead = max(1, read_ahead or self.READ_AHEAD)
        self.settings = service.ingest_settings
        self.overrides = {k: v for k, v in (overrides or {}).items() if v}
        self.manifests = manifests or ManifestIndex([])
        self.flush_chunks = flush_chunks or self.settings.flush_chunks
        self.workers = resolve_workers(service.index_settings.ingest_workers if workers is None else workers)
        self.archive_dir = service.data_dir / "archive"
        self._stop = threading.Event()
        self._stop_reason = ""

    def request_stop(self, reason: str = "stop requested") -> None:
        """Stop at the next embedding step (safe from a signal handler): finished documents stay."""
        self._stop_reason = self._stop_reason or reason
        self._stop.set()

    # --- public -------------------------------------------------------------------------
    def run(self, inputs: list[str], *, prune: bool = False, progress: ProgressFn | None = None,
            listener: IngestListener | None = None) -> IngestReport:
        t0 = time.perf_counter()
        report = IngestReport()
        svc = self.svc
        listener = listener or (_ProgressListener(progress) if progress else IngestListener())
        # the data dir's writer lock first (StoreInUse when another process writes), before anything opens
        with svc.writing("ingest"):
            svc.check_catalog_fingerprint()
            svc.store  # open the vector store first: a wrong URL or embedder fails before any reading or embedding
            report.repaired = svc.repaired
            sources, missing = expand_inputs(inputs)
            total = len(sources) + len(missing)
            for item, reason in missing:
                report.results.append(FileResult(item, "failed", reason, "missing"))
                listener.result(report.results[-1], len(report.results), total)
            with _collector_quiet():
                _Run(self, report, listener, total).process(sources)
            order = {s: i for i, s in enumerate(sources)}
            report.results.sort(key=lambda r: order.get(r.source, -1))
            if prune and not report.interrupted:
                report.results.extend(self.prune())
        from .multilingual import sync_after_ingest  # #16: sentence vectors of the non-English chunks written

        sync_after_ingest(svc)
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

    def prepared(self, sources: list[str], idle: Callable[[], bool] | None = None) -> Iterator[_Prepared | None]:
        """The sources read and chunked, in order, by a worker thread that runs ahead of the caller. The
        read-ahead is bounded: at most `read_ahead` sources in flight, and none added while the prepared ones
        waiting already hold two steps' worth of chunks, so memory does not grow with the corpus. While the
        next source is still being read and `idle()` says the caller has other work (chunks waiting for the
        embedder), None is yielded instead of waiting. Closing the iterator early (a stop) cancels what has
        not started."""
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dossier-read")
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

        try:
            top_up()
            while window:
                if idle is not None and not window[0].done():
                    if idle():
                        yield None
                    else:  # nothing worth doing yet: wait a little for the reader, then ask again
                        wait([window[0]], timeout=self.IDLE_POLL_S)
                    continue
                prep = window.popleft().result()
                top_up()
                yield prep
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

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
                return self._unchanged(res, existing, wanted, moved_from)
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
            limit = self.settings.max_chunks_per_document
            if len(chunks) > limit:
                res.code = "too-many-chunks"
                res.reason = f"{len(chunks):,} chunks, over the limit of {limit:,} per document (ingest.max_chunks_per_document)"
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

    def _unchanged(self, res: FileResult, existing, wanted: dict[str, str], moved_from: str) -> _Prepared:
        """Content already stored: only metadata (or the source path) may change."""
        res.doc_id, res.title = existing["doc_id"], existing["title"] or ""
        res.chunks = existing["n_chunks"]
        changed = {k: v for k, v in wanted.items() if k != "language" and (existing[k] or "") != v}
        if changed:
            meta = DocumentMeta(**{k: existing[k] or "" for k in ("title", "publisher", "date", "kind", "language", "url")})
            for k, v in changed.items():
                setattr(meta, k, v)
            self.svc.catalog.update_meta(existing["doc_id"], meta)
            res.status, res.reason = "metadata-updated", "content unchanged; metadata updated: " + ", ".join(sorted(changed))
        elif moved_from:
            res.status, res.reason = "metadata-updated", "content unchanged; metadata updated: source"
        else:
            res.status, res.reason = "unchanged", "content unchanged, nothing to do"
        if moved_from:
            res.reason += f" (moved from {moved_from})"
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


class _Run:
    """One ingest run's pipeline state: the queue of chunks waiting for vectors, the documents in flight."""

    def __init__(self, ing: Ingestor, report: IngestReport, listener: IngestListener, total: int):
        self.ing, self.svc, self.report, self.listener, self.total = ing, ing.svc, report, listener, total
        self.cache = self.svc.vector_cache
        self.queue: deque[tuple[_Work, int]] = deque()  # (document, chunk index) waiting for the embedder, in order
        self.inflight: list[_Work] = []
        self.rate = 0.0
        self.queued_at = 0.0  # when the oldest chunk now queued was queued (monotonic)

    def idle(self) -> bool:
        """Worth embedding now, while the reader is still busy: enough chunks queued, or the oldest waited long enough."""
        if not self.queue or self.ing._stop.is_set():
            return False
        ing = self.ing
        return (len(self.queue) >= min(ing.IDLE_STEP_CHUNKS, ing.flush_chunks)
                or time.monotonic() - self.queued_at >= ing.IDLE_WAIT_S)

    def process(self, sources: list[str]) -> None:
        seen_docs: dict[str, str] = {}
        consumed = 0
        gen = self.ing.prepared(sources, idle=self.idle)
        try:
            for prep in gen:
                if prep is None:  # the next source is still being read: embed what is queued meanwhile
                    self.step()
                    self.write_ready()
                    continue
                consumed += 1
                if prep.doc is not None and prep.doc.doc_id in seen_docs:
                    prep = _Prepared(FileResult(prep.result.source, "skipped", f"same content as {seen_docs[prep.doc.doc_id]}",
                                                "duplicate", prep.doc.doc_id))
                if prep.doc is None:
                    self.finish(prep.result)
                else:
                    seen_docs[prep.doc.doc_id] = prep.result.source
                    self.start(prep)
                while len(self.queue) >= self.ing.flush_chunks and not self.ing._stop.is_set():
                    self.step()
                self.write_ready()
                if self.ing._stop.is_set():
                    break
            while self.queue and not self.ing._stop.is_set():
                self.step()
                self.write_ready()
        finally:
            gen.close()
        if self.ing._stop.is_set():
            self.stopped(sources[consumed:])

    def start(self, prep: _Prepared) -> None:
        texts = [c.text for c in prep.chunks]
        vectors: list = [None] * len(texts)
        if self.cache is not None:
            for i, v in self.cache.get_many(texts).items():
                vectors[i] = v
        work = _Work(prep, vectors, sum(v is None for v in vectors))
        self.report.reused_chunks += len(texts) - work.missing
        self.inflight.append(work)
        if not self.queue:
            self.queued_at = time.monotonic()
        self.queue.extend((work, i) for i, v in enumerate(vectors) if v is None)

    def step(self) -> None:
        """Embed the next `flush_chunks` queued chunks (texts seen twice in the step embedded once)."""
        batch = [self.queue.popleft() for _ in range(min(self.ing.flush_chunks, len(self.queue)))]
        self.queued_at = time.monotonic()  # what is left counts as queued now (it waits at most one more IDLE_WAIT_S)
        texts = list(dict.fromkeys(w.prep.chunks[i].text for w, i in batch))
        t = time.perf_counter()
        try:
            vecs = dict(zip(texts, self.svc.embedder.embed(texts, workers=self.ing.workers)))
        except Exception as exc:
            self.embed_failed({id(w): w for w, _ in batch}, exc)
            return
        dt = time.perf_counter() - t
        self.rate = len(texts) / dt if dt > 0 else self.rate
        if self.cache is not None:
            self.cache.put_many(texts, [vecs[x] for x in texts])
        self.report.embedded_chunks += len(texts)
        self.report.reused_chunks += len(batch) - len(texts)
        for w, i in batch:
            w.vectors[i] = vecs[w.prep.chunks[i].text]
            w.missing -= 1
        last = batch[-1][0]
        self.listener.embedding(last.prep.result.source, len(last.vectors) - last.missing, len(last.vectors), self.rate)

    def embed_failed(self, works: dict, exc: Exception) -> None:
        """An embedder error fails the documents of the step (and drops their queued chunks); the run goes on."""
        for w in works.values():
            w.prep.result.status, w.prep.result.code = "failed", "embed"
            w.prep.result.reason = f"embedding failed: {exc}"
            self.inflight.remove(w)
            self.finish(w.prep.result)
        self.queue = deque((w, i) for w, i in self.queue if id(w) not in works)

    def write_ready(self) -> None:
        """Write every document whose chunks all have vectors: one upsert, then each catalog switch."""
        ready = [w for w in self.inflight if w.missing == 0]
        if not ready:
            return
        self.inflight = [w for w in self.inflight if w.missing]
        svc = self.svc
        store, cat = svc.store, svc.catalog
        batch = [w.prep for w in ready]
        # journal every document first, then one upsert for all of them (one call instead of one per
        # document: each is an HTTP request in server mode), then switch the catalog document by document
        svc.note_writing([d for p in batch for d in (p.doc.doc_id if p.doc else "", p.replaces or "")])
        stale: dict[int, list[str]] = {}
        for i, p in enumerate(batch):
            if p.doc is not None and p.replaces == p.doc.doc_id:  # same content, new chunking
                keep = {c.chunk_id for c in p.chunks}
                stale[i] = [cid for cid in cat.chunk_ids_for(p.doc.doc_id) if cid not in keep]
        chunks = [c for p in batch for c in p.chunks]
        store.upsert([c.chunk_id for c in chunks], [v for w in ready for v in w.vectors],
                     [{"doc_id": c.doc_id, "ord": c.ord, "start": c.start, "end": c.end} for c in chunks])
        # every document's catalog switch in one transaction (one commit, not one per document); a failure
        # undoes only its own document, those before it are committed
        replaced: list[str | None] = []
        failure: BaseException | None = None
        with cat.batch():  # (a failed commit raises here: nothing of the step stored, the journal repairs)
            for p in batch:
                assert p.doc is not None
                try:
                    replaced.append(cat.put_document(p.doc, p.chunks, svc.fingerprint, quotes=p.quotes))
                except BaseException as exc:  # its savepoint is undone; those before it are committed below
                    failure = exc
                    break
        for i, (p, old) in enumerate(zip(batch, replaced)):  # the committed documents, all or those before a failure
            if old:
                store.delete_doc(old)
            if stale.get(i):
                store.delete_ids(stale[i])
            self.finish(p.result)
        if failure is not None:
            raise failure

    def finish(self, result: FileResult) -> None:
        self.report.results.append(result)
        self.listener.result(result, len(self.report.results), self.total)

    def stopped(self, never_read: list[str]) -> None:
        """A stop: the documents in flight are not written (no vector of theirs reached the store; those
        already computed stay in the cache, so a re-run is quicker); the rest were never read."""
        self.report.interrupted = self.ing._stop_reason or "stop requested"
        for w in self.inflight:
            r = w.prep.result
            r.status, r.code = "interrupted", "stopped"
            r.reason = f"not stored: {self.report.interrupted} arrived while it was being embedded"
            self.finish(r)
        self.inflight, self.queue = [], deque()
        self.report.not_started = list(never_read)


@contextmanager
def _collector_quiet(young: int = 20_000):
    """Python's cyclic garbage collector, quieter for the run: the objects that exist when it starts (modules,
    models, the catalog) are frozen out of the collections, and the youngest generation is collected after
    `young` allocations instead of 700. Reading and chunking allocate many short-lived objects; with the defaults
    the collector ran about 700 times per 1,600 chunks and rescanned the whole heap each time it reached the
    oldest generation (0.70 s against 0.17 s frozen, measured). Both are restored afterwards, so a long-lived
    process (serve) collects as before."""
    global _quiet_runs, _quiet_before
    with _quiet_lock:  # runs may overlap (two data dirs in one process): the first in sets, the last out restores
        if _quiet_runs == 0:
            _quiet_before = gc.get_threshold()
            gc.collect()  # garbage of before the run is not frozen with the live objects
            gc.freeze()
            gc.set_threshold(max(young, _quiet_before[0]), *_quiet_before[1:])
        _quiet_runs += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_runs -= 1
            if _quiet_runs == 0:
                gc.set_threshold(*_quiet_before)
                gc.unfreeze()


_quiet_lock = threading.Lock()
_quiet_runs = 0  # runs in progress
_quiet_before = gc.get_threshold()  # the collector's thresholds before the first of them


def ingest_paths(service: IndexService, inputs: Iterable[str], **kw) -> IngestReport:
    prune = kw.pop("prune", False)
    progress = kw.pop("progress", None)
    return Ingestor(service, **kw).run(list(inputs), prune=prune, progress=progress)
