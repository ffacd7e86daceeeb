"""Rendering (app/ui/rendering.py) and starter questions (app/ui/starters.py): source text is always
escaped, markers become links to their cards, flags and abstentions show, highlights sit on the
exact span."""
from __future__ import annotations

import re
from html.parser import HTMLParser

from dossier.app.answer_models import ABSTAIN_TEXT, Answer, Citation, SentenceVerdict
from dossier.app.ui import rendering as R
from dossier.app.ui.starters import quoted_speakers, starter_questions, text_headings

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)> *md* [l](u) & $$x$$'
DOC = {"doc_id": "d1", "title": "T <i>x</i>", "publisher": "Pub & Co", "date": "2019-01-31", "kind": "article",
       "url": "https://ex.org/a?b=1&c=<2>", "source": "/s/a.txt", "sha256": "ab" * 32}


class Tags(HTMLParser):
    """Collects start tags with their attributes."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags(html: str) -> list[tuple[str, dict]]:
    p = Tags()
    p.feed(html)
    return p.tags


def cit(n=1, start=104, end=120, passage_start=100, text="abcd" + "0123456789abcdef" + "tail", **kw):
    q = text[start - passage_start:end - passage_start]
    return Citation(n=n, doc_id="d1", title=kw.pop("title", "T <i>x</i>"), source="/s/a.txt", chunk_id="d1:100-124",
                    page=kw.pop("page", None), start=start, end=end, quote=q, passage=text, **kw)


def ans(sentences, citations, **kw):
    return Answer(question="q <b>?</b>", answer="x", abstained=False, engine="extractive", citations=citations,
                  sentences=sentences, **kw)


def test_script_in_source_text_is_escaped_everywhere():
    c = cit(text="pre " + EVIL + " post", start=104, end=104 + len(EVIL), passage_start=100)
    card = R.source_card(c, {**DOC, "title": EVIL}, 1)
    doc = R.document_view(DOC, "x" + EVIL + "y", 1, 1 + len(EVIL))
    a = ans([SentenceVerdict(text=EVIL, citations=[1], support="supported", score=1)], [c])
    msg = R.answer_message(a, 1)
    for html in (card, doc, msg, R.sources_panel([a], {"d1": DOC}), R.grading_pair(1, 1, EVIL, "supported", c, DOC)):
        names = [t for t, _ in tags(html)]
        assert "script" not in names and "img" not in names
        assert not any(k.startswith("on") for _, attrs in tags(html) for k in attrs)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in card  # Jinja2 autoescape (markupsafe) spells " as &#34;
    assert '<mark id="doc-hl">&lt;script&gt;' in doc
    # in chat messages Markdown/LaTeX punctuation is inert too
    assert "&#60;script&#62;" in msg and "&#42;md&#42;" in msg and "&#91;l&#93;" in msg and "&#36;&#36;" in msg
    assert "*md*" not in msg and "$$" not in msg


def test_chat_esc_escapes_each_character_once():
    assert R.chat_esc("don't & <b>") == "don&#39;t &#38; &#60;b&#62;"
    assert R.chat_esc("a\n\nb") == "a b"


def test_markers_are_links_to_their_cards_and_flags_show():
    c1, c2 = cit(1), cit(2, start=110, end=116)
    a = ans([SentenceVerdict(text="One.", citations=[1], support="supported", score=0.9),
             SentenceVerdict(text="Two.", citations=[1, 2], support="partial", score=0.5),
             SentenceVerdict(text="Three.", citations=[], support="unsupported", score=0.1)], [c1, c2])
    msg = R.answer_message(a, 3)
    links = [(attrs["href"], attrs["class"]) for t, attrs in tags(msg) if t == "a"]
    assert links == [("#src-t3-1", "cite"), ("#src-t3-1", "cite"), ("#src-t3-2", "cite")]
    assert re.search(r'>\[1\]</a>', msg) and re.search(r'>\[2\]</a>', msg)
    assert 'class="sent sent-partial"' in msg and "partly supported" in msg
    assert 'class="sent sent-unsupported"' in msg and "not supported" in msg
    assert msg.count("⚠") == 2
    # every marker has a card with that id in the sources panel
    panel = R.sources_panel([None, None, a], {"d1": DOC})
    ids = {attrs.get("id") for _, attrs in tags(panel)}
    assert {"src-t3-1", "src-t3-2", "sources-t3"} <= ids


def test_card_highlights_the_exact_span_and_links_to_the_original():
    c = cit(start=104, end=120, passage_start=100)
    card = R.source_card(c, DOC, 1, passage_start=100)
    assert "<mark>0123456789abcdef</mark>" in card
    assert card.startswith('<div class="src-card" id="src-t1-1">')
    assert 'href="https://ex.org/a?b=1&amp;c=&lt;2&gt;"' in card and 'rel="noopener noreferrer nofollow"' in card
    assert "Pub &amp; Co · 2019-01-31 · article" in card
    assert 'data-doc="d1" data-start="104" data-end="120"' in card
    # without a URL the file path is shown as text, never as a link
    card2 = R.source_card(cit(page=3), {**DOC, "url": ""}, 1)
    assert '<code class="orig">/s/a.txt</code>' in card2 and "p. 3" in card2 and "<a " not in card2
    # javascript: URLs are never links
    assert "<a " not in R.source_card(cit(), {**DOC, "url": "javascript:alert(1)"}, 1)


def test_long_passages_are_trimmed_around_the_quote():
    text = "word " * 200 + "QUOTE HERE." + " tail" * 200
    start = 100 + text.index("QUOTE")
    out = R.highlighted_passage(text, 100, start, start + 11, context=50)
    assert "<mark>QUOTE HERE.</mark>" in out
    assert out.startswith("… ") and out.endswith(" …") and len(out) < 200


def test_abstention_message_and_closest_cards():
    closest = [cit(1), cit(2)]
    a = Answer(question="q", answer=ABSTAIN_TEXT, abstained=True, engine="extractive", closest=closest)
    msg = R.answer_message(a, 2)
    assert "The sources don&#39;t answer this." in msg and "Closest passages" in msg
    assert [attrs["href"] for t, attrs in tags(msg) if t == "a"] == ["#src-t2-c1", "#src-t2-c2"]
    panel = R.sources_panel([None, a], {"d1": DOC})
    assert 'id="src-t2-c1"' in panel and "not an answer" in panel and "<mark>" not in panel
    bare = Answer(question="q", answer=ABSTAIN_TEXT, abstained=True, engine="extractive")
    assert "Nothing in the library comes close" in R.answer_message(bare, 1)


def test_sources_panel_latest_first_and_older_folded():
    a1 = ans([SentenceVerdict(text="A.", citations=[1], support="supported", score=1)], [cit(1)])
    a2 = ans([SentenceVerdict(text="B.", citations=[1], support="supported", score=1)], [cit(1)])
    panel = R.sources_panel([a1, None, a2], {"d1": DOC})
    assert panel.index('id="sources-t3"') < panel.index('id="sources-t1"')
    assert '<details class="turn-sources" id="sources-t1">' in panel
    assert "q &lt;b&gt;?&lt;/b&gt;" in panel
    assert "Click a marker" in R.sources_panel([], {})


def test_document_view_marks_the_span_or_nothing_when_out_of_range():
    v = R.document_view(DOC, "hello <world> bye", 6, 13)
    assert '<mark id="doc-hl">&lt;world&gt;</mark>' in v and "T &lt;i&gt;x&lt;/i&gt;" in v
    assert "<mark" not in R.document_view(DOC, "short", 2, 99)
    assert "Pick a document" in R.document_view(None, None)


def test_streaming_and_error_messages_are_escaped():
    assert "&#60;b&#62;" in R.streaming_message("<b>partial [1]")
    assert "&#91;1&#93;" in R.streaming_message("<b>partial [1]")
    assert "&#60;x&#62;" in R.error_message("<x>")


# --- starters -----------------------------------------------------------------------------------
SEED_LIKE = """Equipping a Dictator

