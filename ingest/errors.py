"""Errors raised for one input file. Each carries a plain-words reason for the per-file report."""
from __future__ import annotations


class IngestError(Exception):
    """A data error in one input: the file is reported as failed and the run continues."""

    code = "failed"

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class UnsupportedType(IngestError):
    code = "unsupported-type"


class CorruptFile(IngestError):
    code = "corrupt"


class NoText(IngestError):
    code = "no-text"


class EmptyFile(IngestError):
    code = "empty"


class BinaryFile(IngestError):
    code = "binary"


class TooLarge(IngestError):
    code = "too-large"


class ArchiveBomb(IngestError):
    code = "archive-bomb"


class FetchError(IngestError):
    code = "fetch-failed"
