"""`dossier serve`: the web UI and JSON API on one port (Gradio mounted on FastAPI, run by uvicorn)."""
from __future__ import annotations

import ipaddress
import threading
from pathlib import Path
from typing import Optional

import typer

from .cli_common import Commands, UserError, ctx_of, err, out

commands = Commands()


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and "localhost" are reachable only from this machine."""
    h = host.strip().strip("[]").lower()
    if h == "localhost" or h.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False  # a host name: may resolve to anything


def parse_credential(text: str, where: str) -> tuple[str, str]:
    user, sep, password = text.partition(":")
    if not sep or not user.strip() or not password:
        raise UserError(f"{where}: expected USER:PASSWORD, got {_redact(text)!r}")
    return user.strip(), password


def _redact(text: str) -> str:
    user, sep, _ = text.partition(":")
    return f"{user}:***" if sep else text[:2] + "***"


def read_auth_file(path: Path) -> list[tuple[str, str]]:
    """USER:PASSWORD per line; blank lines and lines starting with # are skipped."""
    if not path.is_file():
        raise UserError(f"--auth-file {path}: no such file")
    creds = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        creds.append(parse_credential(line, f"{path}:{lineno}"))
    if not creds:
        raise UserError(f"--auth-file {path}: expected at least one USER:PASSWORD line, got none")
    return creds


def resolve_auth(auth: Optional[str], auth_file: Optional[Path], host: str, insecure_no_auth: bool) -> list[tuple[str, str]]:
    """The credentials to require; refuses a non-loopback bind without any (unless told it's fine)."""
    creds: list[tuple[str, str]] = []
    if auth:
        creds.append(parse_credential(auth, "--auth"))
    if auth_file:
        creds.extend(read_auth_file(auth_file))
    if not creds and not is_loopback(host) and not insecure_no_auth:
        raise UserError(
            f"refusing to serve on {host} without authentication: anyone who can reach this address could read and "
            f"change the library. Pass --auth USER:PASSWORD or --auth-file FILE (or --insecure-no-auth if you mean it)."
        )
    return creds


@commands.command()
def serve(
    ctx: typer.Context,
    host: Optional[str] = typer.Option(None, "--host", help="Address to bind (default 127.0.0.1; env DOSSIER_SERVE__HOST)."),
    port: Optional[int] = typer.Option(None, "--port", min=1, max=65535, help="Port (default 7860; env DOSSIER_SERVE__PORT)."),
    auth: Optional[str] = typer.Option(None, "--auth", help="Require this login, USER:PASSWORD (UI login and HTTP Basic for the API)."),
    auth_file: Optional[Path] = typer.Option(None, "--auth-file", help="File of USER:PASSWORD lines."),
    insecure_no_auth: bool = typer.Option(False, "--insecure-no-auth", help="Allow a non-loopback address without authentication."),
):
    """Serve the chat UI (Chat, Library, Document, Grading) and the JSON API (/api/ask, /api/sources)."""
    app_ctx = ctx_of(ctx)
    s = app_ctx.settings
    host = host or s.serve.host
    port = port or s.serve.port
    creds = resolve_auth(auth, auth_file, host, insecure_no_auth)
    s.serve.host, s.serve.port = host, port

    import uvicorn

    from .server import create_app

    svc = app_ctx.index
    svc.hold_store_lock("serve")  # the app writes (Library tab): other processes get "store in use by pid N"
    err.print("loading the embedder and index…")
    empty = not svc.catalog.chunk_count()

    def warm_up() -> None:
        # what the first question would otherwise pay: the embedder, Chroma, BM25 and the sentence splitter
        # (NLTK's import alone is ~1 s); it runs while the web app is built
        if empty:
            svc.embedder.embed_query("warm up")
        else:
            svc.retriever.search("warm up", k=1)
        from dossier.ingest.sentences import sentence_spans

        sentence_spans("Warm up. The sentence splitter is loaded now.")

    warming = threading.Thread(target=warm_up, name="warm-up", daemon=True)
    warming.start()
    if empty:
        err.print("[yellow]the library is empty:[/yellow] add documents in the Library tab or with `dossier ingest`")
    app = create_app(app_ctx, auth=creds or None)
    warming.join()
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    out.print(f"dossier is running at {url}  (API: {url}api/ask, {url}api/sources)"
              + ("  [login required]" if creds else ""), markup=False)
    if not is_loopback(host) and not creds:
        err.print("[red]warning:[/red] serving without authentication on a non-loopback address")
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=3)
    return 0
