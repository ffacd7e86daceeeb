"""Check a draft against the sources: every sentence `supported`, `contradicted` or `unsupported`.

For each sentence of the draft (headings, block quotes and blank lines are context, not checked) the
passages are retrieved as for a question, split into sentences with exact document offsets, and the
closest source sentences (by shared content words) are compared with the draft sentence slot by slot
(`check_slots`): quantities, dates, names, roles and polarity. Each also gets signals: content-word
coverage, embedding similarity (whole and by clause) and the answer cross-encoder's logit for (draft
sentence, source sentence). The verdict model (`check_model`, fitted by `dossier eval fit-check`) reads them:

- supported: the closest source sentence stating every slot of the draft sentence (none differently, no
  neighbour with the opposite polarity) makes support likely enough, and likelier than contradiction;
- contradicted: the closest source sentence whose slots conflict with the draft's (a different value in
  one slot, or the opposite polarity) makes a contradiction likely enough;
- unsupported: neither. Sharing words with a passage is not support.

Checking reads the store and never writes to it.
"""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from dossier.ingest.sentences import sentence_spans

from .answer_models import Citation
from .check_model import NLI_MODEL_PATH, VerdictModel
from .check_slots import Conflict, conflicts, missing, polarity_flip, slots
from .embed_cache import EmbeddingCache
from .settings import CheckSettings
from .textutil import content_stems, fold

Verdict = Literal["supported", "contradicted", "unsupported"]
VERDICTS: tuple[str, ...] = ("supported", "contradicted", "unsupported")


class CheckError(ValueError):
    """Bad input for a draft check (empty, unreadable, over the size limit): one line for the user."""


class CheckedSentence(BaseModel):
    text: str
    start: int  # offsets into the draft text
    end: int
    verdict: Verdict
    reason: str = ""
    score: float = 0.0
    citations: list[Citation] = Field(default_factory=list)
    # the closest source sentence's signals: content-word coverage, coverage without slot values, similarity
    signals: dict[str, float] = Field(default_factory=dict)


class CheckSummary(BaseModel):
    supported: int = 0
    contradicted: int = 0
    unsupported: int = 0


class CheckReport(BaseModel):
    sentences: list[CheckedSentence] = Field(default_factory=list)
    summary: CheckSummary = Field(default_factory=CheckSummary)
    timings_ms: dict[str, float] = Field(default_factory=dict)

    def exit_status(self, strict: bool = False) -> int:
        """0 when nothing is contradicted (with strict: nothing unsupported either), else 1."""
        bad = self.summary.contradicted + (self.summary.unsupported if strict else 0)
        return 1 if bad else 0


# ----------------------------------------------------------------------------- the draft


_CLAUSE = re.compile(r"[,;:()\u201c\u201d\"]|\s[\u2013\u2014-]\s")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+\u2022]|\d{1,3}[.)])\s+")
_END = re.compile(r"[.!?…]['\"’”)\]]*\s*$")


def draft_units(text: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) of each sentence of the draft: kind `sentence` (checked), `heading` or `quote`
    (a block quote: context). List markers are left out of a sentence's span."""
    out = []
    for a, b in sentence_spans(text):
        line_start = text.rfind("\n", 0, a) + 1
        line = text[line_start:b].lstrip()
        if line.startswith("#"):
            out.append((a, b, "heading"))
            continue
        if line.startswith(">"):
            out.append((a, b, "quote"))
            continue
        if not text[line_start:a].strip():  # the sentence starts its line: a list marker is not part of it
            m = _LIST_MARKER.match(text[a:b])
            if m and m.end() < b - a:
                a += m.end()
        sent = text[a:b]
        if not re.search(r"[^\W\d_]", sent):
            continue
        if not _END.search(sent) and len(sent.split()) < 8:
            out.append((a, b, "heading"))
            continue
        out.append((a, b, "sentence"))
    return out


def read_draft(data: bytes, name: str, ingest_settings) -> str:
    """The text of a draft file (.md, .txt, .docx, .html, sniffed from content) through the ingest readers."""
    from dossier.ingest.errors import IngestError
    from dossier.ingest.readers import read_bytes

    if not data.strip():
        raise CheckError(f"{name}: the draft is empty")
    try:
        return read_bytes(data, name, ingest_settings).text
    except IngestError as exc:
        raise CheckError(f"{name}: cannot read the draft ({exc.reason})") from None


