"""Aggregation and agreement statistics: pure functions, no I/O, never NaN.

Conventions
-----------
* ``None`` means "not applicable" (e.g. retrieval recall of an unanswerable item): it is
  left out of the mean and of ``n``.
* A *failed* item (the run crashed, timed out, returned invalid JSON) is scored, not
  dropped: the caller passes ``0.0`` for it in ``values`` **and** counts it in
  ``failed=``.  So ``n`` includes failures, the mean is pulled down by them, and
  ``n_failed`` says how many of the ``n`` were failures.  Failures are never silently
  averaged away.
* Confidence intervals are seeded percentile bootstraps (``numpy.random.default_rng(seed)``)
  of the mean; the same inputs and seed always give the same interval.
* Empty input gives ``mean=None`` (and ``None`` bounds), never NaN.  NaN or infinite inputs
  are rejected with ``ValueError``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "Aggregate",
    "aggregate",
    "bootstrap_ci",
    "by_tag",
    "PairedDifference",
    "paired_difference",
    "cohen_kappa",
    "balanced_accuracy",
    "PrecisionRecall",
    "precision_recall",
]

UNTAGGED = "(untagged)"


@dataclass(frozen=True)
class Aggregate:
    name: str
    mean: float | None
    n: int  # applicable items, failures included
    n_failed: int
    ci_low: float | None
    ci_high: float | None


def _finite(values: Iterable[float | None]) -> list[float]:
    out: list[float] = []
    for v in values:
        if v is None:
            continue
        f = float(v)
        if not math.isfinite(f):
            raise ValueError(f"expected finite metric values or None, got {v!r}")
        out.append(f)
    return out


def bootstrap_ci(
    values: Sequence[float], *, seed: int = 0, n_boot: int = 1000, confidence: float = 0.95
) -> tuple[float, float] | tuple[None, None]:
    """Percentile bootstrap CI of the mean of ``values``; ``(None, None)`` when empty."""
    if n_boot < 1:
        raise ValueError(f"expected n_boot >= 1, got {n_boot!r}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"expected 0 < confidence < 1, got {confidence!r}")
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        return None, None
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, arr.size, size=(n_boot, arr.size))
    means = arr[idx].mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    # Clamp against floating-point drift so that low <= mean <= high holds for constant data.
    mean = float(arr.mean())
    return min(float(low), mean), max(float(high), mean)


def aggregate(
    values: Iterable[float | None],
    *,
    name: str = "",
    seed: int = 0,
    n_boot: int = 1000,
    failed: int = 0,
    confidence: float = 0.95,
) -> Aggregate:
    """Mean of the applicable values with a seeded bootstrap CI (see module conventions)."""
    vals = _finite(values)
    if failed < 0 or failed > len(vals):
        raise ValueError(
            f"expected 0 <= failed <= number of non-None values ({len(vals)}), got {failed!r}; "
            "pass 0.0 in values for each failed item"
        )
    if not vals:
        return Aggregate(name, None, 0, 0, None, None)
    low, high = bootstrap_ci(vals, seed=seed, n_boot=n_boot, confidence=confidence)
    return Aggregate(name, float(np.mean(vals)), len(vals), failed, low, high)


def by_tag(
    records: Iterable[Mapping[str, Any]],
    metric_fn: Callable[[Mapping[str, Any]], float | None],
    *,
    name: str = "",
    seed: int = 0,
    n_boot: int = 1000,
) -> dict[str, Aggregate]:
    """Aggregate ``metric_fn(record)`` per tag (``record["tags"]``), tags in sorted order.

    A record with several tags counts in each; a record without tags goes under
    ``"(untagged)"``.  A record with a truthy ``"failed"`` scores 0.0 and counts as failed
    (``metric_fn`` is not called for it).
    """
    buckets: dict[str, list[float | None]] = {}
    fails: Counter[str] = Counter()
    for r in records:
        failed = bool(r.get("failed"))
        value = 0.0 if failed else metric_fn(r)
        for tag in dict.fromkeys(r.get("tags") or [UNTAGGED]):
            buckets.setdefault(tag, []).append(value)
            fails[tag] += failed
    return {
        tag: aggregate(buckets[tag], name=name, seed=seed, n_boot=n_boot, failed=fails[tag])
        for tag in sorted(buckets)
    }


@dataclass(frozen=True)
class PairedDifference:
    mean_diff: float | None  # mean of a[id] - b[id] over shared ids
    ci_low: float | None
    ci_high: float | None
    n: int
    wins: int  # a > b
    losses: int  # a < b
    ties: int


def paired_difference(
    a: Mapping[Hashable, float | None],
    b: Mapping[Hashable, float | None],
    *,
    seed: int = 0,
    n_boot: int = 1000,
    confidence: float = 0.95,
) -> PairedDifference:
    """Paired ``a - b`` over ids present (and not None) in both, with a bootstrap CI."""
    diffs: list[float] = []
    for key in a.keys() & b.keys():
        va, vb = a[key], b[key]
        if va is None or vb is None:
            continue
        diffs.extend(_finite([float(va) - float(vb)]))
    # Set iteration order is not stable across runs; sort so the bootstrap is reproducible.
    diffs.sort()
    if not diffs:
        return PairedDifference(None, None, None, 0, 0, 0, 0)
    low, high = bootstrap_ci(diffs, seed=seed, n_boot=n_boot, confidence=confidence)
    return PairedDifference(
        mean_diff=float(np.mean(diffs)),
        ci_low=low,
        ci_high=high,
        n=len(diffs),
        wins=sum(d > 0 for d in diffs),
        losses=sum(d < 0 for d in diffs),
        ties=sum(d == 0 for d in diffs),
    )


def _check_pairs(a: Sequence[Any], b: Sequence[Any]) -> None:
    if len(a) != len(b):
        raise ValueError(f"expected label sequences of equal length, got {len(a)} and {len(b)}")


def cohen_kappa(labels_a: Sequence[Hashable], labels_b: Sequence[Hashable]) -> float | None:
    """Cohen's kappa for two raters over any hashable categories.

    ``(p_o - p_e) / (1 - p_e)``.  Empty input -> None.  When ``p_e == 1`` (both raters used
    one and the same single category) the labels are identical and kappa is 1.0 by
    convention (instead of 0/0).
    """
    _check_pairs(labels_a, labels_b)
    n = len(labels_a)
    if n == 0:
        return None
    p_o = sum(x == y for x, y in zip(labels_a, labels_b)) / n
    ca, cb = Counter(labels_a), Counter(labels_b)
    p_e = sum(ca[k] * cb[k] for k in ca) / (n * n)
    if p_e >= 1.0:
        return 1.0
    return (p_o - p_e) / (1.0 - p_e)


def balanced_accuracy(y_true: Sequence[Hashable], y_pred: Sequence[Hashable]) -> float | None:
    """Mean per-class recall over the classes present in ``y_true``; None when empty."""
    _check_pairs(y_true, y_pred)
    if not y_true:
        return None
    total: Counter[Hashable] = Counter(y_true)
    hits: Counter[Hashable] = Counter(t for t, p in zip(y_true, y_pred) if t == p)
    return sum(hits[c] / total[c] for c in total) / len(total)


@dataclass(frozen=True)
class PrecisionRecall:
    precision: float | None  # None: nothing predicted positive
    recall: float | None  # None: no positive in y_true
    f1: float | None  # None when precision or recall is None; 0.0 when both are 0
    tp: int
    fp: int
    fn: int


def precision_recall(
    y_true: Sequence[Hashable], y_pred: Sequence[Hashable], positive: Hashable
) -> PrecisionRecall:
    """Precision/recall/F1 of the class ``positive`` (one-vs-rest)."""
    _check_pairs(y_true, y_pred)
    tp = sum(t == positive and p == positive for t, p in zip(y_true, y_pred))
    fp = sum(t != positive and p == positive for t, p in zip(y_true, y_pred))
    fn = sum(t == positive and p != positive for t, p in zip(y_true, y_pred))
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    if precision is None or recall is None:
        f1 = None
    elif precision + recall == 0:
        f1 = 0.0
    else:
        f1 = 2 * precision * recall / (precision + recall)
    return PrecisionRecall(precision, recall, f1, tp, fp, fn)
