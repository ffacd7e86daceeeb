"""Starter questions drawn from the library itself: who is quoted saying something, what a document
says under its headings, what a publisher reported. Deterministic; no model, no fixed answers."""
from __future__ import annotations

import re
from typing import Callable, Iterable, Mapping

from dossier.app.lexicon import ATTRIBUTION_VERBS

_SAY_VERBS = "|".join(ATTRIBUTION_VERBS)
# 1-5 capitalized words (allowing "of"/"for"/"on" inside), then an optional auxiliary and a verb of saying
_ATTRIB = re.compile(
    r"\b((?:[A-Z][\w’'.&-]*\s(?:(?:of|for|on|the)\s)?){0,4}[A-Z][\w’'&-]*[\w])"
    rf"(?:,)?\s+(?:has\s+|have\s+|had\s+|also\s+)?(?:{_SAY_VERBS})\b"
)
_STOP_NAMES = {"The", "This", "That", "These", "It", "He", "She", "They", "We", "I", "In", "According", "But", "And",
               "When", "While", "As", "A", "An", "His", "Her", "Their", "Our", "Its", "One", "Some", "Many"}
_END_PUNCT = ".?!:;,\"”’)"


def text_headings(text: str, title: str = "", limit: int = 12) -> list[str]:
    """Heading-like lines of a plain text: short, a line of their own between blank lines, starting
    with a capital, not ending like a sentence (leading symbols such as "🔗" are dropped)."""
    lines = text.splitlines()
    out: list[str] = []
    for i, raw in enumerate(lines):
        line = re.sub(r"^[^\w“\"']+", "", raw.strip()).strip()
        if not line or len(line) > 70 or len(line.split()) > 8 or line[-1] in _END_PUNCT or ":" in line:
            continue
        if not line[0].isupper() or line == title.strip():
            continue
        before = lines[i - 1].strip() if i > 0 else ""
        after = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if before or after:
            continue
        if line not in out:
            out.append(line)
        if len(out) >= limit:
            break
    return out


def _topic(heading: str, text: str) -> str:
    """'The Embargo Against Belarus' -> 'the embargo against Belarus': a word keeps its capital only
    when the text capitalizes it mid-sentence too (a name); acronyms stay."""
    prose = "\n".join(line for line in text.splitlines() if len(line.split()) > 8)  # not headings
    names = set(re.findall(r"[a-z,][ \t]+([A-Z][\w’'-]*)", prose))
    out = [w if (w in names or (w.isupper() and len(w) > 1) or not w[:1].isupper()) else w.lower() for w in heading.split()]
    return " ".join(out)


def quoted_speakers(text: str, limit: int = 6) -> list[str]:
    """Names that the text quotes or reports as saying something, most frequent first."""
    counts: dict[str, int] = {}
    first: dict[str, int] = {}
    for m in _ATTRIB.finditer(text):
        name = m.group(1).strip()
        words = name.split()
        while words and words[0] in _STOP_NAMES:
            words = words[1:]
        if len(words) < 2 and not (words and words[0].isupper() and len(words[0]) > 1):
            continue  # a lone capitalized word is usually a sentence start, unless an acronym (IOM, UNHCR)
        name = " ".join(words)
        counts[name] = counts.get(name, 0) + 1
        first.setdefault(name, m.start())
    return sorted(counts, key=lambda n: (-counts[n], first[n]))[:limit]


def _quote_title(title: str) -> str:
    return f"“{title}”"


def starter_questions(docs: Iterable[Mapping], text_of: Callable[[str], str | None], limit: int = 6) -> list[str]:
    """Up to `limit` questions, taken in turn from each document (newest first)."""
    per_doc: list[list[str]] = []
    for d in sorted(docs, key=lambda d: (d.get("date") or "", d.get("ingested_at") or ""), reverse=True)[:12]:
        text = text_of(d["doc_id"]) or ""
        title = (d.get("title") or "").strip()
        qs: list[str] = []
        for name in quoted_speakers(text, limit=2):
            qs.append(f"What did {name} say?")
        heads = [h for _, h in (d.get("headings_list") or [])] or text_headings(text, title)
        for h in heads[:3]:
            qs.append(f"What does {_quote_title(title)} say about {_topic(h, text)}?" if title else f"What about {_topic(h, text)}?")
        if title:
            qs.append(f"What is {_quote_title(title)} about?")
        if d.get("publisher"):
            qs.append(f"What did {d['publisher']} report?")
        per_doc.append(qs)
    out: list[str] = []
    # interleave: speakers and headings of every document before the generic questions
    depth = max((len(q) for q in per_doc), default=0)
    for i in range(depth):
        for qs in per_doc:
            if i < len(qs) and qs[i] not in out:
                out.append(qs[i])
            if len(out) >= limit:
                return out
    return out
