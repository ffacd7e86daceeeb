"""The answer contract (design.md, "Answer JSON") and the draft that engines hand to the pipeline.

Engines produce a `Draft`: answer sentences, each citing passages by their 1-based position in the
retrieved list, and optionally the exact document span a sentence was taken from. The pipeline
verifies every sentence, fixes citations, resolves quotes to exact document spans and builds the
`Answer`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Optional

from pydantic import BaseModel, Field, model_serializer

Support = Literal["supported", "partial", "unsupported"]
ABSTAIN_TEXT = "The sources don't answer this."


class Citation(BaseModel):
    n: int
    doc_id: str
    title: str
    source: str
    chunk_id: str
    page: Optional[int] = None
    start: int
    end: int
    quote: str
    passage: str
    # beyond the design's fields (#16): the ISO 639-1 language of the quoted text ("ru"), None when unknown; with the
    # llm engine, an English rendering of a foreign quote, marked as machine translation (the quote is unchanged)
    language: Optional[str] = None
    translation: Optional[str] = None
    translation_note: Optional[str] = None

    @model_serializer(mode="wrap")
    def _without_empty_rendering(self, handler):
        """The rendering's two keys appear only when there is a rendering (the answer JSON stays as it was)."""
        data = handler(self)
        if isinstance(data, dict) and data.get("translation") is None:
            data.pop("translation", None)
            data.pop("translation_note", None)
        return data


class SentenceVerdict(BaseModel):
    text: str
    citations: list[int] = Field(default_factory=list)
    support: Support
    score: float


class Answer(BaseModel):
    id: Optional[str] = None
    question: str
    answer: str
    abstained: bool
    engine: str
    # the engine's probability that its best sentence answers the question (the extractive engine's
    # abstention model); None for engines that give none
    confidence: Optional[float] = None
    citations: list[Citation] = Field(default_factory=list)
    sentences: list[SentenceVerdict] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    # beyond the design's fields: the nearest passages when abstaining, and a notice (e.g. a fallback)
    closest: list[Citation] = Field(default_factory=list)
    notice: str = ""


@dataclass
class DraftSentence:
    text: str
    cites: list[int]  # 1-based positions in the retrieved passages
    span: tuple[str, int, int] | None = None  # (doc_id, start, end) when the sentence is a verbatim source span


@dataclass
class Draft:
    sentences: list[DraftSentence] = field(default_factory=list)
    abstained: bool = False
    reason: str = ""  # why the engine abstained (shown to the user)
    standalone_question: str = ""  # follow-ups rewritten with the history
    notice: str = ""
    confidence: float | None = None  # the engine's confidence that its answer answers (None: not given)


@dataclass
class Turn:
    question: str
    answer: str
