"""Paired comparison of two runs: per metric, the mean of per-item differences (A - B) with a bootstrap CI,
over the items both runs scored."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .runner import load_records, load_run_meta
from .scoring import all_metrics
from .stats import paired_difference

LATENCY = "latency_ms"


def per_item(records: Sequence[Mapping[str, Any]], name: str) -> dict[str, float | None]:
    if name == LATENCY:
        return {r["id"]: (r.get("answer") or {}).get("timings_ms", {}).get("total") if not r.get("failed") else None
                for r in records}
    return {r["id"]: (r.get("scores") or {}).get(name) for r in records}


def compare_records(a: Sequence[Mapping[str, Any]], b: Sequence[Mapping[str, Any]], *, k: int = 6,
                    names: Iterable[str] | None = None, seed: int = 0) -> list[dict[str, Any]]:
    table = {m.name: m for m in all_metrics(k)}
    wanted = list(names) if names else [*table, LATENCY]
    rows = []
    for name in wanted:
        if name != LATENCY and name not in table:
            raise ValueError(f"metric: expected one of {', '.join([*table, LATENCY])}, got {name!r}")
        va, vb = per_item(a, name), per_item(b, name)
        shared = [i for i in va if i in vb and va[i] is not None and vb[i] is not None]
        d = paired_difference(va, vb, seed=seed)
        higher = table[name].higher_is_better if name in table else False
        rows.append({
            "metric": name,
            "label": table[name].label if name in table else "Latency total (ms)",
            "higher_is_better": higher,
            "mean_a": (sum(va[i] for i in shared) / len(shared)) if shared else None,
            "mean_b": (sum(vb[i] for i in shared) / len(shared)) if shared else None,
            **asdict(d),
            # the CI of A - B excludes 0 and points the good way / the bad way
            "verdict": _verdict(d.ci_low, d.ci_high, higher),
        })
    return rows


def _verdict(low: float | None, high: float | None, higher_is_better: bool) -> str:
    if low is None or high is None:
        return "n/a"
    if low > 0:
        return "A better" if higher_is_better else "A worse"
    if high < 0:
        return "A worse" if higher_is_better else "A better"
    return "no clear difference"


def compare_runs(run_a: str | Path, run_b: str | Path, *, names: Iterable[str] | None = None, seed: int = 0) -> dict[str, Any]:
    a, b = load_records(run_a), load_records(run_b)
    ma, mb = load_run_meta(run_a), load_run_meta(run_b)
    k = int(ma.get("k") or mb.get("k") or 6)
    if ma.get("k") and mb.get("k") and ma["k"] != mb["k"]:
        k = min(int(ma["k"]), int(mb["k"]))
    warnings = []
    if ma.get("dataset_sha256") and mb.get("dataset_sha256") and ma["dataset_sha256"] != mb["dataset_sha256"]:
        warnings.append("the runs used different dataset files; only items with the same id are paired")
    ids_a, ids_b = {r["id"] for r in a}, {r["id"] for r in b}
    if ids_a != ids_b:
        warnings.append(f"{len(ids_a & ids_b)} shared items ({len(ids_a - ids_b)} only in A, {len(ids_b - ids_a)} only in B)")
    return {
        "a": {"run": str(run_a), "engine": ma.get("engine"), "strict": ma.get("strict"), "items": len(a)},
        "b": {"run": str(run_b), "engine": mb.get("engine"), "strict": mb.get("strict"), "items": len(b)},
        "warnings": warnings,
        "metrics": compare_records(a, b, k=k, names=names, seed=seed),
    }
