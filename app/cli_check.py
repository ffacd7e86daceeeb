"""`dossier check DRAFT`: every sentence of a draft supported, contradicted or unsupported by the sources.

Exit status 0 when nothing is contradicted (with --strict: nothing unsupported either), 1 when something
is, 2 on bad input (an empty, binary or unreadable draft, one over the size limit). Never writes the store.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from .cli_common import Commands, UserError, ctx_of, emit_json, out

commands = Commands()
_STYLE = {"supported": "green", "contradicted": "bold red", "unsupported": "yellow"}


def load_draft_text(draft: str, ingest_settings) -> str:
    """The draft's text: a file read with the ingest readers (type sniffed from content), or `-` for stdin."""
    from .check import CheckError, read_draft

    if draft == "-":
        data, name = sys.stdin.buffer.read(), "stdin.txt"
    else:
        path = Path(draft)
        if not path.is_file():
            raise UserError(f"{draft}: no such file")
        limit = ingest_settings.max_file_mb * 1024 * 1024
        if path.stat().st_size > limit:
            raise UserError(f"{draft}: the draft is over the {ingest_settings.max_file_mb:g} MB limit (DOSSIER_INGEST__MAX_FILE_MB)")
        try:
            data, name = path.read_bytes(), path.name
        except OSError as exc:
            raise UserError(f"{draft}: cannot read the draft ({exc.strerror or exc})") from None
    try:
        return read_draft(data, name, ingest_settings)
    except CheckError as exc:
        raise UserError(str(exc)) from None


@commands.command()
def check(
    ctx: typer.Context,
    draft: str = typer.Argument(..., help="The draft: a .md, .txt, .docx or .html file, or - for standard input."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object: sentences (text, start, end, verdict, reason, score, citations) and summary."),
    strict: bool = typer.Option(False, "--strict", help="Exit status 1 for unsupported sentences too, not only contradicted ones."),
    k: Optional[int] = typer.Option(None, "--k", min=1, max=50, help="Passages retrieved per sentence (default: DOSSIER_CHECK__K)."),
):
    """Check a draft against the sources: each sentence supported, contradicted or not found, with the evidence.

    Exit status: 0 nothing contradicted, 1 something contradicted (or, with --strict, unsupported), 2 bad input."""
    from .check import CheckError, build_checker

    app = ctx_of(ctx)
    text = load_draft_text(draft, app.settings.ingest)
    try:
        checker = build_checker(app)
        report = checker.check(text, k=k)
    except CheckError as exc:
        raise UserError(f"{draft}: {exc}" if draft != "-" and not str(exc).startswith(draft) else str(exc)) from None
    if as_json:
        emit_json(report.model_dump())
    else:
        print_report(report)
    return report.exit_status(strict)


def print_report(report) -> None:
    for s in report.sentences:
        out.print(f"[{_STYLE[s.verdict]}]{s.verdict.upper():<12}[/]", end=" ")
        out.print(s.text, markup=False)
        if s.reason:
            out.print(f"             {s.reason}", style="dim", markup=False)
        for c in s.citations:
            page = f", p. {c.page}" if c.page else ""
            out.print(f"             “{c.quote}”", markup=False)
            out.print(f"             {c.title}{page}  [{c.start}:{c.end}]", style="dim", markup=False)
    sm = report.summary
    out.print(f"\n{sm.supported} supported, {sm.contradicted} contradicted, {sm.unsupported} unsupported")
