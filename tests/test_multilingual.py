"""Sources in other languages (#16): per-chunk language, the multilingual collection, fusion across languages,
cross-language answers, names and numbers across scripts. Units with fakes, then the real store (embedded
Chroma), the real multilingual encoder and the real answer pipeline."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from dossier.app.answer_models import Draft, DraftSentence
from dossier.app.engines.crosslingual import CrossCalibration, CrossLingualEngine, name_match, soft_coverage, type_match
from dossier.app.question import NUMBER, PERSON
from dossier.app.verify import Verifier
from dossier.index.multilingual import fuse, readable, wanted
from dossier.index.settings import IndexSettings
from dossier.ingest.language import chunk_language, is_rtl, language_name, main_script, question_language
from dossier.ingest.models import Chunk

from tests.conftest import FIXTURES, SEED

ML = FIXTURES / "multilingual"
RU = ML / "ru-varnia-cameras.txt"


# --- languages ----------------------------------------------------------------------------------
def test_chunk_language_follows_the_document_unless_the_script_disagrees():
    assert chunk_language("The border guards received thermal cameras in 2016.", "en") == "en"
    # a Russian statement quoted at length in an English article is Russian
    assert chunk_language("Пограничники заявили, что камеры работают круглосуточно и в любую погоду.", "en") == "ru"
    # a document whose language could not be decided is detected chunk by chunk
    assert chunk_language("Die Grenzschutzbehörde erhielt im Jahr 2016 neue Wärmebildkameras.", "") == "de"
    # no letters at all: the document's
    assert chunk_language("12 345 — 67", "ru") == "ru"


def test_question_language_by_script_then_a_confident_detector():
    assert question_language("На каком расстоянии камеры могут обнаружить людей?") == "ru"
    assert question_language("Wie viele Journalisten wurden 2022 festgenommen?") == "de"
    assert question_language("Ile ręcznych radiotelefonów kupiła straż graniczna?") == "pl"
    assert question_language("How far can the cameras detect people?") == "en"
    assert question_language("Who is Peter Danssaert?") == "en"  # langdetect alone says German (0.86)


def test_language_names_scripts_and_direction():
    assert language_name("ru") == "Russian" and language_name("") == "unknown language"
    assert main_script("مرحبا بالعالم") == "arabic" and is_rtl("ar") and is_rtl("he") and not is_rtl("ru")


# --- fusion ---------------------------------------------------------------------------------------
def test_what_goes_into_the_multilingual_collection():
    assert wanted("ru", "foreign") and wanted("", "foreign") and not wanted("en", "foreign")
    assert wanted("en", "all") and not wanted("ru", "off")


def test_fusion_counts_only_the_rankings_that_read_each_language_pair():
    s = IndexSettings()
    assert readable("dense", "en", "en") and not readable("dense", "en", "ru") and not readable("dense", "ru", "en")
    assert readable("bm25", "ru", "ru") and not readable("bm25", "en", "ru") and readable("multilingual", "en", "ru")
    dense, sparse = {"en1": 1, "ru1": 2}, {"en1": 2, "ru1": 1}
    multi = {"ru1": 1}
    out = fuse("How far can the cameras see?", dense, sparse, multi, {"en1": "en", "ru1": "ru"}, s)
    plain_en = 1 / 61 + 1 / 62
    # the English chunk scores what it scores without multilingual retrieval
    assert out["en1"] == pytest.approx(plain_en)
    # the Russian chunk: its English-embedder and BM25 ranks are noise for an English question and are left
    # out; the multilingual rank 1 counts as if every ranking agreed
    assert out["ru1"] == pytest.approx(2 / 61)
    # a Russian question: BM25 reads Russian, the English embedder does not
    out_ru = fuse("На каком расстоянии камеры видят людей?", dense, sparse, multi, {"en1": "en", "ru1": "ru"}, s)
    assert out_ru["ru1"] == pytest.approx((1 / 61 + 1 / 61) * 2 / 2)
    assert out_ru["en1"] < 1e-3 * plain_en + 1e-12  # nothing reads an English chunk for a Russian question here


# --- names and numbers across scripts (verifier) ------------------------------------------------
RU_SENT = "По словам официального представителя службы Антона Кравца, камеры видят на 5 километров, а стоят 1,9 миллиона евро."


def test_verifier_finds_names_and_numbers_across_scripts():
    v = Verifier(None)
    ok = v.check("Anton Kravets said the cameras cost 1.9 million euros and see 5 kilometres.", [RU_SENT])
    assert ok.missing_names == [] and ok.missing_numbers == []
    bad = v.check("Anton Petrov said the cameras cost 2.9 million euros.", [RU_SENT])
    assert bad.missing_names == ["petrov"] and bad.missing_numbers == [2900000.0]
    assert bad.label == "unsupported"


def test_cross_language_signals():
    assert name_match("Who chairs the committee with Marta Lindqvist?", "Председатель комитета Марта Линдквист назвала") == 1.0
    assert name_match("Who chairs the committee with Marta Lindqvist?", "Компания Halvik Marine согласилась") == 0.0
    assert type_match(NUMBER, "установлено 38 камер") == 1.0 and type_match(NUMBER, "камеры работают") == 0.0
    assert type_match(PERSON, "Председатель комитета Марта Линдквист") == 1.0
    q = np.eye(3, dtype=np.float32)[:2]
    assert soft_coverage(q, np.eye(3, dtype=np.float32)) == pytest.approx(1.0)
    assert soft_coverage(q, np.zeros((0, 3))) == 0.0


# --- the engine's routing, with fakes -------------------------------------------------------------
def _hit(i: int, text: str, lang: str):
    chunk = Chunk(f"d{i}:0-{len(text)}", f"d{i}", 0, 0, len(text), text, 20, language=lang)
    return SimpleNamespace(chunk=chunk, doc={"title": f"doc {i}", "language": lang}, dense_similarity=0.5)


class FakeBase:
    """Stands for the English extractive engine: records what it was shown."""

    def __init__(self, abstain: bool):
        self.seen: list[list[str]] = []
        self.abstain = abstain

    def draft(self, question, passages):
        self.seen.append([p.chunk.language for p in passages])
        if self.abstain:
            return Draft(abstained=True, confidence=0.1)
        return Draft(sentences=[DraftSentence(passages[0].chunk.text, [1], None)], confidence=0.9)


class FakeEncoder:
    """Similarity by shared digits: enough to route, never a stand-in for the real encoder's quality."""

    def similarities(self, query, texts):
        digits = set(filter(str.isdigit, query))
        return np.array([0.9 if digits & set(t) else 0.1 for t in texts], dtype=np.float32)

    def encode(self, texts):
        return np.ones((len(texts), 4), dtype=np.float32) / 2


