"""DOCX through python-docx, after a zip-bomb check on the archive's declared sizes."""
from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import datetime

import docx
from docx.document import Document as DocxDocument
from docx.table import Table
from docx.text.paragraph import Paragraph

from dossier.ingest.errors import ArchiveBomb, CorruptFile, NoText
from dossier.ingest.models import ReadResult
from dossier.ingest.normalize import join_blocks
from dossier.ingest.settings import IngestSettings

_MB = 1024 * 1024
_HEADING_STYLES = ("Heading", "Title")


def read_docx(data: bytes, settings: IngestSettings) -> ReadResult:
    """Read a DOCX: paragraphs and tables in order, a blank line between blocks, headings recorded."""
    check_archive(data, settings)
    try:
        document = docx.Document(io.BytesIO(data))
        text, headings = join_blocks(_blocks(document))
        meta = _meta(document)
    except Exception as exc:  # python-docx, lxml and zipfile raise many types on a damaged file
        raise CorruptFile(f"corrupt DOCX: {_cause(exc)}") from exc
    if not text:
        raise NoText("no extractable text in DOCX")
    return ReadResult(text=text, format="docx", headings=headings, meta=meta)


def check_archive(data: bytes, settings: IngestSettings) -> None:
    """Refuse a zip whose members would expand past the size or ratio limits (ArchiveBomb)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise CorruptFile(f"corrupt DOCX: not a readable zip archive ({_cause(exc)})") from exc
    expanded = sum(m.file_size for m in members)
    compressed = sum(m.compress_size for m in members)
    limit = settings.max_decompressed_mb * _MB
    if expanded > limit:
        raise ArchiveBomb(f"archive expands to {human_size(expanded)} (limit {human_size(limit)})")
    ratio = expanded / max(compressed, 1)
    if ratio > settings.max_compression_ratio:
        raise ArchiveBomb(
            f"archive expands {ratio:.0f} times ({human_size(expanded)} from {human_size(compressed)}; "
            f"limit {settings.max_compression_ratio:g} times)"
        )


def human_size(n_bytes: float) -> str:
    """1.2 GB, 200 MB, 15 KB: binary units, one decimal below 10."""
    for unit, size in (("GB", _MB * 1024), ("MB", _MB), ("KB", 1024)):
        if n_bytes >= size:
            value = n_bytes / size
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{int(n_bytes)} bytes"


def _blocks(document: DocxDocument) -> Iterator[tuple[str, bool]]:
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            yield item.text, _is_heading(item)
        elif isinstance(item, Table):
            yield _table_text(item), False


def _is_heading(paragraph: Paragraph) -> bool:
    style = paragraph.style
    name = style.name if style is not None else ""
    return bool(name) and name.startswith(_HEADING_STYLES)


def _table_text(table: Table) -> str:
    """One line per row, cells separated by " | " (a merged cell is written once)."""
    lines = []
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            if cell._tc is previous:  # a horizontally merged cell repeats across its grid columns
                continue
            previous = cell._tc
            cells.append(" ".join(cell.text.split()))
        lines.append(" | ".join(cells))
    return "\n".join(lines)


def _meta(document: DocxDocument) -> dict[str, str]:
    props = document.core_properties
    meta = {"title": props.title or "", "author": props.author or ""}
    if isinstance(props.created, datetime):
        meta["date"] = props.created.date().isoformat()
    return {key: " ".join(value.split()) for key, value in meta.items() if value and value.strip()}


def _cause(exc: BaseException) -> str:
    return (" ".join(str(exc).split()) or type(exc).__name__)[:120]


READERS = {"docx": read_docx}
