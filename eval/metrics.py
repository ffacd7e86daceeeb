"""Evaluation metrics: pure functions over plain data, no I/O.

Inputs
------
* span / chunk: a ``(doc_id, start, end)`` triple with half-open ``[start, end)`` character
  offsets into the stored document text.  Retrieved chunks are passed in rank order.
* answer: the Answer JSON of ``/work/shared/design.md`` as a dict (``answer``, ``abstained``,
  ``citations``, ``sentences``).
* supports: the verifier injected as ``supports(sentence, passages) -> bool``.

Conventions (shared by every function here)
-------------------------------------------
* "Not applicable" is ``None``, never NaN: an item with no gold spans has no retrieval
  score, an answer with no sentences has no citation recall, and so on.  Aggregation
  (``eval.stats.aggregate``) drops ``None`` and counts failures separately.
* Two spans overlap iff they are in the same document and ``max(starts) < min(ends)``;
  touching spans (``[0, 5)`` and ``[5, 9)``) and empty spans never overlap.
* Gold spans are de-duplicated (exact ``(doc_id, start, end)`` repeats count once).
* ``k`` must be a positive integer; ``k`` larger than the ranking simply uses all of it.
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dossier.app.textutil import name_runs, number_tokens, unify

Span = tuple[str, int, int]
SupportFn = Callable[[str, list[str]], bool]

__all__ = [
    "Span",
    "SupportFn",
    "spans_overlap",
    "hit_at_k",
    "recall_at_k",
    "mrr",
    "ndcg_at_k",
    "normalize_for_match",
    "answer_correct",
    "normalize_squad",
    "token_f1",
    "AbstentionMetrics",
    "abstention_metrics",
    "gold_citation_precision_recall",
    "quote_exactness",
    "marker_numbers",
    "broken_markers",
    "Faithfulness",
    "faithfulness",
    "extract_entities",
    "find_unsupported_entities",
    "unsupported_entities",
]


# --------------------------------------------------------------------------- retrieval


def spans_overlap(a: Sequence[Any], b: Sequence[Any]) -> bool:
    """True iff ``a`` and ``b`` (``(doc_id, start, end)``) share at least one character."""
    return a[0] == b[0] and max(a[1], b[1]) < min(a[2], b[2])


def _dedupe_spans(spans: Iterable[Sequence[Any]]) -> list[Span]:
    seen: dict[Span, None] = {}
    for s in spans:
        seen.setdefault((s[0], int(s[1]), int(s[2])), None)
    return list(seen)


def _check_k(k: int) -> None:
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"expected k to be a positive int, got {k!r}")


def hit_at_k(chunks: Sequence[Sequence[Any]], gold: Iterable[Sequence[Any]], k: int) -> float | None:
    """1.0 if any of the top-``k`` chunks overlaps a gold span, else 0.0; None without gold."""
    _check_k(k)
    spans = _dedupe_spans(gold)
    if not spans:
        return None
    return 1.0 if any(spans_overlap(c, g) for c in chunks[:k] for g in spans) else 0.0


def recall_at_k(chunks: Sequence[Sequence[Any]], gold: Iterable[Sequence[Any]], k: int) -> float | None:
    """Fraction of (distinct) gold spans overlapped by at least one top-``k`` chunk."""
    _check_k(k)
    spans = _dedupe_spans(gold)
    if not spans:
        return None
    top = chunks[:k]
    covered = sum(1 for g in spans if any(spans_overlap(c, g) for c in top))
    return covered / len(spans)


def mrr(chunks: Sequence[Sequence[Any]], gold: Iterable[Sequence[Any]], k: int | None = None) -> float | None:
    """Reciprocal rank (1-based) of the first relevant chunk within the top ``k`` (all if None).

    0.0 when no chunk is relevant; None without gold.  Averaging over items gives MRR.
    """
    if k is not None:
        _check_k(k)
    spans = _dedupe_spans(gold)
    if not spans:
        return None
    top = chunks if k is None else chunks[:k]
    for rank, c in enumerate(top, start=1):
        if any(spans_overlap(c, g) for g in spans):
            return 1.0 / rank
    return 0.0


def ndcg_at_k(chunks: Sequence[Sequence[Any]], gold: Iterable[Sequence[Any]], k: int) -> float | None:
    """Binary-gain nDCG@k where each gold span is credited at most once.

    The chunk at rank ``i`` has gain 1 iff it can be matched to a gold span that no earlier
    chunk is matched to (the size of a maximum chunk-to-span matching over the top ``i``
    grows by one; a chunk is matched to at most one span).  So a duplicate of an already
    credited chunk earns nothing, while a chunk overlapping two gold spans can still leave
    one for a later chunk.  ``DCG = sum(gain_i / log2(i + 1))``; the ideal DCG puts
    ``min(|gold|, k)`` gains at ranks ``1..min(|gold|, k)``.  Result is in [0, 1].
    """
    _check_k(k)
    spans = _dedupe_spans(gold)
    if not spans:
        return None
    match_of_span: dict[int, int] = {}  # gold index -> chunk rank index

    def augment(ci: int, adj: list[list[int]], visited: set[int]) -> bool:
        for gi in adj[ci]:
            if gi in visited:
                continue
            visited.add(gi)
            if gi not in match_of_span or augment(match_of_span[gi], adj, visited):
                match_of_span[gi] = ci
                return True
        return False

    adj: list[list[int]] = []
    dcg = 0.0
    for i, c in enumerate(chunks[:k]):
        adj.append([gi for gi, g in enumerate(spans) if spans_overlap(c, g)])
        if augment(i, adj, set()):
            dcg += 1.0 / math.log2(i + 2)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(spans), k)))
    return dcg / ideal


# --------------------------------------------------------------------------- answers

def normalize_for_match(text: str) -> str:
    """Normalization used by :func:`answer_correct`.

    Dashes/quotes unified and thousands separators dropped ("2,000,000" -> "2000000"), NFKC,
    casefold; symbols and ``%`` (``€``, ``$``, ``%``...) become separate tokens, other
    punctuation becomes a space; whitespace collapsed.  Numbers stay literal: "2 million" != "2000000".
    """
    text = unicodedata.normalize("NFKC", unify(text or "")).casefold()
    out: list[str] = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat.startswith("S") or ch in "%\u2030":
            out.append(f" {ch} ")
        elif cat.startswith("P"):
            out.append(" ")
        else:
            out.append(ch)
    return " ".join("".join(out).split())


def _key_pattern(key: str) -> re.Pattern[str]:
    tail = r"(?!\d)" if key[-1].isdigit() else ""
    return re.compile(r"(?<![^ ])" + re.escape(key) + tail)


def answer_correct(answer_text: str | None, answer_keys: Sequence[Sequence[str]]) -> bool | None:
    """True iff every key group has an alternative occurring in the answer.

    Both sides go through :func:`normalize_for_match`.  An alternative matches when it
    occurs starting at a token boundary of the answer; it may end inside a token, because
    dataset keys are stems ("camera" matches "cameras", "migra" matches "migration",
    "Ukrain" matches "Ukraine"; consequently "EU" also matches "EUR"/"Europe": choose keys
    accordingly).  A key ending in a digit must not be followed by a digit ("14" does not
    match "147", "2014" not "20145").  A key normalizing to nothing never matches.
    No groups -> None (not applicable); an empty group is a data error (ValueError).
    """
    if not answer_keys:
        return None
    haystack = normalize_for_match(answer_text or "")
    for group in answer_keys:
        if isinstance(group, str) or not group:
            raise ValueError(
                f"expected each answer_keys group to be a non-empty list of strings, got {group!r}"
            )
        keys = [k for k in (normalize_for_match(alt) for alt in group) if k]
        if not any(_key_pattern(k).search(haystack) for k in keys):
            return False
    return True


_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = set(string.punctuation)


def normalize_squad(text: str) -> str:
    """SQuAD v1.1 answer normalization: lower, drop punctuation, drop a/an/the, squash spaces."""
    text = "".join(ch for ch in (text or "").lower() if ch not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def token_f1(prediction: str | None, reference: str | None) -> float:
    """SQuAD token F1.  If either side has no tokens: 1.0 when both are empty, else 0.0."""
    pred = normalize_squad(prediction or "").split()
    ref = normalize_squad(reference or "").split()
    if not pred or not ref:
        return 1.0 if pred == ref else 0.0
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


@dataclass(frozen=True)
class AbstentionMetrics:
    abstention_rate: float | None  # abstained / n_unanswerable  (higher is better)
    n_unanswerable: int
    over_abstention_rate: float | None  # abstained / n_answerable  (lower is better)
    n_answerable: int
    n_failed: int  # records whose ``abstained`` is None (the run failed): in neither rate


def abstention_metrics(records: Iterable[Mapping[str, Any]]) -> AbstentionMetrics:
    """Records are mappings with ``answerable: bool`` and ``abstained: bool | None``."""
    counts = Counter()
    for r in records:
        abstained = r.get("abstained")
        if abstained is None:
            counts["failed"] += 1
            continue
        kind = "ans" if r["answerable"] else "unans"
        counts[kind] += 1
        counts[kind + "_abst"] += int(bool(abstained))
    n_ans, n_unans = counts["ans"], counts["unans"]
    return AbstentionMetrics(
        abstention_rate=counts["unans_abst"] / n_unans if n_unans else None,
        n_unanswerable=n_unans,
        over_abstention_rate=counts["ans_abst"] / n_ans if n_ans else None,
        n_answerable=n_ans,
        n_failed=counts["failed"],
    )


# --------------------------------------------------------------------------- citations


def _citations_by_n(answer: Mapping[str, Any]) -> dict[int, Mapping[str, Any]]:
    return {int(c["n"]): c for c in answer.get("citations") or []}


def _sentence_refs(sentence: Mapping[str, Any]) -> list[int]:
    return list(dict.fromkeys(int(n) for n in sentence.get("citations") or []))


def gold_citation_precision_recall(
    answer: Mapping[str, Any], gold_spans: Iterable[Sequence[Any]]
) -> tuple[float | None, float | None]:
    """(precision, recall) of the answer's citations against gold spans by offset overlap.

    precision: fraction of citation entries overlapping some gold span (None: no citations).
    recall: fraction of distinct gold spans overlapped by some citation (None: no gold).
    """
    cites = [(c["doc_id"], int(c["start"]), int(c["end"])) for c in answer.get("citations") or []]
    spans = _dedupe_spans(gold_spans)
    correct = sum(1 for c in cites if any(spans_overlap(c, g) for g in spans))
    covered = sum(1 for g in spans if any(spans_overlap(c, g) for c in cites))
    precision = correct / len(cites) if cites else None
    recall = covered / len(spans) if spans else None
    return precision, recall


def quote_exactness(answer: Mapping[str, Any], doc_texts: Mapping[str, str]) -> float | None:
    """Fraction of citations whose quote equals ``doc_texts[doc_id][start:end]`` exactly.

    An unknown document or out-of-range offsets (negative, past the end, start > end) count
    as not exact.  No citations -> None.
    """
    cites = answer.get("citations") or []
    if not cites:
        return None
    exact = 0
    for c in cites:
        text = doc_texts.get(c["doc_id"])
        start, end = int(c["start"]), int(c["end"])
        if text is not None and 0 <= start <= end <= len(text) and text[start:end] == c.get("quote"):
            exact += 1
    return exact / len(cites)


_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


def marker_numbers(text: str) -> list[int]:
    """Citation numbers in ``[1]``, ``[1, 2]`` markers, one entry per occurrence, in order."""
    return [int(n) for m in _MARKER.finditer(text or "") for n in m.group(1).split(",")]


def broken_markers(answer: Mapping[str, Any]) -> int:
    """Marker occurrences in ``answer`` with no citation ``n`` + citations no marker names.

    Only the answer text's markers count as references (a reader sees those).  ``[2019]``
    style brackets are read as markers too: keep the answer text free of them.
    """
    numbers = marker_numbers(answer.get("answer") or "")
    cited = set(_citations_by_n(answer))
    dangling = sum(1 for n in numbers if n not in cited)
    unreferenced = len(cited - set(numbers))
    return dangling + unreferenced


# --------------------------------------------------------------------------- faithfulness

_SUPPORT_LABELS = ("supported", "partial", "unsupported")


@dataclass(frozen=True)
class Faithfulness:
    supported: float | None  # fraction of sentences labelled supported
    partial: float | None  # fraction labelled partial (reported apart, never folded in)
    unsupported: float | None
    n: int  # number of sentences


def faithfulness(answer: Mapping[str, Any]) -> Faithfulness:
    """Fractions of answer sentences by verifier label; fractions are None with no sentences."""
    sentences = answer.get("sentences") or []
    counts = Counter()
    for s in sentences:
        label = s.get("support")
        if label not in _SUPPORT_LABELS:
            raise ValueError(f"expected support in {'|'.join(_SUPPORT_LABELS)}, got {label!r}")
        counts[label] += 1
    n = len(sentences)
    frac = (lambda lab: counts[lab] / n) if n else (lambda lab: None)
    return Faithfulness(frac("supported"), frac("partial"), frac("unsupported"), n)


# Numbers (textutil.NUMBER_TOKEN) and names (textutil.name_runs) follow app/textutil's literal rules;
# thousands separators are removed first (textutil.unify), so "2,000,000" == "2000000".
# Capitalized function words that start sentences; stripped from the front of a name run.
_NAME_STOP = frozenset(
    """A An The This That These Those It Its In On At By For From Of To With And But Or As
    After Before According He She They We I His Her Their Our There When While If Since
    Under Over During Also However Some Many Most All No Not Yet Then Thus""".split()
)


def _strip_markers(text: str) -> str:
    return _MARKER.sub(" ", text)


def extract_entities(text: str) -> list[str]:
    """Numbers/years and capitalized names in ``text`` (citation markers ignored), unique, in order.

    Regexes (deliberately simple, documented so results are explainable):
    * numbers: ``\\d+([.,]\\d+)*`` (``textutil.NUMBER_TOKEN``) not glued to letters, after thousands separators are
      dropped: "2,000,000" -> "2000000", "1.5" stays "1.5", "2014" is a year/number.
    * names: maximal runs of capitalized words ("European Union", "Vladimir Putin", "EU",
      "G7"; see ``textutil.name_runs``),
      with leading sentence-start function words ("The", "In", "According"...) stripped;
      a run made only of such words is dropped.  Uppercase letter: any Unicode uppercase.
    """
    text = unify(_strip_markers(text or ""))
    found: dict[str, None] = {}
    for number in number_tokens(text):
        found.setdefault(number, None)
    for run in name_runs(text):
        while run and run[0] in _NAME_STOP:
            run.pop(0)
        if run:
            found.setdefault(" ".join(run), None)
    return list(found)


def find_unsupported_entities(sentence: str, passages: Sequence[str]) -> list[str]:
    """Entities of ``sentence`` that occur in no passage.

    A number is supported when the same number (after separator removal) is a number
    token of some passage ("200" is not supported by "2000").  A name is supported when it
    occurs in some passage as a whole-word, case-sensitive substring.
    """
    unified = [unify(p or "") for p in passages]
    numbers = {n for p in unified for n in number_tokens(p)}
    missing: list[str] = []
    for ent in extract_entities(sentence):
        if ent[0].isdigit():
            ok = ent in numbers
        else:
            pat = re.compile(rf"(?<!\w){re.escape(ent)}(?!\w)")
            ok = any(pat.search(p) for p in unified)
        if not ok:
            missing.append(ent)
    return missing


def unsupported_entities(sentence: str, passages: Sequence[str]) -> int:
    """Count of :func:`find_unsupported_entities`."""
    return len(find_unsupported_entities(sentence, passages))
