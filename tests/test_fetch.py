"""fetch_url against a real http.server on 127.0.0.1 (no other network), and its SSRF guard: refused
addresses (checked before any connection), every redirect hop checked, connections pinned to the
checked address, and the guard as seen from the CLI and the app's Library URL box."""
from __future__ import annotations

import hashlib
import ipaddress
import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from dossier.ingest.errors import FetchError, TooLarge
import dossier.ingest.fetch as fetch_mod
from dossier.ingest.fetch import Fetched, address_refusal, fetch_url
from dossier.ingest.readers import read_bytes
from dossier.ingest.settings import IngestSettings

ARTICLE = (Path(__file__).parent / "fixtures" / "nav-page.html").read_bytes()
BIG = 2 * 1024 * 1024
# the test server is on loopback: these settings allow private addresses explicitly
SETTINGS = IngestSettings(max_file_mb=1, fetch_timeout_s=5, user_agent="dossier-test/1.0", allow_private_urls=True)
DEFAULT = IngestSettings(max_file_mb=1, fetch_timeout_s=5)  # the guard on, as in the app and the CLI


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.server.seen_agents.append(self.headers.get("User-Agent", ""))
        self.server.seen.append((self.path, self.headers.get("Host", "")))
        if self.path.startswith("/to?"):  # redirect to whatever follows "/to?"
            self.send_response(302)
            self.send_header("Location", self.path[len("/to?"):])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/loop":
            self.send_response(307)
            self.send_header("Location", "/loop")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/article.html":
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
    httpd.seen = []
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
        fetch_url(f"{base}/slow", tmp_path, IngestSettings(fetch_timeout_s=0.3, allow_private_urls=True))
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


# --- SSRF guard ------------------------------------------------------------------------------------
HINT = "(set DOSSIER_INGEST__ALLOW_PRIVATE_URLS=true to allow private addresses)"


def test_loopback_server_is_refused_by_default_before_any_request(server, tmp_path):
    base, httpd = server
    url = f"{base}/article.html"
    with pytest.raises(FetchError) as info:
        fetch_url(url, tmp_path, DEFAULT)
    assert info.value.reason == f"refused {url}: 127.0.0.1, a loopback address {HINT}"
    assert httpd.seen == [] and list(tmp_path.iterdir()) == []
    assert IngestSettings().allow_private_urls is False


@pytest.mark.parametrize("host, why", [
    ("localhost", "'localhost' resolves to "),  # 127.0.0.1 or ::1, from /etc/hosts
    ("127.8.9.1", "127.8.9.1, a loopback address"),
    ("2130706433", "'2130706433' resolves to 127.0.0.1, a loopback address"),  # 127.0.0.1 in decimal
    ("0.0.0.0", "0.0.0.0, an unspecified address"),
    ("10.1.2.3", "10.1.2.3, a private address"),
    ("172.16.0.1", "172.16.0.1, a private address"),
    ("192.168.1.1", "192.168.1.1, a private address"),
    ("169.254.169.254", "169.254.169.254, a link-local address"),  # cloud metadata service
    ("100.64.0.1", "100.64.0.1, a non-public address"),  # carrier-grade NAT
    ("224.0.0.1", "224.0.0.1, a multicast address"),
    ("240.0.0.1", "240.0.0.1, a private address"),  # reserved 240/4 (Python counts it as private too)
    ("[::1]", "::1, a loopback address"),
    ("[::]", "::, an unspecified address"),
    ("[fe80::1]", "fe80::1, a link-local address"),
    ("[fc00::1]", "fc00::1, a private address"),
    ("[ff02::1]", "ff02::1, a multicast address"),
    ("[::ffff:127.0.0.1]", "::ffff:127.0.0.1, an IPv4-mapped address of 127.0.0.1, a loopback address"),
    ("[::ffff:169.254.169.254]", "an IPv4-mapped address of 169.254.169.254, a link-local address"),
    ("[2002:a00:1::]", "2002:a00:1::, a 6to4 address of 10.0.0.1, a private address"),
    ("[64:ff9b::a9fe:a9fe]", "a NAT64 address of 169.254.169.254, a link-local address"),
])
def test_non_public_addresses_are_refused(tmp_path, host, why):
    url = f"http://{host}:8000/latest/meta-data"
    with pytest.raises(FetchError) as info:
        fetch_url(url, tmp_path, DEFAULT)
    reason = info.value.reason
    assert reason.startswith(f"refused {url}: ") and why in reason and reason.endswith(HINT), reason
    assert "\n" not in reason and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("addr", ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700::1111", "::ffff:8.8.8.8",
                                  "2002:808:808::"])
