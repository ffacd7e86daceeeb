"""Candidate answer sentences: every sentence of the retrieved passages that could be quoted as an answer,
with its exact document span. Shared by the extractive engines."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from dossier.index.retrieval import Hit
from dossier.ingest.sentences import sentence_spans

from ..answer_models import DraftSentence
from ..injection import is_instruction
from ..textutil import fold

BOILER = re.compile(r"^(read more|recent stories|subscribe|share|follow us|click here|\(read more|#)", re.I)


@dataclass(frozen=True)
class Sentence:
    passage: int  # 1-based position in the retrieved passages
    hit: Hit
    start: int  # document offsets
    end: int
    text: str
    prev: tuple[int, int, str] | None  # the previous sentence in the chunk (document span, text)
    next_text: str


def title_of(h: Hit) -> str:
    return str((h.doc or {}).get("title") or "")


def heading_like(s: str) -> bool:
    """Headings and bylines: no sentence punctuation and mostly capitalised words."""
    ws = [w for w in re.findall(r"[^\W\d_][\w’'-]*", s) if w.lower() not in ("of", "the", "and", "a", "an", "in", "on", "for", "to", "its", "is")]
    if not ws or s.rstrip()[-1:] in ".!?”\"":
        return False
    return sum(w[0].isupper() for w in ws) >= 0.8 * len(ws) and len(ws) > 1 and ":" not in s


def candidate_sentences(passages: list[Hit]) -> Iterator[Sentence]:
    """Sentences of the passages, each document span once, minus what never answers: fragments under three
    words, boilerplate, headings, the document's title line, and instructions planted in a source (data,
    never an answer)."""
    seen: set[tuple[str, int]] = set()
    for i, h in enumerate(passages, 1):
        text = h.chunk.text
        title = title_of(h)
        spans = sentence_spans(text, language=h.chunk.language or "en")  # a foreign passage by its own language's Punkt model
        for j, (a, b) in enumerate(spans):
            s = text[a:b]
            key = (h.chunk.doc_id, h.chunk.start + a)
            if key in seen or len(s.split()) < 3 or BOILER.match(s) or heading_like(s) or is_instruction(s):
                continue
            if (title and fold(s.strip()) == fold(title.strip())) or (
                    h.chunk.start + a == 0 and s.rstrip()[-1:] not in ".!?”\"" and ":" not in s):
                continue  # the document's title line names the document; it answers nothing
            seen.add(key)
            prev = (h.chunk.start + spans[j - 1][0], h.chunk.start + spans[j - 1][1], text[spans[j - 1][0]:spans[j - 1][1]]) if j > 0 else None
            nxt = text[spans[j + 1][0]:spans[j + 1][1]] if j + 1 < len(spans) else ""
            yield Sentence(i, h, h.chunk.start + a, h.chunk.start + b, s, prev, nxt)


class Emitter:
    """Collects an answer's sentences as document spans, each span once: `emit(doc_id, a, b, text, passage)`
    (a sentence whose passage is unknown, None, is left out)."""

    def __init__(self) -> None:
        self.sentences: list[DraftSentence] = []
        self._seen: set[tuple[str, int]] = set()

    def emit(self, doc_id: str, a: int, b: int, text: str, passage: int | None) -> None:
        if passage is not None and (doc_id, a) not in self._seen:
            self._seen.add((doc_id, a))
            self.sentences.append(DraftSentence(text, [passage], (doc_id, a, b)))


def passage_for(doc_id: str, a: int, b: int, passages: list[Hit]) -> int | None:
    """The retrieved passage that holds the document span [a, b), if any (1-based)."""
    for i, h in enumerate(passages, 1):
        if h.chunk.doc_id == doc_id and h.chunk.start <= a and b <= h.chunk.end:
            return i
    return None
