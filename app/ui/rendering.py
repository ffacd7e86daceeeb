"""HTML for the chat messages, source cards and document view: pure functions, no Gradio.

Every piece of source text (titles, publishers, passages, quotes, document text, URLs) goes through
`esc` (or `chat_esc` inside chat messages, which are also rendered as Markdown), so nothing a
document contains can become markup or script. Citation markers `[n]` are links to the source card
`#src-t{turn}-{n}`; a small script in the page (`assets.HEAD`) opens and scrolls to the card.
"""
from __future__ import annotations

import html
from typing import Mapping, Sequence

from dossier.app.answer_models import Answer, Citation

CARD_CONTEXT = 320  # characters of passage shown around the quote on a card (the document view has all)
_SUPPORT_NOTE = {
    "partial": ("flag-partial", "partly supported", "The cited passage supports this sentence only in part."),
    "unsupported": ("flag-unsupported", "not supported", "No retrieved passage supports this sentence."),
}
# characters with a meaning in Markdown (or the chatbot's LaTeX) become numeric entities: shown as
# themselves, never parsed as syntax
# (one pass, with the HTML specials, so no entity is escaped twice)
_CHAT_ENTITIES = {ord(c): f"&#{ord(c)};" for c in "\\`*_[]{}()#+-!|~$:&<>\"'"}


def esc(text: object) -> str:
    """HTML-escape (quotes included) for element content and attribute values."""
    return html.escape("" if text is None else str(text), quote=True)


def chat_esc(text: object) -> str:
    """Escape for the Chatbot, which renders Markdown and then (sanitized) HTML: HTML-escaped, Markdown
    punctuation as entities, and line breaks as spaces so one sentence cannot split a message's markup."""
    flat = " ".join(("" if text is None else str(text)).split())
    return flat.translate(_CHAT_ENTITIES)


def card_id(turn: int, n: int, closest: bool = False) -> str:
    return f"src-t{turn}-{'c' if closest else ''}{n}"


def cite_link(turn: int, n: int, closest: bool = False) -> str:
    return f'<a class="cite" href="#{card_id(turn, n, closest)}" title="Show source {n}">[{n}]</a>'


# --- chat messages -------------------------------------------------------------------------------
def question_message(question: str) -> str:
    return chat_esc(question)


def answer_message(answer: Answer, turn: int) -> str:
    """The assistant message: each sentence, its flag when not fully supported, and its markers."""
    if answer.abstained:
        return abstention_message(answer, turn)
    known = {c.n for c in answer.citations}
    parts = []
    for s in answer.sentences:
        cls = f" sent-{s.support}" if s.support in _SUPPORT_NOTE else ""
        text = f'<span class="sent{cls}">{chat_esc(s.text)}</span>'
        marks = "".join(cite_link(turn, n) for n in s.citations if n in known)
        flag = ""
        if s.support in _SUPPORT_NOTE:
            klass, label, tip = _SUPPORT_NOTE[s.support]
            flag = f' <sup class="flag {klass}" title="{esc(tip)}">⚠ {label}</sup>'
        parts.append(text + (" " + marks if marks else "") + flag)
    body = " ".join(parts) or chat_esc(answer.answer)
    notice = f'<div class="notice">{chat_esc(answer.notice)}</div>' if answer.notice else ""
    return body + notice


def abstention_message(answer: Answer, turn: int) -> str:
    head = f'<div class="abstain"><strong>{chat_esc(answer.answer)}</strong>'
    if not answer.closest:
        return head + " Nothing in the library comes close.</div>"
    items = []
    for c in answer.closest:
        snippet = c.passage if len(c.passage) <= 160 else c.passage[:160].rsplit(" ", 1)[0] + " …"
        items.append(f"<li>{cite_link(turn, c.n, closest=True)} <em>{chat_esc(c.title or c.doc_id)}</em>: “{chat_esc(snippet)}”</li>")
    return head + ' <span class="abstain-sub">Closest passages (they do not answer the question):</span><ul class="closest">' + "".join(items) + "</ul></div>"


