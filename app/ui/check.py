"""The Check draft tab: paste or upload a draft, see each sentence coloured by verdict with its evidence
card beside it (click to open the document at the quote), filter to contradicted / unsupported, export
the checked draft as Markdown with footnotes or as the check JSON.

Rendering and export are pure functions over the `CheckReport`; `check_tab` builds the components and
wires their events inside the caller's `gr.Tab`.
"""
from __future__ import annotations

import json
import tempfile
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping

from dossier.app.check import CheckError, CheckReport, DraftChecker
from dossier.app.export import _footnote, md_escape
from dossier.app.templating import Markup

from . import rendering as R

FILTERS = ("all", "contradicted", "unsupported", "contradicted or unsupported")
_LABEL = {"supported": "supported", "contradicted": "contradicted", "unsupported": "not found"}
_ICON = {"supported": "✓", "contradicted": "✗", "unsupported": "?"}
_lock = threading.Lock()

_VIEW = (
    '<div class="ck-wrap">'
    '<div class="ck-summary" id="ck-summary">'
    '<span class="ck-badge ck-supported">{{ s.supported }} supported</span> '
    '<span class="ck-badge ck-contradicted">{{ s.contradicted }} contradicted</span> '
    '<span class="ck-badge ck-unsupported">{{ s.unsupported }} not found</span></div>'
    '<div class="ck-cols"><div class="ck-draft" id="ck-draft">{% for p in pieces %}'
    '{% if p.i is none %}{{ p.text }}{% else %}<span class="ck-sent ck-{{ p.verdict }}{% if p.dim %} ck-dim{% endif %}" '
    'id="ck-s{{ p.i }}" data-verdict="{{ p.verdict }}" title="{{ p.label }}">{{ p.text }}</span>{% endif %}'
    '{% endfor %}</div>'
    '<div class="ck-evidence" id="ck-evidence">{% for e in items %}'
    '<div class="ck-item ck-{{ e.verdict }}" id="ck-e{{ e.i }}" data-verdict="{{ e.verdict }}">'
    '<div class="ck-head"><span class="ck-badge ck-{{ e.verdict }}">{{ e.icon }} {{ e.label }}</span> '
    '<span class="ck-text">{{ e.text }}</span></div>'
    '{% if e.reason %}<div class="ck-reason">{{ e.reason }}</div>{% endif %}'
    '{{ e.cards }}</div>{% else %}<div class="sources-empty">No sentence matches this filter.</div>{% endfor %}</div>'
    '</div></div>'
)
_EMPTY = '<div class="sources-empty">Paste a draft or upload a file, then press Check. Nothing is written to the library.</div>'
CSS = """
.ck-cols { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
.ck-draft { white-space: pre-wrap; line-height: 1.6; }
.ck-sent { border-radius: 3px; padding: 0 2px; }
.ck-sent.ck-supported { background: #e3f6e5; }
.ck-sent.ck-contradicted { background: #fde0de; text-decoration: underline wavy #c62828; }
.ck-sent.ck-unsupported { background: #fff4cc; }
.ck-sent.ck-dim { opacity: 0.35; }
.ck-badge { font-size: 0.8em; padding: 1px 6px; border-radius: 8px; }
.ck-badge.ck-supported { background: #2e7d32; color: #fff; }
.ck-badge.ck-contradicted { background: #c62828; color: #fff; }
.ck-badge.ck-unsupported { background: #f9a825; color: #000; }
.ck-item { margin-bottom: 0.8rem; border-left: 3px solid #ccc; padding-left: 0.5rem; }
.ck-item.ck-contradicted { border-color: #c62828; }
.ck-item.ck-supported { border-color: #2e7d32; }
.ck-item.ck-unsupported { border-color: #f9a825; }
.ck-reason { font-style: italic; margin: 0.2rem 0; }
"""


def keep(verdict: str, flt: str) -> bool:
    return flt in ("all", "", None) or verdict in flt.split(" or ")


def report_html(report: CheckReport | None, text: str, docs: Mapping[str, Mapping], flt: str = "all",
                chunk_starts: Mapping[str, int] | None = None) -> str:
    """The draft with each checked sentence coloured by verdict, and the evidence cards of the sentences the
    filter keeps (a card's button opens the document at the quote)."""
    if report is None:
        return _EMPTY
    pieces, pos = [], 0
    for i, s in enumerate(report.sentences, 1):
        if s.start > pos:
            pieces.append({"i": None, "text": text[pos:s.start]})
        pieces.append({"i": i, "text": text[s.start:s.end], "verdict": s.verdict, "label": _LABEL[s.verdict],
                       "dim": not keep(s.verdict, flt)})
        pos = s.end
    pieces.append({"i": None, "text": text[pos:]})
    starts = chunk_starts or {}
    items = [{"i": i, "verdict": s.verdict, "label": _LABEL[s.verdict], "icon": _ICON[s.verdict], "text": s.text,
              "reason": s.reason, "cards": Markup("".join(R.source_card(c, docs.get(c.doc_id), i, passage_start=starts.get(c.chunk_id))
                                                          for c in s.citations))}
             for i, s in enumerate(report.sentences, 1) if keep(s.verdict, flt)]
    return R._render(_VIEW, s=report.summary, pieces=pieces, items=items)