# ----------------------------------------------------------------------------- candidates


@dataclass
class _Candidate:
    hit: object  # retrieval Hit
    start: int  # document offsets of the source sentence
    end: int
    text: str
    window: str  # the sentence with its neighbours in the chunk
    parts: tuple = ()  # (start, end, text) of the window's sentences, document offsets
    before: str = ""  # the sentence before, from the document, when the candidate opens its chunk (read for a speaker's name)


READER_FLOOR = -3.0  # the reader logit given to a source sentence too far from the draft sentence to be scored


@dataclass
class _Judged:
    cand: _Candidate
    similarity: float  # embedding similarity of the draft sentence and the source sentence
    coverage: float  # of all the draft's content words, by the window
    topical: float  # of the draft's content words other than its slot values
    missing: list
    conflicts: list[Conflict]
    own: float = 0.0  # coverage of the draft's content words by the source sentence alone (picks the citation)
    neighbour_flips: list = field(default_factory=list)  # polarity flips against the window's other sentences (veto support)
    slots_only: bool = False  # the draft sentence has no content word besides its slot values ("X is a press officer")
    clause: float = 0.0  # the best similarity of a clause (or the whole) of a long source sentence
    reader: float = READER_FLOOR  # the answer cross-encoder's logit for (draft sentence, source sentence)
    match: float = 0.0  # the verdict model's probability that this sentence states the draft's fact
    # the entailment model's P(entailment) and P(contradiction) with the source sentence (_s) and its window (_w)
    # as premise and the draft sentence as hypothesis; read only for the candidates the verdict reads (nli_read)
    entail_s: float = 0.0
    entail_w: float = 0.0
    contra_s: float = 0.0
    contra_w: float = 0.0
    nli_read: bool = False

    @property
    def clean(self) -> bool:
        """States every slot of the draft sentence, none differently, no neighbour with the opposite polarity."""
        return not self.conflicts and not self.missing and not self.neighbour_flips

    def features(self) -> dict[str, float]:
        return {"reader": self.reader, "similarity": self.similarity, "clause": self.clause, "own": self.own,
                "topical": self.topical, "coverage": self.coverage, "entail_s": self.entail_s, "entail_w": self.entail_w,
                "contra_s": self.contra_s, "contra_w": self.contra_w, "entail": max(self.entail_s, self.entail_w),
                "contra": max(self.contra_s, self.contra_w)}


def _candidates(hits, prev_sentence=None) -> list[_Candidate]:
    """Every sentence of the retrieved chunks once, with its neighbours in the chunk; `prev_sentence(doc_id,
    offset)` gives the document's sentence before a chunk's first one."""
    seen: set[tuple[str, int, int]] = set()
    out = []
    for h in hits:
        c = h.chunk
        spans = sentence_spans(c.text) or [(0, len(c.text))]
        for i, (a, b) in enumerate(spans):
            key = (c.doc_id, c.start + a, c.start + b)
            if key in seen:
                continue
            seen.add(key)
            if i == 0 and c.start > 0 and prev_sentence is not None:
                before = prev_sentence(c.doc_id, c.start + a)
            else:
                before = ""
            near = spans[max(0, i - 1):i + 2]
            parts = tuple((c.start + x, c.start + y, c.text[x:y]) for x, y in near)
            out.append(_Candidate(h, c.start + a, c.start + b, c.text[a:b], c.text[near[0][0]:near[-1][1]], parts, before))
    return out


def _neighbour_flip(d, stems: set, text: str):
    """A neighbouring sentence about the same thing (sharing 40% of the draft sentence's content words and
    no different figure, date, name or role) with the opposite polarity: it vetoes support from the window."""
    if len(stems & set(content_stems(text))) < 0.4 * len(stems):
        return None
    n = slots(text)
    if any(c.kind != "polarity" for c in conflicts(d, n, missing(d, n))):
        return None
    return polarity_flip(d, n)


