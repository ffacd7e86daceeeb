"""Markdown export of answers with footnotes: pure functions over the Answer JSON and catalog rows.

Every answer sentence keeps its support flag; every citation becomes a footnote with the exact
quote, title, publisher, date, page, URL (or file path), the document's sha256 and the retrieval /
ingest dates, so a quote pasted into a draft can be traced back to the stored source. Identical
citations (same document span) share one footnote across a conversation.
"""
from __future__ import annotations

import re
from typing import Mapping, Sequence

from .answer_models import Answer, Citation

_FLAGS = {"partial": "*(partly supported by the sources)*", "unsupported": "*(not supported by the sources)*"}
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def md_escape(text: str) -> str:
    """Text that Markdown renders literally: punctuation with a meaning is backslash-escaped, line
    breaks become spaces (a footnote or a sentence stays on one line), leading `#` is escaped."""
    flat = " ".join(text.split())
    out = _MD_SPECIAL.sub(r"\\\1", flat)
    return "\\" + out if out.startswith(("#", "+", "-", "=")) else out


def _span_key(c: Citation) -> tuple[str, int, int]:
    return (c.doc_id, c.start, c.end)


def _footnote(label: int, c: Citation, doc: Mapping | None) -> str:
    doc = doc or {}
    parts = [f"“{md_escape(c.quote)}”"]
    meta = [f"*{md_escape(c.title or doc.get('title') or c.doc_id)}*"]
    for key in ("publisher", "date"):
        if doc.get(key):
            meta.append(md_escape(str(doc[key])))
    if c.page:
        meta.append(f"p. {c.page}")
    if c.language and c.language != "en":  # #16: the quote stays in its language, which is named
        from dossier.ingest.language import language_name

        meta.append(f"in {language_name(c.language)}")
    parts.append(", ".join(meta))
    where = doc.get("url") or c.source or doc.get("source") or ""
    if where:
        parts.append(f"<{where}>" if where.startswith(("http://", "https://")) else f"`{where}`")
    ids = [f"doc `{c.doc_id}`"]
    if doc.get("sha256"):
        ids.append(f"sha256 `{doc['sha256']}`")
    ids.append(f"chars {c.start}–{c.end}")
    if doc.get("retrieved_at"):
        ids.append(f"retrieved {doc['retrieved_at']}")
    if doc.get("ingested_at"):
        ids.append(f"ingested {doc['ingested_at']}")
    parts.append("(" + "; ".join(ids) + ")")
    if c.translation:  # #16: beside the original, never instead of it
        parts.append(f"[{md_escape(c.translation_note or 'machine translation')}: “{md_escape(c.translation)}”]")
    return f"[^{label}]: " + " — ".join(parts[:2]) + ". " + " ".join(parts[2:])


def _answer_body(ans: Answer, labels: dict[tuple[str, int, int], int], footnotes: list[tuple[int, Citation]]) -> list[str]:
    lines: list[str] = []
    if ans.abstained:
        lines.append(f"> {md_escape(ans.answer)}")
        if ans.closest:
            lines.append("")
            lines.append("Closest passages (they do not answer the question):")
            lines.append("")
            for c in ans.closest:
                snippet = c.passage if len(c.passage) <= 280 else c.passage[:280].rsplit(" ", 1)[0] + " …"
                lines.append(f"- *{md_escape(c.title or c.doc_id)}*: “{md_escape(snippet)}”")
        return lines
    by_n = {c.n: c for c in ans.citations}
    sentences = []
    for s in ans.sentences:
        marks = ""
        for n in s.citations:
            c = by_n.get(n)
            if c is None:
                continue
            key = _span_key(c)
            if key not in labels:
                labels[key] = len(labels) + 1
                footnotes.append((labels[key], c))
            marks += f"[^{labels[key]}]"
        flag = f" {_FLAGS[s.support]}" if s.support in _FLAGS else ""
        sentences.append(md_escape(s.text) + marks + flag)
    lines.append(" ".join(sentences))
    if ans.notice:
        lines.append("")
        lines.append(f"*Note: {md_escape(ans.notice)}*")
    return lines


def answer_markdown(answer: Answer, docs: Mapping[str, Mapping], *, exported_at: str = "") -> str:
    """One answer as Markdown: the question, the answer with footnote markers, the footnotes."""
    return conversation_markdown([answer], docs, exported_at=exported_at, title="dossier answer")


def conversation_markdown(answers: Sequence[Answer], docs: Mapping[str, Mapping], *, exported_at: str = "",
                          title: str = "dossier conversation") -> str:
    """A whole conversation as Markdown; footnotes are numbered across it, one per distinct quote.

    `docs` maps doc_id to the catalog row (publisher, date, url, sha256, retrieved_at, ingested_at);
    a missing row only leaves those fields out."""
    labels: dict[tuple[str, int, int], int] = {}
    footnotes: list[tuple[int, Citation]] = []
    out = [f"# {title}", ""]
    for ans in answers:
        out.append(f"## Q: {md_escape(ans.question)}")
        out.append("")
        out.extend(_answer_body(ans, labels, footnotes))
        out.append("")
    engines = sorted({a.engine for a in answers if a.engine})
    tail = []
    if engines:
        tail.append("engine: " + ", ".join(engines))
    if exported_at:
        tail.append(f"exported {exported_at}")
    if tail:
        out.append(f"*{'; '.join(tail)}*")
        out.append("")
    for label, c in footnotes:
        out.append(_footnote(label, c, docs.get(c.doc_id)))
    return "\n".join(out).rstrip() + "\n"