def test_public_addresses_pass_the_check(addr):
    assert address_refusal(ipaddress.ip_address(addr)) is None


@pytest.fixture
def loopback_is_public(monkeypatch):
    """Treat 127.0.0.1 (the test server) as a public address, so that what a redirect leads to is judged
    by the real rule: the setup of a public page redirecting inward, without leaving the machine."""
    real = fetch_mod.address_refusal
    monkeypatch.setattr(fetch_mod, "address_refusal", lambda ip: None if str(ip) == "127.0.0.1" else real(ip))


def test_loopback_is_public_fixture_lets_the_first_hop_through(server, tmp_path, loopback_is_public):
    base, _ = server
    assert fetch_url(f"{base}/article.html", tmp_path, DEFAULT).data == ARTICLE


@pytest.mark.parametrize("target, why", [
    ("http://127.0.0.2:{port}/article.html", "127.0.0.2, a loopback address"),
    ("http://169.254.169.254/latest/meta-data", "169.254.169.254, a link-local address"),
    ("http://[::ffff:10.0.0.1]/", "an IPv4-mapped address of 10.0.0.1, a private address"),
    ("http://[::1]:{port}/article.html", "::1, a loopback address"),
])
def test_every_redirect_hop_is_checked(server, tmp_path, loopback_is_public, target, why):
    base, httpd = server
    target = target.format(port=httpd.server_address[1])
    url = f"{base}/to?{target}"
    with pytest.raises(FetchError) as info:
        fetch_url(url, tmp_path, DEFAULT)
    assert info.value.reason.startswith(f"refused {target} (redirected from {url}): ")
    assert why in info.value.reason and info.value.reason.endswith(HINT)
    assert [p for p, _ in httpd.seen] == [f"/to?{target}"]  # the first hop only: the inward one never went out
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1:6379/_INFO"])
def test_redirect_to_other_schemes_is_refused(server, tmp_path, target):
    base, _ = server
    with pytest.raises(FetchError) as info:
        fetch_url(f"{base}/to?{target}", tmp_path, SETTINGS)
    assert info.value.reason.startswith("only http and https URLs can be fetched, got ")
    assert info.value.reason.endswith(f" (redirected from {base}/to?{target})")


def test_redirects_are_followed_up_to_the_hop_limit(server, tmp_path):
    base, httpd = server
    with pytest.raises(FetchError) as info:
        fetch_url(f"{base}/loop", tmp_path, SETTINGS.model_copy(update={"max_redirects": 3}))
    assert info.value.reason == f"too many redirects (over 3) fetching {base}/loop"
    assert [p for p, _ in httpd.seen] == ["/loop"] * 4
    chained = f"{base}/to?/to?/article.html"  # two hops, within the limit
    assert fetch_url(chained, tmp_path, SETTINGS.model_copy(update={"max_redirects": 2})).final_url == f"{base}/article.html"
    with pytest.raises(FetchError, match="too many redirects"):
        fetch_url(chained, tmp_path, SETTINGS.model_copy(update={"max_redirects": 1}))