def _clause_spans(text: str) -> list[str]:
    """The clauses of a sentence (3 words or more) and each pair of adjacent ones, at most 10."""
    parts = [p.strip() for p in _CLAUSE.split(text) if len(p.split()) >= 3]
    return list(dict.fromkeys(parts + [f"{a} {b}" for a, b in zip(parts, parts[1:])]))[:10]


def _conflict_citations(cand: _Candidate, conflict: Conflict) -> list[Citation]:
    """The cited sentence of a contradiction, and the neighbour in its window that states the source's value
    when the sentence itself does not (the speaker named in the sentence before a quote)."""
    out = [_citation(1, cand)]
    value = fold(conflict.source)
    if value and value not in fold(cand.text):
        other = next((p for p in cand.parts if p[0] != cand.start and value in fold(p[2])), None)
        if other is not None:
            out.append(_citation(2, cand, span=(other[0], other[1])))
    return out


def _citation(n: int, cand: _Candidate, sentence: str = "", span: tuple[int, int] | None = None) -> Citation:
    """The evidence: the candidate sentence, or the neighbour in its window that holds more of the draft
    sentence's content words (a supporting window is cited by its strongest sentence), or the given span."""
    h = cand.hit
    c = h.chunk
    start, end = span or (cand.start, cand.end)
    if sentence and cand.parts and span is None:
        want = set(content_stems(sentence))
        best = max(cand.parts, key=lambda p: (len(want & set(content_stems(p[2]))), p[0] == cand.start))
        start, end = best[0], best[1]
    return Citation(n=n, doc_id=c.doc_id, title=h.doc.get("title", "") or "", source=h.doc.get("url") or h.doc.get("source", ""),
                    chunk_id=c.chunk_id, page=c.page, start=start, end=end,
                    quote=c.text[start - c.start:end - c.start], passage=c.text)


# ----------------------------------------------------------------------------- the checker


