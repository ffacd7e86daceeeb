"""Library callbacks: the documents table and ingest log, uploads and URLs ingested while the app runs,
removing a document. Uploaded files are copied under `<data_dir>/uploads/` with a sanitized name (no
directories, no path traversal), checked against the size limit and the accepted types first.

Per request (one click on "Add"): at most `serve.max_files_per_request` files totalling
`serve.max_request_mb`, and at most `serve.max_urls_per_request` URLs (typed `ServeSettings`; the
constants below are the functions' defaults); what is over is reported as failed, not ingested."""
from __future__ import annotations

import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

from .services import UIServices

ALLOWED_SUFFIXES = (".pdf", ".html", ".htm", ".docx", ".txt", ".md", ".markdown")
DOC_COLUMNS = ["title", "publisher", "date", "kind", "chunks", "ingested", "doc_id", "source"]
LOG_COLUMNS = ["at", "status", "source", "reason"]
MAX_FILES_PER_REQUEST = 20
MAX_URLS_PER_REQUEST = 20
MAX_REQUEST_MB = 200.0
_STATUS_ICON = {"ingested": "✓", "replaced": "✓", "metadata-updated": "✓", "skipped": "!", "failed": "✗"}


def safe_filename(name: str, default: str = "upload") -> str:
    """A plain file name from whatever a browser sent: the last path component only (either slash),
    NFKC-normalized, characters outside [A-Za-z0-9._ -] replaced, no leading dots, at most 120 chars
    (the extension kept)."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFKC", base).replace("\x00", "")
    base = re.sub(r"[^A-Za-z0-9._ -]+", "_", base).strip(" .")
    base = re.sub(r"_+", "_", base).lstrip("._-")
    if not base or base in (".", ".."):
        return default
    stem, dot, ext = base.rpartition(".")
    if dot and len(ext) <= 10 and stem:
        return stem[: 120 - len(ext) - 1] + "." + ext
    return base[:120]


@dataclass
class Staged:
    paths: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # staged path -> the name the user uploaded
    errors: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)


def stage_uploads(files: Iterable[str], upload_dir: Path, max_mb: float, max_files: int = MAX_FILES_PER_REQUEST,
                  max_total_mb: float = MAX_REQUEST_MB) -> Staged:
    """Check each uploaded temp file and copy it to `upload_dir` under its sanitized original name.
    Re-uploading a name replaces that document (same source, new content). At most `max_files` files
    and `max_total_mb` in all are staged per call; two files with the same name in one call: the first."""
    out = Staged()
    upload_dir = Path(upload_dir)
    total = 0
    for f in files or []:
        src = Path(f)
        shown = src.name
        name = safe_filename(src.name)
        if len(out.paths) >= max_files:
            out.errors.append((shown, f"not added: at most {max_files} files per request"))
            continue
        if not name.lower().endswith(ALLOWED_SUFFIXES):
            out.errors.append((shown, f"type not accepted: expected one of {', '.join(ALLOWED_SUFFIXES)}"))
            continue
        try:
            size = src.stat().st_size
        except OSError as exc:
            out.errors.append((shown, f"upload unreadable: {exc.strerror or exc}"))
            continue
        if size > max_mb * 1024 * 1024:
            out.errors.append((shown, f"file is {size / 1048576:.1f} MB, over the {max_mb:g} MB upload limit"))
            continue
        if size == 0:
            out.errors.append((shown, "empty file"))
            continue
        if total + size > max_total_mb * 1024 * 1024:
            out.errors.append((shown, f"not added: the files of one request may total at most {max_total_mb:g} MB"))
            continue
        upload_dir.mkdir(parents=True, exist_ok=True)
        dest = (upload_dir / name).resolve()
        if dest.parent != upload_dir.resolve():  # belt and braces: safe_filename allows no separators
            out.errors.append((shown, "invalid file name"))
            continue
        if str(dest) in out.names:
            out.errors.append((shown, f"not added: another file in this request is also named {name}"))
            continue
        shutil.copyfile(src, dest)
        total += size
        out.paths.append(str(dest))
        out.names[str(dest)] = name
    return out


def parse_urls(text: str | None, max_urls: int = MAX_URLS_PER_REQUEST) -> tuple[list[str], list[tuple[str, str]]]:
    """http(s) URLs, one per line (blank lines and # comments skipped), at most `max_urls` of them;
    anything else is an error."""
    urls, errors = [], []
    for line in (text or "").splitlines():
        item = line.strip()
        if not item or item.startswith("#"):
            continue
        if re.match(r"^https?://[^\s/]+\S*$", item):
            if item in urls:
                continue
            if len(urls) >= max_urls:
                errors.append((item[:200], f"not added: at most {max_urls} URLs per request"))
            else:
                urls.append(item)
        else:
            errors.append((item[:200], "expected an http:// or https:// URL"))
    return urls, errors


def metadata_overrides(kind: str | None, title: str | None, publisher: str | None, date: str | None) -> dict[str, str]:
    from dossier.ingest.manifest import normalize_date, validate_kind

    out: dict[str, str] = {}
    if kind:
        out["kind"] = validate_kind(kind, "kind")
    if (date or "").strip():
        d = normalize_date(date)
        if not d:
            raise ValueError(f"date: expected YYYY, YYYY-MM or YYYY-MM-DD, got {date!r}")
        out["date"] = d
    if (title or "").strip():
        out["title"] = title.strip()
    if (publisher or "").strip():
        out["publisher"] = publisher.strip()
    return out


def ingest(svc: UIServices, files: Sequence[str] | None, urls_text: str | None, overrides: dict[str, str],
           progress: Callable[[int, int, str], None] | None = None) -> str:
    """Stage uploads, ingest them and the URLs, and report every input's outcome as Markdown."""
    from dossier.index.indexer import Ingestor

    serve = svc.settings.serve
    staged = stage_uploads(files or [], svc.upload_dir, serve.max_upload_mb,
                           max_files=serve.max_files_per_request,
                           max_total_mb=serve.max_request_mb)
    urls, url_errors = parse_urls(urls_text, serve.max_urls_per_request)
    lines: list[str] = []
    inputs = staged.paths + urls
    counts: dict[str, int] = {}
    if inputs:
        with svc.write_lock:
            report = Ingestor(svc.index, overrides=overrides).run(inputs, progress=progress)
        for r in report.results:
            shown = staged.names.get(r.source, r.source)
            counts[r.status] = counts.get(r.status, 0) + 1
            extra = f" ({r.chunks} chunks)" if r.status in ("ingested", "replaced") else ""
            why = f" — {_md(r.reason)}" if r.reason else ""
            lines.append(f"- {_STATUS_ICON.get(r.status, '·')} **{r.status}** {_code(shown)}{extra}{why}")
    for name, why in staged.errors + url_errors:
        counts["failed"] = counts.get("failed", 0) + 1
        lines.append(f"- {_STATUS_ICON['failed']} **failed** {_code(name)} — {_md(why)}")
    if not lines:
        return "Nothing to add: choose files or paste URLs first."
    summary = ", ".join(f"{v} {k}" for k, v in counts.items())
    return f"**Done:** {summary}\n\n" + "\n".join(lines)


def _code(text: str) -> str:
    """An inline code span (contents are literal in Markdown; backticks cannot close it early)."""
    return "`" + " ".join(str(text).split()).replace("`", "'") + "`"


def _md(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>|])", r"\\\1", " ".join(str(text).split()))


