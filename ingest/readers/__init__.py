"""Readers per format: bytes in, a normalized `ReadResult` out. The format is sniffed from content."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from dossier.ingest.errors import TooLarge, UnsupportedType
from dossier.ingest.models import ReadResult
from dossier.ingest.readers import docx, html, pdf, text
from dossier.ingest.readers.text import decode_text
from dossier.ingest.settings import IngestSettings
from dossier.ingest.sniff import sniff

Reader = Callable[[bytes, IngestSettings], ReadResult]

# Each reader module declares the formats it handles in its own READERS mapping.
READERS: Mapping[str, Reader] = MappingProxyType({**html.READERS, **pdf.READERS, **docx.READERS, **text.READERS})

_MB = 1024 * 1024

__all__ = ["READERS", "Reader", "decode_text", "read_bytes"]


def read_bytes(data: bytes, name: str, settings: IngestSettings) -> ReadResult:
    """Read one file's bytes: check the size limit, sniff the format, run that format's reader.

    `name` (a file name or URL path) is only a hint; raises an `IngestError` subclass on bad input.
    """
    limit = settings.max_file_mb * _MB
    if len(data) > limit:
        raise TooLarge(f"file is {len(data) / _MB:.1f} MB, over the {settings.max_file_mb:g} MB limit")
    fmt = sniff(data, name)
    reader = READERS.get(fmt)
    if reader is None:
        raise UnsupportedType(f"no reader for {fmt}")
    return reader(data, settings)
