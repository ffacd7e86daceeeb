"""`dossier ask`: a cited answer to one question, or a batch from a JSONL file."""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer
from rich.markup import escape

from .answer_models import Answer
from .cli_common import Commands, UserError, ctx_of, emit_json, err, out

commands = Commands()


@commands.command()
def ask(
    ctx: typer.Context,
    question: Optional[str] = typer.Argument(None, help="The question (omit with --questions)."),
    questions: Optional[Path] = typer.Option(None, "--questions", help="JSONL file of {\"id\", \"question\"} lines: answer each, models loaded once."),
    engine: Optional[str] = typer.Option(None, "--engine", help="extractive (default, offline, learned), rules (the former rule-based engine) or llm."),
    strict: Optional[bool] = typer.Option(None, "--strict/--no-strict", help="Drop unsupported sentences; abstain if none survive."),
    k: Optional[int] = typer.Option(None, "--k", min=1, max=50, help="Passages to retrieve."),
    kind: List[str] = typer.Option([], "--kind", help="Only these document kinds (repeatable)."),
    publisher: List[str] = typer.Option([], "--publisher", help="Only publishers containing this text (repeatable)."),
    doc: List[str] = typer.Option([], "--doc", help="Only this doc_id (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print the answer JSON (one object per line in batch mode)."),
):
    """Answer from the sources, every sentence cited and verified; abstains when the sources don't say."""
    from dossier.index.retrieval import Filters

    from .context import build_answerer
    from .engines.base import EngineError

    if (question is None) == (questions is None):
        raise UserError("give a QUESTION or --questions FILE.jsonl (not both)")
    app = ctx_of(ctx)
    answerer = build_answerer(app)
    filters = Filters(kind, publisher, doc)
    items = [{"id": None, "question": question}] if question is not None else _read_questions(questions)
    failed = 0
    for item in items:
        try:
            ans = answerer.ask(item["question"], engine=engine, strict=strict, k=k, filters=filters, qid=item.get("id"))
        except EngineError as exc:
            if questions is None:
                raise UserError(str(exc)) from exc
            failed += 1
            emit_json({"id": item.get("id"), "question": item["question"], "error": str(exc)}) if as_json else err.print(f"{item.get('id')}: {exc}")
            continue
        if as_json:
            emit_json(ans.model_dump())
        else:
            print_answer(ans, app.index.catalog)
    return 1 if failed else 0


def _read_questions(path: Path) -> list[dict]:
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    items = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserError(f"{path}:{lineno}: invalid JSON ({exc.msg})") from exc
        if not isinstance(obj, dict) or not isinstance(obj.get("question"), str) or not obj["question"].strip():
            raise UserError(f"{path}:{lineno}: question: expected a non-empty string")
        items.append({"id": str(obj.get("id", lineno)), "question": obj["question"]})
    return items


def print_answer(ans: Answer, catalog) -> None:
    flags = {"partial": " [yellow](partly supported)[/yellow]", "unsupported": " [red](unsupported)[/red]"}
    if ans.notice:
        err.print(f"[yellow]note:[/yellow] {escape(ans.notice)}")
    conf = "" if ans.confidence is None else f"confidence {ans.confidence:.2f}"
    if ans.abstained:
        out.print(f"[bold]{ans.answer}[/bold]" + (f" [dim]({conf})[/dim]" if conf else ""))
        if ans.closest:
            out.print("\nClosest passages:")
            for c in ans.closest:
                excerpt = " ".join(c.passage.split())
                out.print(f"  - {c.title}: “{excerpt[:220]}{'…' if len(excerpt) > 220 else ''}”", markup=False)
        return
    for s in ans.sentences:
        marks = "".join(f"[{n}]" for n in s.citations)
        out.print(s.text + (" " + marks if marks else ""), markup=False, end="")
        out.print(flags.get(s.support, ""))
    if conf:
        out.print(conf, style="dim")
    out.print("\nSources:")
    for c in ans.citations:
        doc = catalog.db.execute("SELECT publisher, date FROM documents WHERE doc_id=?", (c.doc_id,)).fetchone()
        meta = ", ".join(x for x in (doc["publisher"] if doc else "", doc["date"] if doc else "", f"p. {c.page}" if c.page else "") if x)
        out.print(f"  [{c.n}] {c.title}" + (f" ({meta})" if meta else ""), markup=False)
        out.print(f"      “{c.quote}”", markup=False)
        out.print(f"      {c.source}  [{c.start}:{c.end}]", style="dim", markup=False)
