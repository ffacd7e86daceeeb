"""Compound questions ("How many journalists were detained, and who was held for 14 days?").

An engine that answers with source sentences picks the sentences that fit one question type; a
question that asks two things needs both answered. The question is split at "and" followed by a new
question word; each part is retrieved and drafted on its own (later parts keep the first part as
context, so "that company" or "and why?" still know what they are about), and the drafts are merged
over the union of the retrieved passages. Parts the sources don't answer are named in a notice.
"""
from __future__ import annotations

import re
from typing import Callable

from dossier.index.retrieval import Hit

from .answer_models import Draft, DraftSentence
from .question import with_context

_QWORD = r"(?:who|whom|whose|what|when|where|which|why|how|by when|since when|from when|until when|for how long)\b"
_SPLIT = re.compile(rf",?\s+and\s+(?={_QWORD})", re.I)


def split_compound(question: str) -> list[str]:
    """The question's parts, each a question of its own; one part when it asks one thing.

    Only "and" followed by a question word splits ("Who are X and Y?" does not)."""
    q = question.strip()
    parts = [p.strip(" ,;") for p in _SPLIT.split(q)]
    parts = [p for p in parts if p]
    if len(parts) < 2:
        return [q]
    out = []
    for p in parts:
        p = p.rstrip("?").strip()
        out.append(p[:1].upper() + p[1:] + "?")
    return out


def draft_compound(parts: list[str], retrieve: Callable[[str], list[Hit]],
                   draft: Callable[[str, list[Hit]], Draft]) -> tuple[Draft, list[Hit]]:
    """Draft each part over its own retrieval; merge the sentences and the passages (no repeats).

    Later parts are asked with the first part in parentheses, the engines' convention for context."""
    merged: list[Hit] = []
    pos: dict[str, int] = {}  # chunk_id -> 1-based position in merged
    sentences: list[DraftSentence] = []
    seen: set = set()
    missing: list[str] = []
    confidences: list[float] = []
    for i, part in enumerate(parts):
        asked = part if i == 0 else with_context(part, parts[0])
        hits = retrieve(asked)
        for h in hits:
            if h.chunk.chunk_id not in pos:
                merged.append(h)
                pos[h.chunk.chunk_id] = len(merged)
        d = draft(asked, hits)
        if d.confidence is not None:
            confidences.append(d.confidence)
        if d.abstained or not d.sentences:
            missing.append(part)
            continue
        for ds in d.sentences:
            key = ds.span or ds.text
            if key in seen:
                continue
            seen.add(key)
            cites = [pos[hits[p - 1].chunk.chunk_id] for p in ds.cites if 1 <= p <= len(hits)]
            sentences.append(DraftSentence(ds.text, cites, ds.span))
    if not sentences:
        return Draft(abstained=True, reason="the sources answer no part of the question"), merged
    notice = ""
    if missing:
        notice = "the sources don't answer this part of the question: " + "; ".join(f"“{m}”" for m in missing)
    # the answer is as sure as its least sure part
    return Draft(sentences=sentences, notice=notice, confidence=min(confidences) if confidences else None), merged
