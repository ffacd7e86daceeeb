"""Settings owned by the ingest stage (a section of the root settings, `DOSSIER_INGEST__*`)."""
from __future__ import annotations

from pydantic import BaseModel, Field


class IngestSettings(BaseModel):
    chunk_tokens: int = Field(256, ge=32, le=4096, description="Target chunk size in tiktoken tokens.")
    chunk_overlap: int = Field(32, ge=0, le=1024, description="Tokens of trailing sentences repeated at the start of the next chunk.")
    tokenizer: str = Field("cl100k_base", description="tiktoken encoding used to size chunks.")
    max_file_mb: float = Field(50.0, gt=0, description="Files larger than this are refused (MiB).")
    max_decompressed_mb: float = Field(200.0, gt=0, description="Refuse archives (DOCX) whose members expand past this (MiB).")
    max_compression_ratio: float = Field(100.0, gt=1, description="Refuse archives whose expansion ratio exceeds this (zip-bomb guard).")
    flush_chunks: int = Field(256, ge=1, le=100_000, description="Chunks per embedding step; after each step every document whose "
                              "chunks all have vectors is written (a finished document never waits for a larger one), and a "
                              "stop request (Ctrl-C) is honoured.")
    max_chunks_per_document: int = Field(20_000, ge=1, le=10_000_000, description="A document that chunks into more than this is "
                                         "refused with a per-file error (a runaway file would otherwise embed for hours).")
    fetch_timeout_s: float = Field(30.0, gt=0, description="Timeout for fetching a URL.")
    allow_private_urls: bool = Field(False, description="Fetch URLs whose host resolves to a loopback, private, link-local or otherwise non-public address (off: such URLs, and redirects to them, are refused; turn on only for a trusted intranet).")
    max_redirects: int = Field(5, ge=0, le=20, description="Most redirects followed when fetching a URL (each hop is checked like the first).")
    user_agent: str = Field("dossier/0.1 (+newsroom research tool)", description="User-Agent sent when fetching URLs.")
