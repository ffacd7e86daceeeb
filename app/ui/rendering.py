"""HTML for the chat messages, source cards and document view: pure functions, no Gradio.

The HTML comes from Jinja2 templates (string constants below) with autoescape on: every piece of
source text (titles, publishers, passages, quotes, document text, URLs) is HTML-escaped, and inside
chat messages, which are also rendered as Markdown, goes through the `chat` filter (`chat_esc`), so
nothing a document contains can become markup or script. Citation markers `[n]` are links to the source card
`#src-t{turn}-{n}`; a small script in the page (`assets.HEAD`) opens and scrolls to the card.
"""
from __future__ import annotations

import functools
import html
from typing import Mapping, Sequence

import jinja2

from dossier.app.answer_models import Answer, Citation
from dossier.app.templating import Markup, environment

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
    return _render(_CITE, id=card_id(turn, n, closest), n=n)


# --- templates -----------------------------------------------------------------------------------
_ENV = environment({"chat": lambda text: Markup(chat_esc(text))})
_ENV.globals["cite"] = lambda turn, n, closest=False: Markup(cite_link(turn, n, closest))


@functools.lru_cache(maxsize=None)
def _compiled(template: str) -> jinja2.Template:
    return _ENV.from_string(template)


def _render(template: str, **values) -> str:
    return _compiled(template).render(**values)


_CITE = '<a class="cite" href="#{{ id }}" title="Show source {{ n }}">[{{ n }}]</a>'
_ANSWER = (
    '{% for s in sentences %}{% if not loop.first %} {% endif %}'
    '<span class="sent{% if s.note %} sent-{{ s.support }}{% endif %}">{{ s.text|chat }}</span>'
    '{% if s.marks %} {% for n in s.marks %}{{ cite(turn, n) }}{% endfor %}{% endif %}'
    '{% if s.note %} <sup class="flag {{ s.note[0] }}" title="{{ s.note[2] }}">⚠ {{ s.note[1] }}</sup>{% endif %}'
    '{% else %}{{ answer|chat }}{% endfor %}'
    '{% if confidence is not none %}<div class="confidence" title="The engine\'s estimate that this answers the question">'
    'confidence {{ "%.2f"|format(confidence) }}</div>{% endif %}'
    '{% if notice %}<div class="notice">{{ notice|chat }}</div>{% endif %}'
)
_ABSTENTION = (
    '<div class="abstain"><strong>{{ answer|chat }}</strong>'
    '{% if not closest %} Nothing in the library comes close.</div>'
    '{% else %} <span class="abstain-sub">Closest passages (they do not answer the question):</span><ul class="closest">'
    '{% for c in closest %}<li>{{ cite(turn, c.n, True) }} <em>{{ c.title|chat }}</em>: “{{ c.snippet|chat }}”</li>{% endfor %}'
    '</ul></div>{% endif %}'
)
_STREAMING = '<span class="streaming">{{ text|chat }}</span> <span class="cursor">▍</span>'
_ERROR = '<div class="error">⚠ {{ text|chat }}</div>'
_HIGHLIGHT = '{{ before }}<mark>{{ quote }}</mark>{{ after }}'
_LINK = ('{% if url %}<a class="orig" href="{{ where }}" target="_blank" rel="noopener noreferrer nofollow">{{ where }}</a>'
         '{% elif where %}<code class="orig">{{ where }}</code>{% endif %}')
