"""Markdown export (app/export.py): footnotes carry quote, title, publisher, date, page, URL, sha256
and dates; one footnote per distinct quote across a conversation; flags and abstentions kept;
Markdown in source text is inert."""
from __future__ import annotations

import re

from dossier.app.answer_models import ABSTAIN_TEXT, Answer, Citation, SentenceVerdict
from dossier.app.export import answer_markdown, conversation_markdown, md_escape

SHA = "ab" * 32
DOCS = {
    "d1": {"doc_id": "d1", "title": "Equipping a Dictator", "publisher": "OCCRP (with Danwatch)", "date": "2019-01-31",
           "url": "https://www.occrp.org/en/x", "source": "/data/a.txt", "sha256": SHA, "retrieved_at": "2024-05-01T10:00:00+00:00",
           "ingested_at": "2024-05-02T11:00:00+00:00"},
    "d2": {"doc_id": "d2", "title": "Report", "publisher": "", "date": "", "url": "", "source": "/data/report.pdf",
           "sha256": "cd" * 32, "ingested_at": "2024-05-03T09:00:00+00:00"},
}


def cit(n, doc="d1", start=10, end=40, quote="cameras detect people up to 110 meters", page=None, title="Equipping a Dictator"):
    return Citation(n=n, doc_id=doc, title=title, source=DOCS[doc]["url"] or DOCS[doc]["source"], chunk_id=f"{doc}:0-100",
                    page=page, start=start, end=end, quote=quote, passage=f"The {quote} away.")


def answer(question="How far?", sentences=None, citations=None, **kw):
    sentences = sentences or [SentenceVerdict(text="The cameras detect people up to 110 meters away.", citations=[1],
                                              support="supported", score=0.9)]
    citations = citations if citations is not None else [cit(1)]
    text = " ".join(s.text + "".join(f" [{n}]" for n in s.citations) for s in sentences)
    return Answer(question=question, answer=text, abstained=False, engine="extractive", citations=citations,
                  sentences=sentences, **kw)


def test_answer_footnote_has_every_field():
    md = answer_markdown(answer(), DOCS, exported_at="2024-06-01T00:00:00+00:00")
    assert md.startswith("# dossier answer\n")
    assert "## Q: How far?" in md
    assert "The cameras detect people up to 110 meters away.[^1]" in md
    foot = [line for line in md.splitlines() if line.startswith("[^1]:")]
    assert len(foot) == 1
    f = foot[0]
    for part in ("“cameras detect people up to 110 meters”", "*Equipping a Dictator*", "OCCRP (with Danwatch)", "2019-01-31",
                 "<https://www.occrp.org/en/x>", "doc `d1`", f"sha256 `{SHA}`", "chars 10–40",
                 "retrieved 2024-05-01T10:00:00+00:00", "ingested 2024-05-02T11:00:00+00:00"):
        assert part in f, part
    assert "exported 2024-06-01T00:00:00+00:00" in md and "engine: extractive" in md


def test_page_and_file_path_when_there_is_no_url():
    a = answer(citations=[cit(1, doc="d2", page=7, title="Report")])
    f = next(line for line in answer_markdown(a, DOCS).splitlines() if line.startswith("[^1]:"))
    assert "p. 7" in f and "`/data/report.pdf`" in f and "retrieved" not in f


def test_missing_catalog_row_still_exports():
    f = next(line for line in answer_markdown(answer(), {}).splitlines() if line.startswith("[^1]:"))
    assert "*Equipping a Dictator*" in f and "doc `d1`" in f and "sha256" not in f


def test_conversation_numbers_footnotes_across_turns_and_shares_identical_quotes():
    a1 = answer("Q one?", citations=[cit(1)])
    s2 = [SentenceVerdict(text="Same fact.", citations=[1], support="supported", score=0.9),
          SentenceVerdict(text="Other fact.", citations=[2], support="partial", score=0.5),
          SentenceVerdict(text="Made up.", citations=[], support="unsupported", score=0.1)]
    a2 = answer("Q two?", sentences=s2, citations=[cit(1), cit(2, start=50, end=60, quote="a contract")])
    md = conversation_markdown([a1, a2], DOCS)
    assert md.startswith("# dossier conversation\n")
    assert md.index("## Q: Q one?") < md.index("## Q: Q two?")
    assert "Same fact.[^1]" in md  # the same span as turn 1's citation: same footnote
    assert "Other fact.[^2] *(partly supported by the sources)*" in md
    assert "Made up. *(not supported by the sources)*" in md
    labels = re.findall(r"^\[\^(\d+)\]:", md, flags=re.M)
    assert labels == ["1", "2"]


def test_abstention_exports_the_statement_and_closest_passages():
    a = Answer(question="Population?", answer=ABSTAIN_TEXT, abstained=True, engine="extractive",
               closest=[cit(1, quote="x" * 10)])
    md = answer_markdown(a, DOCS)
    assert f"> {ABSTAIN_TEXT}" in md
    assert "Closest passages (they do not answer the question):" in md
    assert "[^" not in md


def test_markdown_and_html_in_sources_are_escaped():
    q = "*bold* [link](http://x) <script>alert(1)</script> `code` | pipe"
    a = answer(citations=[cit(1, quote=q)], sentences=[SentenceVerdict(text="# Heading " + q, citations=[1],
                                                                          support="supported", score=1.0)])
    md = answer_markdown(a, DOCS)
    assert "<script>" not in md and "\\<script\\>" in md
    assert "\\*bold\\*" in md and "\\[link\\](http://x)" in md and "\\`code\\`" in md and "\\| pipe" in md
    assert "\n# Heading" not in md and "\\# Heading" in md
    assert md_escape("a\n\nb   c") == "a b c"