def report_markdown(report: CheckReport, text: str, docs: Mapping[str, Mapping], *, exported_at: str = "") -> str:
    """The checked draft as Markdown: the draft as written, each checked sentence followed by its footnote
    markers and, unless supported, its verdict and reason; the footnotes carry the same provenance as an
    answer export (quote, title, publisher, date, page, URL, doc id, sha256, offsets)."""
    labels: dict[tuple[str, int, int], int] = {}
    notes = []
    out, pos = [], 0
    for s in report.sentences:
        out.append(text[pos:s.end])
        for c in s.citations:
            key = (c.doc_id, c.start, c.end)
            if key not in labels:
                labels[key] = len(labels) + 1
                notes.append((labels[key], c))
            out.append(f"[^{labels[key]}]")
        if s.verdict == "contradicted":
            out.append(f" *(contradicted: {md_escape(s.reason)})*")
        elif s.verdict == "unsupported":
            out.append(" *(not found in the sources)*")
        pos = s.end
    out.append(text[pos:])
    sm = report.summary
    tail = [f"*dossier check: {sm.supported} supported, {sm.contradicted} contradicted, {sm.unsupported} not found"
            + (f"; exported {exported_at}" if exported_at else "") + "*"]
    body = "".join(out).rstrip() + "\n\n---\n\n" + "\n".join(tail) + "\n\n"
    return body + "\n".join(_footnote(n, c, docs.get(c.doc_id)) for n, c in notes) + "\n"


def checker_for(svc) -> DraftChecker:
    """One checker per UI services object (its embedding cache is shared by every check)."""
    with _lock:
        ch = getattr(svc, "_draft_checker", None)
        if ch is None:
            ch = DraftChecker(svc.index.retriever, svc.index.embedder.embed, svc.settings.check)
            svc._draft_checker = ch
        return ch


def draft_from_inputs(svc, pasted: str | None, upload: str | None) -> str:
    """The draft text: the uploaded file (read with the ingest readers) when given, else the pasted text."""
    from dossier.app.check import read_draft

    if upload:
        p = Path(upload)
        limit = svc.settings.ingest.max_file_mb * 1024 * 1024
        if p.stat().st_size > limit:
            raise CheckError(f"{p.name}: the draft is over the {svc.settings.ingest.max_file_mb:g} MB limit")
        return read_draft(p.read_bytes(), p.name, svc.settings.ingest)
    return pasted or ""


def run_check(svc, pasted: str | None, upload: str | None) -> tuple[CheckReport, str]:
    text = draft_from_inputs(svc, pasted, upload)
    if not svc.catalog.chunk_count():
        raise CheckError("the library is empty: add documents in the Library tab first")
    return checker_for(svc).check(text), text


def export_files(report: CheckReport, text: str, docs: Mapping[str, Mapping]) -> tuple[str, str]:
    """Paths of the Markdown and JSON exports, written to a fresh temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="dossier-check-"))
    stamp = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    md, js = folder / "checked-draft.md", folder / "checked-draft.json"
    md.write_text(report_markdown(report, text, docs, exported_at=stamp), encoding="utf-8")
    js.write_text(json.dumps(report.model_dump(exclude={"timings_ms"}), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return str(md), str(js)


def check_tab(svc):
    """Build the tab's components (inside the caller's gr.Tab) and wire them; returns the result HTML
    component, whose open-document clicks the caller routes to the document view."""
    import gradio as gr

    from .assets import SOURCES_JS

    report_state = gr.State(None)
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            draft = gr.Textbox(label="Draft", lines=8, max_lines=20, elem_id="check-draft",
                               placeholder="Paste the draft here (or upload a .md, .txt, .docx or .html file).")
        with gr.Column(scale=1):
            upload = gr.File(label="…or upload a draft", file_types=[".md", ".txt", ".docx", ".html", ".htm"],
                             type="filepath", elem_id="check-upload", height=140)
    with gr.Row():
        run = gr.Button("Check", variant="primary", elem_id="check-run", scale=1)
        flt = gr.Radio(list(FILTERS), value="all", label="Show", elem_id="check-filter", scale=4)
    status = gr.Markdown(elem_id="check-status")
    result = gr.HTML(_EMPTY, elem_id="check-result", js_on_load=SOURCES_JS)
    with gr.Row():
        dl_md = gr.DownloadButton("Export checked draft (.md)", value=None, interactive=False, elem_id="check-export-md", size="sm")
        dl_js = gr.DownloadButton("Export check (.json)", value=None, interactive=False, elem_id="check-export-json", size="sm")

    def do_check(pasted, up, f):
        try:
            report, text = run_check(svc, pasted, up)
        except CheckError as exc:
            raise gr.Error(str(exc))
        docs = svc.docs_by_id()
        starts = svc.chunk_starts([c.chunk_id for s in report.sentences for c in s.citations])
        md, js = export_files(report, text, docs)
        sm = report.summary
        line = f"{len(report.sentences)} sentences checked: {sm.supported} supported, {sm.contradicted} contradicted, {sm.unsupported} not found."
        return ((report, text), report_html(report, text, docs, f, starts), line,
                gr.DownloadButton(value=md, interactive=True), gr.DownloadButton(value=js, interactive=True))

    def refilter(state, f):
        if not state:
            return gr.skip()
        report, text = state
        starts = svc.chunk_starts([c.chunk_id for s in report.sentences for c in s.citations])
        return report_html(report, text, svc.docs_by_id(), f, starts)

    run.click(do_check, [draft, upload, flt], [report_state, result, status, dl_md, dl_js], concurrency_limit=2,
              concurrency_id="check")
    flt.change(refilter, [report_state, flt], result)
    return result
