"""The extractive engine (default, offline): answers with source sentences, verbatim, chosen by a learned
scorer.

Every candidate sentence of the retrieved passages is scored against the question by the answer-sentence
cross-encoder (`app/reader.py`, trained on SQuAD 2.0 articles). Whether to answer at all is decided by
the abstention model: a logistic regression over the best score, its margin over the runner-up, the
question's key-term coverage, answer-type evidence and the retrieval ranks, fitted on SQuAD dev
articles; its probability is the answer's `confidence`. The answer is the best sentence plus the
sentences scored close to it (more for why/how/list questions).

No hand-written rule remains: the two kept from the former engine ("speaker": show the sentence naming
who said a "he said" quote; "premise": abstain on a why/when question whose key terms no sentence
contains) changed nothing on seed-probe and seed-heldout and cost SQuAD dev answers in the ablation
(README), so they went.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Iterator

from dossier.index.retrieval import Hit

from ..answer_models import Draft, Turn
from ..question import (DATE, DESCRIBE, EXPLAIN, LIST, NUMBER, PERSON, PERSON_NAME, QuestionInfo, analyze, is_followup, split_context,
                        with_context)
from ..reader import AbstainModel, AnswerScorer
from ..textutil import content_stems, names, numbers
from .candidates import Emitter, Sentence, candidate_sentences, title_of

FEATURES = ("top", "margin", "own", "near", "type_ok", "passage_rank", "dense_sim", "n_terms", "missing_numbers", "idf_ctx",
            "missing_names", "neg_mismatch")
_NEGATION = re.compile(r"\b(not|never|no|without|neither|nor)\b|n't\b", re.I)
_YEAR_OR_MONTH = re.compile(r"\b(1[5-9]\d\d|20\d\d)\b|\b(January|February|March|April|May|June|July|August|September|October|November|December)\b")


@dataclass
class Scored:
    sent: Sentence
    logit: float
    stems: frozenset[str] = frozenset()  # the sentence's content stems (computed once)
    own: float = 0.0  # share of the question's key terms in the sentence
    near: float = 0.0  # ... in the sentence with its neighbours and its document's title


@dataclass
class Ranking:
    """The candidates of one question, best first, with the features the abstention model reads."""
    info: QuestionInfo | None = None  # what the question asks
    scored: list[Scored] = field(default_factory=list)
    features: dict[str, float] = field(default_factory=dict)
    confidence: float = 0.0


def features(info: QuestionInfo, asked: str, terms: list[str], scored: list[Scored]) -> dict[str, float]:
    """What the abstention model reads about the best sentence (scored best first)."""
    best = scored[0]
    c = best.sent
    ctx = f"{c.prev[2] if c.prev else ''} {c.text} {c.next_text}"
    ctx_stems, low = set(content_stems(ctx)), ctx.lower()
    # key terms weighted by rarity among the candidates: a rare term of the question missing is a strong sign
    df = {t: sum(t in s.stems for s in scored) for t in terms}
    idf = {t: math.log(1 + (len(scored) + 1) / (df[t] + 0.5)) for t in terms}
    qnames = {t for n in names(asked) for t in n.split() if len(t) > 2} - {asked.split()[0] if asked.split() else ""}
    return {
        "top": best.logit,
        "margin": best.logit - scored[1].logit if len(scored) > 1 else 5.0,
        "own": best.own, "near": best.near,
        "type_ok": type_evidence(info.qtype, c.text),
        "passage_rank": 1.0 / c.passage,
        "dense_sim": float(c.hit.dense_similarity or 0.0),
        "n_terms": math.log1p(len(terms)),
        "missing_numbers": float(bool(info.numbers - numbers(c.hit.chunk.text))),
        "idf_ctx": sum(v for t, v in idf.items() if t in ctx_stems) / (sum(idf.values()) or 1.0),
        "missing_names": sum(t.lower() not in low for t in qnames) / max(1, len(qnames)),
        "neg_mismatch": float(bool(_NEGATION.search(asked)) and not _NEGATION.search(ctx)),
    }


def type_evidence(qtype: str, text: str) -> float:
    """1 when the sentence holds a fact of the asked-for kind (a number, a date, a name), else 0; 1 for
    questions that ask for no particular kind."""
    if qtype == NUMBER:
        return float(bool(numbers(text)))
    if qtype == DATE:
        return float(bool(_YEAR_OR_MONTH.search(text)))
    if qtype in (PERSON, PERSON_NAME, DESCRIBE):
        return float(bool(names(text)))
    return 1.0


class ExtractiveEngine:
    name = "extractive"
    decomposes = True  # compound questions are split and each part answered (app.compound)

    def __init__(self, scorer: AnswerScorer, abstain: AbstainModel, *, max_sentences: int = 3, max_sentences_why: int = 5,
                 close: float = 1.5, max_scored: int = 24, threshold: float | None = None):
        self.scorer, self.abstain = scorer, abstain
        self.max_sentences, self.max_sentences_why = max_sentences, max_sentences_why
        self.close = close  # logits within this of the best are answers too
        self.max_scored = max_scored
        self.threshold = abstain.threshold if threshold is None else threshold

    # --- Engine protocol -----------------------------------------------------------------
    def condense(self, question: str, history: list[Turn]) -> str:
        """Follow-ups borrow the previous question's terms: "And who supplied them?" after "What equipment
        did the EU fund?" searches for both."""
        if not history or not is_followup(question):
            return question
        return with_context(question, history[-1].question)

    def draft_stream(self, question: str, passages: list[Hit]) -> Iterator[str | Draft]:
        yield self.draft(question, passages)

    def rank(self, question: str, passages: list[Hit]) -> Ranking:
        asked, context = split_context(question)
        info = analyze(asked)
        cands = [c for c in candidate_sentences(passages) if not c.text.rstrip().endswith("?")]  # a question answers nothing
        if not cands:
            return Ranking(info)
        terms = list(dict.fromkeys(info.key_stems + [s for s in content_stems(context) if s not in info.key_stems]))
        scored = [self._coverage(c, terms) for c in cands]
        # the scorer reads the sentences most likely to answer: all of the first passages', then by coverage
        scored.sort(key=lambda s: (-(s.sent.passage <= 2), -(s.own + 0.5 * s.near), s.sent.passage))
        scored = scored[: self.max_scored]
        query = asked if not context else f"{asked} ({context})"
        logits = self.scorer.score(query, [s.sent.text for s in scored])
        for s, lg in zip(scored, logits):
            s.logit = float(lg)
        scored.sort(key=lambda s: (-s.logit, s.sent.passage, s.sent.start))
        feats = features(info, asked, terms, scored)
        return Ranking(info, scored, feats, self.abstain.confidence(feats))

    def draft(self, question: str, passages: list[Hit]) -> Draft:
        return self.decide(self.rank(question, passages))

    def decide(self, r: Ranking) -> Draft:
        """The answer a ranking gives: abstain under the threshold, else the chosen sentences."""
        if not r.scored:
            return Draft(abstained=True, reason="no passages were retrieved")
        if r.confidence < self.threshold:
            return Draft(abstained=True, confidence=r.confidence,
                         reason=f"no passage sentence answers this with enough confidence ({r.confidence:.2f} < {self.threshold:.2f})")
        emitter = Emitter()
        for s in self._select(r.info, r.scored):
            emitter.emit(s.sent.hit.chunk.doc_id, s.sent.start, s.sent.end, s.sent.text, s.sent.passage)
        return Draft(sentences=emitter.sentences, confidence=r.confidence)

    # --- internals -----------------------------------------------------------------------
    @staticmethod
    def _coverage(c: Sentence, terms: list[str]) -> Scored:
        own_stems = frozenset(content_stems(c.text))
        if not terms:
            return Scored(c, 0.0, own_stems)
        ctx = own_stems | set(content_stems(f"{c.prev[2] if c.prev else ''} {c.next_text} {title_of(c.hit)}"))
        return Scored(c, 0.0, own_stems, own=sum(t in own_stems for t in terms) / len(terms),
                      near=sum(t in ctx for t in terms) / len(terms))

    def _select(self, info: QuestionInfo, scored: list[Scored]) -> list[Scored]:
        """The best sentence, then those scored within `close` of it (why/how/list questions take more), best
        first, none repeating a chosen one."""
        limit = self.max_sentences_why if info.qtype in (EXPLAIN, LIST) else self.max_sentences
        top = scored[0]
        chosen = [top]
        for s in scored[1:]:
            if len(chosen) >= limit or s.logit < top.logit - self.close:
                break
            if any(_overlap(s, o) for o in chosen):
                continue
            chosen.append(s)
        return chosen  # best first: the sentence that answers best leads


def _overlap(a: Scored, b: Scored) -> bool:
    """The same document span, or nearly the same words."""
    x, y = a.sent, b.sent
    if x.hit.chunk.doc_id == y.hit.chunk.doc_id and x.start < y.end and y.start < x.end:
        return True
    return len(a.stems & b.stems) / max(1, min(len(a.stems), len(b.stems))) > 0.8