_CARD = (
    '<div class="src-card{% if closest %} closest{% endif %}" id="{{ id }}">'
    '<div class="src-head"><span class="src-n">[{{ c.n }}]</span> <span class="src-title">{{ title }}</span>'
    '{% if lang %}<span class="badge lang" title="Language of the quoted text: quoted as written, not translated">{{ lang }}</span>{% endif %}'
    '{% if closest %}<span class="badge closest">closest passage — not an answer</span>{% endif %}</div>'
    '<div class="src-meta">{{ meta|join(" · ") }}</div>'
    '<div class="src-where">{{ link }}</div>'
    '<blockquote class="src-passage"{% if code %} lang="{{ code }}" dir="{{ dir }}" style="unicode-bidi:isolate"{% endif %}>{{ body }}</blockquote>'
    '{% if c.translation %}<div class="src-translation" lang="en" title="{{ c.translation_note }}"><em>Machine translation, '
    'not the source\'s words:</em> {{ c.translation }}</div>{% endif %}'
    '<div class="src-actions"><button type="button" class="open-doc" data-doc="{{ c.doc_id }}" data-start="{{ c.start }}" '
    'data-end="{{ c.end }}">Open in document</button> <span class="src-ids">{{ c.doc_id }} · chars {{ c.start }}–{{ c.end }}</span></div>'
    '</div>'
)
_PANEL = (
    '{% for t in turns %}{% if t.latest %}'
    '<div class="turn-sources latest" id="sources-t{{ t.turn }}"><div class="turn-q">Sources for: {{ t.question }}</div>{{ t.cards }}</div>'
    '{% else %}'
    '<details class="turn-sources" id="sources-t{{ t.turn }}"><summary>Q{{ t.turn }}: {{ t.question }}</summary>{{ t.cards }}</details>'
    '{% endif %}{% endfor %}'
)
_NO_SOURCES = '<div class="sources-empty">No sources.</div>'
_PANEL_EMPTY = '<div class="sources-empty">Sources of each answer appear here. Click a marker such as [1] to jump to its passage.</div>'
_DOC_EMPTY = '<div class="doc-empty">Pick a document, or click “Open in document” on a source card.</div>'
_DOCUMENT = (
    '<div class="doc-head"><div class="doc-title">{{ title }}</div>'
    '<div class="src-meta">{{ meta|join(" · ") }}</div><div class="src-where">{{ link }}</div>'
    '<div class="src-ids">{{ doc_id }} · sha256 {{ sha256 }}</div></div>'
    '<div class="doc-text">{% if marked %}{{ before }}<mark id="doc-hl">{{ quote }}</mark>{{ after }}{% else %}{{ text }}{% endif %}</div>'
)
_GRADING_PAIR = (
    '<div class="grade-pair" id="grade-{{ index }}">'
    '<div class="grade-sentence">Sentence {{ sentence_index }}: {{ sentence }}'
    '<span class="verdict verdict-{{ support }}">{{ verdict }}</span></div>'
    '<div class="src-head"><span class="src-n">[{{ c.n }}]</span> <span class="src-title">{{ title }}</span></div>'
    '<div class="src-meta">{{ meta|join(" · ") }}</div>'
    '<blockquote class="src-passage">{{ passage }}</blockquote>'
    '</div>'
)


# --- chat messages -------------------------------------------------------------------------------
def question_message(question: str) -> str:
    return chat_esc(question)


def answer_message(answer: Answer, turn: int) -> str:
    """The assistant message: each sentence, its flag when not fully supported, and its markers."""
    if answer.abstained:
        return abstention_message(answer, turn)
    known = {c.n for c in answer.citations}
    sentences = [{"text": s.text, "support": s.support, "note": _SUPPORT_NOTE.get(s.support),
                  "marks": [n for n in s.citations if n in known]} for s in answer.sentences]
    return _render(_ANSWER, sentences=sentences, turn=turn, answer=answer.answer, notice=answer.notice,
                   confidence=answer.confidence)


def abstention_message(answer: Answer, turn: int) -> str:
    closest = [{"n": c.n, "title": c.title or c.doc_id,
                "snippet": c.passage if len(c.passage) <= 160 else c.passage[:160].rsplit(" ", 1)[0] + " …"}
               for c in answer.closest]
    return _render(_ABSTENTION, answer=answer.answer, closest=closest, turn=turn)


def streaming_message(text: str) -> str:
    return _render(_STREAMING, text=text)


def error_message(text: str) -> str:
    return _render(_ERROR, text=text)


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
    return _render(_HIGHLIGHT, before=before, quote=quote, after=after)


def _passage_start(c: Citation, known: int | None) -> int:
    """Document offset where the citation's passage starts: the chunk's start when given and consistent
    with the quote, else found from the quote (the quote is the passage's text at [start, end))."""
    if known is not None and c.passage[c.start - known:c.end - known] == c.quote:
        return known
    rel = c.passage.find(c.quote) if c.quote else -1
    return c.start - rel if rel >= 0 else (known if known is not None else c.start)


