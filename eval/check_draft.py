"""Evaluate the draft checker on a labelled check dataset (`check-dev.jsonl`, `check-heldout.jsonl`).

Every sentence is checked on its own against a store of the dataset's corpus (built once under the work
folder and reused). Metrics, each with a seeded bootstrap 95% CI over items (`eval.stats`):

- accuracy: the 3-way verdict equals the label;
- contradicted recall / precision: of the sentences labelled contradicted, the share flagged; of those
  flagged, the share labelled contradicted;
- dangerous: the count (and share) of contradicted or unsupported sentences marked `supported`;
- evidence accuracy: of the supported and contradicted sentences, the share whose cited quote holds a
  gold evidence span (contains it, or covers at least half of it).
"""
from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

from .check_data import LABELS, CheckItem, gold_spans, load_check_dataset
from .dataset import corpus_path_for, load_corpus
from .stats import aggregate

ProgressFn = Callable[[int, int, str], None]


def _holds(cite: dict, spans: list[tuple[str, int, int]]) -> bool:
    for doc_id, a, b in spans:
        if cite["doc_id"] != doc_id:
            continue
        overlap = min(b, cite["end"]) - max(a, cite["start"])
        if (cite["start"] <= a and b <= cite["end"]) or overlap >= 0.5 * (b - a):
            return True
    return False


def _metric(name: str, values: list[float]) -> dict[str, Any]:
    agg = aggregate(values, name=name, seed=0)
    return {"mean": agg.mean, "ci_low": agg.ci_low, "ci_high": agg.ci_high, "n": agg.n}


def score(items: list[CheckItem], records: list[dict]) -> dict[str, Any]:
    """The metrics over per-item records ({"id", "label", "verdict", "evidence_ok"})."""
    by_id = {r["id"]: r for r in records}
    rows = [(it, by_id[it.id]) for it in items]
    acc = [float(r["verdict"] == it.label) for it, r in rows]
    recall = [float(r["verdict"] == "contradicted") for it, r in rows if it.label == "contradicted"]
    precision = [float(it.label == "contradicted") for it, r in rows if r["verdict"] == "contradicted"]
    danger = [float(r["verdict"] == "supported") for it, r in rows if it.label != "supported"]
    evidence = [float(bool(r["evidence_ok"])) for it, r in rows if it.evidence]
    confusion = Counter(f"{it.label}->{r['verdict']}" for it, r in rows)
    by_slot: dict[str, dict[str, int]] = {}
    for it, r in rows:
        if it.slot:
            d = by_slot.setdefault(it.slot, {"n": 0, "flagged": 0})
            d["n"] += 1
            d["flagged"] += int(r["verdict"] == "contradicted")
    return {
        "metrics": {
            "accuracy": _metric("accuracy", acc),
            "contradicted_recall": _metric("contradicted_recall", recall),
            "contradicted_precision": _metric("contradicted_precision", precision),
            "nonsupported_marked_supported": _metric("nonsupported_marked_supported", danger),
            "evidence_accuracy": _metric("evidence_accuracy", evidence),
        },
        "dangerous_count": int(sum(danger)),
        "nonsupported": len(danger),
        "confusion": dict(sorted(confusion.items())),
        "contradicted_by_slot": by_slot,
        "counts": {lab: sum(1 for it in items if it.label == lab) for lab in LABELS},
    }


def run_check_eval(dataset: str | Path, *, work: str | Path, settings=None, embedder=None, k: int | None = None,
                   progress: ProgressFn | None = None) -> dict[str, Any]:
    """Check every sentence of the dataset against a store of its corpus; the report (metrics and records)."""
    from dossier.app.check import DraftChecker

    from .squad_bench import open_store

    dataset = Path(dataset)
    items = load_check_dataset(dataset)
    name = dataset.name[: -len(".jsonl")] if dataset.name.endswith(".jsonl") else dataset.stem
    app, corpus = _open(dataset, Path(work), settings, embedder, open_store)
    svc = app.index
    keys = {}
    for d in corpus.documents:
        row = svc.catalog.by_source(str(d.path))
        if row is not None:
            keys[d.key] = row["doc_id"]
    texts = {key: svc.catalog.doc_text(doc_id) or "" for key, doc_id in keys.items()}
    gold = gold_spans(items, texts, keys)
    checker = DraftChecker(svc.retriever, svc.embedder.embed, app.settings.check)
    records = []
    t0 = time.perf_counter()
    for i, it in enumerate(items, 1):
        s = checker.check_sentence(it.sentence, k=k)
        cites = [c.model_dump(include={"doc_id", "start", "end", "quote"}) for c in s.citations]
        records.append({"id": it.id, "label": it.label, "slot": it.slot, "verdict": s.verdict, "score": s.score,
                        "reason": s.reason, "signals": s.signals, "citations": cites,
                        "evidence_ok": any(_holds(c, gold[it.id]) for c in cites) if it.evidence else None,
                        "sentence": it.sentence})
        if progress:
            progress(i, len(items), it.id)
    elapsed = time.perf_counter() - t0
    report = {"dataset": name, "items": len(items), "seconds": round(elapsed, 2), **score(items, records),
              "settings": app.settings.check.model_dump(mode="json")}
    return {"report": report, "records": records}


def _open(dataset: Path, work: Path, settings, embedder, open_store):
    """The store of the dataset's corpus: store-<corpus file stem> under work (built once, reused)."""
    corpus_file = corpus_path_for(dataset)
    target = load_corpus(corpus_file).path  # resolves same_as
    name = target.name[: -len(".corpus.toml")]
    return open_store(name, work, settings=settings, embedder=embedder)


def markdown(report: dict[str, Any]) -> str:
    m = report["metrics"]

    def cell(key: str) -> str:
        x = m[key]
        if x["mean"] is None:
            return "–"
        return f"{x['mean']:.3f} [{x['ci_low']:.3f}, {x['ci_high']:.3f}] (n={x['n']})"

    lines = [f"# Draft checker on {report['dataset']} ({report['items']} sentences)", "",
             "| metric | value [95% CI] |", "|---|---|",
             f"| 3-way accuracy | {cell('accuracy')} |",
             f"| contradicted recall | {cell('contradicted_recall')} |",
             f"| contradicted precision | {cell('contradicted_precision')} |",
             f"| non-supported marked supported | {report['dangerous_count']} of {report['nonsupported']} |",
             f"| evidence accuracy | {cell('evidence_accuracy')} |", "",
             "Confusion (label->verdict): " + ", ".join(f"{k} {v}" for k, v in report["confusion"].items()), "",
             "Contradicted flagged by slot: " + ", ".join(f"{k} {v['flagged']}/{v['n']}" for k, v in report["contradicted_by_slot"].items()),
             "", f"{report['seconds']} s for {report['items']} sentences"]
    return "\n".join(lines) + "\n"


def write(result: dict[str, Any], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(result["report"], indent=1, ensure_ascii=False) + "\n")
    (out_dir / "report.md").write_text(markdown(result["report"]))
    with open(out_dir / "records.jsonl", "w", encoding="utf-8") as f:
        for r in result["records"]:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
