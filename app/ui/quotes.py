"""The Quotes tab: every speaker quoted in the library on one side (searchable by name, role, organisation or
the words of a quote), their quotations on the other, each with an "Open in document" button that opens the
document at the quote's span; a speaker's quotations export as Markdown with provenance footnotes.

Rendering and export are pure functions over quote rows (`dossier.index.quotes`); `quotes_tab` builds the
components and wires their events inside the caller's `gr.Tab`.
"""
from __future__ import annotations

import re
import tempfile
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping

from dossier.app.answer_models import Citation
from dossier.app.export import _footnote, md_escape
from dossier.index.quotes import QuoteIndex, Speaker, fold, tokens

from . import rendering as R

MAX_SHOWN = 200  # quotations shown at once (a search over a big library narrows them)
_lock = threading.Lock()

_LIST = (
    '<div class="qt-list" id="qt-list">'
    '{% if head %}<div class="qt-head" id="qt-head"><span class="qt-name">{{ head.name }}</span>'
    '{% if head.desc %} <span class="qt-desc">{{ head.desc }}</span>{% endif %}'
    ' <span class="badge">{{ head.n }} quotation{{ "" if head.n == 1 else "s" }}</span></div>{% endif %}'
    '{% for q in quotes %}<div class="qt-item" data-kind="{{ q.kind }}" data-speaker="{{ q.speaker }}">'
    '{% if not head %}<div class="qt-by">{{ q.speaker }}</div>{% endif %}'
    '<div class="qt-quote"><span class="badge qt-kind">{{ q.kind }}</span> “{{ q.quote }}”</div>'
    '<div class="src-meta">{{ q.where }}</div>'
    '<div class="src-actions"><button type="button" class="open-doc" data-doc="{{ q.doc_id }}" data-start="{{ q.start }}" '
    'data-end="{{ q.end }}">Open in document</button> <span class="src-ids">{{ q.doc_id }} · chars {{ q.start }}–{{ q.end }}</span></div>'
    '</div>{% else %}<div class="sources-empty">{{ empty }}</div>{% endfor %}'
    '{% if more %}<div class="sources-empty">… {{ more }} more: narrow the search.</div>{% endif %}'
    '</div>'
)
CSS = """
.qt-head { margin-bottom: .5em; }
.qt-name { font-weight: 600; font-size: 1.1em; }
.qt-desc { opacity: .75; }
.qt-item { border-left: 3px solid var(--border-color-primary, #d1d5db); padding: .2em .7em; margin: .6em 0; }
.qt-item[data-kind="reported"] { border-left-style: dashed; }
.qt-by { font-weight: 600; font-size: .9em; }
.qt-quote { white-space: pre-wrap; }
#qt-view { max-height: 70vh; overflow-y: auto; }
"""


def quote_index(svc) -> QuoteIndex:
    """One quote index per UI services object (its rows are cached until the catalog changes)."""
    with _lock:
        qi = getattr(svc, "_quote_index", None)
        if qi is None:
            qi = svc._quote_index = QuoteIndex(svc.catalog)
        return qi


def describe(s: Speaker) -> str:
    return ", ".join(x for x in (s.role, s.org) if x and x != s.name)


def speaker_choices(speakers: list[Speaker], search: str = "", rows: list[dict] | None = None) -> list[tuple[str, str]]:
    """(label, name) of the speakers whose name, role or organisation holds every word searched for, or who said
    something holding them."""
    want = tokens(search or "")
    said = {fold(r["speaker"]) for r in rows or [] if want and want <= tokens(r["quote"])}
    out = []
    for s in speakers:
        if want and not (want <= tokens(f"{s.name} {s.role} {s.org}") or fold(s.name) in said):
            continue
        desc = describe(s)
        out.append((f"{s.name}{' — ' + desc if desc else ''} ({s.quotes})", s.name))
    return out


def _where(r: dict, doc: Mapping | None) -> str:
    doc = doc or {}
    parts = [r["title"] or r["doc_id"]] + [str(doc[k]) for k in ("publisher", "date") if doc.get(k)]
    if r["page"]:
        parts.append(f"p. {r['page']}")
    return " · ".join(parts)


