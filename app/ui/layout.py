"""The Gradio Blocks: Chat (with sources panel and export), Check draft, Quotes, Library, Document and Grading tabs, and
the answer settings in a sidebar. Callbacks live in chat.py, library.py and grading.py."""
from __future__ import annotations

import gradio as gr

from dossier.app.answer_models import Answer, Turn
from dossier.ingest.models import DOC_KINDS

from . import chat as C
from . import check as K
from . import grading as G
from . import library as L
from . import quotes as Q
from . import rendering as R
from .assets import DOCVIEW_JS, SOURCES_JS
from .services import UIServices
from .starters import starter_questions

INTRO = ("Ask in plain language. Every answer sentence is cited to an exact quote from the library; "
         "click a marker such as **[1]** to see the passage. When the sources don't say, the answer says so.")


def _starters(svc: UIServices) -> list[list[str]]:
    return [[q] for q in starter_questions(svc.catalog.documents(), svc.catalog.doc_text)]


def _refresh(svc: UIServices):
    """Everything that depends on the library, for load / after ingest / after remove."""
    docs = L.document_choices(svc)
    return (
        gr.Dataframe(value=L.documents_rows(svc) or None),
        gr.Dataframe(value=L.log_rows(svc) or None),
        gr.Dropdown(choices=docs, value=None),
        gr.Dropdown(choices=docs),
        gr.CheckboxGroup(choices=L.kind_choices(svc)),
        gr.Dropdown(choices=L.publisher_choices(svc)),
        gr.Dropdown(choices=docs),
        gr.Dataset(samples=_starters(svc) or [["What do the sources say?"]]),
    )


