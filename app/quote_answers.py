"""Answers about who said what, from the quote index (`dossier.index.quotes`) instead of the sentence ranking:

- "What did Amnesty say?", "What did the SBC spokesman say?", "Every quote from Liebl": the quotations of
  the speakers the phrase describes (the speaker named outright first, then people described by role and
  organisation), each as the source sentence holding it, in document order;
- "Who said the videos are frightening to watch?": the quotation holding those words, with the sentence that
  names its speaker.

Each answer sentence is a verbatim span of the stored document, cited by the chunk holding it, so the
answer pipeline verifies and cites it like any engine's draft (same Draft and answer JSON). A question of
another form, or one no stored quotation fits, returns None and the engine answers it as before; so does
"What did X say about Y?", which needs the engine's ranking of X's sentences by Y.
"""
from __future__ import annotations

import re

from dossier.index.catalog import Catalog
from dossier.index.quotes import QuoteIndex
from dossier.index.retrieval import Filters, Hit
from dossier.ingest.models import Chunk
from dossier.ingest.sentences import paragraph_spans, sentence_spans

from .answer_models import Draft, DraftSentence

_VERBS = r"(?:say|said|says|write|wrote|tell|told|argue|argued|note|noted|claim|claimed|add|added|state|stated|testify|testified|warn|warned)"
_WHAT_SAID = re.compile(rf"^(?:what|which\s+\w+)\s+(?:did|does|do|has|have|had)\s+(?P<who>.+?)\s+{_VERBS}"
                        r"(?:\s+(?:so far|in (?:the|our) sources|in total|publicly))?\s*[?.!]*$", re.I)
_QUOTES_FROM = re.compile(r"^(?:(?:list|show(?: me)?|give me|find)\s+)?(?:all|every|each)?\s*(?:the\s+)?(?:quotes?|quotations?|statements?)"
                          r"\s+(?:from|by|of)\s+(?P<who>.+?)\s*[?.!]*$", re.I)
_WHO_SAID = re.compile(rf"^who\s+(?:has\s+|had\s+)?{_VERBS}\s+(?:that\s+)?(?P<what>.+?)\s*[?.!]*$", re.I)
MAX_SENTENCES = 8


class QuoteAnswerer:
    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.index = QuoteIndex(catalog)

    def answer(self, question: str, filters: Filters | None = None) -> tuple[Draft, list[Hit]] | None:
        """A draft and the passages it cites, or None when the question is not one the quote index answers."""
        q = question.strip()
        doc_ids = self._doc_ids(filters)
        if doc_ids == []:
            return None
        m = _WHAT_SAID.match(q) or _QUOTES_FROM.match(q)
        if m:
            rows = self.index.by_description(m.group("who"), doc_ids)
            return self._draft([self._host(r) for r in rows]) if rows else None
        m = _WHO_SAID.match(q)
        if m:
            rows = self.index.by_words(m.group("what").strip("“”\"'‘’ "), doc_ids)
            if not rows:
                return None
            best = rows[0]
            spans = [(best["doc_id"], best["cue_start"], best["cue_end"])] if best["cue_end"] else []
            return self._draft(spans + [self._host(best)])
        return None

    def _doc_ids(self, filters: Filters | None) -> list[str] | None:
        if filters is None or filters.empty():
            return None
        return self.catalog.filter_doc_ids(kinds=filters.kinds, publishers=filters.publishers, doc_ids=filters.doc_ids,
                                           date_from=filters.date_from, date_to=filters.date_to)

    def _host(self, row: dict) -> tuple[str, int, int]:
        """The source sentence(s) holding a quotation: a reported statement is one; a direct quote is shown with
        the words around it ("..., he wrote in an email.")."""
        if row["kind"] == "reported":
            return row["doc_id"], row["start"], row["end"]
        text = self.catalog.doc_text(row["doc_id"]) or ""
        lo = text.rfind("\n\n", 0, row["start"])
        hi = text.find("\n\n", row["end"])
        lo, hi = (0 if lo < 0 else lo), (len(text) if hi < 0 else hi)
        para = next(((a, b) for a, b in paragraph_spans(text, lo, hi) if a <= row["start"] < b), (lo, hi))
        sents = [(a, b) for a, b in sentence_spans(text, para[0], para[1]) if a < row["end"] and row["start"] < b]
        if not sents:
            return row["doc_id"], row["start"], row["end"]
        return row["doc_id"], sents[0][0], sents[-1][1]

    def _draft(self, spans: list[tuple[str, int, int]]) -> tuple[Draft, list[Hit]] | None:
        hits: list[Hit] = []
        sentences: list[DraftSentence] = []
        taken: list[tuple[str, int, int]] = []
        for doc_id, a, b in spans:
            if any(d == doc_id and x <= a and b <= y for d, x, y in taken):
                continue  # a direct quote inside a reported statement already given
            hit = self._hit(doc_id, a, b, hits)
            if hit is None:
                continue
            a, b = max(a, hit.chunk.start), min(b, hit.chunk.end)
            taken.append((doc_id, a, b))
            pos = hits.index(hit) + 1
            sentences.append(DraftSentence(text=hit.chunk.text[a - hit.chunk.start:b - hit.chunk.start], cites=[pos], span=(doc_id, a, b)))
            if len(sentences) >= MAX_SENTENCES:
                break
        if not sentences:
            return None
        return Draft(sentences=sentences), hits

    def _hit(self, doc_id: str, a: int, b: int, hits: list[Hit]) -> Hit | None:
        """The chunk holding most of the span, as a retrieved passage (reused when already cited)."""
        for h in hits:
            if h.chunk.doc_id == doc_id and h.chunk.start <= a and b <= h.chunk.end:
                return h
        chunks = self.catalog.get_chunks(self.catalog.chunk_ids_for(doc_id))
        best: Chunk | None = max(chunks.values(), key=lambda c: min(b, c.end) - max(a, c.start), default=None)
        if best is None or min(b, best.end) <= max(a, best.start):
            return None
        doc = self.catalog.document_row(doc_id) or {}
        hit = Hit(chunk=best, score=1.0, dense_rank=None, bm25_rank=None, dense_similarity=None, doc=doc)
        hits.append(hit)
        return hit
