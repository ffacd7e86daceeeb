"""Answers across languages (#16): the extractive engine, extended to questions and passages that are not
both English.

Which signal applies to which pair of languages (question x sentence):

- English x English: everything the extractive engine has (app/engines/extractive.py), unchanged: the
  answer-sentence cross-encoder and the abstention model (both trained and fitted on English SQuAD), the
  English stemmer's key-term coverage, the English answer-type patterns.
- every other pair (English x Russian, Russian x English, Russian x Russian, German x English, ...): none of
  those. The cross-encoder's vocabulary and training are English; on Russian text its logits are noise, and
  it is never run on such a pair. What is used instead: a learned answer-sentence scorer in the multilingual
  sentence encoder's space (index/multilingual.py; Universal Sentence Encoder Multilingual v3, trained for
  cross-language retrieval in 16 languages): a logistic regression over the element-wise product and absolute
  difference of the question's and the sentence's vectors, their cosine, and evidence that reads any script (the
  asked-for kind of fact present: digits for how many/when, a name for who; a name of the question present,
  compared through `unidecode` transliteration: Кравец -> Kravets; a number of the question present). It is
  trained on English SQuAD 2.0 pairs only (the answer sentence against on-topic sentences of its paragraph;
  eval/train_xscorer.py, app/models/xscorer.json) and reaches other languages through the encoder's shared space:
  no cross-language data trains it. The encoder's cosine alone is topical (it finds the sentence about the
  cameras, not the one counting them); the learned score ranks answer-bearing sentences a little better (SQuAD
  dev AUC 0.808 vs 0.779 for the cosine). Whether to answer is decided by two thresholds on its logit fitted on
  the cross-language dev data (xlang-dev, -heldout, -heldout2) and seed-dev asked of a mixed library, with
  leave-one-document-out cross-validated figures recorded in `app/models/crosslingual.json`
  (eval/fit_crosslingual.py), never shared with the English abstention model.

An English question over a library with both English and foreign passages gets both: the extractive engine
on the English passages, this scorer on the others; the foreign sentence is preferred only when its score
clears the stricter `override` threshold (or the English side abstains). Quotes stay verbatim in their
language: the answer is the source sentence itself, cited to its exact span.
"""
from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from dossier.index.retrieval import Hit
from dossier.ingest.language import question_language

from ..answer_models import Draft, DraftSentence, Turn
from ..question import DATE, NUMBER, PERSON, PERSON_NAME, analyze, split_context
from .candidates import Emitter, Sentence, candidate_sentences

CALIBRATION = Path(__file__).resolve().parents[1] / "models" / "crosslingual.json"
_DIGIT = re.compile(r"\d")
_CAPITALISED = re.compile(r"\b[^\W\d_][^\W_]{2,}", re.U)


@dataclass
class CrossCalibration:
    threshold: float = 0.30  # answer when the best cross-language sentence scores at least this
    override: float = 0.40  # ... and prefer it over an English answer to an English question at this or above
    type_weight: float = 0.05  # added when the sentence holds a fact of the asked-for kind
    name_weight: float = 0.05  # added when a name of the question occurs in the sentence (across scripts)
    coverage_weight: float = 0.0  # times the question words' soft coverage by the sentence's words (word vectors)
    scorer: str = "cosine"  # the base score: 'cosine' (the encoder's similarity) or 'xscorer' (the learned scorer's logit)
    fitted_on: str = "defaults (not fitted)"
    extra: dict = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None = None) -> "CrossCalibration":
        p = path or CALIBRATION
        if not p.exists():
            return cls()
        data = json.loads(p.read_text(encoding="utf-8"))
        known = {k: data[k] for k in ("threshold", "override", "type_weight", "name_weight", "coverage_weight", "scorer", "fitted_on")
                 if k in data}
        return cls(**known, extra={k: v for k, v in data.items() if k not in known})


_END = tuple(".!…»\"”)'")


