"""Plain text and Markdown: decode, normalize, and (Markdown) record the `#` headings."""
from __future__ import annotations

import re

import charset_normalizer

from dossier.ingest.models import ReadResult
from dossier.ingest.normalize import normalize_text
from dossier.ingest.settings import IngestSettings
from dossier.ingest.sniff import detect_bom

_MD_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_WESTERN = "cp1252"
_CHAOS_TIE = 0.03
_COHERENCE_TIE = 0.02


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode bytes to (text, encoding name): BOM, then strict UTF-8, then a detected charset.

    Falls back to cp1252 and finally latin-1, which decodes any byte string.
    """
    bom = detect_bom(data)
    if bom is not None:
        codec, skip = bom
        decode_as = "utf-8" if codec == "utf-8-sig" else codec
        return data[skip:].decode(decode_as, errors="replace"), codec
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    guess = _guess_charset(data)
    if guess is not None:
        return guess
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _guess_charset(data: bytes) -> tuple[str, str] | None:
    """charset-normalizer's best match; Windows-1252 when it ties with another single-byte Latin page.

    On short Western text the detector often cannot tell cp1252 from cp1250/cp1257 and picks one
    arbitrarily ("Señor" becomes "Seńor"); cp1252 is by far the most common legacy encoding.
    """
    matches = charset_normalizer.from_bytes(data)
    best = matches.best()
    if best is None:
        return None
    for match in matches:
        tied = (match.chaos <= best.chaos + _CHAOS_TIE and match.coherence >= best.coherence - _COHERENCE_TIE)
        if tied and _WESTERN in match.could_be_from_charset:
            return str(match), _WESTERN
    return str(best), best.encoding


def read_text(data: bytes, settings: IngestSettings) -> ReadResult:
    """Read a plain text file."""
    text, encoding = decode_text(data)
    return ReadResult(text=normalize_text(text), format="text", meta={"encoding": encoding})


def read_markdown(data: bytes, settings: IngestSettings) -> ReadResult:
    """Read a Markdown file as written (not rendered), recording its ATX `#` headings."""
    raw, encoding = decode_text(data)
    text = normalize_text(raw)
    return ReadResult(text=text, format="markdown", headings=markdown_headings(text),
                      meta={"encoding": encoding})


def markdown_headings(text: str) -> list[tuple[int, str]]:
    """(offset of the heading line, heading text) for each `#` heading outside fenced code."""
    headings: list[tuple[int, str]] = []
    in_fence = False
    offset = 0
    for line in text.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence:
            m = _MD_HEADING.match(line)
            if m:
                headings.append((offset, m.group(2).strip()))
        offset += len(line) + 1
    return headings


READERS = {"text": read_text, "markdown": read_markdown}
