"""Data contracts shared by every stage: a read result, a normalized document and its chunks.

Every offset (`start`, `end`, page starts) refers to `Document.text`, the normalized text that is
stored; `Document.text[chunk.start:chunk.end] == chunk.text` always holds.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DocKind = Literal["article", "legal", "ngo-report", "un-report", "press-release", "project-page", "other"]
DOC_KINDS: tuple[str, ...] = ("article", "legal", "ngo-report", "un-report", "press-release", "project-page", "other")


@dataclass(frozen=True)
class PageSpan:
    """Page `number` (1-based, as printed by the reader) starts at character `start` of the text."""

    number: int
    start: int


@dataclass
class ReadResult:
    """What a reader extracts from one file's bytes, before metadata is merged.

    `text` is already normalized (see `ingest.normalize.normalize_text`); `pages` (PDF only) maps
    character offsets of `text` to page numbers; `headings` are (offset, heading text) pairs a reader
    knows structurally (DOCX heading styles, HTML <h1>-<h6>); `meta` holds what the file itself says
    (title, publisher/sitename, date as ISO string, author, language).
    """

    text: str
    format: str  # "html" | "pdf" | "docx" | "text" | "markdown"
    pages: list[PageSpan] = field(default_factory=list)
    headings: list[tuple[int, str]] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass
class DocumentMeta:
    title: str = ""
    publisher: str = ""
    date: str = ""  # ISO 8601 date or partial date ("2019-01-31", "2018-01", "2011"), "" if unknown
    kind: str = "other"
    language: str = ""
    url: str = ""  # the original URL where there is one


@dataclass
class Document:
    doc_id: str
    source: str  # absolute path or URL: the identity of the source across re-ingests
    sha256: str  # of the raw bytes
    format: str
    text: str
    meta: DocumentMeta
    pages: list[PageSpan] = field(default_factory=list)
    headings: list[tuple[int, str]] = field(default_factory=list)
    ingested_at: str = ""
    retrieved_at: str = ""  # URLs: when the raw bytes were fetched
    archive_path: str = ""  # URLs: where the raw bytes are archived

    def page_at(self, offset: int) -> int | None:
        page = None
        for span in self.pages:
            if span.start <= offset:
                page = span.number
            else:
                break
        return page


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    doc_id: str
    ord: int
    start: int
    end: int
    text: str
    n_tokens: int
    page: int | None = None
    section: str = ""
    language: str = ""  # ISO 639-1 of this chunk's text ("" when undecidable); usually its document's (ingest.language.chunk_language)