EN = "The border guards counted the new cameras in the spring of that year."
RUS = "Всего на участке установлено 38 камер на 12 вышках вдоль границы."


def test_english_only_passages_go_to_the_english_engine_untouched():
    base = FakeBase(abstain=False)
    eng = CrossLingualEngine(base, FakeEncoder(), CrossCalibration(threshold=0.5, override=0.8, coverage_weight=0.0))
    d = eng.draft("How many cameras were counted?", [_hit(1, EN, "en"), _hit(2, EN + " Again.", "en")])
    assert base.seen == [["en", "en"]] and not d.abstained


def test_the_english_scorer_never_reads_a_russian_sentence():
    base = FakeBase(abstain=True)
    eng = CrossLingualEngine(base, FakeEncoder(), CrossCalibration(threshold=0.5, override=0.8, coverage_weight=0.0))
    d = eng.draft("How many cameras, 38 or more, were installed?", [_hit(1, EN, "en"), _hit(2, RUS, "ru")])
    assert base.seen == [["en"]]  # the English engine saw the English passage only
    assert not d.abstained and d.sentences[0].text == RUS and d.sentences[0].cites == [2]
    assert d.sentences[0].span == ("d2", 0, len(RUS))


def test_cross_language_abstains_under_its_own_threshold():
    eng = CrossLingualEngine(FakeBase(abstain=True), FakeEncoder(), CrossCalibration(threshold=0.95, override=0.99, coverage_weight=0.0))
    d = eng.draft("How many cameras, 38 or more, were installed?", [_hit(1, EN, "en"), _hit(2, RUS, "ru")])
    assert d.abstained and "across languages" in d.reason


def test_an_english_answer_is_kept_unless_the_foreign_one_clears_the_override():
    cal = CrossCalibration(threshold=0.5, override=0.99, type_weight=0.0, coverage_weight=0.0)
    eng = CrossLingualEngine(FakeBase(abstain=False), FakeEncoder(), cal)
    d = eng.draft("How many cameras, 38 or more, were installed?", [_hit(1, RUS, "ru"), _hit(2, EN, "en")])
    assert d.sentences[0].text == EN and d.sentences[0].cites == [2]  # renumbered to the full list


