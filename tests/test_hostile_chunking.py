"""Property tests on sentences, chunks and offsets beyond tests/test_chunking.py (which covers coverage,
exact slices, token limits and stable ids on arbitrary text): sentence spans, Punkt's block-wise and
regex paths for huge paragraphs, page maps and headings, giant words, and the linear-time trailing
whitespace rule of normalization."""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

import dossier.ingest.sentences as sentences_mod
from dossier.ingest.chunking import chunk_document, find_headings
from dossier.ingest.models import Document, DocumentMeta, PageSpan
from dossier.ingest.normalize import _TRAILING_SPACE, normalize_text
from dossier.ingest.sentences import paragraph_spans, sentence_spans
from dossier.ingest.settings import IngestSettings
from dossier.ingest.tokens import count_tokens

PROP = hsettings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_WORD = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp", "Zs")), min_size=1, max_size=12)
_SEP = st.sampled_from([" ", " ", ". ", "? ", "! ", "\n", "\n\n", ", ", ".\u201d ", "Mr. ", " e.g. "])
_PROSE = st.lists(st.tuples(_WORD, _SEP), min_size=1, max_size=300).map(lambda ws: normalize_text("".join(w + s for w, s in ws)))
_GIANT = st.builds(lambda a, w, b: normalize_text(f"{a} {w} {b}"), _WORD, st.text(
    alphabet=st.sampled_from(list("ab1-_\u00e9\u4e2d\U0001f600")), min_size=600, max_size=3000), _WORD)


def _check_spans(text: str, spans: list[tuple[int, int]], start: int = 0, end: int | None = None) -> None:
    end = len(text) if end is None else end
    prev = start
    for a, b in spans:
        assert start <= prev <= a < b <= end, (a, b)
        piece = text[a:b]
        assert piece == piece.strip() and piece
        assert "\n\n" not in piece  # never across a paragraph break
        prev = b
    covered = bytearray(len(text))
    for a, b in spans:
        covered[a:b] = b"\1" * (b - a)
    assert all(covered[i] for i in range(start, end) if not text[i].isspace())


@given(_PROSE, st.booleans())
@PROP
def test_sentence_spans_are_ordered_stripped_and_cover_every_visible_character(text, punkt):
    _check_spans(text, sentence_spans(text, punkt=punkt))


@given(_PROSE, st.data())
@PROP
def test_sentence_spans_of_a_slice_stay_inside_it(text, data):
    a = data.draw(st.integers(0, len(text)))
    b = data.draw(st.integers(a, len(text)))
    _check_spans(text, sentence_spans(text, a, b), a, b)
    for pa, pb in paragraph_spans(text, a, b):
        assert a <= pa < pb <= b and text[pa:pb] == text[pa:pb].strip()


@given(_PROSE, st.integers(20, 200))
@PROP
def test_huge_paragraphs_are_handed_to_punkt_in_blocks_without_losing_a_character(text, block):
    """The 50,000-character block limit, shrunk so that generated text crosses it."""
    text = text.replace("\n", " ")
    old = sentences_mod._PUNKT_BLOCK
    sentences_mod._PUNKT_BLOCK = block
    try:
        spans = sentence_spans(text)
        blocks = sentences_mod._blocks(text)
    finally:
        sentences_mod._PUNKT_BLOCK = old
    _check_spans(text, spans)
    assert blocks[0][0] == 0 and blocks[-1][1] == len(text)
    assert all(b1 == a2 for (_, b1), (a2, _) in zip(blocks, blocks[1:]))  # contiguous
    assert all(b - a <= block for a, b in blocks)


@given(st.one_of(_PROSE, _GIANT), st.sampled_from([(32, 0), (32, 8), (64, 16)]), st.data())
@PROP
def test_chunks_respect_pages_and_sections(text, sizes, data):
    if not text:
        return
    settings = IngestSettings(chunk_tokens=sizes[0], chunk_overlap=sizes[1])
    cuts = sorted(set(data.draw(st.lists(st.integers(1, max(1, len(text) - 1)), max_size=5))))
    pages = [PageSpan(1, 0)] + [PageSpan(i + 2, c) for i, c in enumerate(cuts)]
    heads = sorted({(c, f"Heading {c}") for c in data.draw(st.lists(st.integers(0, len(text) - 1), max_size=3))})
    doc = Document("dpage", "p", "", "pdf", text, DocumentMeta(language="en"), pages=pages, headings=heads)
    chunks = chunk_document(doc, settings)
    found = find_headings(doc)
    sentence_starts = [a for a, _ in sentence_spans(text)]
    prev = None
    for c in chunks:
        assert text[c.start:c.end] == c.text and c.n_tokens == count_tokens(c.text) <= settings.chunk_tokens
        assert c.page == doc.page_at(c.start)
        # a window never mixes pages: every sentence starting inside it starts on the chunk's page
        assert all(doc.page_at(a) == c.page for a in sentence_starts if c.start <= a < c.end)
        assert c.section == next((t for off, t in reversed(found) if off <= c.start), "")
        if prev is not None:
            # always progresses (ends may repeat: see the note on contained windows in the report)
            assert c.start > prev.start and c.end >= prev.end
        prev = c


@given(_GIANT, st.sampled_from([32, 64]))
@PROP
def test_giant_words_are_cut_within_the_limit_without_being_encoded_whole(text, max_tokens):
    settings = IngestSettings(chunk_tokens=max_tokens, chunk_overlap=0)
    doc = Document("dgiant", "g", "", "text", text, DocumentMeta(language="en"))
    chunks = chunk_document(doc, settings)
    covered = bytearray(len(text))
    for c in chunks:
        assert text[c.start:c.end] == c.text and count_tokens(c.text) <= max_tokens
        covered[c.start:c.end] = b"\1" * (c.end - c.start)
    assert all(covered[i] for i, ch in enumerate(text) if not ch.isspace())


_OLD_TRAILING = re.compile(r"[^\S\n]+$", re.MULTILINE)


@given(st.text(alphabet=st.sampled_from([" ", "\t", "\n", "a", "\u00a0", "\u3000", "\r", "b"]), max_size=200))
@hsettings(max_examples=400, deadline=None)
def test_linear_trailing_space_rule_matches_the_plain_one(s):
    assert _TRAILING_SPACE.sub("", s) == _OLD_TRAILING.sub("", s)


@pytest.mark.parametrize("n", [10_000, 200_000])
def test_long_whitespace_run_normalizes_in_linear_time(n):
    import time

    t0 = time.monotonic()
    assert normalize_text(" " * n + "x" + "\t" * n + "y ") == "x" + "\t" * n + "y"
    assert time.monotonic() - t0 < 1.0  # the plain rule took 15 s for 40,000 spaces