def streaming_message(text: str) -> str:
    return f'<span class="streaming">{chat_esc(text)}</span> <span class="cursor">▍</span>'


def error_message(text: str) -> str:
    return f'<div class="error">⚠ {chat_esc(text)}</div>'


# --- source cards --------------------------------------------------------------------------------
def highlighted_passage(passage: str, passage_start: int, start: int, end: int, context: int | None = None) -> str:
    """The passage with the document span [start, end) marked; offsets are document offsets. With
    `context`, only about that many characters are kept on each side of the mark (cut at a space)."""
    a = max(0, min(len(passage), start - passage_start))
    b = max(a, min(len(passage), end - passage_start))
    before, quote, after = passage[:a], passage[a:b], passage[b:]
    if context is not None:
        if len(before) > context:
            cut = before[-context:]
            before = "… " + (cut.split(None, 1)[1] if " " in cut.strip() else cut).lstrip()
        if len(after) > context:
            cut = after[:context]
            after = (cut.rsplit(None, 1)[0] if " " in cut.strip() else cut).rstrip() + " …"
    return f"{esc(before)}<mark>{esc(quote)}</mark>{esc(after)}"


def _passage_start(c: Citation, known: int | None) -> int:
    """Document offset where the citation's passage starts: the chunk's start when given and consistent
    with the quote, else found from the quote (the quote is the passage's text at [start, end))."""
    if known is not None and c.passage[c.start - known:c.end - known] == c.quote:
        return known
    rel = c.passage.find(c.quote) if c.quote else -1
    return c.start - rel if rel >= 0 else (known if known is not None else c.start)


def _link(where: str) -> str:
    if where.startswith(("http://", "https://")):
        return f'<a class="orig" href="{esc(where)}" target="_blank" rel="noopener noreferrer nofollow">{esc(where)}</a>'
    return f'<code class="orig">{esc(where)}</code>' if where else ""


def source_card(c: Citation, doc: Mapping | None, turn: int, *, closest: bool = False, passage_start: int | None = None) -> str:
    """One card: title, publisher, date, kind, page, link to the original, the passage with the quote
    marked, and a button that opens the document at the quote."""
    doc = doc or {}
    meta = [esc(x) for x in (doc.get("publisher"), doc.get("date"), doc.get("kind")) if x]
    if c.page:
        meta.append(f"p. {c.page}")
    where = doc.get("url") or c.source or doc.get("source") or ""
    # the chunk starts where the passage starts in the document; a card built from a Citation alone
    # finds it from the quote (the quote is the passage's text at [start, end))
    if closest:  # the whole chunk: nothing in it answers, so nothing is marked
        body = esc(c.passage)
    else:
        body = highlighted_passage(c.passage, _passage_start(c, passage_start), c.start, c.end, context=CARD_CONTEXT)
    badge = '<span class="badge closest">closest passage — not an answer</span>' if closest else ""
    return (
        f'<div class="src-card{" closest" if closest else ""}" id="{card_id(turn, c.n, closest)}">'
        f'<div class="src-head"><span class="src-n">[{c.n}]</span> <span class="src-title">{esc(c.title or doc.get("title") or c.doc_id)}</span>{badge}</div>'
        f'<div class="src-meta">{" · ".join(meta)}</div>'
        f'<div class="src-where">{_link(where)}</div>'
        f'<blockquote class="src-passage">{body}</blockquote>'
        f'<div class="src-actions"><button type="button" class="open-doc" data-doc="{esc(c.doc_id)}" data-start="{c.start}" '
        f'data-end="{c.end}">Open in document</button> <span class="src-ids">{esc(c.doc_id)} · chars {c.start}–{c.end}</span></div>'
        f"</div>"
    )