# --- real store, real encoder, real pipeline ------------------------------------------------------
@pytest.fixture(scope="module")
def ml_store(tmp_path_factory, shared_embedder):
    from dossier.index.indexer import Ingestor

    from tests.conftest import build_service

    svc = build_service(tmp_path_factory.mktemp("ml-store"), shared_embedder)
    report = Ingestor(svc).run([str(SEED), str(RU)])
    assert [r.status for r in report.results] == ["ingested", "ingested"], report.to_dict()
    return SimpleNamespace(svc=svc, report=report)


def test_an_english_only_library_gets_no_multilingual_collection(make_service):
    from dossier.index.indexer import Ingestor

    svc = make_service()
    Ingestor(svc).run([str(SEED)])
    ml = svc.retriever.multilingual
    assert ml.chunk_count() == 0
    assert f"{svc.index_settings.collection}-ml" not in [c.name for c in svc.store.client.list_collections()]
    hits = svc.retriever.search("How far can the cameras detect people?", k=3)
    assert hits and "multilingual" not in svc.retriever.last_timings


def test_foreign_chunks_get_sentence_vectors_in_their_own_collection(ml_store):
    svc = ml_store.svc
    ml = svc.retriever.multilingual
    ru_id = ml_store.report.results[1].doc_id
    ru_chunks = svc.catalog.chunk_ids_for(ru_id)
    assert ml.chunk_count() == len(ru_chunks) > 0  # the Russian chunks only
    assert {c.language for c in svc.catalog.get_chunks(ru_chunks).values()} == {"ru"}
    meta = ml.store.collection.metadata
    assert meta["embedder"].startswith("google/universal-sentence-encoder-multilingual-3") and meta["dim"] == 512
    got = ml.store.collection.get(where={"doc_id": ru_id}, include=["metadatas"])
    assert {m["chunk_id"] for m in got["metadatas"]} == set(ru_chunks)
    assert len(got["ids"]) > len(ru_chunks)  # one vector per sentence
    assert ml.sync()["added_chunks"] == 0  # in line already: nothing to do


def test_an_english_question_reaches_the_russian_sentence(ml_store):
    hits = ml_store.svc.retriever.search("How many border violators were detained in the first six months?", k=6)
    assert any("задержали 214" in h.chunk.text for h in hits[:3])
    assert "multilingual" in ml_store.svc.retriever.last_timings


def _answerer(svc):
    from dossier.app.answering import Answerer
    from dossier.app.context import extractive_engine
    from dossier.app.engines.crosslingual import cross_engine
    from dossier.app.settings import AnswerSettings

    settings = AnswerSettings()
    return Answerer(svc.retriever, settings, {"extractive": lambda: cross_engine(extractive_engine(settings), svc.index_settings)},
                    Verifier(svc.embedder.embed))


@pytest.mark.parametrize("question, words", [
    pytest.param("What distance can the thermal cameras near Pellan detect a person at?", "5 километров",
                 marks=pytest.mark.xfail(strict=True, reason="known miss (#16): the right Russian sentence is ranked first but "
                                         "scores -0.97, just under the threshold -0.93 refitted on all four xlang sets "
                                         "(app/models/crosslingual.json); the score does not separate answers from "
                                         "non-answers well enough for any threshold to keep both")),
    ("How many detentions did the Varnian border guards make in the system's first half year?", "214"),
])
def test_an_english_question_is_answered_with_the_russian_sentence_quoted(ml_store, question, words):
    ans = _answerer(ml_store.svc).ask(question)
    assert not ans.abstained, ans.notice
    c = ans.citations[0]
    assert words in c.quote and c.language == "ru"
    text = ml_store.svc.catalog.doc_text(c.doc_id)
    assert text[c.start:c.end] == c.quote  # verbatim, in Russian, at its exact span
    assert ans.sentences[0].support == "supported"


@pytest.mark.xfail(strict=True, reason="known miss (#16): 'How many cameras' finds the German sentence naming Pellan's "
                   "cameras over the Russian one counting them (multilingual similarity is topical)")
