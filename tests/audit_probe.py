"""Which vulnerability service can `pip-audit` use from here? Used by `make audit`.

pip-audit's default service (`-s pypi`) reads GET https://pypi.org/pypi/<name>/<version>/json for each
installed distribution; `-s osv` POSTs to https://api.osv.dev/v1/query. This probe tries one request of
each kind for an installed distribution (pip) and prints the first service that answers properly
("pypi" or "osv"), exit 0; otherwise it says which endpoint failed and how, on stderr, and exits 2 (NOT
AUDITED: better than a "No known vulnerabilities found" over dependencies that were all skipped).

    python tests/audit_probe.py [--pypi-url URL] [--osv-url URL] [--timeout S]
"""
from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from importlib.metadata import version

PACKAGE = "pip"


def _get_json(url: str, timeout: float, body: dict | None = None) -> tuple[int | None, object, str]:
    """(HTTP status or None, parsed JSON or None, a one-line failure reason or "")."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        return exc.code, None, f"answered HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        why = getattr(exc, "reason", exc)
        return None, None, f"could not be reached ({' '.join(str(why).split())[:160]})"
    try:
        return status, json.loads(raw), ""
    except ValueError:
        return status, None, f"answered HTTP {status} with something other than JSON"


def probe(pypi_url: str, osv_url: str, timeout: float) -> tuple[str | None, list[str]]:
    """(the usable service or None, the reasons each service failed)."""
    ver = version(PACKAGE)
    failures = []
    per_version = f"{pypi_url.rstrip('/')}/pypi/{PACKAGE}/{ver}/json"
    status, doc, why = _get_json(per_version, timeout)
    if not why and isinstance(doc, dict) and "vulnerabilities" in doc:
        return "pypi", []
    why = why or "answered without a 'vulnerabilities' list"
    project = f"{pypi_url.rstrip('/')}/pypi/{PACKAGE}/json"
    p_status, _, p_why = _get_json(project, timeout) if status == 404 else (None, None, "")
    extra = (f", while {project} answers {p_status}: the index here serves project pages but not the "
             f"per-version API pip-audit needs" if p_status == 200 and not p_why else "")
    failures.append(f"-s pypi: GET {per_version} {why}{extra}")
    query = f"{osv_url.rstrip('/')}/v1/query"
    status, doc, why = _get_json(query, timeout, {"package": {"name": PACKAGE, "ecosystem": "PyPI"}, "version": ver})
    if not why and isinstance(doc, dict):
        return "osv", failures
    failures.append(f"-s osv: POST {query} {why or 'answered with something other than a JSON object'}")
    return None, failures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pypi-url", default="https://pypi.org")
    ap.add_argument("--osv-url", default="https://api.osv.dev")
    ap.add_argument("--timeout", type=float, default=10.0)
    args = ap.parse_args(argv)
    service, failures = probe(args.pypi_url, args.osv_url, args.timeout)
    if service:
        print(service)
        return 0
    print("audit: NOT AUDITED: no vulnerability service pip-audit can use answers from here:", file=sys.stderr)
    for line in failures:
        print(f"audit:   {line}", file=sys.stderr)
    print("audit: run 'make audit' where pypi.org or api.osv.dev can be reached; README.md (Security) says "
          "what was last audited.", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