def is_statement(text: str) -> bool:
    """A sentence that states something: it ends with sentence punctuation and is not a question or a lead-in
    ("... calls on the Union to:"). Titles and headings have no final stop in any of these languages; the English
    engine's capitalisation test for headings does not carry over (Russian and Polish titles are in sentence case)."""
    t = text.rstrip()
    return t.endswith(_END) and not t.endswith(("?", ":"))


def passage_language(h: Hit) -> str:
    """A retrieved passage's language: its chunk's, else its document's ("" when undecided)."""
    return h.chunk.language or str((h.doc or {}).get("language") or "")


def translit(text: str) -> str:
    """Latin transliteration, lower-cased (unidecode: Кравец -> kravets, Wärme -> warme)."""
    from unidecode import unidecode

    return unidecode(text).lower()


def name_match(question: str, sentence: str) -> float:
    """1 when a capitalised word of the question (past its first word) occurs in the sentence, compared in
    transliteration and by its first five letters (Russian case endings: Кравца / Кравец)."""
    words = [w for w in _CAPITALISED.findall(question)[1:] if w[0].isupper()]
    if not words:
        return 0.0
    sent = translit(sentence)
    return float(any(translit(w)[:5] in sent for w in words))


def type_match(qtype: str, sentence: str) -> float:
    """1 when the sentence holds a fact of the kind asked for, in any script: digits for how-many/how-much/when,
    a capitalised word past the first for who; 1 for other questions."""
    if qtype in (NUMBER, DATE):
        return float(bool(_DIGIT.search(sentence)))
    if qtype in (PERSON, PERSON_NAME):
        return float(len(_CAPITALISED.findall(sentence)) > 1)
    return 1.0


FEATURE_NAMES = ([f"prod{i}" for i in range(512)] + [f"absdiff{i}" for i in range(512)]
                 + ["cosine", "type", "name", "number_shared", "log_chars"])
_NUMBER = re.compile(r"\d+")


def typed_match(qtype: str, sentence: str) -> float:
    """+1 when the question asks for a kind of fact (number, date, person) and the sentence holds one, -1 when it
    holds none, 0 for other questions."""
    if qtype not in (NUMBER, DATE, PERSON, PERSON_NAME):
        return 0.0
    return 1.0 if type_match(qtype, sentence) else -1.0


def pair_features(questions: list[str], sentences: list[str], qvecs, svecs, qtypes: list[str]):
    """The learned scorer's features of (question, sentence) pairs (eval/train_xscorer.py): the element-wise product
    and absolute difference of their multilingual vectors, the cosine, and script-independent answer evidence."""
    import numpy as np

    qvecs, svecs = np.asarray(qvecs, dtype=np.float32), np.asarray(svecs, dtype=np.float32)
    extra = np.array([[float(qv @ sv), typed_match(t, s), name_match(q, s),
                       float(bool(set(_NUMBER.findall(q)) & set(_NUMBER.findall(s)))), math.log(1 + len(s))]
                      for q, s, qv, sv, t in zip(questions, sentences, qvecs, svecs, qtypes)], dtype=np.float32).reshape(-1, 5)
    return np.hstack([qvecs * svecs, np.abs(qvecs - svecs), extra])


_WORD = re.compile(r"[^\W_]{3,}", re.U)
# English question words carry no content (the other languages' are mostly under three letters or rare in sources)
_QSTOP = frozenset("what which when where who whom whose how many much does did is are was were the of in on at to for from "
                   "by with and or about as that this these those its their his her been has have had can could".split())


class WordVectors:
    """Multilingual vectors of single words, cached (a bounded dict: the sources' vocabulary repeats)."""

    def __init__(self, encoder, max_items: int = 50_000):
        self.encoder, self.max_items = encoder, max_items
        self._cache: dict[str, object] = {}

    def __call__(self, words: list[str]):
        import numpy as np

        new = [w for w in dict.fromkeys(words) if w not in self._cache]
        if new:
            if len(self._cache) + len(new) > self.max_items:
                self._cache.clear()
            self._cache.update(zip(new, self.encoder.encode(new)))
        return np.array([self._cache[w] for w in words]) if words else np.zeros((0, 512), dtype=np.float32)


