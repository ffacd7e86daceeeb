"""The web app: the Gradio UI mounted on FastAPI, with a small JSON API beside it.

    POST /api/ask      {question, engine?, strict?, k?, filters?, history?} -> the Answer JSON
    POST /api/check    {text, k?} -> the draft-check JSON (`dossier check --json`); 422 on an empty draft
    GET  /api/sources  {"documents": [...]} (as `dossier sources --json`)
    GET  /api/health   {"status": "ok", "documents": n, "chunks": n}

With auth configured the UI asks for a login and the API wants HTTP Basic with the same credentials.

Request bodies are capped before they are read in full (`BodyLimit`): the UI's file upload endpoint
(Gradio's `/gradio_api/upload`) at the per-request upload quota (`max_request_mb` of the Library, at
least one file of `serve.max_upload_mb`), every other request at MAX_BODY_MB; over the cap: HTTP 413.
Gradio itself refuses any single file over `serve.max_upload_mb`.
"""
from __future__ import annotations

import secrets
from typing import Optional, Sequence

from fastapi import Depends, FastAPI, HTTPException, status
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel, ConfigDict, Field

from .context import AppContext

Credentials = Sequence[tuple[str, str]]
MAX_BODY_MB = 16.0  # any request but an upload: questions, history, UI events
_MULTIPART_SLACK = 1024 * 1024  # form boundaries and headers around the files of one upload


