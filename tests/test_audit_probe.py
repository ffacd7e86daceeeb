"""tests/audit_probe.py (used by `make audit`) against fake PyPI mirrors and OSV servers on 127.0.0.1:
it picks the service pip-audit can really use, and otherwise names the endpoint that failed and how."""
from __future__ import annotations

import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import audit_probe  # noqa: E402

PIP = version("pip")


def serve(routes: dict[tuple[str, str], tuple[int, bytes]]):
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            status, body = routes.get((self.command, self.path), (404, b"not found"))
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer  # noqa: N815

        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


@pytest.fixture
def dead_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch):
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


PROJECT = (200, json.dumps({"info": {"version": PIP}, "vulnerabilities": []}).encode())


def test_full_pypi_api_is_chosen(dead_url):
    httpd, url = serve({("GET", f"/pypi/pip/{PIP}/json"): PROJECT})
    try:
        assert audit_probe.probe(url, dead_url, 5) == ("pypi", [])
    finally:
        httpd.shutdown()


def test_mirror_without_the_per_version_api_falls_back_to_osv():
    mirror, murl = serve({("GET", "/pypi/pip/json"): PROJECT})
    osv, ourl = serve({("POST", "/v1/query"): (200, b"{}")})
    try:
        service, failures = audit_probe.probe(murl, ourl, 5)
        assert service == "osv"
        assert failures == [f"-s pypi: GET {murl}/pypi/pip/{PIP}/json answered HTTP 404, while {murl}/pypi/pip/json "
                            "answers 200: the index here serves project pages but not the per-version API pip-audit needs"]
    finally:
        mirror.shutdown()
        osv.shutdown()


def test_neither_service_usable_is_not_audited_and_says_why(dead_url, capsys, monkeypatch):
    mirror, murl = serve({("GET", "/pypi/pip/json"): PROJECT, ("GET", f"/pypi/pip/{PIP}/json"): (200, b"<html>")})
    try:
        assert audit_probe.main(["--pypi-url", murl, "--osv-url", dead_url, "--timeout", "5"]) == 2
    finally:
        mirror.shutdown()
    out = capsys.readouterr()
    assert out.out == ""  # nothing for `make audit` to hand to pip-audit
    lines = out.err.splitlines()
    assert lines[0] == "audit: NOT AUDITED: no vulnerability service pip-audit can use answers from here:"
    assert lines[1] == f"audit:   -s pypi: GET {murl}/pypi/pip/{PIP}/json answered HTTP 200 with something other than JSON"
    assert lines[2].startswith(f"audit:   -s osv: POST {dead_url}/v1/query could not be reached (")
    assert "refused" in lines[2].lower()
