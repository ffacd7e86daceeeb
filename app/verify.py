"""The citation verifier: does a passage (or a set of passages) support an answer sentence?

Signals: verbatim containment, lexical coverage of the sentence's content words, embedding
similarity to the closest passage sentence, and hard checks — every number and proper name in the
sentence must occur in the cited passages, and a negation must not be flipped. Thresholds come
from settings (fitted by `dossier eval calibrate`).
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from dossier.ingest.sentences import sentence_spans

from .embed_cache import EmbedFn, EmbeddingCache
from .injection import is_instruction, without_instructions
from .textutil import content_stems, fold, has_negation, name_tokens, numbers


@dataclass
class Verdict:
    label: str  # supported | partial | unsupported
    score: float
    coverage: float = 0.0
    similarity: float = 0.0
    missing_numbers: list[float] = field(default_factory=list)
    missing_names: list[str] = field(default_factory=list)
    negation_flip: bool = False
    verbatim: bool = False


_MARKER = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")


@dataclass(frozen=True)
class _Passage:
    folded: str
    stems: frozenset
    numbers: frozenset
    words: frozenset  # folded words and name tokens
    translit: frozenset  # non-Latin words in Latin letters and their 4-letter stems (names across scripts, #16)
    sentences: tuple
    negation: bool


@functools.lru_cache(maxsize=4096)
def _prep(passage: str) -> _Passage:
    """What the checks need from a passage, computed once per passage text. Sentences that address the
    assistant (planted instructions, fake turns) are not evidence and are left out."""
    spans = sentence_spans(passage)
    if any(is_instruction(passage[a:b]) for a, b in spans):
        passage = without_instructions(passage)
        spans = sentence_spans(passage)
    return _Passage(
        folded=" ".join(fold(passage).split()),
        stems=frozenset(content_stems(passage)),
        numbers=frozenset(numbers(passage) | (set() if passage.isascii() else _numbers_other_locales(passage))),
        words=frozenset(name_tokens(passage) | {fold(w) for w in re.findall(r"[^\W_]+", passage)}),
        translit=frozenset(_transliterated(passage)),
        sentences=tuple(passage[a:b] for a, b in spans) or (passage,),
        negation=has_negation(passage),
    )


def _transliterated(passage: str) -> set[str]:
    """The passage's non-Latin words in Latin letters (unidecode), so a name in an English sentence is found in a
    Russian source across scripts: Кравец -> kravets; also their first four letters, for case endings (Кравца ->
    kravtsa, krav). Empty for a passage that is all ASCII (no cost on English sources)."""
    if passage.isascii():
        return set()
    from unidecode import unidecode

    out: set[str] = set()
    for w in re.findall(r"[^\W\d_]+", passage):
        if not w.isascii():
            t = fold(unidecode(w)).replace("'", "")
            out.update((t, t[:4]) if len(t) > 4 else (t,))
    return out


_LOCALE_NUMBER = re.compile(r"(?<![\d,.])(\d{1,3}(?:[ \u00a0\u202f.]\d{3})+|\d+,\d+|\d+)(?![\d])(?:\s*([^\W\d_]+))?")
_SCALE = (("milliard", 1e9), ("miliard", 1e9), ("млрд", 1e9), ("миллиард", 1e9), ("million", 1e6), ("milion", 1e6),
          ("миллион", 1e6), ("млн", 1e6), ("tausend", 1e3), ("tysi", 1e3), ("тысяч", 1e3))


def _numbers_other_locales(passage: str) -> set[float]:
    """Values written the Russian, German or Polish way, added to a non-ASCII passage's numbers (#16): a space, no-
    break space or point between thousands ("98 000", "1.240.000"), a decimal comma ("1,9"), and a scale word
    after it ("1,9 миллиона" = 1.9 million). Only adds values: an English source's checks are unchanged."""
    out: set[float] = set()
    for m in _LOCALE_NUMBER.finditer(passage):
        raw, word = m.group(1), (m.group(2) or "").lower()
        try:
            v = float(raw.replace(",", ".")) if "," in raw else float(re.sub(r"[ \u00a0\u202f.]", "", raw))
        except ValueError:
            continue
        out.add(v)
        out.update(v * f for stem, f in _SCALE if word.startswith(stem))
    return out


def strip_markers(text: str) -> str:
    return _MARKER.sub("", text).strip()


class Verifier:
    def __init__(self, embed: EmbedFn | None, support_threshold: float = 0.72, partial_threshold: float = 0.4,
                 w_coverage: float = 0.5):
        self.embed = embed
        self.support_threshold = support_threshold
        self.partial_threshold = partial_threshold
        self.w_coverage = w_coverage
        self._cache = EmbeddingCache(embed, max_items=20000) if embed is not None else None

    # --- embeddings through a bounded cache (passage sentences repeat across answers) ---------
    def _vectors(self, texts: list[str]) -> np.ndarray:
        if self._cache is None:
            return np.zeros((len(texts), 1), dtype=np.float32)
        return self._cache.vectors(texts)

    def check(self, sentence: str, passages: Sequence[str]) -> Verdict:
        sentence = strip_markers(sentence)
        preps = [pp for pp in (_prep(p) for p in passages if p and p.strip()) if pp.folded]
        if not sentence or not preps:
            return Verdict("unsupported", 0.0)
        f_sent = " ".join(fold(sentence).split())
        if len(f_sent) >= 12 and any(f_sent.rstrip(".") in p.folded for p in preps):
            return Verdict("supported", 1.0, 1.0, 1.0, verbatim=True)
        stems = content_stems(sentence)
        pstems = set().union(*(p.stems for p in preps))
        coverage = (sum(1 for s in stems if s in pstems) / len(stems)) if stems else 0.0
        missing_numbers = sorted(numbers(sentence) - set().union(*(p.numbers for p in preps)))
        pwords = set().union(*(p.words for p in preps))
        ptrans = set().union(*(p.translit for p in preps))
        missing_names = sorted(t for t in name_tokens(sentence) if t not in pwords and t not in ptrans and t[:4] not in ptrans)
        psents = [s for p in preps for s in p.sentences]
        similarity, best = 0.0, psents[0]
        if self.embed is not None:
            vecs = self._vectors([sentence] + psents)
            sims = vecs[1:] @ vecs[0]
            i = int(np.argmax(sims))
            similarity, best = float(max(0.0, sims[i])), psents[i]
        else:
            similarity = coverage
        neg = has_negation(sentence)
        negation_flip = neg != has_negation(best) and neg != any(p.negation for p in preps)
        score = self.w_coverage * coverage + (1 - self.w_coverage) * similarity
        if missing_numbers:
            score = min(score, self.partial_threshold - 0.01)
        if missing_names or negation_flip:
            score = min(score, self.support_threshold - 0.01)
        label = "supported" if score >= self.support_threshold else "partial" if score >= self.partial_threshold else "unsupported"
        if missing_numbers:
            label = "unsupported"
        return Verdict(label, round(score, 4), round(coverage, 4), round(similarity, 4), missing_numbers, missing_names,
                       negation_flip)

    def supports(self, sentence: str, passages: Sequence[str]) -> bool:
        return self.check(sentence, passages).label == "supported"