class _TooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: answer 413 to a request whose body is over its cap, judged by Content-Length
    up front and by counting the bytes as they arrive (chunked bodies have no length)."""

    def __init__(self, app, *, upload_bytes: int, other_bytes: int):
        self.app, self.upload_bytes, self.other_bytes = app, upload_bytes, other_bytes

    def cap_for(self, path: str) -> int:
        return self.upload_bytes if path.rstrip("/").endswith("/gradio_api/upload") else self.other_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        cap = self.cap_for(scope.get("path", ""))
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > cap:
            return await self._refuse(send, cap)
        seen = 0
        started = overflow = False

        async def counted():
            nonlocal seen, overflow
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    overflow = True
                    raise _TooLarge
            return message

        async def guarded_send(message):
            nonlocal started
            if overflow:  # whatever the app makes of the cut-off body (often a 500) is replaced by the 413
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, guarded_send)
        except Exception:
            if not overflow:
                raise
        if overflow and not started:
            await self._refuse(send, cap)

    @staticmethod
    async def _refuse(send, cap: int) -> None:
        body = f"request body over the {cap / 1048576:g} MB limit".encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class FiltersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kinds: list[str] = Field(default_factory=list, description="Only these document kinds.")
    publishers: list[str] = Field(default_factory=list, description="Only publishers containing one of these texts.")
    doc_ids: list[str] = Field(default_factory=list, description="Only these documents.")
    date_from: str = Field("", description="Only documents dated on/after (YYYY[-MM[-DD]]).")
    date_to: str = Field("", description="Only documents dated on/before (YYYY[-MM[-DD]]).")


class TurnIn(BaseModel):
    question: str = Field(..., max_length=4000)
    answer: str = Field(..., max_length=20000)


class AskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(..., min_length=1, max_length=4000)
    id: Optional[str] = None
    engine: Optional[str] = Field(None, description="extractive (default) or llm.")
    strict: Optional[bool] = None
    k: Optional[int] = Field(None, ge=1, le=50)
    filters: FiltersIn = Field(default_factory=FiltersIn)
    history: list[TurnIn] = Field(default_factory=list, max_length=50, description="Earlier turns, oldest first (at most 50).")


class CheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(..., description="The draft to check (plain text or Markdown).")
    k: Optional[int] = Field(None, ge=1, le=50, description="Passages retrieved per sentence.")


def _auth_dependency(creds: Credentials | None):
    if not creds:
        def open_access() -> None:
            return None
        return open_access
    basic = HTTPBasic(auto_error=False, realm="dossier")
    pairs = [(u.encode("utf-8"), p.encode("utf-8")) for u, p in creds]

    def require(c: Optional[HTTPBasicCredentials] = Depends(basic)) -> str:
        if c is not None:
            user, pw = c.username.encode("utf-8"), c.password.encode("utf-8")
            ok = False
            for u, p in pairs:  # compare against every pair: no early exit on a user-name match
                ok |= secrets.compare_digest(user, u) & secrets.compare_digest(pw, p)
            if ok:
                return c.username
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "authentication required",
                            headers={"WWW-Authenticate": 'Basic realm="dossier"'})
    return require


def create_app(ctx: AppContext, *, auth: Credentials | None = None, answerer=None, mount_ui: bool = True) -> FastAPI:
    """The FastAPI app: API routes, then the Gradio UI mounted at "/" (same credentials)."""
    from dossier.index.retrieval import Filters
    from dossier.ingest.manifest import normalize_date

    from .answer_models import Turn
    from .engines.base import EngineError
    from .ui import CSS, HEAD, UIServices, build_ui

    svc = UIServices(ctx, answerer=answerer)
    guard = _auth_dependency(auth)
    api = FastAPI(title="dossier", docs_url=None, redoc_url=None, openapi_url=None)
    api.add_middleware(BodyLimit, upload_bytes=upload_cap_bytes(ctx.settings.serve),
                       other_bytes=int(MAX_BODY_MB * 1024 * 1024))

    @api.get("/api/health", dependencies=[Depends(guard)])
    def health() -> dict:
        cat = svc.catalog
        return {"status": "ok", "documents": len(cat.doc_ids()), "chunks": cat.chunk_count()}

    @api.get("/api/sources", dependencies=[Depends(guard)])
    def sources() -> dict:
        return {"documents": svc.catalog.documents()}

    @api.post("/api/ask", dependencies=[Depends(guard)])
    def ask(body: AskIn) -> dict:
        f = body.filters
        dates = []
        for name, raw in (("date_from", f.date_from), ("date_to", f.date_to)):
            d = normalize_date(raw) if raw.strip() else ""
            if raw.strip() and not d:
                raise HTTPException(422, f"filters.{name}: expected YYYY, YYYY-MM or YYYY-MM-DD, got {raw!r}")
            dates.append(d)
        if not body.question.strip():
            raise HTTPException(422, "question: expected a non-empty question")
        filters = Filters(kinds=f.kinds, publishers=f.publishers, doc_ids=f.doc_ids, date_from=dates[0], date_to=dates[1])
        try:
            ans = svc.answerer.ask(body.question, engine=body.engine, strict=body.strict, k=body.k, filters=filters,
                                   history=[Turn(t.question, t.answer) for t in body.history], qid=body.id)
        except EngineError as exc:
            raise HTTPException(400, str(exc)) from exc
        return ans.model_dump()

    @api.post("/api/check", dependencies=[Depends(guard)])
    def check(body: CheckIn) -> dict:
        from .check import CheckError
        from .ui.check import checker_for

        if not svc.catalog.chunk_count():
            raise HTTPException(422, "the library is empty: ingest documents first")
        try:
            return checker_for(svc).check(body.text, k=body.k).model_dump()
        except CheckError as exc:
            raise HTTPException(422, str(exc)) from exc

    if mount_ui:
        import gradio as gr

        blocks = build_ui(svc)
        max_bytes = int(ctx.settings.serve.max_upload_mb * 1024 * 1024)
        api = gr.mount_gradio_app(
            api, blocks, path="/", auth=list(auth) if auth else None, css=CSS, head=HEAD,
            max_file_size=max_bytes, footer_links=[], run_history=False, show_error=True,
            server_name=ctx.settings.serve.host, server_port=ctx.settings.serve.port,
        )
    return api


def upload_cap_bytes(serve) -> int:
    """The most bytes one upload request may carry: the Library's per-request total, and never less
    than one file of the largest size accepted."""
    total_mb = max(serve.max_request_mb, serve.max_upload_mb)
    return int(total_mb * 1024 * 1024) + _MULTIPART_SLACK
