"""Chat callbacks: ask with filters and history, stream llm tokens, render messages and source cards,
write the Markdown exports. Plain Python over `UIServices`; the layout wires them to components."""
from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Sequence

from dossier.app.answer_models import Answer, Turn
from dossier.app.export import answer_markdown, conversation_markdown
from dossier.index.retrieval import Filters
from dossier.ingest.manifest import normalize_date

from . import rendering as R
from .services import UIServices

log = logging.getLogger(__name__)


@dataclass
class ChatTurn:
    question: str
    answer: Answer | None = None
    error: str = ""
    streaming: str | None = None  # partial llm text while generating


def make_filters(kinds: Sequence[str] | None, publishers: Sequence[str] | None, doc_ids: Sequence[str] | None,
                 date_from: str | None, date_to: str | None) -> Filters:
    """Filters from the settings drawer; a malformed date is a ValueError naming the field."""
    dates = []
    for label, raw in (("date from", date_from), ("date to", date_to)):
        raw = (raw or "").strip()
        d = normalize_date(raw) if raw else ""
        if raw and not d:
            raise ValueError(f"{label}: expected YYYY, YYYY-MM or YYYY-MM-DD, got {raw!r}")
        dates.append(d)
    return Filters(kinds=list(kinds or []), publishers=list(publishers or []), doc_ids=list(doc_ids or []),
                   date_from=dates[0], date_to=dates[1])


def answers_of(turns: Sequence[ChatTurn]) -> list[Answer]:
    return [t.answer for t in turns if t.answer is not None]


def history_of(turns: Sequence[ChatTurn]) -> list[Turn]:
    return [Turn(t.question, t.answer.answer) for t in turns if t.answer is not None]


def chat_messages(turns: Sequence[ChatTurn]) -> list[dict]:
    """Chatbot messages (openai-style dicts) for the turns; turn i's markers point at cards `src-t{i}-n`."""
    out: list[dict] = []
    for i, t in enumerate(turns, 1):
        out.append({"role": "user", "content": R.question_message(t.question)})
        if t.answer is not None:
            content = R.answer_message(t.answer, i)
        elif t.error:
            content = R.error_message(t.error)
        elif t.streaming:
            content = R.streaming_message(t.streaming)
        else:
            content = '<span class="thinking">Searching the sources…</span>'
        out.append({"role": "assistant", "content": content})
    return out


def sources_html(svc: UIServices, turns: Sequence[ChatTurn]) -> str:
    """The sources panel; card ids follow the turn number in the chat (turns without an answer count)."""
    answers = [t.answer for t in turns]
    present = [a for a in answers if a is not None]
    if not present:
        return R.sources_panel([], {})
    starts = svc.chunk_starts([c.chunk_id for a in present for c in a.citations])
    return R.sources_panel(answers, svc.docs_by_id(), starts)


def ask(svc: UIServices, question: str, turns: list[ChatTurn], *, engine: str, strict: bool, k: int,
        filters: Filters) -> Iterator[list[ChatTurn]]:
    """Append a turn and yield the turn list as it fills in: placeholder, streamed text, final answer
    (or a one-line error). The caller renders each yield."""
    from dossier.app.engines.base import EngineError

    turn = ChatTurn(question)
    turns = list(turns) + [turn]
    history = history_of(turns[:-1])
    yield turns
    try:
        text = ""
        for item in svc.answerer.ask_stream(question, engine=engine, strict=strict, k=int(k), filters=filters, history=history):
            if isinstance(item, Answer):
                turn.answer, turn.streaming = item, None
            else:
                text += item
                turn.streaming = text
            yield turns
    except EngineError as exc:
        turn.error = f"The {engine} engine could not answer: {exc}"
        turn.streaming = None
        yield turns
    except ValueError as exc:
        turn.error = str(exc)
        turn.streaming = None
        yield turns
    except Exception as exc:  # the chat must survive anything one question triggers; the log has the traceback
        log.exception("answering %r failed", question)
        turn.error = f"Something went wrong while answering ({exc.__class__.__name__}: {str(exc)[:200]})"
        turn.streaming = None
        yield turns


def write_exports(svc: UIServices, turns: Sequence[ChatTurn]) -> tuple[str | None, str | None]:
    """Markdown files for the last answer and the whole conversation (paths for DownloadButtons)."""
    answers = answers_of(turns)
    if not answers:
        return None, None
    docs = svc.docs_by_id()
    now = datetime.now(timezone.utc).replace(microsecond=0)
    stamp = now.strftime("%Y%m%d-%H%M%S")
    folder = Path(tempfile.mkdtemp(prefix="dossier-export-"))
    last = folder / f"dossier-answer-{stamp}.md"
    last.write_text(answer_markdown(answers[-1], docs, exported_at=now.isoformat()), encoding="utf-8")
    conv = folder / f"dossier-conversation-{stamp}.md"
    conv.write_text(conversation_markdown(answers, docs, exported_at=now.isoformat()), encoding="utf-8")
    return str(last), str(conv)
