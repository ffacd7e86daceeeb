"""PDF through pypdf: text page by page, with a page map into the normalized text.

Besides its own errors, pypdf lets many built-in ones through on damaged files (KeyError,
NotImplementedError for a garbled filter name, RecursionError...), so every call is wrapped in a
broad `except Exception` that turns the failure into a CorruptFile with a short cause.
"""
from __future__ import annotations

import io
import logging
from datetime import datetime

from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError

from dossier.ingest.errors import CorruptFile, NoText
from dossier.ingest.models import PageSpan, ReadResult
from dossier.ingest.normalize import PARAGRAPH_BREAK, normalize_text
from dossier.ingest.settings import IngestSettings

# pypdf logs what it repairs on damaged files ("EOF marker not found") to stderr through logging's
# last-resort handler: the per-file report already says what went wrong, in one line
logging.getLogger("pypdf").setLevel(logging.ERROR)

def read_pdf(data: bytes, settings: IngestSettings) -> ReadResult:
    """Read a PDF: pages joined with a blank line; `pages` gives each page's start offset."""
    reader = _open(data)
    warnings: list[str] = []
    page_texts: list[str] = []
    first_failure = ""
    try:
        pages = list(reader.pages)
    except Exception as exc:
        raise CorruptFile(f"corrupt PDF: {_cause(exc)}") from exc
    for number, page in enumerate(pages, start=1):
        try:
            page_texts.append(normalize_text(page.extract_text() or ""))
        except Exception as exc:
            first_failure = first_failure or _cause(exc)
            warnings.append(f"page {number}: text not extracted ({_cause(exc)})")
            page_texts.append("")
    text, spans = join_pages(page_texts)
    if not text and first_failure:
        raise CorruptFile(f"corrupt PDF: {first_failure}")
    if not text:
        raise NoText("no extractable text (scanned? needs OCR)")
    return ReadResult(text=text, format="pdf", pages=spans, meta=_meta(reader), warnings=warnings)


def join_pages(page_texts: list[str]) -> tuple[str, list[PageSpan]]:
    """Join normalized page texts with a blank line; each page starts where its text starts.

    An empty page gets the offset where the next text starts (clamped to the end of the text).
    """
    parts: list[str] = []
    spans: list[PageSpan] = []
    length = 0
    for number, page_text in enumerate(page_texts, start=1):
        start = length + len(PARAGRAPH_BREAK) if parts else 0
        spans.append(PageSpan(number, start))
        if page_text:
            parts.append(page_text)
            length = start + len(page_text)
    text = PARAGRAPH_BREAK.join(parts)
    return text, [PageSpan(s.number, min(s.start, len(text))) for s in spans]


def _open(data: bytes) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED
    except DependencyError as exc:
        raise CorruptFile(f"encrypted PDF (cannot decrypt: {_cause(exc)})") from exc
    except Exception as exc:
        raise CorruptFile(f"corrupt PDF: {_cause(exc)}") from exc
    if encrypted:
        raise CorruptFile("encrypted PDF (password required)")
    return reader


def _meta(reader: PdfReader) -> dict[str, str]:
    """Title, author and creation date from the document information, where present."""
    try:
        info = reader.metadata
        if info is None:
            return {}
        raw = {"title": info.title, "author": info.author}
        created = info.creation_date
    except Exception:
        return {}
    meta = {key: " ".join(str(value).split()) for key, value in raw.items() if value and str(value).strip()}
    if isinstance(created, datetime):
        meta["date"] = created.date().isoformat()
    return meta


def _cause(exc: BaseException) -> str:
    """A short one-line cause for a report."""
    words = " ".join(str(exc).split()) or type(exc).__name__
    return words[:120]


READERS = {"pdf": read_pdf}
