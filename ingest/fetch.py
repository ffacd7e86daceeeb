"""Fetch a URL once and archive its raw bytes (named by sha256) with a JSON sidecar.

Server-side request forgery guard: only http and https; the host is resolved here and the request is
refused when any of its addresses is loopback, private, link-local, multicast, reserved, unspecified
or otherwise not globally routable (IPv4 and IPv6; IPv4-mapped, 6to4, Teredo and NAT64 addresses are
judged by the IPv4 address inside them), unless `IngestSettings.allow_private_urls` is on. Redirects
are not followed by httpx: each hop is checked the same way, up to `max_redirects` hops.

The connection is pinned to the address that was checked: the request goes to the IP itself, with
the original `Host` header and, for https, the original name as SNI and for certificate
verification, so the name is resolved exactly once per hop and a DNS answer that changes between the
check and the connection (DNS rebinding) is never used. Proxies from the environment are not used for
these fetches (a proxy would resolve the name itself, out of reach of the check); SSL_CERT_FILE and
SSL_CERT_DIR are.
"""
from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import socket
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import httpx

from dossier.ingest.errors import FetchError, TooLarge
from dossier.ingest.settings import IngestSettings

_MB = 1024 * 1024
_SCHEMES = ("http", "https")
_REDIRECTS = (301, 302, 303, 307, 308)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_ALLOW_HINT = "set DOSSIER_INGEST__ALLOW_PRIVATE_URLS=true to allow private addresses"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


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
    """GET `url` (redirects followed hop by hop, each checked; size-limited) and archive the bytes under
    `archive_dir`.

    Raises FetchError (bad scheme, refused address, HTTP error status, network failure) or TooLarge.
    """
    retrieved_at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    data, final_url, content_type = _download(url, settings)
    digest = hashlib.sha256(data).hexdigest()
    fetched = Fetched(url=url, final_url=final_url, data=data, sha256=digest, retrieved_at=retrieved_at,
                      content_type=content_type, archive_path=Path(archive_dir) / f"{digest}.bin")
    _archive(fetched)
    return fetched


