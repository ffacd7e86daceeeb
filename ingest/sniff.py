"""Decide a file's format from its content; the file name is only a hint (markdown vs text, damaged DOCX)."""
from __future__ import annotations

import codecs
import io
import re
import zipfile
from pathlib import PurePath
from typing import NoReturn
from urllib.parse import urlsplit

import charset_normalizer
import filetype

from dossier.ingest.errors import BinaryFile, EmptyFile, UnsupportedType

FORMATS: tuple[str, ...] = ("pdf", "docx", "html", "markdown", "text")

# Longest first: the UTF-32 LE mark starts with the UTF-16 LE one.
BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

_SAMPLE_BYTES = 64 * 1024
_MAX_CONTROL_RATIO = 0.02
_MARKDOWN_EXTS = {".md", ".markdown", ".mdown", ".mkd"}
_HTML_START = re.compile(
    r"^(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.IGNORECASE | re.DOTALL
)
_HTML_TAG = re.compile(
    # [^<>]: a "<p" that never closes stops at the next "<" (with [^>] "<p<p<p..." is quadratic)
    r"<(?:p|div|span|a|br|table|tr|td|h[1-6]|ul|ol|li|script|style|meta|title|link|article|section|img)\b[^<>]*>",
    re.IGNORECASE,
)
_MIN_HTML_TAGS = 5
_MD_HEADING = re.compile(r"^#{1,6}[ \t]+\S", re.MULTILINE)
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")


def detect_bom(data: bytes) -> tuple[str, int] | None:
    """(codec name, BOM length) when `data` starts with a Unicode byte-order mark."""
    for bom, codec in BOMS:
        if data.startswith(bom):
            return codec, len(bom)
    return None


def sniff(data: bytes, name: str = "") -> str:
    """Return "pdf", "docx", "html", "markdown" or "text" for `data`, judged by its content.

    Raises EmptyFile, BinaryFile (bytes that are not text) or UnsupportedType (a known other format).
    """
    if not data.strip():
        raise EmptyFile("empty file")
    ext = _extension(name)
    if _is_pdf(data):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return _sniff_zip(data, ext)
    head = _text_head(data)
    if head is not None and not head.strip() and len(data) > _SAMPLE_BYTES and detect_bom(data) is None:
        # a long run of leading whitespace: judge the text that follows it (the file is not empty)
        head = _text_head(data.lstrip())
    if head is None:
        kind = filetype.guess(data[:8192])
        if kind is not None:
            raise UnsupportedType(f"unsupported file type: {kind.extension} ({kind.mime})")
        raise BinaryFile("binary data, not text")
    if not head.strip():
        raise EmptyFile("empty file (only whitespace)")
    return _sniff_text(head, ext)


def _extension(name: str) -> str:
    """Lower-case extension of a file name or of a URL's path."""
    path = urlsplit(name).path if "://" in name else name
    return PurePath(path).suffix.lower()


def _is_pdf(data: bytes) -> bool:
    """The PDF header at the start, or within the first KB of a file that also ends like a PDF."""
    at = data.find(b"%PDF-", 0, 1024)
    return at >= 0 and (not data[:at].strip() or b"%%EOF" in data[-2048:])


def _sniff_zip(data: bytes, ext: str) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        # A damaged archive that says it is a Word document is still handed to the DOCX reader,
        # which reports it as corrupt.
        return "docx" if ext == ".docx" or b"word/" in data[:4096] else _unsupported_zip(data, "damaged zip archive")
    if "word/document.xml" in names:
        return "docx"
    if any(n.startswith("xl/") for n in names):
        raise UnsupportedType("unsupported file type: xlsx spreadsheet")
    if any(n.startswith("ppt/") for n in names):
        raise UnsupportedType("unsupported file type: pptx presentation")
    return _unsupported_zip(data, "zip archive")


def _unsupported_zip(data: bytes, fallback: str) -> NoReturn:
    kind = filetype.guess(data[:8192])
    label = f"{kind.extension} ({kind.mime})" if kind is not None and kind.extension != "zip" else fallback
    raise UnsupportedType(f"unsupported file type: {label}")


def _text_head(data: bytes) -> str | None:
    """The decoded start of `data` when it is text, None when it looks binary."""
    sample = data[:_SAMPLE_BYTES]
    bom = detect_bom(sample)
    if bom is not None:
        codec, skip = bom
        return codecs.getincrementaldecoder(codec)(errors="replace").decode(sample[skip:])
    if b"\x00" in sample:
        return None
    try:
        # Not final: the sample may end in the middle of a multi-byte character.
        return codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(sample).best()
    if best is None:
        return None
    text = str(best)
    if len(_CONTROL.findall(text)) > _MAX_CONTROL_RATIO * max(len(text), 1):
        return None
    return text


def _sniff_text(head: str, ext: str) -> str:
    start = head.lstrip()
    if start.startswith("{\\rtf"):
        raise UnsupportedType("unsupported file type: rtf (Rich Text Format)")
    if _HTML_START.match(start):
        return "html"
    if ext in _MARKDOWN_EXTS:
        return "markdown"
    if len(_HTML_TAG.findall(head)) >= _MIN_HTML_TAGS:
        return "html"
    if ext == ".txt":
        return "text"
    headings = _MD_HEADING.findall(head)
    if len(headings) >= 2 or (headings and _MD_HEADING.match(start)):
        return "markdown"
    return "text"
