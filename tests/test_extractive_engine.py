"""The learned extractive engine: how it turns scores into an answer (a fake scorer, for the unit rules),
and the real committed scorer on the seed article and on text written for these tests."""
from __future__ import annotations

import re

import numpy as np
import pytest

from dossier.app.context import extractive_engine
from dossier.app.engines.extractive import FEATURES, ExtractiveEngine
from dossier.app.reader import AbstainModel
from dossier.app.settings import AnswerSettings
from dossier.index.indexer import Ingestor
from tests.conftest import build_service


class KeywordScorer:
    """Unit fake: the logit is the number of question words the sentence shares, minus 2."""

    def score(self, question, sentences):
        q = set(re.findall(r"\w+", question.lower())) - {"the", "a", "of", "did", "what", "who", "how", "why", "when"}
        return np.array([len(q & set(re.findall(r"\w+", s.lower()))) - 2.0 for s in sentences], dtype=np.float32)


TOP_ONLY = AbstainModel(FEATURES, (1.0,) + (0.0,) * (len(FEATURES) - 1), 0.0, (0.0,) * len(FEATURES), (1.0,) * len(FEATURES), 0.5)

DOC = """Harbour report

The harbour authority of Veltmark opened a new container terminal in 2019. Its cranes can lift loads of up to 65 tonnes.

The fishermen's union leader Arvid Soll told reporters the slipway was blocked. “We were never consulted,” he said.

Was the terminal worth it? The terminal cost 40 million euros, the audit found.
"""


@pytest.fixture(scope="module")
def harbour(tmp_path_factory, shared_embedder):
    root = tmp_path_factory.mktemp("harbour")
    (root / "in").mkdir()
    (root / "in" / "harbour.txt").write_text(DOC, encoding="utf-8")
    svc = build_service(root / "data", shared_embedder)
    assert Ingestor(svc).run([str(root / "in")]).counts() == {"ingested": 1}
    return svc


def _engine(svc, **kw):
    return ExtractiveEngine(KeywordScorer(), TOP_ONLY, **kw)


def test_answers_with_the_best_sentence_verbatim_and_its_confidence(harbour):
    hits = harbour.retriever.search("How much load can the cranes lift?", k=3)
    d = _engine(harbour).draft("How much load can the cranes lift?", hits)
    assert not d.abstained and "65 tonnes" in d.sentences[0].text
    doc_id, a, b = d.sentences[0].span
    assert harbour.catalog.doc_text(doc_id)[a:b] == d.sentences[0].text
    assert d.confidence == pytest.approx(TOP_ONLY.confidence(_engine(harbour).rank("How much load can the cranes lift?", hits).features))


def test_abstains_below_the_threshold_and_says_why(harbour):
    q = "What colour is the lighthouse?"
    d = _engine(harbour).draft(q, harbour.retriever.search(q, k=3))
    assert d.abstained and "confidence" in d.reason and d.confidence is not None and d.confidence < 0.5


def test_a_question_in_the_sources_is_never_an_answer(harbour):
    q = "Was the terminal worth it?"
    r = _engine(harbour).rank(q, harbour.retriever.search(q, k=3))
    assert all(not s.sent.text.endswith("?") for s in r.scored)


def test_a_who_question_gets_the_best_sentence_only_no_speaker_rule(harbour):
    """The "speaker" rule of the former engine (add the sentence naming who said a "he said" quote) did not
    earn its place in the ablation: the answer is the scored sentences only."""
    q = "Who said they were never consulted?"
    d = _engine(harbour, threshold=0.0, max_sentences=1).draft(q, harbour.retriever.search(q, k=3))
    assert [s.text for s in d.sentences] == ["“We were never consulted,” he said."]


def test_close_runners_up_join_the_answer_best_first(harbour):
    q = "How much load can the cranes lift?"
    d = _engine(harbour, threshold=0.0, close=10.0).draft(q, harbour.retriever.search(q, k=3))
    assert len(d.sentences) == 3 and "65 tonnes" in d.sentences[0].text  # max_sentences 3, best first


# --- the real scorer -----------------------------------------------------------------------------------

def test_real_engine_answers_the_readers_first_question_with_evidence(seed_index):
    """"Did the EU break its own embargo?" is answered with the evidence sentences, not an abstention."""
    svc = seed_index.svc
    eng = extractive_engine(AnswerSettings())
    q = "Did the EU break its own embargo?"
    d = eng.draft(q, svc.retriever.search(q, k=6))
    assert not d.abstained, d.reason
    assert any("embargo" in s.text.lower() for s in d.sentences)


def test_real_engine_on_text_written_for_this_test(harbour):
    eng = extractive_engine(AnswerSettings())
    q = "How much did the terminal cost?"
    d = eng.draft(q, harbour.retriever.search(q, k=3))
    assert not d.abstained and "40 million euros" in d.sentences[0].text