def test_known_miss_counting_question(tmp_path, shared_embedder):
    from dossier.index.indexer import Ingestor

    from tests.conftest import build_service

    svc = build_service(tmp_path / "d", shared_embedder)
    Ingestor(svc).run([str(SEED), str(RU), str(ML / "de-varnia-bericht.txt")])
    ans = _answerer(svc).ask("How many cameras are on the Pellan section of the Varnian border?")
    assert not ans.abstained and "38" in ans.answer


def test_removed_documents_leave_the_collection_at_the_next_sync(tmp_path, shared_embedder):
    from dossier.index.indexer import Ingestor

    from tests.conftest import build_service

    svc = build_service(tmp_path / "d", shared_embedder)
    rep = Ingestor(svc).run([str(RU)])
    ml = svc.retriever.multilingual
    assert ml.chunk_count() > 0
    svc.remove_document(rep.results[0].doc_id)
    assert ml.sync()["removed_chunks"] > 0 and ml.chunk_count() == 0
    assert ml.store.count() == 0


def test_sources_and_search_show_languages(ml_store, run_cli):
    data_dir = Path(ml_store.svc.data_dir)
    out = run_cli("sources", "--json", env={"DOSSIER_DATA_DIR": str(data_dir)}).json()
    langs = sorted((d["language"], sorted(d["chunk_languages"])) for d in out["documents"])
    assert langs == [("en", ["en"]), ("ru", ["ru"])]
    res = run_cli("search", "How many border violators were detained?", "--json", env={"DOSSIER_DATA_DIR": str(data_dir)}).json()
    assert {r["language"] for r in res["results"]} <= {"en", "ru"} and "ru" in {r["language"] for r in res["results"]}


def test_a_right_to_left_quote_is_escaped_isolated_and_marked_rtl():
    from dossier.app.answer_models import Citation
    from dossier.app.ui.rendering import source_card

    text = "قال المتحدث إن الكاميرات \u202e<script>alert(1)</script> تعمل ليلا ونهارا."
    c = Citation(n=1, doc_id="d1", title="تقرير", source="x.txt", chunk_id="d1:0-80", start=0, end=len(text), quote=text,
                 passage=text, language="ar")
    html = source_card(c, {"title": "تقرير"}, 1)
    assert 'lang="ar" dir="rtl" style="unicode-bidi:isolate"' in html and ">Arabic<" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    english = source_card(c.model_copy(update={"language": "en"}), None, 1)
    assert "badge lang" not in english and 'dir="' not in english


def test_titles_and_lead_ins_are_not_answers_in_any_language():
    from dossier.app.engines.crosslingual import is_statement

    assert is_statement("Всего на участке установлено 38 камер на 12 вышках.")
    assert is_statement("„Die Kameras finden die Menschen“, sagte sie.") and is_statement("«Камеры работают круглосуточно»")
    assert not is_statement("Парламент Нордланда обсудил доклад о закупках пограничной службы")  # a title: no final stop
    assert not is_statement("Borderwatch Collective calls on the Northern Union to:")
    assert not is_statement("Сколько камер установлено?")


def test_an_english_question_keeps_its_k_english_passages_and_gets_foreign_ones_besides():
    from dossier.index.multilingual import within_reach

    hits = [_hit(i, f"text {i}.", lang) for i, lang in enumerate(["ru", "en", "ru", "en", "en", "ru", "en"])]
    langs = {h.chunk.chunk_id: h.chunk.language for h in hits}
    got = within_reach(hits, "How many cameras were installed?", langs, 3)
    assert [h.chunk.language for h in got] == ["ru", "en", "ru", "en", "en", "ru"]  # fused order kept
    assert [h.chunk.doc_id for h in got if h.chunk.language == "en"] == ["d1", "d3", "d4"]  # the best 3 English
    ru_q = within_reach(hits, "Сколько камер установлено на участке?", langs, 2)
    assert [h.chunk.doc_id for h in ru_q] == ["d0", "d1", "d2", "d3"]


