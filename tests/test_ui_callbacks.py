"""UI callbacks without a browser: chat (real index and extractive engine; a scripted answerer for
streaming, history and engine errors), exports, library uploads (names, limits, ingest, remove) and
the grading tab's label records."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from dossier.app.answer_models import Answer, Citation, SentenceVerdict
from dossier.app.context import AppContext
from dossier.app.engines.base import EngineError
from dossier.app.settings import DossierSettings
from dossier.app.ui import chat as C
from dossier.app.ui import grading as G
from dossier.app.ui import library as L
from dossier.app.ui.services import UIServices

REPO = Path(__file__).resolve().parents[1]


def services(svc, **kw) -> UIServices:
    ctx = AppContext(DossierSettings(data_dir=svc.data_dir))
    ctx.index = svc  # the already-open index (cached_property slot)
    return UIServices(ctx, **kw)


@pytest.fixture(scope="module")
def seed_ui(seed_index):
    return services(seed_index.svc)


class ScriptedAnswerer:
    """Yields the given tokens, then the answer (or raises); records the keyword arguments."""

    def __init__(self, tokens=(), answer=None, error=None):
        self.tokens, self.answer, self.error = list(tokens), answer, error
        self.calls: list[dict] = []

    def ask_stream(self, question, **kw):
        self.calls.append({"question": question, **kw})
        yield from self.tokens
        if self.error:
            raise self.error
        yield self.answer or Answer(question=question, answer="A.", abstained=False, engine="llm",
                                    sentences=[SentenceVerdict(text="A.", citations=[], support="unsupported", score=0.1)])


# --- chat ---------------------------------------------------------------------------------------
def test_make_filters_validates_dates():
    f = C.make_filters(["article"], ["occrp"], ["d1"], "2019", " 2019-12-31 ")
    assert (f.kinds, f.publishers, f.doc_ids, f.date_from, f.date_to) == (["article"], ["occrp"], ["d1"], "2019", "2019-12-31")
    assert C.make_filters(None, None, None, "", None).empty()
    with pytest.raises(ValueError, match="date from: expected YYYY"):
        C.make_filters([], [], [], "last week", "")


def test_ask_answers_with_cited_markers_and_cards(seed_ui, seed_index):
    rendered, turns = [], None
    for turns in C.ask(seed_ui, "How far can the cameras detect people?", [], engine="extractive", strict=False, k=6,
                       filters=C.make_filters([], [], [], "", "")):
        rendered.append(C.chat_messages(turns))  # what the UI shows at each step
    assert len(rendered) >= 2
    assert rendered[0][-1]["content"].startswith('<span class="thinking">')  # shown at once, before the answer
    ans = turns[-1].answer
    assert ans is not None and "110 meters" in ans.answer
    msgs = C.chat_messages(turns)
    assert [m["role"] for m in msgs] == ["user", "assistant"]
    assert 'href="#src-t1-1"' in msgs[1]["content"] and "110 meters" in msgs[1]["content"]
    panel = C.sources_html(seed_ui, turns)
    assert 'id="src-t1-1"' in panel
    text = seed_index.svc.catalog.doc_text(seed_index.doc_id)
    c = ans.citations[0]
    assert f"<mark>{c.quote}</mark>" in panel and text[c.start:c.end] == c.quote  # the exact span is marked
    assert "OCCRP (with Danwatch) · 2019-01-31 · article" in panel


def test_abstention_turn(seed_ui):
    turns = list(C.ask(seed_ui, "What is the population of Belarus?", [], engine="extractive", strict=False, k=6,
                       filters=C.make_filters([], [], [], "", "")))[-1]
    assert turns[-1].answer.abstained
    msg = C.chat_messages(turns)[-1]["content"]
    assert "The sources don&#39;t answer this." in msg and 'href="#src-t1-c1"' in msg
    assert 'id="src-t1-c1"' in C.sources_html(seed_ui, turns)


def test_llm_tokens_stream_then_the_final_answer_replaces_them(seed_index):
    fake = ScriptedAnswerer(tokens=["The cam", "eras <b>see</b> [1]"])
    ui = services(seed_index.svc, answerer=fake)
    steps = [[(t.streaming, t.answer) for t in turns] for turns in C.ask(ui, "q?", [], engine="llm", strict=True, k=3,
                                                                           filters=C.make_filters([], [], [], "", ""))]
    streamed = [s[-1][0] for s in steps if s[-1][0]]
    assert streamed[:2] == ["The cam", "The cameras <b>see</b> [1]"]
    # rendered while streaming: escaped text and a cursor
    partial = C.chat_messages([C.ChatTurn("q?", streaming="The cameras <b>see</b> [1]")])[-1]["content"]
    assert "&#60;b&#62;see" in partial and 'class="cursor"' in partial
    assert steps[-1][-1][1] is not None and steps[-1][-1][0] is None
    assert fake.calls[0]["engine"] == "llm" and fake.calls[0]["strict"] is True and fake.calls[0]["k"] == 3
    # the unsupported sentence is flagged
    assert "not supported" in C.chat_messages([C.ChatTurn("q?", answer=Answer(
        question="q?", answer="A.", abstained=False, engine="llm",
        sentences=[SentenceVerdict(text="A.", citations=[], support="unsupported", score=0.1)]))])[-1]["content"]


def test_history_is_passed_as_follow_up_context(seed_index):
    fake = ScriptedAnswerer()
    ui = services(seed_index.svc, answerer=fake)
    f = C.make_filters([], [], [], "", "")
    turns = list(C.ask(ui, "What equipment did the EU fund?", [], engine="extractive", strict=False, k=6, filters=f))[-1]
    turns.append(C.ChatTurn("broken", error="engine down"))  # failed turns are not history
    list(C.ask(ui, "And who supplied it?", turns, engine="extractive", strict=False, k=6, filters=f))
    hist = fake.calls[-1]["history"]
    assert [(h.question, h.answer) for h in hist] == [("What equipment did the EU fund?", "A.")]


def test_engine_errors_become_a_message_not_a_crash(seed_index):
    ui = services(seed_index.svc, answerer=ScriptedAnswerer(tokens=["x"], error=EngineError("endpoint http://127.0.0.1:9/v1 refused")))
    turns = list(C.ask(ui, "q?", [], engine="llm", strict=False, k=6, filters=C.make_filters([], [], [], "", "")))[-1]
    assert turns[-1].answer is None and "refused" in turns[-1].error
    msg = C.chat_messages(turns)[-1]["content"]
    assert msg.startswith('<div class="error">') and "The llm engine could not answer" in msg
    assert C.write_exports(ui, turns) == (None, None)
    crash = services(seed_index.svc, answerer=ScriptedAnswerer(error=RuntimeError("disk on fire")))
    turns = list(C.ask(crash, "q?", turns, engine="extractive", strict=False, k=6, filters=C.make_filters([], [], [], "", "")))[-1]
    assert "Something went wrong" in turns[-1].error and "disk on fire" in turns[-1].error


def test_exports_are_markdown_files_with_footnotes(seed_ui):
    f = C.make_filters([], [], [], "", "")
    turns = list(C.ask(seed_ui, "How far can the cameras detect people?", [], engine="extractive", strict=False, k=6, filters=f))[-1]
    turns = list(C.ask(seed_ui, "What is the population of Belarus?", turns, engine="extractive", strict=False, k=6, filters=f))[-1]
    last, conv = C.write_exports(seed_ui, turns)
    last_md, conv_md = Path(last).read_text(), Path(conv).read_text()
    assert Path(last).name.startswith("dossier-answer-") and Path(conv).suffix == ".md"
    assert "population" in last_md and "[^" not in last_md  # the last answer abstained
    assert "## Q: How far can the cameras detect people?" in conv_md and "## Q: What is the population" in conv_md
    assert "[^1]: “The cameras" in conv_md and "sha256 `" in conv_md


# --- library ------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, safe", [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\win.ini", "win.ini"),
    ("/abs/path/report.pdf", "report.pdf"),
    ("", "upload"),
    ("..", "upload"),
    (".hidden.txt", "hidden.txt"),
    ("a<script>b.md", "a_script_b.md"),
    ("nul\x00byte.txt", "nulbyte.txt"),
    ("harbour survey (draft).txt", "harbour survey _draft_.txt"),
    ("ｆｕｌｌｗｉｄｔｈ.txt", "fullwidth.txt"),
    ("x" * 300 + ".docx", "x" * 115 + ".docx"),
])
def test_safe_filename(raw, safe):
    assert L.safe_filename(raw) == safe


def test_stage_uploads_checks_type_size_and_stays_in_the_upload_dir(tmp_path):
    src = tmp_path / "incoming"
    src.mkdir()
    ok = src / "notes.md"
    ok.write_text("# Notes\n\nSome text.\n")
    big = src / "big.txt"
    big.write_bytes(b"a" * 3000)
    exe = src / "tool.exe"
    exe.write_bytes(b"MZ")
    empty = src / "empty.txt"
    empty.write_bytes(b"")
    up = tmp_path / "uploads"
    staged = L.stage_uploads([str(ok), str(big), str(exe), str(empty), str(src / "gone.txt")], up, max_mb=2000 / 1048576)
    assert staged.paths == [str((up / "notes.md").resolve())]
    reasons = dict(staged.errors)
    assert "over the" in reasons["big.txt"] and "upload limit" in reasons["big.txt"]
    assert "type not accepted" in reasons["tool.exe"]
    assert reasons["empty.txt"] == "empty file"
    assert "unreadable" in reasons["gone.txt"]
    assert sorted(p.name for p in up.iterdir()) == ["notes.md"]


def test_parse_urls():
    urls, errors = L.parse_urls("https://a.org/x\n\n# note\nhttp://b.org\nftp://c.org\njavascript:alert(1)\nhttps://a.org/x\n")
    assert urls == ["https://a.org/x", "http://b.org"]
    assert [e[0] for e in errors] == ["ftp://c.org", "javascript:alert(1)"]


def test_metadata_overrides_validate():
    assert L.metadata_overrides("legal", " T ", "", "2020-02") == {"kind": "legal", "title": "T", "date": "2020-02"}
    assert L.metadata_overrides("", "", "", "") == {}
    with pytest.raises(ValueError, match="date"):
        L.metadata_overrides("", "", "", "yesterday")
    with pytest.raises(ValueError, match="kind"):
        L.metadata_overrides("novel", "", "", "")


def test_ingest_upload_then_remove(tmp_path, make_service):
    ui = services(make_service(tmp_path / "data"))
    (tmp_path / "tmpupload").mkdir()
    f = tmp_path / "tmpupload" / "Harbour notes.txt"
    f.write_text("Harbour notes\n\nThe keeper counted 4,812 gulls in the spring survey.\n")
    seen = []
    report = L.ingest(ui, [str(f)], "not a url", {"publisher": "Harbour Board"}, progress=lambda d, t, s: seen.append((d, t)))
    assert "**Done:** 1 ingested, 1 failed" in report
    assert "`Harbour notes.txt` (1 chunks)" in report and "`not a url` — expected an http" in report
    assert seen == [(1, 1)]
    rows = L.documents_rows(ui)
    assert len(rows) == 1 and rows[0][1] == "Harbour Board" and rows[0][4] == 1
    assert L.log_rows(ui)[0][1:3] == ["ingested", "upload: Harbour notes.txt"]
    doc_id = rows[0][6]
    assert L.document_choices(ui) == [(f"Harbour notes ({doc_id})", doc_id)]
    assert L.publisher_choices(ui) == ["Harbour Board"] and L.kind_choices(ui) == ["other"]
    # the new document answers questions right away
    ans = ui.answerer.ask("How many gulls did the keeper count?")
    assert "4,812" in ans.answer
    assert "Removed **Harbour notes**" in L.remove(ui, doc_id)
    assert L.documents_rows(ui) == []
    assert "No such document" in L.remove(ui, doc_id)
    assert L.remove(ui, None) == "Pick a document to remove."
    assert L.ingest(ui, [], "", {}) == "Nothing to add: choose files or paste URLs first."


# --- grading ------------------------------------------------------------------------------------
def _graded_answer() -> Answer:
    c1 = Citation(n=1, doc_id="d1", title="T", source="s", chunk_id="d1:0-50", start=0, end=20, quote="q1", passage="passage one")
    c2 = Citation(n=2, doc_id="d1", title="T", source="s", chunk_id="d1:40-90", start=45, end=60, quote="q2", passage="passage two")
    return Answer(question="Q?", answer="A [1] [2]. B [2].", abstained=False, engine="extractive", citations=[c1, c2],
                  sentences=[SentenceVerdict(text="A.", citations=[1, 2], support="supported", score=0.9),
                             SentenceVerdict(text="B.", citations=[2], support="partial", score=0.5)])


def test_grading_pairs_and_label_records(tmp_path):
    a = _graded_answer()
    ps = G.pairs(a)
    assert [(p.sentence_index, p.citation.n) for p in ps] == [(1, 1), (1, 2), (2, 2)]
    recs = G.label_records(a, ["supports", None, "doesnt"], [" ok ", "", "wrong amount"], " ann ", at="2024-01-01T00:00:00+00:00")
    assert [r["label"] for r in recs] == ["supports", "doesnt"]
    r = recs[1]
    assert r == {"id": r["id"], "sentence": "B.", "passage": "passage two", "label": "doesnt", "note": "wrong amount",
                 "source": "grading-tab", "question": "Q?", "doc_id": "d1", "chunk_id": "d1:40-90", "start": 45, "end": 60,
                 "grader": "ann", "at": "2024-01-01T00:00:00+00:00"}
    assert recs[0]["id"].startswith("gt-") and recs[0]["id"] != recs[1]["id"] and recs[0]["note"] == "ok"
    with pytest.raises(ValueError, match="label: expected one of supports, partly, doesnt"):
        G.label_records(a, ["yes"], [], "ann")
    assert G.label_records(a, [None, None, None], [], "") == []
    assert G.pairs(Answer(question="q", answer="x", abstained=True, engine="extractive")) == []

    path = tmp_path / "grading" / "labels.jsonl"
    assert G.append_labels(path, recs) == 2 and G.append_labels(path, []) == 0
    assert G.append_labels(path, G.label_records(a, ["partly"], [""], "")) == 1
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert [x["label"] for x in lines] == ["supports", "doesnt", "partly"] and lines[2]["grader"] == "anonymous"
    assert G.count_labels(path) == 3
    # the same core fields as the hand-made support labels
    hand = json.loads((REPO / "eval" / "datasets" / "support-labels.jsonl").read_text().splitlines()[0])
    assert set(hand) <= set(lines[0])


def test_grading_reads_seed_dev_questions_directly(tmp_path):
    items = G.load_questions(REPO / "eval" / "datasets" / "seed-dev.jsonl")
    assert items[0]["id"] == "sd-001" and items[0]["question"].startswith("How much")
    assert any(it["history"] for it in items)  # follow-ups carry their earlier turns
    p = tmp_path / "q.jsonl"
    p.write_text('{"id": "a", "question": "Q1"}\nnot json\n{"question": ""}\n{"id": 7, "question": "Q2", "history": [1]}\n')
    assert G.load_questions(p) == [{"id": "a", "question": "Q1", "history": []}, {"id": "7", "question": "Q2", "history": []}]
    assert G.load_questions(None) == [] and G.load_questions(tmp_path / "none.jsonl") == []


def test_the_blocks_build(seed_ui):
    import gradio as gr

    from dossier.app.ui import build_ui

    demo = build_ui(seed_ui)
    assert isinstance(demo, gr.Blocks)
    ids = {getattr(b, "elem_id", None) for b in demo.blocks.values()}
    assert {"chatbot", "question", "sources", "upload", "docs-table", "doc-view", "g-ask", "export-last", "export-all"} <= ids
