"""Commands over the index: ingest, search, sources, remove, repair."""
from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path
from typing import List, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Column, Table

from .cli_common import Commands, UserError, ctx_of, emit_json, err, out

commands = Commands()

_STATUS_STYLE = {"ingested": "green", "replaced": "green", "unchanged": "dim", "metadata-updated": "cyan",
                 "skipped": "yellow", "failed": "red", "removed": "magenta"}


# control characters, and the bidi overrides that make "invoice\u202efdp.exe" display as "invoiceexe.pdf"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _plain(text: str) -> str:
    """Text from files and documents, shown literally: rich markup ("[/x]" in a folder name or a title)
    escaped, control characters (a newline or a terminal escape in a file name) shown as \\xNN, bidi
    overrides as \\uNNNN."""
    from rich.markup import escape

    return escape(_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256 else f"\\u{ord(m.group()):04x}", text))


@commands.command()
def ingest(
    ctx: typer.Context,
    inputs: List[str] = typer.Argument(..., help="Files, folders (recursive) and http(s) URLs."),
    kind: Optional[str] = typer.Option(None, help="Document kind for all inputs: article, legal, ngo-report, un-report, press-release, project-page, other."),
    title: Optional[str] = typer.Option(None, help="Title (overrides what the reader finds)."),
    publisher: Optional[str] = typer.Option(None, help="Publisher."),
    date: Optional[str] = typer.Option(None, help="Publication date: YYYY, YYYY-MM or YYYY-MM-DD."),
    manifest: List[Path] = typer.Option([], "--manifest", help="TSV/CSV manifest(s) of metadata (id, path, url, kind, title, publisher, date)."),
    prune: bool = typer.Option(False, "--prune", help="Remove documents whose files are gone."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per input as it finishes, then a summary object."),
):
    """Read, chunk, embed and store sources, one line per input as soon as its outcome is known. Unchanged
    content is skipped; changed content replaces its document atomically; a chunk text embedded before is
    taken from the cache. Ctrl-C or SIGTERM stops cleanly: every document already reported stays stored.
    Exit status 1 when any input failed (the others are still ingested), 130/143 when stopped."""
    from dossier.index.indexer import Ingestor
    from dossier.ingest.manifest import ManifestIndex, load_manifest

    overrides = _ingest_overrides(kind, title, publisher, date)
    manifests = ManifestIndex([(m, load_manifest(m)) for m in manifest])
    ingestor = Ingestor(ctx_of(ctx).index, overrides=overrides, manifests=manifests)
    listener = _IngestLines(as_json)
    with listener.bar, _stop_on_signals(ingestor) as stopped:
        report = ingestor.run(inputs, prune=prune, listener=listener)
    if as_json:  # the last line: the totals and every input's result again, for a script that wants one object
        emit_json({"type": "summary", **report.to_dict(), "not_started": report.not_started})
    else:
        _print_summary(report)
    if stopped:
        return 128 + stopped[0]
    return 1 if report.failed else 0


def _ingest_overrides(kind, title, publisher, date) -> dict[str, str]:
    from dossier.ingest.manifest import normalize_date, validate_kind

    overrides = {}
    if kind:
        overrides["kind"] = validate_kind(kind, "--kind")
    if date:
        d = normalize_date(date)
        if not d:
            raise UserError(f"--date: expected YYYY, YYYY-MM or YYYY-MM-DD, got {date!r}")
        overrides["date"] = d
    if title:
        overrides["title"] = title
    if publisher:
        overrides["publisher"] = publisher
    return overrides


class _IngestLines:
    """The ingest's live report: a line (or a JSON object) per input as its outcome is final, and in a
    terminal a progress bar over the inputs with chunks/s and, inside a large document, its chunks."""

    def __init__(self, as_json: bool):
        from rich.progress import TimeRemainingColumn

        self.as_json = as_json
        self.bar = Progress(TextColumn("[bold]ingest"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            TimeRemainingColumn(), TextColumn("{task.description}"), console=err, transient=True,
                            disable=as_json or not err.is_terminal)
        self.task = self.bar.add_task("", total=None)

    def result(self, r, done: int, total: int) -> None:
        self.bar.update(self.task, completed=done, total=total)
        if self.as_json:
            emit_json({"type": "result", **r.to_dict()})
            return
        style = _STATUS_STYLE.get(r.status, "")
        detail = f" — {r.reason}" if r.reason else ""
        extra = f" ({r.chunks} chunks)" if r.status in ("ingested", "replaced") else ""
        # paths and reasons are data: "[/x]" in a folder name must print as written, not as markup
        line = f"[{style}]{r.status:>16}[/{style}]  {_plain(r.source)}{extra}{_plain(detail)}"
        (self.bar.console.print if self.bar.live.is_started else out.print)(line, markup=True)

    def embedding(self, source: str, done: int, total: int, chunks_per_s: float) -> None:
        inside = f" {done}/{total} chunks" if total > 1 else ""
        self.bar.update(self.task, description=f"{_plain(Path(source).name[:40])}{inside} · {chunks_per_s:.0f} chunks/s")


@contextmanager
def _stop_on_signals(ingestor):
    """SIGINT and SIGTERM ask the ingestor to stop at its next step (the signal number is appended to the
    yielded list); a second Ctrl-C stops at once (the next writer repairs what that leaves)."""
    import signal

    got: list[int] = []

    def handler(signum, frame):
        if got and signum == signal.SIGINT:
            raise KeyboardInterrupt
        got.append(signum)
        name = signal.Signals(signum).name
        err.print(f"{name}: stopping after the current step; documents already reported stay stored (Ctrl-C again to abort)")
        ingestor.request_stop(name)

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield got
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _print_summary(report) -> None:
    summary = report.summary()
    counts = ", ".join(f"{v} {k}" for k, v in report.counts().items()) or "nothing to do"
    work = report.embedded_chunks + report.reused_chunks
    rate = report.embedded_chunks / report.seconds if report.seconds else 0.0
    out.print(f"{counts}; {summary['chunks']} chunks stored, {report.embedded_chunks} embedded, {report.reused_chunks} reused "
              f"in {report.seconds:.1f} s ({rate:.1f} chunks/s embedded)" if work else f"{counts}; no embedding needed "
              f"({report.seconds:.1f} s)")
    if report.repaired:
        out.print(f"repaired: removed vectors of {report.repaired} interrupted write(s)")
    if report.interrupted:
        out.print(f"stopped by {report.interrupted}: {len(report.not_started)} input(s) not read; "
                  "run the same command again to ingest the rest")


@commands.command()
def search(
    ctx: typer.Context,
    query: str = typer.Argument(..., help="What to look for."),
    k: int = typer.Option(5, "--k", min=1, max=100, help="How many chunks."),
    kind: List[str] = typer.Option([], "--kind", help="Only these document kinds (repeatable)."),
    publisher: List[str] = typer.Option([], "--publisher", help="Only publishers containing this text (repeatable)."),
    doc: List[str] = typer.Option([], "--doc", help="Only this doc_id (repeatable)."),
    date_from: Optional[str] = typer.Option(None, "--from", help="Only documents dated on/after (YYYY[-MM[-DD]])."),
    date_to: Optional[str] = typer.Option(None, "--to", help="Only documents dated on/before."),
    mode: str = typer.Option("hybrid", help="hybrid, dense or bm25."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
):
    """Ranked chunks for a query (hybrid dense + BM25), with document, page, offsets and score."""
    from dossier.index.retrieval import Filters
    from dossier.ingest.language import language_name
    from dossier.ingest.manifest import normalize_date

    if mode not in ("hybrid", "dense", "bm25"):
        raise UserError(f"--mode: expected hybrid, dense or bm25, got {mode!r}")
    for opt, value in (("--from", date_from), ("--to", date_to)):
        if value and not normalize_date(value):
            raise UserError(f"{opt}: expected YYYY, YYYY-MM or YYYY-MM-DD, got {value!r}")
    svc = ctx_of(ctx).index
    hits = svc.retriever.search(query, k=k, filters=Filters(kind, publisher, doc, date_from or "", date_to or ""), mode=mode)
    if as_json:
        emit_json({"query": query, "timings_ms": {k2: round(v, 2) for k2, v in svc.retriever.last_timings.items()},
                   "results": [hit_json(h, i) for i, h in enumerate(hits, 1)]})
        return 0
    if not hits:
        out.print("no matching passages" + ("" if svc.catalog.chunk_count() else " (the store is empty: run `dossier ingest`)"))
        return 0
    for i, h in enumerate(hits, 1):
        page = f", p. {h.chunk.page}" if h.chunk.page else ""
        out.print(f"[bold]{i}. {_plain(h.doc.get('title') or h.chunk.doc_id)}[/bold]{page}  "
                  f"[dim]{h.chunk.chunk_id}  [{h.chunk.start}:{h.chunk.end}]  score {h.score:.4f}"
                  f"{'  ' + language_name(h.chunk.language) if h.chunk.language != 'en' else ''}[/dim]")
        out.print(f"   {snippet(h.chunk.text, query)}\n", markup=False)
    return 0


_STOP = frozenset("what which when where whom whose does with from that this these those there their about into have "
                  "were been said tell says".split())


def snippet(text: str, query: str, width: int = 600) -> str:
    """At most `width` characters of a chunk: the window holding the most distinct query words (so the
    passage that answers is what gets shown), cut at word boundaries, with … where text was cut."""
    import re

    if len(text) <= width:
        return text
    low = text.lower()
    terms = {t for t in re.findall(r"\w+", query.lower()) if (len(t) > 3 or t.isdigit()) and t not in _STOP}
    spots = sorted(m.start() for t in terms for m in re.finditer(rf"\b{re.escape(t)}\b", low))
    best, best_n = 0, 0
    for pos in spots:
        start = max(0, min(pos - width // 4, len(text) - width))
        n = sum(1 for t in terms if re.search(rf"\b{re.escape(t)}\b", low[start:start + width]))
        if n > best_n:
            best, best_n = start, n
    start = best
    if start > 0:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < start + 40 else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > end - 40 else end
    return ("…" if start > 0 else "") + text[start:end].strip() + ("…" if end < len(text) else "")


def hit_json(h, rank: int) -> dict:
    c = h.chunk
    return {"rank": rank, "chunk_id": c.chunk_id, "doc_id": c.doc_id, "title": h.doc.get("title", ""),
            "publisher": h.doc.get("publisher", ""), "date": h.doc.get("date", ""), "kind": h.doc.get("kind", ""),
            "source": h.doc.get("url") or h.doc.get("source", ""), "page": c.page, "section": c.section,
            "start": c.start, "end": c.end, "score": round(h.score, 6), "dense_rank": h.dense_rank,
            "bm25_rank": h.bm25_rank, "language": c.language, "text": c.text}


@commands.command()
def sources(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")):
    """The documents in the store with their metadata and chunk counts."""
    catalog = ctx_of(ctx).index.catalog
    docs = catalog.documents()
    langs = catalog.language_counts()  # #16: chunks per language (a quoted Russian statement in an English article)
    for d in docs:
        d["chunk_languages"] = langs.get(d["doc_id"], {})
    if as_json:
        emit_json({"documents": docs})
        return 0
    if not docs:
        out.print("the store is empty: run `dossier ingest PATH_OR_URL`")
        return 0
    # doc_ids are what `search --doc` and `remove` take: never wrapped, so they can be copied whole
    table = Table(Column("doc_id", no_wrap=True), Column("kind", no_wrap=True), Column("date", no_wrap=True), "title",
                  "publisher", Column("language", no_wrap=True), Column("chunks", no_wrap=True, justify="right"), "source")
    for d in docs:
        table.add_row(*(_plain(x) for x in (d["doc_id"], d["kind"] or "", d["date"] or "", (d["title"] or "")[:60],
                                            (d["publisher"] or "")[:30], _languages(d), str(d["n_chunks"]), d["url"] or d["source"])))
    out.print(table)
    return 0


@commands.command()
def remove(ctx: typer.Context, doc_id: List[str] = typer.Argument(..., help="doc_id(s) to remove (see `dossier sources`).")):
    """Remove documents (catalog entry, chunks and vectors)."""
    svc = ctx_of(ctx).index
    missing = [d for d in doc_id if not svc.remove_document(d)]
    for d in doc_id:
        if d not in missing:
            out.print(f"removed {d}")
    if missing:
        raise UserError(f"no such document: {', '.join(missing)} (see `dossier sources`)")
    return 0


@commands.command()
def repair(ctx: typer.Context):
    """Remove vectors left behind by an interrupted ingest."""
    n = ctx_of(ctx).index.repair()
    out.print(f"removed vectors of {n} orphaned document(s)")
    return 0


def _languages(d: dict) -> str:
    """'ru' for a Russian document; 'en, ru (2)' for one with chunks in several languages; '?' when undecided."""
    counts = d.get("chunk_languages") or {}
    if len(counts) <= 1:
        return (d.get("language") or next(iter(counts), "")) or "?"
    main = d.get("language") or max(counts, key=counts.get)
    return ", ".join([main] + [f"{k or '?'} ({n})" for k, n in sorted(counts.items()) if k != main])
