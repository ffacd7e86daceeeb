"""Fetch a URL once and archive its raw bytes (named by sha256) with a JSON sidecar."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from ingest.errors import FetchError, TooLarge
from ingest.settings import IngestSettings

_MB = 1024 * 1024
_SCHEMES = ("http", "https")


@dataclass(frozen=True)
class Fetched:
    """The raw bytes of one fetched URL and where they were archived."""

    url: str
    final_url: str  # after redirects
    data: bytes
    sha256: str
    retrieved_at: str  # ISO 8601, UTC
    content_type: str
    archive_path: Path


def fetch_url(url: str, archive_dir: Path, settings: IngestSettings) -> Fetched:
    """GET `url` (redirects followed, size-limited) and archive the bytes under `archive_dir`.

    Raises FetchError (bad scheme, HTTP error status, network failure) or TooLarge.
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme not in _SCHEMES:
        raise FetchError(f"only http and https URLs can be fetched, got {scheme or 'no scheme'!r}: {url}")
    retrieved_at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    data, final_url, content_type = _download(url, settings)
    digest = hashlib.sha256(data).hexdigest()
    fetched = Fetched(url=url, final_url=final_url, data=data, sha256=digest, retrieved_at=retrieved_at,
                      content_type=content_type, archive_path=Path(archive_dir) / f"{digest}.bin")
    _archive(fetched)
    return fetched


def _download(url: str, settings: IngestSettings) -> tuple[bytes, str, str]:
    """(body, final URL, content type), reading at most the size limit."""
    limit = int(settings.max_file_mb * _MB)
    headers = {"User-Agent": settings.user_agent}
    try:
        with httpx.Client(timeout=settings.fetch_timeout_s, follow_redirects=True, headers=headers) as client:
            with client.stream("GET", url) as response:
                if not response.is_success:
                    raise FetchError(f"HTTP {response.status_code} for {url}")
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise TooLarge(f"response from {url} is {int(declared) / _MB:.1f} MB, "
                                   f"over the {settings.max_file_mb:g} MB limit")
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > limit:
                        raise TooLarge(f"response from {url} is over the {settings.max_file_mb:g} MB limit")
                return bytes(body), str(response.url), response.headers.get("Content-Type", "")
    except httpx.TimeoutException as exc:
        raise FetchError(f"timed out after {settings.fetch_timeout_s:g} s fetching {url}") from exc
    except httpx.TooManyRedirects as exc:
        raise FetchError(f"too many redirects fetching {url}") from exc
    except httpx.HTTPError as exc:  # connection refused, DNS failure, protocol errors...
        raise FetchError(f"could not fetch {url}: {_one_line(exc)}") from exc


def _archive(fetched: Fetched) -> None:
    """Write `<sha256>.bin` and its `<sha256>.json` sidecar atomically."""
    sidecar = {
        "url": fetched.url,
        "final_url": fetched.final_url,
        "retrieved_at": fetched.retrieved_at,
        "content_type": fetched.content_type,
        "sha256": fetched.sha256,
        "size": len(fetched.data),
    }
    path = fetched.archive_path
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(path, fetched.data)
    _write_atomic(path.with_suffix(".json"), (json.dumps(sidecar, indent=2) + "\n").encode("utf-8"))


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _one_line(exc: BaseException) -> str:
    return (" ".join(str(exc).split()) or type(exc).__name__)[:160]