def quotes_html(rows: list[dict], docs: Mapping[str, Mapping], speaker: Speaker | None, search: str = "") -> str:
    """The quotations of one speaker (or, with none picked, every quotation the search finds), each with the
    button that opens its document at the quote."""
    if speaker is not None:
        shown = [r for r in rows if fold(r["speaker"]) == fold(speaker.name)]
        head = {"name": speaker.name, "desc": describe(speaker), "n": len(shown)}
    else:
        want = tokens(search or "")
        shown = [r for r in rows if want and want <= tokens(f"{r['speaker']} {r['role']} {r['org']} {r['quote']}")]
        head = None
    items = [dict(r, where=_where(r, docs.get(r["doc_id"]))) for r in shown[:MAX_SHOWN]]
    empty = ("No quotation matches this search." if search and speaker is None else
             "Pick a speaker on the left, or search for a name, an organisation or words of a quote.")
    return R._render(_LIST, quotes=items, head=head, empty=empty, more=max(0, len(shown) - MAX_SHOWN))


def speaker_markdown(speaker: Speaker, rows: list[dict], docs: Mapping[str, Mapping], *, exported_at: str = "") -> str:
    """A speaker's quotations as Markdown: each quotation verbatim with its kind, and a footnote with the same
    provenance as an answer export (title, publisher, date, page, URL, doc id, sha256, offsets)."""
    mine = [r for r in rows if fold(r["speaker"]) == fold(speaker.name)]
    desc = describe(speaker)
    lines = [f"# Quotations of {md_escape(speaker.name)}", ""]
    if desc:
        lines += [md_escape(desc), ""]
    notes = []
    for n, r in enumerate(mine, 1):
        lines.append(f"{n}. “{md_escape(r['quote'])}” ({r['kind']})[^{n}]")
        c = Citation(n=n, doc_id=r["doc_id"], title=r["title"] or "", source=r["url"] or r["source"], chunk_id="",
                     page=r["page"], start=r["start"], end=r["end"], quote=r["quote"], passage="")
        notes.append(_footnote(n, c, docs.get(r["doc_id"])))
    tail = f"*dossier quotes: {len(mine)} quotation{'' if len(mine) == 1 else 's'} of {md_escape(speaker.name)}"
    lines += ["", "---", "", tail + (f"; exported {exported_at}" if exported_at else "") + "*", ""]
    return "\n".join(lines + notes) + "\n"


def export_file(speaker: Speaker, rows: list[dict], docs: Mapping[str, Mapping]) -> str:
    folder = Path(tempfile.mkdtemp(prefix="dossier-quotes-"))
    name = re.sub(r"[^\w-]+", "-", fold(speaker.name)).strip("-") or "speaker"
    path = folder / f"quotes-{name}.md"
    stamp = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    path.write_text(speaker_markdown(speaker, rows, docs, exported_at=stamp), encoding="utf-8")
    return str(path)


def quotes_tab(svc, tab):
    """Build the tab's components (inside the caller's gr.Tab `tab`) and wire them; returns the quotations HTML
    component, whose open-document clicks the caller routes to the document view."""
    import gradio as gr

    from .assets import SOURCES_JS

    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            search = gr.Textbox(label="Search", placeholder="a name, an organisation, a role or words of a quote",
                                elem_id="qt-search")
            picker = gr.Radio(choices=[], value=None, label="Speakers", elem_id="qt-speakers")
        with gr.Column(scale=3):
            view = gr.HTML(quotes_html([], {}, None), elem_id="qt-view", js_on_load=SOURCES_JS)
            export = gr.DownloadButton("Export this speaker's quotations (.md)", value=None, interactive=False,
                                       elem_id="qt-export", size="sm")

    def speakers_now():
        qi = quote_index(svc)
        return qi.rows(), {s.name: s for s in qi.speakers()}

    def refresh(q):
        rows, by_name = speakers_now()
        return (gr.Radio(choices=speaker_choices(list(by_name.values()), q, rows), value=None),
                quotes_html(rows, svc.docs_by_id(), None, q), gr.DownloadButton(value=None, interactive=False))

    def pick(name, q):
        rows, by_name = speakers_now()
        sp = by_name.get(name or "")
        if sp is None:
            return quotes_html(rows, svc.docs_by_id(), None, q), gr.DownloadButton(value=None, interactive=False)
        docs = svc.docs_by_id()
        return quotes_html(rows, docs, sp), gr.DownloadButton(value=export_file(sp, rows, docs), interactive=True)

    tab.select(refresh, search, [picker, view, export])
    search.submit(refresh, search, [picker, view, export])
    search.change(refresh, search, [picker, view, export], trigger_mode="always_last")
    picker.input(pick, [picker, search], [view, export])
    return view