def build_ui(svc: UIServices) -> gr.Blocks:
    s = svc.settings
    max_mb = s.serve.max_upload_mb
    seed_items = G.load_questions(svc.seed_dev_path)
    seed_by_id = {it["id"]: it for it in seed_items}

    with gr.Blocks(title="dossier", analytics_enabled=False, fill_width=True) as demo:
        turns = gr.State([])

        # --- settings drawer -------------------------------------------------------------------
        with gr.Sidebar(label="Answer settings", open=False, position="left", elem_id="settings"):
            gr.Markdown("### Answer settings")
            engine = gr.Radio(["extractive", "rules", "llm"], value=s.answer.engine, label="Engine",
                              info="extractive: verbatim source sentences (offline). llm: the configured model, streamed.",
                              elem_id="engine")
            strict = gr.Checkbox(value=s.answer.strict, label="Strict: drop sentences the verifier can't support", elem_id="strict")
            k = gr.Slider(1, 20, value=min(s.answer.k, 20), step=1, label="Passages retrieved (k)", elem_id="k")
            gr.Markdown("### Filters")
            kinds = gr.CheckboxGroup(choices=list(DOC_KINDS), label="Document kinds", elem_id="f-kinds")
            publishers = gr.Dropdown(choices=[], value=[], multiselect=True, label="Publishers", elem_id="f-publishers")
            doc_filter = gr.Dropdown(choices=[], value=[], multiselect=True, label="Documents", elem_id="f-docs")
            with gr.Row():
                date_from = gr.Textbox(label="Dated from", placeholder="YYYY[-MM[-DD]]", elem_id="f-from")
                date_to = gr.Textbox(label="Dated to", placeholder="YYYY[-MM[-DD]]", elem_id="f-to")

        gr.Markdown(f"# dossier\n{INTRO}", elem_id="app-title")

        with gr.Tabs(selected="chat") as tabs:
            # --- chat ----------------------------------------------------------------------------
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(label="Conversation", height=540, elem_id="chatbot", feedback_options=None,
                                             buttons=[], layout="bubble", latex_delimiters=[],
                                             placeholder="Ask a question about the sources, or pick one below.")
                        with gr.Row():
                            question = gr.Textbox(show_label=False, placeholder="Ask about the sources…", scale=6,
                                                  elem_id="question", autofocus=True, max_lines=4)
                            ask_btn = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ask")
                        starters = gr.Dataset(components=[gr.Textbox(visible=False)], samples=[["What do the sources say?"]],
                                              label="Try asking", elem_id="starters", samples_per_page=6)
                        with gr.Row():
                            dl_last = gr.DownloadButton("Export last answer (.md)", value=None, interactive=False,
                                                        elem_id="export-last", size="sm")
                            dl_all = gr.DownloadButton("Export conversation (.md)", value=None, interactive=False,
                                                       elem_id="export-all", size="sm")
                            new_chat = gr.Button("New conversation", size="sm", elem_id="new-chat")
                    with gr.Column(scale=2):
                        gr.Markdown("### Sources")
                        sources = gr.HTML(R.sources_panel([], {}), elem_id="sources", js_on_load=SOURCES_JS)

            # --- check a draft -------------------------------------------------------------------
            with gr.Tab("Check draft", id="check"):
                check_view = K.check_tab(svc)

            # --- quotes: who said what -------------------------------------------------------------
            with gr.Tab("Quotes", id="quotes") as quotes_tab:
                quotes_view = Q.quotes_tab(svc, quotes_tab)

            # --- library -------------------------------------------------------------------------
            with gr.Tab("Library", id="library"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=1):
                        upload = gr.File(label=f"Upload files (PDF, HTML, DOCX, TXT, MD; at most {max_mb:g} MB each)",
                                         file_count="multiple", file_types=list(L.ALLOWED_SUFFIXES), elem_id="upload",
                                         height=190)
                    with gr.Column(scale=1):
                        urls = gr.Textbox(label="…or paste URLs, one per line", lines=3, elem_id="urls",
                                          placeholder="https://example.org/report.pdf")
                        with gr.Accordion("Metadata for these inputs (optional)", open=False):
                            with gr.Row():
                                m_kind = gr.Dropdown([("(as read)", "")] + [(x, x) for x in DOC_KINDS], value="", label="Kind")
                                m_date = gr.Textbox(label="Date", placeholder="YYYY[-MM[-DD]]")
                            with gr.Row():
                                m_title = gr.Textbox(label="Title")
                                m_pub = gr.Textbox(label="Publisher")
                        add_btn = gr.Button("Add to library", variant="primary", elem_id="add-docs")
                    with gr.Column(scale=1):
                        ingest_out = gr.Markdown("Added files and URLs are reported here, one line each.", elem_id="ingest-result")
                docs_table = gr.Dataframe(headers=L.DOC_COLUMNS, interactive=False, label="Documents", wrap=True,
                                          elem_id="docs-table", max_height=420,
                                          column_widths=["22%", "14%", "8%", "7%", "5%", "11%", "10%", "23%"])
                with gr.Row():
                    rm_pick = gr.Dropdown(choices=[], value=None, label="Remove a document", scale=4, elem_id="rm-pick")
                    rm_btn = gr.Button("Remove", variant="stop", scale=1, elem_id="rm-btn")
                    rm_out = gr.Markdown(elem_id="rm-result")
                log_table = gr.Dataframe(headers=L.LOG_COLUMNS, interactive=False, label="Ingest log (latest first)",
                                         wrap=True, elem_id="log-table", max_height=320,
                                         column_widths=["14%", "10%", "38%", "38%"])

            # --- document view -------------------------------------------------------------------
            with gr.Tab("Document", id="document"):
                doc_pick = gr.Dropdown(choices=[], value=None, label="Document", elem_id="doc-pick")
                doc_view = gr.HTML(R.document_view(None, None), elem_id="doc-view", js_on_load=DOCVIEW_JS)

            # --- grading -------------------------------------------------------------------------
            with gr.Tab("Grading", id="grading"):
                gr.Markdown("Grade whether each cited passage supports its answer sentence. Labels are appended to "
                            f"`{svc.labels_path}`.")
                with gr.Row():
                    g_pick = gr.Dropdown(choices=[(f"{it['id']}: {it['question']}", it["id"]) for it in seed_items], value=None,
                                         label="Pick a seed-dev question" if seed_items else "No seed-dev questions found",
                                         interactive=bool(seed_items), scale=3, elem_id="g-pick")
                    g_grader = gr.Textbox(label="Grader", placeholder="your name or initials", scale=1, elem_id="g-grader")
                with gr.Row():
                    g_question = gr.Textbox(label="Question", scale=5, elem_id="g-question")
                    g_ask = gr.Button("Answer for grading", variant="primary", scale=1, elem_id="g-ask")
                g_history = gr.State([])
                g_answer = gr.State(None)
                g_status = gr.Markdown(elem_id="g-status")

                @gr.render(inputs=[g_answer])
                def _grading_pairs(ans: Answer | None):
                    if ans is None:
                        return
                    if ans.abstained:
                        gr.Markdown(f"**The answer abstained** ({ans.answer}): there is no citation to grade.")
                        return
                    plist = G.pairs(ans)
                    if not plist:
                        gr.Markdown("This answer has no citations to grade.")
                        return
                    docs = svc.docs_by_id()
                    starts = svc.chunk_starts([p.citation.chunk_id for p in plist])
                    gr.Markdown(f"**Answer:** {R.esc(ans.answer)}")
                    radios, notes = [], []
                    for i, p in enumerate(plist):
                        with gr.Group():
                            gr.HTML(R.grading_pair(i + 1, p.sentence_index, p.sentence, p.support, p.citation,
                                                   docs.get(p.citation.doc_id), starts.get(p.citation.chunk_id)))
                            with gr.Row():
                                radios.append(gr.Radio([("supports", "supports"), ("partly", "partly"), ("doesn't", "doesnt")],
                                                       label=f"Does [{p.citation.n}] support sentence {p.sentence_index}?",
                                                       scale=2, elem_classes=["grade-label"]))
                                notes.append(gr.Textbox(label="Comment", scale=3, elem_classes=["grade-note"]))
                    save = gr.Button("Save labels", variant="primary", elem_id="g-save")

                    def _save(grader, *vals):
                        n = len(plist)
                        try:
                            recs = G.label_records(ans, list(vals[:n]), list(vals[n:]), grader)
                        except ValueError as exc:
                            raise gr.Error(str(exc))
                        if not recs:
                            return "Nothing saved: pick supports / partly / doesn't for at least one citation."
                        G.append_labels(svc.labels_path, recs)
                        return (f"Saved {len(recs)} label(s) to `{svc.labels_path}` "
                                f"({G.count_labels(svc.labels_path)} in the file).")

                    save.click(_save, [g_grader] + radios + notes, g_status)

        # --- chat wiring ---------------------------------------------------------------------------
        chat_inputs = [question, turns, engine, strict, k, kinds, publishers, doc_filter, date_from, date_to]
        chat_outputs = [chatbot, turns, sources, question, dl_last, dl_all]

        def respond(q, ts, eng, strict_v, k_v, kinds_v, pubs_v, docs_v, dfrom, dto):
            q = (q or "").strip()
            if not q:
                gr.Warning("Type a question first.")
                yield (gr.skip(),) * len(chat_outputs)
                return
            try:
                filters = C.make_filters(kinds_v, pubs_v, docs_v, dfrom, dto)
            except ValueError as exc:
                raise gr.Error(str(exc))
            current = ts
            for current in C.ask(svc, q, ts or [], engine=eng, strict=bool(strict_v), k=int(k_v), filters=filters):
                yield C.chat_messages(current), gr.skip(), gr.skip(), "", gr.skip(), gr.skip()
            last, conv = C.write_exports(svc, current)
            yield (C.chat_messages(current), current, C.sources_html(svc, current), "",
                   gr.DownloadButton(value=last, interactive=last is not None),
                   gr.DownloadButton(value=conv, interactive=conv is not None))

        question.submit(respond, chat_inputs, chat_outputs, concurrency_limit=4, concurrency_id="chat")
        ask_btn.click(respond, chat_inputs, chat_outputs, concurrency_limit=4, concurrency_id="chat")
        starters.click(lambda sample: sample[0] if sample else "", starters, question, queue=False).then(
            respond, chat_inputs, chat_outputs, concurrency_limit=4, concurrency_id="chat")

        def clear():
            return ([], [], R.sources_panel([], {}), "", gr.DownloadButton(value=None, interactive=False),
                    gr.DownloadButton(value=None, interactive=False))

        new_chat.click(clear, None, chat_outputs, queue=False)

        # --- library wiring ------------------------------------------------------------------------
        refresh_outputs = [docs_table, log_table, rm_pick, doc_pick, kinds, publishers, doc_filter, starters]

        def add_docs(files, url_text, kind_v, title_v, pub_v, date_v, progress=gr.Progress()):
            try:
                overrides = L.metadata_overrides(kind_v, title_v, pub_v, date_v)
            except ValueError as exc:
                raise gr.Error(str(exc))
            progress(0, desc="Reading…")

            def step(done: int, total: int, source: str) -> None:
                progress((done, total), desc=f"Ingesting {source.rsplit('/', 1)[-1][:60]}")

            report = L.ingest(svc, files, url_text, overrides, progress=step)
            return (report, None, "") + _refresh(svc)

        add_btn.click(add_docs, [upload, urls, m_kind, m_title, m_pub, m_date], [ingest_out, upload, urls] + refresh_outputs,
                      concurrency_limit=1, concurrency_id="library")

        def remove_doc(doc_id):
            return (L.remove(svc, doc_id),) + _refresh(svc)

        rm_btn.click(remove_doc, rm_pick, [rm_out] + refresh_outputs, concurrency_limit=1, concurrency_id="library")
        demo.load(lambda: _refresh(svc), None, refresh_outputs)

        # --- document view wiring ------------------------------------------------------------------
        def show_doc(doc_id, start=None, end=None):
            if not doc_id:
                return R.document_view(None, None)
            doc = svc.catalog.db.execute(
                "SELECT doc_id, title, publisher, date, kind, url, source, sha256 FROM documents WHERE doc_id=?", (doc_id,)
            ).fetchone()
            return R.document_view(dict(doc) if doc else None, svc.catalog.doc_text(doc_id), start, end)

        doc_pick.input(show_doc, doc_pick, doc_view)

        def open_from_card(evt: gr.EventData):
            data = getattr(evt, "_data", None) or {}
            doc_id = data.get("doc_id")
            if not doc_id:
                return gr.skip(), gr.skip(), gr.skip()
            return show_doc(doc_id, data.get("start"), data.get("end")), gr.Tabs(selected="document"), gr.Dropdown(value=doc_id)

        sources.click(open_from_card, None, [doc_view, tabs, doc_pick])
        check_view.click(open_from_card, None, [doc_view, tabs, doc_pick])
        quotes_view.click(open_from_card, None, [doc_view, tabs, doc_pick])

        # --- grading wiring ------------------------------------------------------------------------
        def pick_seed(item_id):
            it = seed_by_id.get(item_id or "")
            if not it:
                return gr.skip(), []
            return it["question"], it["history"]

        g_pick.input(pick_seed, g_pick, [g_question, g_history])
        g_question.input(lambda: [], None, g_history)

        def grade_answer(q, hist, eng, strict_v, k_v, kinds_v, pubs_v, docs_v, dfrom, dto):
            from dossier.app.engines.base import EngineError

            q = (q or "").strip()
            if not q:
                raise gr.Error("Type or pick a question first.")
            try:
                filters = C.make_filters(kinds_v, pubs_v, docs_v, dfrom, dto)
                history = [Turn(h["question"], h["answer"]) for h in hist or []]
                ans = svc.answerer.ask(q, engine=eng, strict=bool(strict_v), k=int(k_v), filters=filters, history=history)
            except (EngineError, ValueError) as exc:
                raise gr.Error(str(exc))
            n = len(G.pairs(ans))
            return ans, (f"{n} citation(s) to grade." if n else "")

        g_ask.click(grade_answer, [g_question, g_history, engine, strict, k, kinds, publishers, doc_filter, date_from, date_to],
                    [g_answer, g_status], concurrency_limit=4, concurrency_id="chat")
    return demo