def soft_coverage(qvecs, svecs) -> float:
    """Mean over the question's words of the closest sentence word's cosine (a cross-language analogue of the
    English engine's key-term coverage: 'cameras' finds 'камер', 'towers' finds 'вышках')."""
    if not len(qvecs) or not len(svecs):
        return 0.0
    return float((qvecs @ svecs.T).max(axis=1).clip(0).mean())


XSCORER = Path(__file__).resolve().parents[1] / "models" / "xscorer.json"


class XScorer:
    """The learned cross-language answer-sentence scorer (eval/train_xscorer.py): a logistic regression over
    `pair_features`, trained on English SQuAD 2.0 pairs in the multilingual encoder's space. `score` is its logit."""

    def __init__(self, path: Path | None = None):
        import numpy as np

        data = json.loads((path or XSCORER).read_text(encoding="utf-8"))
        if data["features"] != FEATURE_NAMES:
            raise ValueError(f"{path or XSCORER}: features differ from this code's pair_features")
        self.mean = np.asarray(data["mean"], dtype=np.float32)
        self.scale = np.asarray(data["scale"], dtype=np.float32)
        self.weights = np.asarray(data["weights"], dtype=np.float32)
        self.bias = float(data["bias"])

    def score(self, questions, sentences, qvecs, svecs, qtypes):
        X = pair_features(questions, sentences, qvecs, svecs, qtypes)
        return ((X - self.mean) / self.scale) @ self.weights + self.bias


@functools.lru_cache(maxsize=1)
def shared_xscorer() -> XScorer:
    return XScorer()


@dataclass
class CrossScored:
    sent: Sentence
    similarity: float
    score: float
    coverage: float = 0.0


