"""Commands over the quote index: quotes, speakers."""
from __future__ import annotations

from typing import List, Optional

import typer

from .cli_common import Commands, UserError, ctx_of, emit_json, out
from .cli_index import _plain

commands = Commands()


@commands.command()
def quotes(
    ctx: typer.Context,
    speaker: Optional[str] = typer.Option(None, "--speaker", help="Only this speaker (every word given is in the name: 'Bychkovskiy', 'Anton Bychkovskiy')."),
    org: Optional[str] = typer.Option(None, "--org", help="Only speakers of this organisation (an organisation speaking as a body included)."),
    doc: List[str] = typer.Option([], "--doc", help="Only this doc_id (repeatable; see `dossier sources`)."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array of quotation objects."),
):
    """Every quotation in the sources, grouped by speaker: direct quotes and reported speech, each with
    speaker, role, organisation, the exact quoted text and where it is (doc, page, offsets)."""
    from dossier.index.quotes import QuoteIndex, quote_json

    for opt, value in (("--speaker", speaker), ("--org", org)):
        if value is not None and not value.strip():
            raise UserError(f"{opt}: expected a name, got an empty string")
    svc = ctx_of(ctx).index
    unknown = [d for d in doc if d not in svc.catalog.doc_ids()]
    if unknown:
        raise UserError(f"--doc: no such document: {', '.join(unknown)} (see `dossier sources`)")
    rows = QuoteIndex(svc.catalog).quotes(speaker=speaker, org=org, doc_ids=doc or None)
    if as_json:
        emit_json([quote_json(r) for r in rows])
        return 0
    if not rows:
        out.print("no quotations" + ("" if svc.catalog.doc_ids() else " (the store is empty: run `dossier ingest`)"))
        return 0
    current = None
    for r in rows:
        if r["speaker"] != current:
            current = r["speaker"]
            desc = ", ".join(x for x in (r["role"], r["org"]) if x and x != r["speaker"])
            out.print(f"\n[bold]{_plain(current)}[/bold]" + (f"  [dim]{_plain(desc)}[/dim]" if desc else ""))
        page = f", p. {r['page']}" if r["page"] else ""
        out.print(f"  [dim]{r['kind']:>8}[/dim]  “{_plain(r['quote'])}”")
        out.print(f"            [dim]{_plain(r['title'] or r['doc_id'])}{page}  {r['doc_id']} [{r['start']}:{r['end']}][/dim]")
    return 0


@commands.command()
def speakers(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print a JSON array of speakers.")):
    """Every speaker quoted in the sources, with role, organisation and number of quotations."""
    from rich.table import Column, Table

    from dossier.index.quotes import QuoteIndex

    found = QuoteIndex(ctx_of(ctx).index.catalog).speakers()
    if as_json:
        emit_json([s.to_dict() for s in found])
        return 0
    if not found:
        out.print("no speakers found")
        return 0
    table = Table("speaker", "type", "role", "organisation", Column("quotes", justify="right"), Column("docs", justify="right"))
    for s in found:
        table.add_row(_plain(s.name), s.type, _plain(s.role), _plain(s.org if s.org != s.name else ""), str(s.quotes), str(s.docs))
    out.print(table)
    return 0