The EU has funded surveillance and patrol equipment for the benefit of Belarusian border authorities.

🔗Widespread Condemnation

Human Rights Watch has decried the regime’s crackdown on civil society in 2017.

Amnesty International has accused the government of employing violence against peaceful protesters in Belarus.

Amnesty International also noted that restrictions remained in place.

The Embargo Against Belarus

The EU’s embargo against Belarus, which dates to 2011, prohibits the export of arms to the country today.
"""


def test_headings_and_speakers_come_from_the_text():
    assert text_headings(SEED_LIKE, "Equipping a Dictator") == ["Widespread Condemnation", "The Embargo Against Belarus"]
    assert quoted_speakers(SEED_LIKE)[:2] == ["Amnesty International", "Human Rights Watch"]


def test_starter_questions_are_drawn_from_the_catalog():
    docs = [{"doc_id": "d1", "title": "Equipping a Dictator", "publisher": "OCCRP", "date": "2019-01-31"},
            {"doc_id": "d2", "title": "Empty", "publisher": "", "date": "2018"}]
    qs = starter_questions(docs, {"d1": SEED_LIKE, "d2": ""}.get, limit=6)
    assert qs[0] == "What did Amnesty International say?"
    assert "What does “Equipping a Dictator” say about the embargo against Belarus?" in qs
    assert "What does “Equipping a Dictator” say about widespread condemnation?" in qs
    assert "What is “Empty” about?" in qs
    assert len(qs) == len(set(qs)) <= 6
    assert starter_questions([], lambda _: None) == []