def _link(where: str) -> str:
    return _render(_LINK, where=where, url=where.startswith(("http://", "https://")))


def source_card(c: Citation, doc: Mapping | None, turn: int, *, closest: bool = False, passage_start: int | None = None) -> str:
    """One card: title, publisher, date, kind, page, link to the original, the passage with the quote
    marked, and a button that opens the document at the quote."""
    doc = doc or {}
    meta = [x for x in (doc.get("publisher"), doc.get("date"), doc.get("kind")) if x] + ([f"p. {c.page}"] if c.page else [])
    where = doc.get("url") or c.source or doc.get("source") or ""
    # the chunk starts where the passage starts in the document; a card built from a Citation alone
    # finds it from the quote (the quote is the passage's text at [start, end))
    if closest:  # the whole chunk: nothing in it answers, so nothing is marked
        body = c.passage
    else:
        body = Markup(highlighted_passage(c.passage, _passage_start(c, passage_start), c.start, c.end, context=CARD_CONTEXT))
    return _render(_CARD, c=c, closest=closest, id=card_id(turn, c.n, closest), title=c.title or doc.get("title") or c.doc_id,
                   meta=meta, link=Markup(_link(where)), body=body, **_language(c.language))


def _language(code: str | None) -> dict:
    """A foreign quote's badge ("Russian") and its passage's lang/dir (right-to-left scripts isolated, #16)."""
    from dossier.ingest.language import is_rtl, language_name

    if not code or code == "en":
        return {"lang": "", "code": "", "dir": ""}
    return {"lang": language_name(code), "code": code, "dir": "rtl" if is_rtl(code) else "ltr"}


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
        return _PANEL_EMPTY
    shown = [{"turn": turn, "latest": turn == turns[-1], "question": answers[turn - 1].question,
              "cards": Markup(turn_cards(answers[turn - 1], docs, turn, chunk_starts) or _NO_SOURCES)}
             for turn in reversed(turns)]
    return _render(_PANEL, turns=shown)


# --- document view -------------------------------------------------------------------------------
def document_view(doc: Mapping | None, text: str | None, start: int | None = None, end: int | None = None) -> str:
    """A stored document's full text, escaped, with [start, end) marked and scrolled to."""
    if doc is None or text is None:
        return _DOC_EMPTY
    marked = start is not None and end is not None and 0 <= start <= end <= len(text)
    return _render(_DOCUMENT, title=doc.get("title") or doc.get("doc_id"),
                   meta=[x for x in (doc.get("publisher"), doc.get("date"), doc.get("kind")) if x],
                   link=Markup(_link(doc.get("url") or doc.get("source") or "")), doc_id=doc.get("doc_id"),
                   sha256=doc.get("sha256") or "", marked=marked, text=text,
                   before=text[:start] if marked else "", quote=text[start:end] if marked else "", after=text[end:] if marked else "")


# --- grading -------------------------------------------------------------------------------------
_VERDICT = {"supported": "verifier: supported", "partial": "verifier: partly supported", "unsupported": "verifier: unsupported"}


def grading_pair(index: int, sentence_index: int, sentence: str, support: str, c: Citation, doc: Mapping | None,
                 passage_start: int | None = None) -> str:
    """One (sentence, citation) pair to grade: the sentence with the verifier's verdict, the cited
    passage with the quote marked, and where it comes from."""
    doc = doc or {}
    passage_start = _passage_start(c, passage_start)
    meta = [x for x in (doc.get("publisher"), doc.get("date")) if x] + ([f"p. {c.page}"] if c.page else [])
    passage = highlighted_passage(c.passage, passage_start, c.start, c.end, context=2 * CARD_CONTEXT)
    return _render(_GRADING_PAIR, index=index, sentence_index=sentence_index, sentence=sentence, support=support,
                   verdict=_VERDICT.get(support, support), c=c, title=c.title or doc.get("title") or c.doc_id, meta=meta,
                   passage=Markup(passage))