def remove(svc: UIServices, doc_id: str | None) -> str:
    if not doc_id:
        return "Pick a document to remove."
    doc = svc.catalog.get_document(doc_id)
    with svc.write_lock:
        ok = svc.index.remove_document(doc_id)
    if not ok:
        return f"No such document: {_code(doc_id)}."
    return f"Removed **{_md(doc.meta.title if doc else doc_id)}** (`{doc_id}`)."


def _shown_source(svc: UIServices, source: str) -> str:
    upload_dir = str(svc.upload_dir.resolve())
    return "upload: " + Path(source).name if source.startswith(upload_dir) else source


def _minute(ts: str | None) -> str:
    return (ts or "")[:16].replace("T", " ")


def documents_rows(svc: UIServices) -> list[list]:
    rows = []
    for d in svc.catalog.documents():
        rows.append([d["title"] or "", d["publisher"] or "", d["date"] or "", d["kind"] or "", d["n_chunks"],
                     _minute(d["ingested_at"]), d["doc_id"], d["url"] or _shown_source(svc, d["source"])])
    return rows


def log_rows(svc: UIServices, limit: int = 50) -> list[list]:
    return [[_minute(e["at"]), e["status"], _shown_source(svc, e["source"] or ""), e["reason"] or ""]
            for e in svc.catalog.recent_log(limit)]


def document_choices(svc: UIServices) -> list[tuple[str, str]]:
    return [(f"{d['title'] or d['doc_id']} ({d['doc_id']})", d["doc_id"]) for d in svc.catalog.documents()]


def publisher_choices(svc: UIServices) -> list[str]:
    return sorted({d["publisher"] for d in svc.catalog.documents() if d["publisher"]})


def kind_choices(svc: UIServices) -> list[str]:
    from dossier.ingest.models import DOC_KINDS

    present = {d["kind"] for d in svc.catalog.documents() if d["kind"]}
    return [k for k in DOC_KINDS if k in present] or list(DOC_KINDS)