class DraftChecker:
    def __init__(self, retriever, embed, settings: CheckSettings | None = None, *, scorer=None, model: VerdictModel | None = None,
                 nli=None):
        self.retriever = retriever
        self.settings = settings or CheckSettings()
        self._cache = EmbeddingCache(embed, max_items=20000)
        if scorer is None:
            from .context import answer_scorer

            scorer = answer_scorer()  # the bundled cross-encoder the verdict model was fitted on (shared with the extractive engine's default)
        self.scorer = scorer
        try:
            self.model = model or VerdictModel.load(self.settings.model_path or (NLI_MODEL_PATH if self.settings.entailment else None))
        except RuntimeError as e:  # one line naming the file, before anything is checked
            raise CheckError(str(e)) from None
        self._nli = nli  # the entailment model (app/nli.py), when the verdict model reads it
        self._nli_lock = threading.Lock()
        if self._nli is None and self.model.reads_nli:  # loaded now: a wrong model folder fails before any checking
            from .nli import NliError

            try:
                self.nli  # noqa: B018
            except (NliError, OSError, ValueError) as e:
                raise CheckError(f"entailment model: {e}") from None
        self._doc_text = getattr(getattr(retriever, "catalog", None), "doc_text", None)
        self._docs: dict[str, str] = {}  # the last few documents read for a sentence across a chunk boundary
        self._docs_lock = threading.Lock()  # one checker serves the app's concurrent checks

    def _prev_sentence(self, doc_id: str, offset: int) -> str:
        """The document's sentence ending before `offset` (a chunk's first sentence has its neighbour in the chunk before)."""
        if self._doc_text is None:
            return ""
        with self._docs_lock:
            text = self._docs.get(doc_id)
        if text is None:
            text = self._doc_text(doc_id) or ""
            with self._docs_lock:
                while len(self._docs) >= 16:
                    self._docs.pop(next(iter(self._docs)))
                self._docs[doc_id] = text
        head = text[max(0, offset - 600):offset]
        spans = sentence_spans(head)
        return head[spans[-1][0]:spans[-1][1]] if spans else ""

    @property
    def nli(self):
        with self._nli_lock:
            if self._nli is None:
                from .context import nli_scorer

                self._nli = nli_scorer(self.settings.nli_dir)
        return self._nli

    def read_nli(self, sentence: str, judged: list[_Judged]) -> None:
        """The entailment model's probabilities for these candidates (source sentence, and its window, as the
        premise; the draft sentence as the hypothesis), each read once."""
        for j in judged:
            if j is None or j.nli_read:
                continue
            e, _, c = self.nli.probs(j.cand.text, sentence)
            if j.cand.window != j.cand.text:
                ew, _, cw = self.nli.probs(j.cand.window, sentence)
            else:
                ew, cw = e, c
            j.entail_s, j.contra_s, j.entail_w, j.contra_w, j.nli_read = e, c, ew, cw, True

    def check(self, text: str, *, k: int | None = None) -> CheckReport:
        t0 = time.perf_counter()
        if not text or not text.strip():
            raise CheckError("the draft is empty")
        units = [(a, b) for a, b, kind in draft_units(text) if kind == "sentence"]
        if not units:
            raise CheckError("the draft has no sentence to check (only headings, quotes or blank lines)")
        if len(units) > self.settings.max_sentences:
            raise CheckError(f"the draft has {len(units)} sentences, over the limit of {self.settings.max_sentences} "
                             f"(DOSSIER_CHECK__MAX_SENTENCES)")
        report = CheckReport()
        for a, b in units:
            s = self.check_sentence(text[a:b], k=k)
            s.start, s.end = a, b
            report.sentences.append(s)
            setattr(report.summary, s.verdict, getattr(report.summary, s.verdict) + 1)
        report.timings_ms = {"total": round((time.perf_counter() - t0) * 1000, 2)}
        return report

    def check_sentence(self, sentence: str, *, k: int | None = None) -> CheckedSentence:
        sentence = " ".join(sentence.split())
        return self._verdict(sentence, self.judge(sentence, k=k))

    def judge(self, sentence: str, *, k: int | None = None) -> list[_Judged]:
        """The closest source sentences with their signals and slot comparison (what the verdict and its fit read)."""
        sentence = " ".join(sentence.split())
        hits = self.retriever.search(sentence, k=k or self.settings.k)
        if self.settings.lexical_extra:  # the passages sharing the sentence's rarest words, even where the fused rank is low
            have = {h.chunk.chunk_id for h in hits}
            hits += [h for h in self.retriever.search(sentence, k=self.settings.lexical_extra, mode="bm25") if h.chunk.chunk_id not in have]
        judged = self._judge(sentence, _candidates(hits, self._prev_sentence))
        for j in judged:
            j.match = self.model.match.prob(j.features())
        return judged

    def _judge(self, sentence: str, cands: list[_Candidate]) -> list[_Judged]:
        if not cands:
            return []
        d = slots(sentence)
        stems = {s for s in content_stems(sentence)}
        neutral = {s for s in stems if s not in d.slot_stems and not s.isdigit()}
        wstems = [set(content_stems(c.window)) for c in cands]
        st = self.settings
        order = sorted(range(len(cands)), key=lambda i: -len(stems & wstems[i]))[: st.candidates]
        vecs = self._cache.vectors([sentence] + [cands[i].text for i in order])
        sims = vecs[1:] @ vecs[0] if vecs.shape[1] > 1 else np.zeros(len(order))
        owns = {i: len(stems & set(content_stems(cands[i].text))) / max(1, len(stems)) for i in order}
        read = set(sorted((i for i in order if owns[i] >= st.read_own), key=lambda i: -owns[i])[: st.read_top])
        out = []
        for i, sim in zip(order, sims):
            c = cands[i]
            coverage = len(stems & wstems[i]) / max(1, len(stems))
            topical = len(neutral & wstems[i]) / len(neutral) if neutral else 1.0  # 1.0: slots only
            pool, src = slots(c.window), slots(c.text)
            miss = missing(d, pool)
            before = [p for p in c.parts if p[0] < c.start][::-1]
            context = [slots(p[2]) for p in before + [p for p in c.parts if p[0] > c.start]]  # nearest first, the one before first
            if c.before:
                context.insert(0, slots(c.before))
            conf = conflicts(d, src, miss, context)
            own = owns[i]
            sim = max(0.0, float(sim))
            reader = READER_FLOOR
            if i in read:  # only the sentences holding most of the draft's words are read closely (a speed-up)
                reader = float(self.scorer.score(sentence, [c.text])[0])
            flips = [f for p in c.parts if p[2] != c.text for f in [_neighbour_flip(d, stems, p[2])] if f]
            out.append(_Judged(c, sim, coverage, topical, miss, conf, own, flips, slots_only=not neutral,
                               clause=sim, reader=reader))
        # a long source sentence says many things: its closest clause (or pair of adjacent clauses), all embedded at once
        spans = {id(j): _clause_spans(j.cand.text) for i, j in zip(order, out)
                 if i in read and len(j.cand.text.split()) > 1.5 * len(sentence.split())}
        flat = list(dict.fromkeys(x for xs in spans.values() for x in xs))
        if flat:
            v = self._cache.vectors(flat)
            if v.shape[1] > 1:
                sim_of = dict(zip(flat, (v @ vecs[0]).tolist()))
                for j in out:
                    if spans.get(id(j)):
                        j.clause = max(j.similarity, max(sim_of[x] for x in spans[id(j)]))
        return out

    def _verdict(self, sentence: str, judged: list[_Judged]) -> CheckedSentence:
        """The closest clean source sentence (every slot stated) says how likely support is, the closest
        conflicting one how likely a contradiction is (the fitted verdict model); the likelier one over its
        threshold wins, else unsupported. A sentence found verbatim in a window is supported."""
        m = self.model
        folded = " ".join(fold(sentence).rstrip(". ").split())
        verbatim = [j for j in judged if len(folded) >= 20 and folded in " ".join(fold(j.cand.window).split())]
        clean = max((j for j in judged if j.clean), key=lambda j: j.match, default=None)
        clash = max((j for j in judged if j.conflicts), key=lambda j: j.match, default=None)
        if not verbatim and m.reads_nli:  # only the (at most two) candidates the verdict reads are given to the entailment model
            self.read_nli(sentence, [clean, clash])
        ps = m.support.prob({**clean.features(), "match": clean.match}) if clean else 0.0
        pc = m.contradict.prob({**clash.features(), "match": clash.match}) if clash else 0.0
        if verbatim:
            best, verdict, reason = max(verbatim, key=lambda j: (j.own, j.match)), "supported", ""
        elif clean and ps >= m.support_threshold and ps >= pc:
            best, verdict, reason = clean, "supported", ""
        elif clash and pc >= m.contradict_threshold:
            best, verdict, reason = clash, "contradicted", clash.conflicts[0].reason()
        else:
            best = max(judged, key=lambda j: j.match, default=None)
            verdict, reason = "unsupported", _why_not(best)
        out = CheckedSentence(text=sentence, start=0, end=0, verdict=verdict, reason=reason, score=round(ps, 4),
                              citations=([_citation(1, best.cand, sentence)] if verdict == "supported" else
                                         _conflict_citations(best.cand, best.conflicts[0]) if verdict == "contradicted" else []))
        if best:
            out.signals = {"coverage": round(best.coverage, 4), "topical": round(best.topical, 4),
                           "similarity": round(best.similarity, 4), "reader": round(best.reader, 4),
                           "match": round(best.match, 4), "p_supported": round(ps, 4), "p_contradicted": round(pc, 4)}
            if best.nli_read:
                out.signals.update({"entail": round(max(best.entail_s, best.entail_w), 4),
                                    "contra": round(max(best.contra_s, best.contra_w), 4)})
        return out


def _why_not(best: _Judged | None) -> str:
    """A short reason for `unsupported`: what the closest source sentence lacks."""
    if best is None:
        return "nothing in the sources is about this"
    if best.missing:
        return f"no source sentence states {best.missing[0][1]} in this context"
    return "no source sentence states this"


def build_checker(app) -> DraftChecker:
    """The checker over an AppContext's store (read only), sharing the store's embedder."""
    svc = app.index
    if not svc.catalog.chunk_count():
        raise CheckError(f"the library in {app.settings.data_dir} is empty: ingest documents first (dossier ingest PATH)")
    return DraftChecker(svc.retriever, svc.embedder.embed, app.settings.check)
