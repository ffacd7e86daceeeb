"""Who-said-what questions answered from the quote index (#13), through the real answer pipeline on a real store
of the seed article (embedded Chroma, the bundled embedder, the learned extractive engine for everything else).

What each answer must hold is read from the quote index itself (`QuoteIndex`), not written here: the test checks
that the answer is made of the stored quotations of the speakers asked about, cited exactly."""
from __future__ import annotations

import pytest

from dossier.app.answering import Answerer
from dossier.app.context import extractive_engine
from dossier.app.quote_answers import QuoteAnswerer
from dossier.app.settings import AnswerSettings
from dossier.app.verify import Verifier
from dossier.index.quotes import QuoteIndex


@pytest.fixture(scope="module")
def answerer(seed_index):
    svc = seed_index.svc
    settings = AnswerSettings()
    return Answerer(svc.retriever, settings, {"extractive": lambda: extractive_engine(settings)},
                    Verifier(svc.embedder.embed, settings.support_threshold, settings.partial_threshold))


def cited_quotes(svc, ans):
    text = svc.catalog.doc_text(ans.citations[0].doc_id)
    for c in ans.citations:
        assert svc.catalog.doc_text(c.doc_id)[c.start:c.end] == c.quote and c.quote in c.passage
    return text


def spans_holding(rows, ans):
    """The stored quotations each cited span holds (or lies in)."""
    out = []
    for c in ans.citations:
        out.append([r for r in rows if r["doc_id"] == c.doc_id and (c.start <= r["start"] < c.end or r["start"] <= c.start < r["end"])])
    return out


@pytest.mark.parametrize("question, speakers_of", [
    ("What did Amnesty say?", lambda qi: qi.quotes(org="Amnesty")),
    ("What did the SBC spokesman say?", lambda qi: qi.by_description("SBC spokesman")),
    ("Every quote from Liebl", lambda qi: qi.quotes(speaker="Liebl")),
])
def test_what_did_x_say_answers_with_their_quotations(answerer, seed_index, question, speakers_of):
    svc = seed_index.svc
    qi = QuoteIndex(svc.catalog)
    theirs = speakers_of(qi)
    assert theirs, "the index must hold quotations of this speaker for the test to mean anything"
    ans = answerer.ask(question)
    assert not ans.abstained and ans.engine == "extractive"
    cited_quotes(svc, ans)
    # every cited sentence holds a quotation of theirs, and all of theirs are given (up to the answer's cap)
    for held in spans_holding(qi.rows(), ans):
        assert held and all(r in theirs for r in held), held
    covered = [r for r in theirs if any(c.start <= r["start"] and r["end"] <= c.end for c in ans.citations)]
    assert len(covered) >= min(len(theirs), 6)
    assert all(s.support == "supported" for s in ans.sentences)


def test_who_said_names_the_speaker_and_cites_the_quote(answerer, seed_index):
    svc = seed_index.svc
    (row, *_) = QuoteIndex(svc.catalog).by_words("videos are frightening to watch")
    ans = answerer.ask("Who said the videos are frightening to watch?")
    assert not ans.abstained
    cited_quotes(svc, ans)
    surname = row["speaker"].split()[-1]
    assert surname in ans.answer
    assert any(c.start <= row["start"] and row["end"] <= c.end for c in ans.citations)


def test_who_said_a_pronoun_quote_also_gives_the_sentence_naming_the_speaker(answerer, seed_index):
    svc = seed_index.svc
    q = "Who said that “The EU is sacrificing human rights in the eagerness to limit migrants and refugees from reaching the EU”?"
    (row, *_) = QuoteIndex(svc.catalog).by_words("The EU is sacrificing human rights in the eagerness to limit migrants")
    ans = answerer.ask(q)
    assert row["speaker"] in ans.answer  # "..., he said." alone would not say who
    assert [(c.start, c.end) for c in ans.citations][0] == (row["cue_start"], row["cue_end"])


def test_answer_json_has_the_shape_of_any_answer(answerer):
    quoted = answerer.ask("What did Amnesty say?").model_dump()
    ranked = answerer.ask("How far can the cameras detect people?").model_dump()
    assert set(quoted) == set(ranked)
    assert set(quoted["citations"][0]) == set(ranked["citations"][0])
    assert ranked["confidence"] is not None  # the engine answered this one, not the quote index


@pytest.mark.parametrize("question", [
    "What did Amnesty say about the asylum system?",  # a topic: the engine ranks the speaker's sentences
    "What did Greenpeace say?",  # nobody of that name is quoted
    "Who said the cameras can see five kilometres?",  # no quotation holds those words
    "How far can the cameras detect people?",
])
def test_other_questions_are_left_to_the_engine(seed_index, question):
    assert QuoteAnswerer(seed_index.svc.catalog).answer(question) is None


def test_filters_limit_the_quote_answers(seed_index):
    from dossier.index.retrieval import Filters

    qa = QuoteAnswerer(seed_index.svc.catalog)
    assert qa.answer("What did Amnesty say?", Filters(doc_ids=[seed_index.doc_id])) is not None
    assert qa.answer("What did Amnesty say?", Filters(kinds=["legal"])) is None