def turn_cards(answer: Answer, docs: Mapping[str, Mapping], turn: int, chunk_starts: Mapping[str, int] | None = None) -> str:
    if answer.abstained:
        return "".join(source_card(c, docs.get(c.doc_id), turn, closest=True) for c in answer.closest)
    starts = chunk_starts or {}
    return "".join(source_card(c, docs.get(c.doc_id), turn, passage_start=starts.get(c.chunk_id)) for c in answer.citations)


def sources_panel(answers: Sequence[Answer | None], docs: Mapping[str, Mapping], chunk_starts: Mapping[str, int] | None = None) -> str:
    """Cards of the latest answer first and open; earlier answers' cards folded below (so a marker in
    an older message still finds its card). `answers[i]` is turn i+1 (None: a turn without answer)."""
    turns = [i for i, a in enumerate(answers, 1) if a is not None]
    if not turns:
        return '<div class="sources-empty">Sources of each answer appear here. Click a marker such as [1] to jump to its passage.</div>'
    out = []
    for turn in reversed(turns):
        ans = answers[turn - 1]
        cards = turn_cards(ans, docs, turn, chunk_starts) or '<div class="sources-empty">No sources.</div>'
        q = esc(ans.question)
        if turn == turns[-1]:
            out.append(f'<div class="turn-sources latest" id="sources-t{turn}"><div class="turn-q">Sources for: {q}</div>{cards}</div>')
        else:
            out.append(f'<details class="turn-sources" id="sources-t{turn}"><summary>Q{turn}: {q}</summary>{cards}</details>')
    return "".join(out)


# --- document view -------------------------------------------------------------------------------
def document_view(doc: Mapping | None, text: str | None, start: int | None = None, end: int | None = None) -> str:
    """A stored document's full text, escaped, with [start, end) marked and scrolled to."""
    if doc is None or text is None:
        return '<div class="doc-empty">Pick a document, or click “Open in document” on a source card.</div>'
    meta = " · ".join(esc(x) for x in (doc.get("publisher"), doc.get("date"), doc.get("kind")) if x)
    where = doc.get("url") or doc.get("source") or ""
    head = (f'<div class="doc-head"><div class="doc-title">{esc(doc.get("title") or doc.get("doc_id"))}</div>'
            f'<div class="src-meta">{meta}</div><div class="src-where">{_link(where)}</div>'
            f'<div class="src-ids">{esc(doc.get("doc_id"))} · sha256 {esc(doc.get("sha256") or "")}</div></div>')
    if start is not None and end is not None and 0 <= start <= end <= len(text):
        body = f'{esc(text[:start])}<mark id="doc-hl">{esc(text[start:end])}</mark>{esc(text[end:])}'
    else:
        body = esc(text)
    return head + f'<div class="doc-text">{body}</div>'


# --- grading -------------------------------------------------------------------------------------
_VERDICT = {"supported": "verifier: supported", "partial": "verifier: partly supported", "unsupported": "verifier: unsupported"}


def grading_pair(index: int, sentence_index: int, sentence: str, support: str, c: Citation, doc: Mapping | None,
                 passage_start: int | None = None) -> str:
    """One (sentence, citation) pair to grade: the sentence with the verifier's verdict, the cited
    passage with the quote marked, and where it comes from."""
    doc = doc or {}
    passage_start = _passage_start(c, passage_start)
    meta = [esc(x) for x in (doc.get("publisher"), doc.get("date")) if x] + ([f"p. {c.page}"] if c.page else [])
    return (
        f'<div class="grade-pair" id="grade-{index}">'
        f'<div class="grade-sentence">Sentence {sentence_index}: {esc(sentence)}'
        f'<span class="verdict verdict-{esc(support)}">{_VERDICT.get(support, esc(support))}</span></div>'
        f'<div class="src-head"><span class="src-n">[{c.n}]</span> <span class="src-title">{esc(c.title or doc.get("title") or c.doc_id)}</span></div>'
        f'<div class="src-meta">{" · ".join(meta)}</div>'
        f'<blockquote class="src-passage">{highlighted_passage(c.passage, passage_start, c.start, c.end, context=2 * CARD_CONTEXT)}</blockquote>'
        f"</div>"
    )