# --- the llm engine's English rendering of a foreign quote (machine translation, marked) --------------------------
def test_llm_rendering_sits_beside_the_quote_marked_and_never_replaces_it():
    from llama_index.core.llms import ChatMessage, ChatResponse

    from dossier.app.answer_models import Answer, Citation
    from dossier.app.engines.llm import LLMEngine
    from dossier.app.export import answer_markdown
    from dossier.app.settings import LLMSettings
    from dossier.app.translate import add_renderings
    from dossier.app.ui.rendering import source_card

    class FakeLLM:
        def __init__(self):
            self.calls = []

        def chat(self, messages, **kw):
            self.calls.append([m.content for m in messages])
            return ChatResponse(message=ChatMessage(role="assistant", content="“In the first six months 214 were detained.”"))

    fake = FakeLLM()
    eng = LLMEngine(LLMSettings(base_url="http://127.0.0.1:9/v1"), llm=fake)
    q_ru, q_en = "Пограничники задержали 214 нарушителей границы.", "The guards detained 214 people."
    cites = [Citation(n=1, doc_id="d1", title="t", source="s", chunk_id="c", start=10, end=10 + len(q_ru), quote=q_ru,
                      passage=q_ru, language="ru"),
             Citation(n=2, doc_id="d2", title="t2", source="s2", chunk_id="c2", start=0, end=len(q_en), quote=q_en,
                      passage=q_en, language="en")]
    from dossier.app.answer_models import SentenceVerdict

    ans = Answer(question="q", answer="a [1] [2]", abstained=False, engine="llm", citations=cites,
                 sentences=[SentenceVerdict(text="The guards detained 214.", citations=[1, 2], support="partial", score=0.5)])
    assert add_renderings(ans, eng) == 1 and len(fake.calls) == 1  # the English quote is not sent
    ru, en = ans.citations
    assert "Russian" in fake.calls[0][0] and fake.calls[0][1] == q_ru
    assert ru.quote == q_ru and (ru.start, ru.end) == (10, 10 + len(q_ru))  # the quote and its span are untouched
    assert ru.translation == "In the first six months 214 were detained."
    assert "machine translation from Russian" in ru.translation_note and en.translation is None
    html = source_card(ru, None, 1)
    assert "Machine translation, not the source" in html and q_ru in html
    md = answer_markdown(ans, {})
    foot = next(line for line in md.splitlines() if line.startswith("[^1]:"))
    assert q_ru in foot and "machine translation from Russian" in foot and "214 were detained" in foot


def test_a_failed_rendering_leaves_the_quote_alone():
    from dossier.app.answer_models import Answer, Citation
    from dossier.app.translate import add_renderings

    class Broken:
        endpoint = "x"

        def render_in_english(self, text, language):
            raise RuntimeError("endpoint down")

    c = Citation(n=1, doc_id="d", title="t", source="s", chunk_id="c", start=0, end=5, quote="Привет", passage="Привет", language="ru")
    ans = Answer(question="q", answer="a", abstained=False, engine="llm", citations=[c])
    assert add_renderings(ans, Broken()) == 0 and ans.citations[0].translation is None and ans.citations[0].quote == "Привет"


def test_real_llm_server_renders_a_russian_quote_marked(llm_server):
    """Against the real llama.cpp server (SmolLM2-135M): the plumbing, not the translation's quality (a 135M model
    translates badly, which is why the rendering is marked and never replaces the quote)."""
    from dossier.app.answer_models import Answer, Citation
    from dossier.app.engines.llm import LLMEngine
    from dossier.app.settings import LLMSettings
    from dossier.app.translate import add_renderings

    q = "Пограничники задержали 214 нарушителей границы."
    c = Citation(n=1, doc_id="d", title="t", source="s", chunk_id="c", start=0, end=len(q), quote=q, passage=q, language="ru")
    ans = Answer(question="q", answer="a [1]", abstained=False, engine="llm", citations=[c])
    eng = LLMEngine(LLMSettings(base_url=llm_server, max_tokens=48, timeout_s=60))
    assert add_renderings(ans, eng) == 1
    got = ans.citations[0]
    assert got.quote == q and got.translation and got.translation != q
    assert got.translation_note.startswith("machine translation from Russian by http://127.0.0.1")


# --- the learned cross-language scorer and its calibration (eval/train_xscorer.py, eval/fit_crosslingual.py) ---------
def test_the_learned_scorer_loads_and_the_calibration_uses_it():
    from dossier.app.engines.crosslingual import FEATURE_NAMES, XScorer

    xs = XScorer()
    assert len(xs.weights) == len(xs.mean) == len(xs.scale) == len(FEATURE_NAMES)
    cal = CrossCalibration.load()
    assert cal.scorer == "xscorer" and cal.override >= cal.threshold
    assert "cv_figures" in cal.extra  # the fit records its cross-validated figures beside the in-sample ones


