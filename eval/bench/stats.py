"""Small, dependency-free summaries of repeated measurements."""
from __future__ import annotations

import math
import statistics


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100), as numpy's default."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def summary(values: list[float], digits: int = 2) -> dict:
    """n, median, the spread (min, p25, p75, max, IQR), mean, and p50/p95/p99."""
    if not values:
        return {"n": 0}

    def r(x):
        return None if x is None else round(x, digits)

    return {
        "n": len(values), "median": r(statistics.median(values)), "mean": r(statistics.fmean(values)),
        "min": r(min(values)), "max": r(max(values)), "p25": r(percentile(values, 25)), "p75": r(percentile(values, 75)),
        "iqr": r(percentile(values, 75) - percentile(values, 25)),
        "p50": r(percentile(values, 50)), "p95": r(percentile(values, 95)), "p99": r(percentile(values, 99)),
    }


def ratio(a: float | None, b: float | None, digits: int = 3) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return round(a / b, digits)
