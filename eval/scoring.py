"""Per-item scores and their aggregation: the one table of metrics that run, report, compare and check share.

Each record of a run holds ``scores``: metric name -> float, or None when the metric does not apply to
that item (retrieval metrics without gold, correctness of an unanswerable question, citation metrics of
an abstention). A failed item (the pipeline raised) is scored, never dropped: every metric that applies
to the *item* gets the metric's worst value (0.0, or 1.0 for lower-is-better rates) and the record is
marked ``failed``; aggregates count those failures in ``n_failed``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from . import metrics as M
from .stats import Aggregate, aggregate

SupportFn = Callable[[str, list[str]], bool]


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    group: str  # retrieval | answer | abstention | citation | faithfulness
    applies_to: str  # which items can have a value: "gold" | "answerable" | "unanswerable" | "all"
    higher_is_better: bool = True
    on_failure: bool = True  # a failed item that the metric applies to scores the worst value
    help: str = ""

    @property
    def worst(self) -> float:
        return 0.0 if self.higher_is_better else 1.0

    def applies(self, record: Mapping[str, Any]) -> bool:
        if self.applies_to == "gold":
            return bool(record.get("gold_spans"))
        if self.applies_to == "answerable":
            return bool(record.get("answerable"))
        if self.applies_to == "unanswerable":
            return not record.get("answerable")
        return True


def retrieval_metrics(k: int) -> list[Metric]:
    ks = sorted({1, min(3, k), k})
    out = [Metric(f"hit@{j}", f"Hit@{j}", "retrieval", "gold", help=f"a gold span overlaps one of the top {j} chunks") for j in ks]
    out += [
        Metric(f"recall@{k}", f"Recall@{k}", "retrieval", "gold", help="fraction of gold spans overlapped by the top k"),
        Metric(f"mrr@{k}", f"MRR@{k}", "retrieval", "gold", help="reciprocal rank of the first chunk overlapping gold"),
        Metric(f"ndcg@{k}", f"nDCG@{k}", "retrieval", "gold", help="binary-gain nDCG, each gold span credited once"),
    ]
    return out


ANSWER_METRICS: list[Metric] = [
    Metric("correct", "Correct (answer keys)", "answer", "answerable", help="every answer-key group occurs in the answer"),
    Metric("token_f1", "Token F1 vs reference", "answer", "answerable", help="SQuAD token F1 against the reference answer"),
    Metric("abstention", "Abstention on unanswerable", "abstention", "unanswerable",
           help="abstained on an unanswerable or false-premise question (higher is better)"),
    Metric("over_abstention", "Over-abstention on answerable", "abstention", "answerable", higher_is_better=False,
           help="abstained (or failed) on an answerable question (lower is better)"),
    Metric("gold_citation_precision", "Gold citation precision", "citation", "gold",
           help="citations overlapping a gold span"),
    Metric("gold_citation_recall", "Gold citation recall", "citation", "gold",
           help="gold spans overlapped by some citation"),
    Metric("quote_exactness", "Quote exactness", "citation", "answerable",
           help="citation quotes equal to the stored document text at their offsets"),
    Metric("broken_markers", "Answers with broken markers", "citation", "answerable", higher_is_better=False,
           help="answers with a [n] marker without citation, or a citation no marker names (lower is better)"),
    Metric("faithful_supported", "Sentences supported", "faithfulness", "answerable",
           help="fraction of answer sentences the verifier labels supported"),
    Metric("faithful_partial", "Sentences partly supported", "faithfulness", "answerable", higher_is_better=False,
           on_failure=False, help="fraction labelled partial (reported apart, never folded in)"),
    Metric("faithful_unsupported", "Sentences unsupported", "faithfulness", "answerable", higher_is_better=False,
           help="fraction labelled unsupported (lower is better)"),
]

# Metrics shown per tag and in the headline table.
# (citation accuracy is measured against gold spans only: the run's own verifier as judge would grade itself)
HEADLINE = ("correct", "abstention", "over_abstention", "gold_citation_precision", "gold_citation_recall", "quote_exactness")


def all_metrics(k: int) -> list[Metric]:
    return retrieval_metrics(k) + ANSWER_METRICS


def metric_table(k: int) -> dict[str, Metric]:
    return {m.name: m for m in all_metrics(k)}


def answer_text_for_matching(answer: Mapping[str, Any]) -> str:
    """The answer's sentences without citation markers ("[1]" must not match a key "1"); "" for an abstention."""
    if answer.get("abstained"):
        return ""
    sentences = answer.get("sentences") or []
    if sentences:
        return " ".join(s.get("text", "") for s in sentences)
    return M._MARKER.sub(" ", answer.get("answer") or "")