class CrossLingualEngine:
    """Wraps the extractive engine (same name, same interface); English-only retrievals go straight to it."""

    name = "extractive"
    decomposes = True
    fit_mode = False  # eval/fit_crosslingual.py: compute every feature whatever its weight

    def __init__(self, base, encoder, calibration: CrossCalibration | None = None):
        self.base = base
        self.encoder = encoder  # index.multilingual.MultilingualEncoder (shared with retrieval)
        self.cal = calibration or CrossCalibration.load()
        self.words = WordVectors(encoder)

    @property
    def _scale(self) -> float:
        return 1.0 if self.cal.scorer == "xscorer" else 0.05

    def __getattr__(self, item):  # everything else the pipeline asks of the extractive engine
        if item == "base":
            raise AttributeError(item)
        return getattr(self.base, item)

    def condense(self, question: str, history: list[Turn]) -> str:
        return self.base.condense(question, history)

    def draft_stream(self, question: str, passages: list[Hit]) -> Iterator[str | Draft]:
        yield self.draft(question, passages)

    def draft(self, question: str, passages: list[Hit]) -> Draft:
        asked, _ = split_context(question)
        qlang = question_language(asked)
        english = [i for i, h in enumerate(passages) if qlang == "en" and passage_language(h) == "en"]
        if len(english) == len(passages):
            return self.base.draft(question, passages)  # an English question over English passages: as before
        cross = self.rank(asked, passages, set(english))
        best = cross[0] if cross else None
        en = _remap(self.base.draft(question, [passages[i] for i in english]), english) if english else None
        if en is not None and not en.abstained and (best is None or best.score < self.cal.override):
            return en
        if best is not None and best.score >= self.cal.threshold:
            return self._answer(best, qlang)
        if en is not None and not en.abstained:
            return en
        score = best.score if best else 0.0
        return Draft(abstained=True, confidence=_confidence(score, self.cal.threshold, self._scale),
                     reason=f"no passage sentence answers this across languages with enough confidence "
                            f"({score:.2f} < {self.cal.threshold:.2f}, {'learned cross-language score' if self.cal.scorer == 'xscorer' else 'multilingual similarity'})")

    def rank(self, asked: str, passages: list[Hit], skip: set[int]) -> list[CrossScored]:
        """Candidate sentences of the passages not in `skip`, scored for the question across languages, best first."""
        cands = [c for c in candidate_sentences(passages) if (c.passage - 1) not in skip and is_statement(c.text)]
        if not cands:
            return []
        qtype = analyze(asked).qtype if question_language(asked) == "en" else _qtype_any(asked)
        if self.cal.scorer == "xscorer":
            vecs = self.encoder.encode([asked, *(c.text for c in cands)])
            sims = vecs[1:] @ vecs[0]
            base = shared_xscorer().score([asked] * len(cands), [c.text for c in cands], vecs[:1].repeat(len(cands), axis=0),
                                          vecs[1:], [qtype] * len(cands))
        else:
            sims = self.encoder.similarities(asked, [c.text for c in cands])
            base = sims
        qw = [w for w in _WORD.findall(asked.lower()) if w not in _QSTOP]
        qv = self.words(qw) if self.cal.coverage_weight or self.fit_mode else None
        out = []
        for c, sim, b in zip(cands, sims, base):
            cov = soft_coverage(qv, self.words(list(dict.fromkeys(_WORD.findall(c.text.lower()))))) if qv is not None else 0.0
            score = (float(b) + self.cal.type_weight * type_match(qtype, c.text) + self.cal.name_weight * name_match(asked, c.text)
                     + self.cal.coverage_weight * cov)
            out.append(CrossScored(c, float(sim), score, cov))
        out.sort(key=lambda s: (-s.score, s.sent.passage, s.sent.start))
        return out

    def _answer(self, best: CrossScored, qlang: str) -> Draft:
        emitter = Emitter()
        s = best.sent
        emitter.emit(s.hit.chunk.doc_id, s.start, s.end, s.text, s.passage)
        return Draft(sentences=emitter.sentences, confidence=_confidence(best.score, self.cal.threshold, self._scale))


# question words of the languages the eval covers, for the answer type of a question not in English
_NUMBER_WORDS = re.compile(r"^(сколько|как много|на каком расстоянии|какую сумму|за какую сумму|ile|jak długo|"
                           r"wie viele|wie viel|wie hoch|wie lange|wie weit)\b", re.I)
_DATE_WORDS = re.compile(r"^(когда|с какого|в каком году|kiedy|wann|seit wann)\b", re.I)
_WHO_WORDS = re.compile(r"^(кто|kto|wer)\b", re.I)


def _qtype_any(asked: str) -> str:
    q = asked.strip()
    if _NUMBER_WORDS.search(q):
        return NUMBER
    if _DATE_WORDS.search(q):
        return DATE
    if _WHO_WORDS.search(q):
        return PERSON
    return ""


def _confidence(score: float, threshold: float, scale: float = 0.05) -> float:
    """0.5 at the threshold, rising with the margin above it (a logistic of the margin: scale 0.05 for a cosine,
    1 for the learned scorer's logit)."""
    return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, (score - threshold) / scale))))


def _remap(draft: Draft, positions: list[int]) -> Draft:
    """A draft made from a subset of the passages, its citations renumbered to the full list."""
    for s in draft.sentences:
        s.cites = [positions[c - 1] + 1 for c in s.cites if 0 < c <= len(positions)]
    return draft


def cross_engine(base, settings) -> object:
    """The extractive engine wrapped for other languages unless multilingual retrieval is off."""
    if getattr(settings, "multilingual", "foreign") == "off":
        return base
    from dossier.index.multilingual import shared_encoder

    return CrossLingualEngine(base, shared_encoder(1))


__all__ = ["CrossLingualEngine", "CrossCalibration", "cross_engine", "DraftSentence"]
