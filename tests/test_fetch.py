"""fetch_url against a real http.server on 127.0.0.1 (no other network)."""
from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ingest.errors import FetchError, TooLarge
from ingest.fetch import Fetched, fetch_url
from ingest.readers import read_bytes
from ingest.settings import IngestSettings

ARTICLE = (Path(__file__).parent / "fixtures" / "nav-page.html").read_bytes()
BIG = 2 * 1024 * 1024
SETTINGS = IngestSettings(max_file_mb=1, fetch_timeout_s=5, user_agent="dossier-test/1.0")


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.server.seen_agents.append(self.headers.get("User-Agent", ""))
        if self.path == "/article.html":
            self._send(200, ARTICLE, "text/html; charset=utf-8")
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/article.html")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/big":
            self._send(200, b"x" * BIG, "text/plain")
        elif self.path == "/big-stream":  # no Content-Length: the limit must hold while streaming
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            try:
                for _ in range(BIG // 65536):
                    self.wfile.write(b"y" * 65536)
            except OSError:
                pass  # the client hung up once over the limit
        elif self.path == "/slow":
            time.sleep(1.5)
            self._send(200, b"late", "text/plain")
        elif self.path == "/error":
            self._send(500, b"boom", "text/plain")
        else:
            self._send(404, b"not here", "text/plain")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server() -> Iterator[tuple[str, ThreadingHTTPServer]]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.seen_agents = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def test_fetch_archives_bytes_with_sidecar(server, tmp_path):
    base, httpd = server
    fetched = fetch_url(f"{base}/article.html", tmp_path / "archive", SETTINGS)
    assert isinstance(fetched, Fetched)
    assert fetched.data == ARTICLE
    assert fetched.sha256 == hashlib.sha256(ARTICLE).hexdigest()
    assert fetched.content_type.startswith("text/html")
    assert fetched.archive_path == tmp_path / "archive" / f"{fetched.sha256}.bin"
    assert fetched.archive_path.read_bytes() == ARTICLE
    sidecar = json.loads((tmp_path / "archive" / f"{fetched.sha256}.json").read_text())
    assert sidecar == {"url": fetched.url, "final_url": fetched.final_url, "retrieved_at": fetched.retrieved_at,
                       "content_type": fetched.content_type, "sha256": fetched.sha256, "size": len(ARTICLE)}
    assert fetched.retrieved_at.endswith("Z") and fetched.retrieved_at[:4].isdigit()
    assert httpd.seen_agents == ["dossier-test/1.0"]
    assert sorted(p.name for p in (tmp_path / "archive").iterdir()) == [f"{fetched.sha256}.bin",
                                                                         f"{fetched.sha256}.json"]


def test_fetch_follows_redirects_and_reads_as_html(server, tmp_path):
    base, _ = server
    fetched = fetch_url(f"{base}/redirect", tmp_path, SETTINGS)
    assert fetched.url == f"{base}/redirect"
    assert fetched.final_url == f"{base}/article.html"
    result = read_bytes(fetched.data, fetched.final_url, SETTINGS)
    assert result.format == "html"
    assert "Delivery of the cameras was completed" in result.text


@pytest.mark.parametrize("path, status", [("/missing", 404), ("/error", 500)])
def test_fetch_http_error_status(server, tmp_path, path, status):
    base, _ = server
    with pytest.raises(FetchError) as info:
        fetch_url(f"{base}{path}", tmp_path, SETTINGS)
    assert info.value.reason == f"HTTP {status} for {base}{path}"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("path", ["/big", "/big-stream"])
def test_fetch_too_large(server, tmp_path, path):
    base, _ = server
    with pytest.raises(TooLarge) as info:
        fetch_url(f"{base}{path}", tmp_path, SETTINGS)
    assert "over the 1 MB limit" in info.value.reason
    assert list(tmp_path.iterdir()) == []


def test_fetch_timeout(server, tmp_path):
    base, _ = server
    with pytest.raises(FetchError) as info:
        fetch_url(f"{base}/slow", tmp_path, IngestSettings(fetch_timeout_s=0.3))
    assert info.value.reason.startswith("timed out after 0.3 s")


def test_fetch_connection_refused(tmp_path):
    with socket.socket() as sock:  # a port that was free a moment ago and has no listener now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(FetchError) as info:
        fetch_url(f"http://127.0.0.1:{port}/x", tmp_path, SETTINGS)
    assert info.value.reason.startswith(f"could not fetch http://127.0.0.1:{port}/x")
    assert "\n" not in info.value.reason


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/file.pdf", "file:///etc/passwd", "127.0.0.1/page"])
def test_fetch_only_http_schemes(tmp_path, url):
    with pytest.raises(FetchError) as info:
        fetch_url(url, tmp_path, SETTINGS)
    assert "only http and https" in info.value.reason