def test_connection_is_pinned_to_the_checked_address(server, tmp_path, monkeypatch):
    """The name is resolved by the check only (once per hop); the HTTP client connects to the checked
    address with the original Host header and never resolves the name itself, so a DNS answer that
    changes after the check (DNS rebinding) is never used."""
    base, httpd = server
    port = httpd.server_address[1]
    real = socket.getaddrinfo
    asked: list[str] = []

    def resolver(host, *args, **kw):
        if host == "news.example":
            caller = sys._getframe(1).f_globals.get("__name__")
            asked.append(caller)
            if caller != "dossier.ingest.fetch":
                raise socket.gaierror(socket.EAI_NONAME, f"resolved again by {caller}: the connection was not pinned")
            return real("127.0.0.1", *args, **kw)
        return real(host, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    fetched = fetch_url(f"http://news.example:{port}/to?/article.html", tmp_path, SETTINGS)
    assert fetched.data == ARTICLE and fetched.final_url == f"http://news.example:{port}/article.html"
    assert httpd.seen == [("/to?/article.html", f"news.example:{port}"), ("/article.html", f"news.example:{port}")]
    assert asked == ["dossier.ingest.fetch", "dossier.ingest.fetch"]  # once per hop, by the check


def test_environment_proxies_are_not_used(server, tmp_path, monkeypatch):
    # a proxy resolves names itself, out of reach of the check: fetches go direct
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    base, _ = server
    assert fetch_url(f"{base}/article.html", tmp_path, SETTINGS).data == ARTICLE


def test_cli_ingest_refuses_a_private_url_unless_allowed(server, tmp_path, run_cli):
    base, httpd = server
    url = f"{base}/article.html"
    refused = run_cli("--data-dir", tmp_path / "data", "ingest", url)
    assert refused.exit_code == 1
    out = " ".join((refused.stdout + refused.stderr).split())
    assert f"refused {url}: 127.0.0.1, a loopback address" in out and httpd.seen == []
    allowed = run_cli("--data-dir", tmp_path / "data", "ingest", url, env={"DOSSIER_INGEST__ALLOW_PRIVATE_URLS": "true"})
    assert allowed.exit_code == 0, allowed.stdout + allowed.stderr
    assert [p for p, _ in httpd.seen] == ["/article.html"]


def test_library_url_box_refuses_a_private_url(server, tmp_path, make_service):
    from dossier.app.context import AppContext
    from dossier.app.settings import DossierSettings
    from dossier.app.ui import library as L
    from dossier.app.ui.services import UIServices

    base, httpd = server
    svc = make_service(tmp_path / "data")  # default ingest settings, as `dossier serve` has them
    ctx = AppContext(DossierSettings(data_dir=svc.data_dir))
    ctx.index = svc
    report = L.ingest(UIServices(ctx), None, f"{base}/article.html\nhttp://169.254.169.254/latest/meta-data", {})
    assert report.startswith("**Done:** 2 failed")
    assert f"refused {base}/article.html: 127.0.0.1, a loopback address" in report
    assert "refused http://169.254.169.254/latest/meta-data: 169.254.169.254, a link-local address" in report
    assert httpd.seen == [] and not svc.catalog.doc_ids()


def _self_signed(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for `name` (its own CA) and its key, as PEM files."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_pem, key_pem = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return cert_pem, key_pem


@pytest.mark.parametrize("trust", ["certifi", "SSL_CERT_FILE"])
def test_https_is_pinned_with_the_original_name_for_sni_and_certificate(tmp_path, monkeypatch, trust):
    """Over https the connection goes to the checked address, while SNI and certificate verification
    use the name from the URL: a certificate for news.example is accepted for news.example only."""
    import ssl

    import certifi

    cert_pem, key_pem = _self_signed(tmp_path, "news.example")
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    if trust == "certifi":
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        monkeypatch.setattr(certifi, "where", lambda: str(cert_pem))  # the client trusts this test CA only
    else:  # a newsroom's own CA bundle, named the usual way
        monkeypatch.setenv("SSL_CERT_FILE", str(cert_pem))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_pem, key_pem)
    sni: list[str | None] = []
    ctx.sni_callback = lambda sock, name, _ctx: sni.append(name)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads, httpd.seen_agents, httpd.seen = True, [], []
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **kw: real(
        "127.0.0.1" if host in ("news.example", "other.example") else host, *a, **kw))
    port = httpd.server_address[1]
    try:
        fetched = fetch_url(f"https://news.example:{port}/article.html", tmp_path / "a", SETTINGS)
        assert fetched.data == ARTICLE and fetched.final_url == f"https://news.example:{port}/article.html"
        assert sni == ["news.example"] and httpd.seen == [("/article.html", f"news.example:{port}")]
        with pytest.raises(FetchError) as info:  # same address, a name the certificate does not cover
            fetch_url(f"https://other.example:{port}/article.html", tmp_path / "b", SETTINGS)
        assert info.value.reason.startswith(f"could not fetch https://other.example:{port}/article.html: ")
        assert "certificate" in info.value.reason.lower() and len(httpd.seen) == 1
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
