"""HTML: the main text through trafilatura (no navigation or boilerplate), plus page metadata."""
from __future__ import annotations

from collections.abc import Iterator

import trafilatura
from lxml.etree import _Element
from trafilatura.settings import Document
from trafilatura.xml import xmltotxt

from dossier.ingest.errors import CorruptFile, NoText
from dossier.ingest.models import ReadResult
from dossier.ingest.normalize import join_blocks
from dossier.ingest.readers.text import decode_text
from dossier.ingest.settings import IngestSettings

_META_FIELDS = {"title": "title", "sitename": "publisher", "date": "date", "author": "author"}


def read_html(data: bytes, settings: IngestSettings) -> ReadResult:
    """Read an HTML page: paragraphs separated by blank lines, <h1>-<h6> kept as their own blocks."""
    markup, _ = decode_text(data)
    doc = _extract(markup, favor_recall=False)
    if doc is not None and len(doc.body) == 1:
        # On pages without article markup trafilatura falls back to a baseline that returns the
        # whole page as one block with a line per text node ("two\nbold\nitem"); the recall-oriented
        # pass keeps paragraphs, lists and tables apart, so prefer it when it finds more blocks.
        recall = _extract(markup, favor_recall=True)
        if recall is not None and len(recall.body) > 1:
            doc = recall
    text, headings = join_blocks(_blocks(doc.body)) if doc is not None else ("", [])
    if not text:
        raise NoText("no extractable text in HTML")
    meta = {key: str(value).strip() for attr, key in _META_FIELDS.items()
            if (value := getattr(doc, attr, None)) and str(value).strip()}
    return ReadResult(text=text, format="html", headings=headings, meta=meta)


def _extract(markup: str, favor_recall: bool) -> Document | None:
    """trafilatura's main-content extraction with metadata; None when it finds no content."""
    try:
        doc = trafilatura.bare_extraction(
            markup,
            with_metadata=True,
            favor_recall=favor_recall,
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=False,
            include_formatting=False,
        )
    except Exception as exc:  # trafilatura and lxml raise many types on malformed input
        raise CorruptFile(f"unreadable HTML: {type(exc).__name__}: {exc}"[:200]) from exc
    if not isinstance(doc, Document) or doc.body is None:
        return None
    return doc


def _blocks(body: _Element) -> Iterator[tuple[str, bool]]:
    """(plain text, is_heading) for each top-level block of trafilatura's extracted body."""
    for element in body:
        yield xmltotxt(element, include_formatting=False), element.tag == "head"


READERS = {"html": read_html}