def test_pair_features_read_numbers_and_names_across_scripts():
    from dossier.app.engines.crosslingual import FEATURE_NAMES, pair_features
    from dossier.app.question import NUMBER

    v = np.eye(512, dtype=np.float32)[:2]
    X = pair_features(["How many cameras did Kravets show?"] * 2, [RUS, "Антон Кравец показал камеры."], v[:1].repeat(2, 0), v,
                      [NUMBER, NUMBER])
    col = {n: i for i, n in enumerate(FEATURE_NAMES)}
    assert X.shape == (2, len(FEATURE_NAMES))
    assert X[0, col["type"]] == 1.0 and X[1, col["type"]] == -1.0  # digits in the first sentence only
    assert X[1, col["name"]] == 1.0  # Kravets / Кравец
    assert X[0, col["cosine"]] == pytest.approx(1.0) and X[1, col["cosine"]] == pytest.approx(0.0)


def test_fit_decides_as_the_engine_and_cross_validates_by_document():
    from dossier.eval.fit_crosslingual import cross_validate, decide, grid

    def row(i, doc, answerable, score, correct, en=None):
        return {"id": f"q{i}", "dataset": "xlang-dev", "pair": "en-ru", "answerable": answerable, "docs": [doc] if answerable else [],
                "en": en, "cands": [{"score": score, "correct": correct, "doc": doc}]}

    rows = [row(i, f"d{i % 3}", True, 2.0, True) for i in range(6)] + [row(10 + i, f"d{i % 3}", False, -2.0, False) for i in range(6)]
    fit = grid(rows)
    assert -2.0 < fit["threshold"] <= 2.0 and fit["right"] == 12
    assert decide(rows[0], fit["threshold"], fit["override"]) == ("x", True)
    assert decide(rows[6], fit["threshold"], fit["override"]) == ("abstain", True)
    # an English answer stands unless the foreign candidate clears the override
    en = {"abstained": False, "correct": False}
    assert decide(row(99, "d0", True, 2.0, True, en), 0.0, 3.0) == ("en", False)
    assert decide(row(99, "d0", True, 2.0, True, en), 0.0, 1.0) == ("x", True)
    cv = cross_validate(rows)
    assert set(cv) == {r["id"] for r in rows} and all(ok for _, ok in cv.values())


# --- a question in another language reaches English text without multilingual vectors (the question map) ------------
def test_the_question_map_fits_only_its_embedder_and_gives_unit_vectors():
    from dossier.index.multilingual import QuestionMap

    qmap = QuestionMap()
    assert qmap.applies_to("sentence-transformers/all-MiniLM-L6-v2+onnx-int8")
    assert qmap.applies_to("sentence-transformers/all-MiniLM-L6-v2")  # torch / fp32 ONNX: the same vectors
    assert not qmap.applies_to("sentence-transformers/some-other-model")
    v = qmap(np.ones(512, dtype=np.float32) / np.sqrt(512))
    assert len(v) == 384 and np.linalg.norm(v) == pytest.approx(1.0, abs=1e-5)


def test_a_russian_question_reaches_english_text_in_an_english_only_library(make_service, tmp_path):
    from dossier.index.indexer import Ingestor

    svc = make_service()
    Ingestor(svc).run([str(SEED)])
    assert svc.retriever.multilingual.chunk_count() == 0  # default 'foreign': the English article has no multilingual vectors
    ru = "На каком расстоянии камеры могут обнаружить людей?"
    assert svc.retriever._question_vector(ru) is not None
    assert svc.retriever._question_vector("How far can the cameras detect people?") is None  # English: embedded as always
    hits = svc.retriever.search(ru, k=3)
    assert any("110 meters" in h.chunk.text for h in hits)
    off = make_service(tmp_path / "off")
    off.retriever.settings.multilingual = "off"
    assert off.retriever._question_vector(ru) is None


def test_a_foreign_passage_is_split_into_sentences_by_its_own_language():
    from dossier.app.engines.candidates import candidate_sentences

    de = ("Die Grenzschutzbehörde von Nordland hat am 15. September 2024 die Ausschreibung für 120 Handfunkgeräte neu "
          "veröffentlicht. Bis zum Ende der Frist gingen fünf Angebote ein.")
    got = [s.text for s in candidate_sentences([_hit(1, de, "de")])]
    assert got[0].startswith("Die Grenzschutzbehörde") and got[0].endswith("neu veröffentlicht.")  # "15." is an ordinal
    assert got[1] == "Bis zum Ende der Frist gingen fünf Angebote ein."
