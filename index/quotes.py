"""The quote index: who said what across the stored documents.

The quotations themselves are found at ingest (`dossier.ingest.quotes`) and stored in the catalog with their
document, in step with it (replaced, removed and pruned with it). This module reads them back: filtered by
speaker, organisation or document, grouped into speakers, matched to a phrase naming a speaker ("the SBC
spokesman", "Amnesty") or to words of a quote ("the videos are frightening to watch"). It is the one place the
answer engines and the UI ask "who said this?".
"""
from __future__ import annotations

import re
import threading
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass

from .catalog import Catalog

_TOKEN = re.compile(r"[\w’'&]+")
_ARTICLES = frozenset({"the", "a", "an", "of", "for", "at", "on", "in", "and", "s"})


def fold(text: str) -> str:
    """Lower case without accents or possessives: "Miklós" and "miklos", "SBC’s" and "sbc" compare equal."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[’']s\b", "", text.casefold())


def tokens(text: str) -> set[str]:
    return {t.strip("’'") for t in _TOKEN.findall(fold(text))} - _ARTICLES - {""}


@dataclass
class Speaker:
    name: str
    type: str  # person | organisation
    role: str
    org: str
    quotes: int
    docs: int

    def to_dict(self) -> dict:
        return asdict(self)


def quote_json(row: dict) -> dict:
    """A stored quotation as `dossier quotes --json` prints it."""
    return {"speaker": row["speaker"], "speaker_type": row["speaker_type"], "role": row["role"] or "", "org": row["org"] or "",
            "kind": row["kind"], "quote": row["quote"], "doc_id": row["doc_id"], "title": row["title"] or "",
            "source": row["url"] or row["source"], "page": row["page"], "start": row["start"], "end": row["end"],
            "cue_start": row["cue_start"], "cue_end": row["cue_end"]}


class QuoteIndex:
    """Reads the catalog's quotations (documents stored before the quote index get theirs on first use)."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self._lock = threading.Lock()
        self._cache: tuple[int, list[dict]] | None = None
        self._by_doc: dict[str, list[dict]] = {}
        self._by_doc_version = -1

    def rows(self) -> list[dict]:
        """Every quotation, cached until the catalog changes."""
        version = self.catalog.version()
        with self._lock:
            if self._cache is None or self._cache[0] != version:
                self.catalog.refresh_quotes()
                self._cache = (self.catalog.version(), self.catalog.quote_rows())
            return self._cache[1]

    def in_document(self, doc_id: str) -> list[dict]:
        """A document's quotations in text order."""
        rows = self.rows()
        with self._lock:
            version = self._cache[0] if self._cache else -1
            if self._by_doc_version != version:
                by_doc: dict[str, list[dict]] = {}
                for r in rows:
                    by_doc.setdefault(r["doc_id"], []).append(r)
                for v in by_doc.values():
                    v.sort(key=lambda r: (r["start"], r["kind"]))
                self._by_doc, self._by_doc_version = by_doc, version
            return self._by_doc.get(doc_id, [])

    def covering(self, doc_id: str, start: int, end: int) -> list[dict]:
        """The quotations that overlap text[start:end] of a document."""
        return [r for r in self.in_document(doc_id) if r["start"] < end and start < r["end"]]

    def attribution(self, doc_id: str, start: int, end: int) -> tuple[int, int] | None:
        """For a sentence holding a quotation whose speaker is named in an earlier sentence ("..., he said"; a
        paragraph going on from a quote), that sentence's span."""
        for r in self.covering(doc_id, start, end):
            if r["cue_end"] and r["cue_end"] <= start:
                return r["cue_start"], r["cue_end"]
        return None

    def following(self, doc_id: str, start: int, end: int, within: int = 1500) -> list[dict]:
        """The quotations right after text[start:end] by the speaker of the quotations in it, up to the first
        quotation by someone else (for "What caveat did X add?": X's statement goes on in the next sentences)."""
        mine = {fold(r["speaker"]) for r in self.covering(doc_id, start, end)}
        out = []
        for r in self.in_document(doc_id):
            if r["start"] < end or r["kind"] != "direct":
                continue
            if r["start"] > end + within or fold(r["speaker"]) not in mine:
                break
            out.append(r)
        return out

    def quotes(self, *, speaker: str | None = None, org: str | None = None, doc_ids: list[str] | None = None) -> list[dict]:
        """Quotations matching every given filter, grouped by speaker (speakers in order of first quote), each
        speaker's in document order."""
        rows = self.rows()
        if doc_ids:
            wanted = set(doc_ids)
            rows = [r for r in rows if r["doc_id"] in wanted]
        if speaker:
            rows = [r for r in rows if speaker_matches(speaker, r)]
        if org:
            rows = [r for r in rows if org_matches(org, r)]
        order: dict[str, int] = {}
        for r in rows:
            order.setdefault(fold(r["speaker"]), len(order))
        return sorted(rows, key=lambda r: order[fold(r["speaker"])])

    def speakers(self, rows: list[dict] | None = None) -> list[Speaker]:
        """Every speaker with the role and organisation most often given, and the number of quotations, most
        quoted first."""
        groups: dict[str, list[dict]] = {}
        for r in self.rows() if rows is None else rows:
            groups.setdefault(fold(r["speaker"]), []).append(r)
        out = []
        for rs in groups.values():
            role = _most_common(r["role"] for r in rs)
            org = _most_common(r["org"] for r in rs)
            out.append(Speaker(rs[0]["speaker"], rs[0]["speaker_type"], role, org, len(rs), len({r["doc_id"] for r in rs})))
        return sorted(out, key=lambda s: (-s.quotes, fold(s.name)))

    def by_description(self, phrase: str, doc_ids: list[str] | None = None) -> list[dict]:
        """Quotations of the speakers a phrase describes: "Amnesty" (the organisation and its people), "the SBC
        spokesman" (role and organisation), "Bychkovskiy". Speakers the phrase names outright come first."""
        want = tokens(phrase)
        if not want:
            return []
        named, described = [], []
        for r in self.quotes(doc_ids=doc_ids):
            if want <= tokens(r["speaker"]) | ({fold(r["org"] or "")} if r["speaker_type"] == "organisation" else set()):
                named.append(r)
            elif want <= _described_by(r):
                described.append(r)
        return named + described

    def by_words(self, words: str, doc_ids: list[str] | None = None, least: float = 0.8) -> list[dict]:
        """Quotations holding (nearly) all the content words given: "the videos are frightening to watch".
        Best coverage first."""
        want = tokens(words) - _FUNCTION
        if len(want) < 2:
            return []
        scored = []
        for r in self.quotes(doc_ids=doc_ids):
            have = tokens(r["quote"])
            share = len(want & have) / len(want)
            if share >= least:
                scored.append((share, r))
        scored.sort(key=lambda x: (-x[0], x[1]["kind"] != "direct", x[1]["end"] - x[1]["start"]))
        return [r for _, r in scored]


_FUNCTION = frozenset("is are was were be been it its this that these those to with by from as or but not no so than "
                      "has have had do does did he she they we i you".split())


def _described_by(r: dict) -> set[str]:
    words = tokens(r["speaker"]) | tokens(r["role"] or "") | tokens(r["org"] or "")
    if r["org"]:
        words.add(fold(r["org"]))
    return words | {w.rstrip("s") for w in words}


def speaker_matches(name: str, row: dict) -> bool:
    """`--speaker`: every word given is a word of the speaker's name (or, for an organisation, its acronym)."""
    have = tokens(row["speaker"])
    if row["speaker_type"] == "organisation":
        have |= tokens(row["org"] or "")
    return bool(tokens(name)) and tokens(name) <= have


def org_matches(org: str, row: dict) -> bool:
    """`--org`: every word given is a word of the speaker's organisation (an organisation is its own)."""
    have = tokens(row["org"] or "")
    if row["speaker_type"] == "organisation":
        have |= tokens(row["speaker"])
    return bool(tokens(org)) and tokens(org) <= have


def _most_common(values) -> str:
    c = Counter(v for v in values if v)
    return c.most_common(1)[0][0] if c else ""