def address_refusal(ip: IPAddress) -> str | None:
    """Why `ip` must not be fetched from ("a loopback address", ...), or None for a public address."""
    inner = None
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            inner = ("an IPv4-mapped", ip.ipv4_mapped)
        elif ip.sixtofour is not None:
            inner = ("a 6to4", ip.sixtofour)
        elif ip.teredo is not None:
            inner = ("a Teredo", ip.teredo[1])
        elif ip in _NAT64:
            inner = ("a NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if inner is not None:
        why = address_refusal(inner[1])
        return f"{inner[0]} address of {inner[1]}, {why}" if why else None
    for test, what in (("is_unspecified", "an unspecified"), ("is_loopback", "a loopback"),
                       ("is_link_local", "a link-local"), ("is_multicast", "a multicast"),
                       ("is_site_local", "a site-local"), ("is_private", "a private"), ("is_reserved", "a reserved")):
        if getattr(ip, test, False):
            return f"{what} address"
    if not ip.is_global:
        return "a non-public address"
    return None


@dataclass(frozen=True)
class _Hop:
    url: httpx.URL  # as the user (or the redirect) gave it
    addresses: list[str]  # checked addresses to connect to, in resolver order


def _check_hop(hop: str, original: str, settings: IngestSettings) -> _Hop:
    """Parse, resolve and check one hop; a refusal names the hop (and the URL it was redirected from)."""
    where = hop if hop == original else f"{hop} (redirected from {original})"
    try:
        url = httpx.URL(hop)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise FetchError(f"invalid URL {where}: {_one_line(exc)}") from exc
    if url.scheme not in _SCHEMES:
        raise FetchError(f"only http and https URLs can be fetched, got {url.scheme or 'no scheme'!r}: {where}")
    host = url.raw_host.decode("ascii")
    if not host:
        raise FetchError(f"no host in URL {where}")
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise FetchError(f"could not resolve host {host!r} for {where}: {_one_line(exc)}") from exc
    addresses: list[str] = []
    for info in infos:
        addr = str(info[4][0]).split("%", 1)[0]
        if addr not in addresses:
            addresses.append(addr)
    if not addresses:
        raise FetchError(f"could not resolve host {host!r} for {where}: no addresses")
    if not settings.allow_private_urls:
        for addr in addresses:
            why = address_refusal(ipaddress.ip_address(addr))
            if why:
                named = addr if addr == host.strip("[]") else f"{host!r} resolves to {addr}"
                raise FetchError(f"refused {where}: {named}, {why} ({_ALLOW_HINT})")
    return _Hop(url, addresses)


def _download(url: str, settings: IngestSettings) -> tuple[bytes, str, str]:
    """(body, final URL, content type), reading at most the size limit."""
    limit = int(settings.max_file_mb * _MB)
    headers = {"User-Agent": settings.user_agent}
    current = url
    try:
        # trust_env=False: no proxies from the environment; SSL_CERT_FILE / SSL_CERT_DIR are still honoured
        with httpx.Client(timeout=settings.fetch_timeout_s, follow_redirects=False, headers=headers, trust_env=False,
                          verify=httpx.create_ssl_context(trust_env=True)) as client:
            for _ in range(settings.max_redirects + 1):
                hop = _check_hop(current, url, settings)
                with _open_pinned(client, hop) as response:
                    location = response.headers.get("Location")
                    if response.status_code in _REDIRECTS and location:
                        current = str(hop.url.join(location))
                        continue
                    if not response.is_success:
                        raise FetchError(f"HTTP {response.status_code} for {_shown(current, url)}")
                    declared = response.headers.get("Content-Length", "")
                    if declared.isdigit() and int(declared) > limit:
                        raise TooLarge(f"response from {_shown(current, url)} is {int(declared) / _MB:.1f} MB, "
                                       f"over the {settings.max_file_mb:g} MB limit")
                    body = bytearray()
                    for chunk in response.iter_bytes():
                        body += chunk
                        if len(body) > limit:
                            raise TooLarge(f"response from {_shown(current, url)} is over the "
                                           f"{settings.max_file_mb:g} MB limit")
                    return bytes(body), str(hop.url), response.headers.get("Content-Type", "")
            raise FetchError(f"too many redirects (over {settings.max_redirects}) fetching {url}")
    except httpx.TimeoutException as exc:
        raise FetchError(f"timed out after {settings.fetch_timeout_s:g} s fetching {_shown(current, url)}") from exc
    except httpx.HTTPError as exc:  # connection refused, protocol errors...
        raise FetchError(f"could not fetch {_shown(current, url)}: {_one_line(exc)}") from exc


class _open_pinned:
    """Context manager: stream a GET of `hop` from one of its checked addresses (the next one after a
    connection failure), never resolving the name again."""

    def __init__(self, client: httpx.Client, hop: _Hop):
        self.client, self.hop = client, hop
        self._cm = None

    def __enter__(self) -> httpx.Response:
        url, hop = self.hop.url, self.hop
        host_header = url.netloc.decode("ascii")  # name[:port], IDNA-encoded, no user info
        extensions = {"sni_hostname": url.raw_host.decode("ascii")} if url.scheme == "https" else {}
        last: Exception | None = None
        for addr in hop.addresses:
            cm = self.client.stream("GET", url.copy_with(host=addr), headers={"Host": host_header},
                                    extensions=extensions)
            try:
                response = cm.__enter__()
            except httpx.ConnectError as exc:
                last = exc
                continue
            self._cm = cm
            return response
        assert last is not None
        raise last

    def __exit__(self, *exc_info) -> None:
        if self._cm is not None:
            self._cm.__exit__(*exc_info)


def _shown(current: str, original: str) -> str:
    return current if current == original else f"{current} (redirected from {original})"


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
