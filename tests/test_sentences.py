"""Sentence splitting: Punkt, and the plain blocks that skip it with the same result."""
from __future__ import annotations

import pytest

from dossier.ingest.sentences import _RegexSplitter, _plain, _punkt, sentence_spans

PLAIN = [
    "The border guard bought fourteen cameras. They arrived in May! Did anyone check them?",
    "Franco said: \u201cNobody can know.\u201d The committee disagreed. It cost 3.5 million euros.",
    "Государственный комитет закупил тепловизоры. Они прибыли в мае.",
]
NOT_PLAIN = [
    "Mr. Smith arrived. He left.",  # an abbreviation of the model
    "The contract was signed in 2023. The cameras came later.",  # a number before the period
    "It was sold to the U.S. Army in May.",  # a period inside a word
    "The force is weak.:2\u201310:79 High-energy physics followed.",  # a mark Punkt splits after with no space
    "They waited... Then they left.",  # an ellipsis
    "The cameras arrived. then the fences.",  # a lowercase next word
    "Liners used it.[citation needed] If larger, it failed.",
]


@pytest.mark.parametrize("text", PLAIN)
def test_a_plain_block_is_split_without_punkt_and_as_punkt_splits_it(text):
    language = "ru" if text[0] == "Г" else "en"
    tok = _punkt("russian" if language == "ru" else "english")
    assert _plain(text, tok._params.abbrev_types)
    assert list(_RegexSplitter.span_tokenize(text)) == list(tok.span_tokenize(text))
    assert len(sentence_spans(text, language=language)) >= 2


@pytest.mark.parametrize("text", NOT_PLAIN)
def test_a_block_with_an_ambiguous_end_goes_to_punkt(text):
    assert not _plain(text, _punkt("english")._params.abbrev_types)


def test_punkt_still_decides_abbreviations():
    text = "Mr. Smith arrived. He left."
    assert [text[a:b] for a, b in sentence_spans(text)] == ["Mr. Smith arrived.", "He left."]