def score_item(record: Mapping[str, Any], answer: Mapping[str, Any], retrieved: Sequence[Sequence[Any]],
               doc_texts: Mapping[str, str], supports: SupportFn, k: int) -> dict[str, float | None]:
    """Scores of one answered item. ``record`` carries answerable, answer_keys, reference_answer, gold_spans."""
    gold = [tuple(g) for g in record.get("gold_spans") or []]
    scores: dict[str, float | None] = {}
    for m in retrieval_metrics(k):
        j = int(m.name.split("@")[1])
        fn = {"hit": M.hit_at_k, "recall": M.recall_at_k, "mrr": M.mrr, "ndcg": M.ndcg_at_k}[m.name.split("@")[0]]
        scores[m.name] = fn(retrieved, gold, j) if gold else None
    answerable = bool(record.get("answerable"))
    abstained = bool(answer.get("abstained"))
    text = answer_text_for_matching(answer)
    if answerable:
        ok = M.answer_correct(text, record.get("answer_keys") or [])
        scores["correct"] = None if ok is None else float(ok)
        scores["token_f1"] = M.token_f1(text, record.get("reference_answer") or "")
        scores["abstention"] = None
        scores["over_abstention"] = float(abstained)
    else:
        scores["correct"] = scores["token_f1"] = scores["over_abstention"] = None
        scores["abstention"] = float(abstained)
    answered = not abstained
    if answered and gold:
        p, r = M.gold_citation_precision_recall(answer, gold)
    else:
        p, r = None, None
    scores["gold_citation_precision"], scores["gold_citation_recall"] = p, r
    scores["quote_exactness"] = M.quote_exactness(answer, doc_texts) if answered else None
    scores["broken_markers"] = float(M.broken_markers(answer) > 0) if answered else None
    f = M.faithfulness(answer) if answered else M.Faithfulness(None, None, None, 0)
    scores["faithful_supported"], scores["faithful_partial"], scores["faithful_unsupported"] = f.supported, f.partial, f.unsupported
    return scores


def failure_scores(record: Mapping[str, Any], k: int) -> dict[str, float | None]:
    """Scores of a failed item: the worst value for each metric that applies to the item."""
    return {m.name: (m.worst if m.on_failure and m.applies(record) else None) for m in all_metrics(k)}


def _values(records: Iterable[Mapping[str, Any]], name: str) -> tuple[list[float | None], int]:
    values: list[float | None] = []
    failed = 0
    for r in records:
        v = (r.get("scores") or {}).get(name)
        values.append(v)
        if r.get("failed") and v is not None:
            failed += 1
    return values, failed


def aggregate_metric(records: Sequence[Mapping[str, Any]], name: str, *, seed: int = 0, n_boot: int = 1000) -> Aggregate:
    values, failed = _values(records, name)
    return aggregate(values, name=name, failed=failed, seed=seed, n_boot=n_boot)


def aggregate_all(records: Sequence[Mapping[str, Any]], metrics: Iterable[Metric], *, seed: int = 0,
                  n_boot: int = 1000) -> dict[str, Aggregate]:
    return {m.name: aggregate_metric(records, m.name, seed=seed, n_boot=n_boot) for m in metrics}


def per_tag(records: Sequence[Mapping[str, Any]], names: Iterable[str], *, seed: int = 0,
            n_boot: int = 1000) -> dict[str, dict[str, Aggregate]]:
    """tag -> metric -> Aggregate (an item counts under each of its tags)."""
    buckets: dict[str, list[Mapping[str, Any]]] = {}
    for r in records:
        for t in dict.fromkeys(r.get("tags") or ["(untagged)"]):
            buckets.setdefault(t, []).append(r)
    return {t: {n: aggregate_metric(rs, n, seed=seed, n_boot=n_boot) for n in names} for t, rs in sorted(buckets.items())}


def percentile(values: Sequence[float], q: float) -> float | None:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else None


def latency(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """p50/p95 of timings_ms.total (and of each stage) over items that did not fail."""
    ok = [r for r in records if not r.get("failed") and (r.get("answer") or {}).get("timings_ms")]
    stages: dict[str, list[float]] = {}
    for r in ok:
        for stage, ms in r["answer"]["timings_ms"].items():
            stages.setdefault(stage, []).append(float(ms))
    out: dict[str, Any] = {"n": len(ok), "n_failed": sum(1 for r in records if r.get("failed"))}
    for stage, vals in stages.items():
        out[stage] = {"p50": percentile(vals, 50), "p95": percentile(vals, 95), "mean": float(np.mean(vals))}
    return out


def agg_dict(a: Aggregate) -> dict[str, Any]:
    return asdict(a)
