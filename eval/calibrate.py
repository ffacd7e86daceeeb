"""Verifier calibration: fit `support_threshold` / `partial_threshold` on hand labels and report agreement.

The hand labels (`eval/datasets/support-labels.jsonl`: sentence, passage, supports|partly|doesnt) are
read, never changed. Each pair is checked once by the real Verifier (bundled embedder); the verdict's
signals (coverage, similarity, missing numbers/names, negation flip, verbatim) are then re-labelled for
every threshold pair of a grid with the same rule as `app.verify.Verifier.check`, so the grid search
needs no further embedding. Thresholds are fitted on a seeded, label-stratified 70% split and the
figures reported on the held-out 30%.
"""
from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from .dataset import DatasetError, iter_jsonl
from .stats import balanced_accuracy, cohen_kappa, precision_recall

LABEL_MAP = {"supports": "supported", "partly": "partial", "doesnt": "unsupported"}
CLASSES = ("supported", "partial", "unsupported")
DEFAULT_LABELS = Path(__file__).resolve().parent / "datasets" / "support-labels.jsonl"
DEFAULT_OUT = Path(__file__).resolve().parent / "calibration.json"
_LABEL_FIELDS = ("id", "sentence", "passage", "label", "note", "source",
                 # written by the app's grading tab beside the core fields
                 "question", "doc_id", "chunk_id", "start", "end", "grader", "at")

ProgressFn = Callable[[int, int, str], None]


@dataclass(frozen=True)
class SupportLabel:
    id: str
    sentence: str
    passage: str
    label: str  # supports | partly | doesnt

    @property
    def target(self) -> str:
        return LABEL_MAP[self.label]


def load_labels(path: str | Path) -> list[SupportLabel]:
    path = Path(path)
    out: list[SupportLabel] = []
    seen: set[str] = set()
    for _lineno, where, obj in iter_jsonl(path, "labels file"):
        if not isinstance(obj, dict):
            raise DatasetError(f"{where}: line: expected a JSON object, got {type(obj).__name__}")
        for f in ("id", "sentence", "passage", "label"):
            if not isinstance(obj.get(f), str) or not obj[f].strip():
                raise DatasetError(f"{where}: {f}: expected a non-empty string, got {obj.get(f)!r}")
        unknown = sorted(set(obj) - set(_LABEL_FIELDS))
        if unknown:
            raise DatasetError(f"{where}: {unknown[0]}: expected one of {', '.join(_LABEL_FIELDS)}, got an unknown field")
        if obj["label"] not in LABEL_MAP:
            raise DatasetError(f"{where}: label: expected one of {', '.join(LABEL_MAP)}, got {obj['label']!r}")
        if obj["id"] in seen:
            raise DatasetError(f"{where}: id: expected a unique id, got {obj['id']!r} again")
        seen.add(obj["id"])
        out.append(SupportLabel(obj["id"], obj["sentence"], obj["passage"], obj["label"]))
    if not out:
        raise DatasetError(f"{path}: expected at least one label, got an empty file")
    return out


# --------------------------------------------------------------------------- re-labelling


@dataclass(frozen=True)
class Signals:
    """What `Verifier.check` measured for one pair, independent of the thresholds."""
    raw: float  # w * coverage + (1 - w) * similarity, before the hard-check caps
    verbatim: bool
    missing_numbers: bool
    capped: bool  # missing names or a negation flip: at most partial


def signals_of(verdict, w_coverage: float) -> Signals:
    raw = w_coverage * verdict.coverage + (1 - w_coverage) * verdict.similarity
    return Signals(raw=raw, verbatim=bool(verdict.verbatim), missing_numbers=bool(verdict.missing_numbers),
                   capped=bool(verdict.missing_names) or bool(verdict.negation_flip))


def label_at(sig: Signals, support_threshold: float, partial_threshold: float) -> str:
    """The label `Verifier.check` gives at these thresholds (same rule, see app/verify.py)."""
    if sig.verbatim:
        return "supported"
    if sig.missing_numbers:
        return "unsupported"
    score = sig.raw
    if sig.capped:
        score = min(score, support_threshold - 0.01)
    return "supported" if score >= support_threshold else "partial" if score >= partial_threshold else "unsupported"


def _labels_vec(raw: np.ndarray, verbatim: np.ndarray, numbers: np.ndarray, capped: np.ndarray, st: float, pt: float) -> np.ndarray:
    score = np.where(capped, np.minimum(raw, st - 0.01), raw)
    lab = np.where(score >= st, 0, np.where(score >= pt, 1, 2))
    lab = np.where(numbers, 2, lab)
    return np.where(verbatim, 0, lab)


# --------------------------------------------------------------------------- figures


def figures(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, Any]:
    """Agreement of predicted with human labels: per-class P/R/F1, balanced accuracy, macro-F1, kappa."""
    per_class = {}
    f1s = []
    for c in CLASSES:
        pr = precision_recall(y_true, y_pred, c)
        per_class[c] = {"precision": pr.precision, "recall": pr.recall, "f1": pr.f1, "support": sum(t == c for t in y_true),
                        "predicted": sum(p == c for p in y_pred)}
        if any(t == c for t in y_true):
            f1s.append(pr.f1 or 0.0)
    bin_true = ["supported" if t == "supported" else "not" for t in y_true]
    bin_pred = ["supported" if p == "supported" else "not" for p in y_pred]
    binary = precision_recall(bin_true, bin_pred, "supported")
    confusion = {t: {p: 0 for p in CLASSES} for t in CLASSES}
    for t, p in zip(y_true, y_pred):
        confusion[t][p] += 1
    n = len(y_true)
    return {
        "n": n,
        "accuracy": (sum(t == p for t, p in zip(y_true, y_pred)) / n) if n else None,
        "balanced_accuracy": balanced_accuracy(list(y_true), list(y_pred)),
        "macro_f1": (sum(f1s) / len(f1s)) if f1s else None,
        "kappa": cohen_kappa(list(y_true), list(y_pred)),
        "per_class": per_class,
        "binary": {"kappa": cohen_kappa(bin_true, bin_pred), "balanced_accuracy": balanced_accuracy(bin_true, bin_pred),
                   "precision": binary.precision, "recall": binary.recall, "f1": binary.f1},
        "confusion": confusion,  # human label (row) -> verifier label (column)
    }


def split_indices(labels: Sequence[SupportLabel], *, seed: int = 0, train_frac: float = 0.7) -> tuple[list[int], list[int]]:
    """Label-stratified seeded split: (train indices, held-out indices), each sorted."""
    if not 0.0 < train_frac < 1.0:
        raise ValueError(f"expected 0 < train_frac < 1, got {train_frac!r}")
    rng = random.Random(seed)
    train: list[int] = []
    test: list[int] = []
    by_label: dict[str, list[int]] = {}
    for i, lab in enumerate(labels):
        by_label.setdefault(lab.label, []).append(i)
    for lab in sorted(by_label):
        idx = by_label[lab][:]
        rng.shuffle(idx)
        cut = round(len(idx) * train_frac)
        if len(idx) > 1:
            cut = min(max(cut, 1), len(idx) - 1)
        train += idx[:cut]
        test += idx[cut:]
    return sorted(train), sorted(test)


def fit_thresholds(sigs: Sequence[Signals], y_true: Sequence[str], *, objective: str = "balanced_accuracy",
                   prefer: tuple[float, float] = (0.62, 0.4), step: float = 0.01) -> tuple[float, float, float]:
    """Grid search (support, partial) with partial < support, maximizing the objective on (sigs, y_true).

    Ties go to macro-F1 (or balanced accuracy when that is the objective's tie-break), then to the
    pair closest to ``prefer`` (the configured thresholds), so the result is deterministic.
    """
    if objective not in ("balanced_accuracy", "macro_f1"):
        raise ValueError(f"expected objective balanced_accuracy or macro_f1, got {objective!r}")
    raw = np.array([s.raw for s in sigs])
    verbatim = np.array([s.verbatim for s in sigs])
    numbers = np.array([s.missing_numbers for s in sigs])
    capped = np.array([s.capped for s in sigs])
    truth = np.array([CLASSES.index(t) for t in y_true])
    present = [c for c in range(3) if (truth == c).any()]
    grid = np.round(np.arange(0.05, 1.0 + 1e-9, step), 4)
    best: tuple[float, float, float, float] | None = None
    best_key: tuple[float, float, float] | None = None
    for st in grid:
        for pt in grid[grid < st]:
            pred = _labels_vec(raw, verbatim, numbers, capped, float(st), float(pt))
            recalls, f1s = [], []
            for c in present:
                tp = float(((pred == c) & (truth == c)).sum())
                npred, ntrue = float((pred == c).sum()), float((truth == c).sum())
                rec = tp / ntrue
                prec = tp / npred if npred else 0.0
                recalls.append(rec)
                f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
            bacc, mf1 = float(np.mean(recalls)), float(np.mean(f1s))
            main, tie = (bacc, mf1) if objective == "balanced_accuracy" else (mf1, bacc)
            dist = abs(st - prefer[0]) + abs(pt - prefer[1])
            key = (round(main, 10), round(tie, 10), -dist)
            if best_key is None or key > best_key:
                best_key, best = key, (float(st), float(pt), main, tie)
    assert best is not None
    return best[0], best[1], best[2]


# --------------------------------------------------------------------------- the command


def calibrate(labels_path: str | Path = DEFAULT_LABELS, *, embedder=None, settings=None, seed: int = 0,
              train_frac: float = 0.7, objective: str = "balanced_accuracy", limit: int | None = None,
              progress: ProgressFn | None = None) -> dict[str, Any]:
    """Run the Verifier on every labelled pair, fit the thresholds on the train split, report held-out figures.

    ``embedder``: an `index.embedder.Embedder` (the bundled model is loaded when None).
    ``settings``: a `DossierSettings` (its answer thresholds are the "configured" baseline).
    ``limit``: use only the first N labels (for quick checks).
    """
    from dossier.app.settings import DossierSettings
    from dossier.app.verify import Verifier
    from dossier.index.embedder import Embedder

    settings = settings or DossierSettings()
    labels_path = Path(labels_path)
    labels = load_labels(labels_path)
    if limit is not None:
        labels = labels[:limit]
    embedder = embedder or Embedder(settings.index)
    configured = (settings.answer.support_threshold, settings.answer.partial_threshold)
    verifier = Verifier(embedder.embed, *configured)
    # warm the embedding cache in a few big batches (much faster than one pair at a time)
    from dossier.ingest.sentences import sentence_spans

    texts: list[str] = []
    for lab in labels:
        texts.append(lab.sentence)
        texts += [lab.passage[a:b] for a, b in sentence_spans(lab.passage)] or [lab.passage]
    verifier._vectors(list(dict.fromkeys(t for t in texts if t.strip())))
    verdicts = []
    for i, lab in enumerate(labels, 1):
        verdicts.append(verifier.check(lab.sentence, [lab.passage]))
        if progress:
            progress(i, len(labels), lab.id)
    sigs = [signals_of(v, verifier.w_coverage) for v in verdicts]
    y = [lab.target for lab in labels]
    train, test = split_indices(labels, seed=seed, train_frac=train_frac)
    st, pt, train_obj = fit_thresholds([sigs[i] for i in train], [y[i] for i in train], objective=objective, prefer=configured)

    def preds(idx: list[int], s: float, p: float) -> list[str]:
        return [label_at(sigs[i], s, p) for i in idx]

    mismatch = sum(1 for v, sg in zip(verdicts, sigs) if v.label != label_at(sg, *configured))
    return {
        "labels": str(labels_path),
        "labels_sha256": hashlib.sha256(labels_path.read_bytes()).hexdigest(),
        "n": len(labels),
        "label_counts": dict(Counter(lab.label for lab in labels)),
        "n_train": len(train),
        "n_heldout": len(test),
        "seed": seed,
        "train_frac": train_frac,
        "objective": objective,
        "embedder": embedder.id,
        "w_coverage": verifier.w_coverage,
        "fitted": {"support_threshold": st, "partial_threshold": pt, "train_objective": train_obj},
        "configured": {"support_threshold": configured[0], "partial_threshold": configured[1]},
        "heldout": figures([y[i] for i in test], preds(test, st, pt)),
        "heldout_configured": figures([y[i] for i in test], preds(test, *configured)),
        "train": figures([y[i] for i in train], preds(train, st, pt)),
        "relabel_mismatches": mismatch,  # pairs where the re-labelling rule disagreed with Verifier.check (expect 0)
        "created_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
    }


def write_calibration(result: dict[str, Any], out: str | Path) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return out


def find_calibration(*dirs: Path) -> tuple[dict[str, Any], Path] | None:
    """The first readable calibration.json in ``dirs`` (then eval/), with its path."""
    for d in [*dirs, DEFAULT_OUT.parent]:
        p = Path(d) / "calibration.json"
        if p.is_file():
            try:
                return json.loads(p.read_text(encoding="utf-8")), p
            except (OSError, json.JSONDecodeError):
                continue
    return None


def summary_rows(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(figure, fitted thresholds, configured thresholds) rows on the held-out split, for tables."""
    def f(x: float | None) -> str:
        return "-" if x is None else f"{x:.3f}"

    a, b = result["heldout"], result["heldout_configured"]
    rows = [
        ("thresholds (support / partial)",
         f"{result['fitted']['support_threshold']:.2f} / {result['fitted']['partial_threshold']:.2f}",
         f"{result['configured']['support_threshold']:.2f} / {result['configured']['partial_threshold']:.2f}"),
        ("accuracy (3-way)", f(a["accuracy"]), f(b["accuracy"])),
        ("balanced accuracy (3-way)", f(a["balanced_accuracy"]), f(b["balanced_accuracy"])),
        ("macro-F1 (3-way)", f(a["macro_f1"]), f(b["macro_f1"])),
        ("Cohen's kappa (3-way)", f(a["kappa"]), f(b["kappa"])),
        ("Cohen's kappa (supported vs not)", f(a["binary"]["kappa"]), f(b["binary"]["kappa"])),
    ]
    for c in CLASSES:
        rows.append((f"{c}: precision / recall", f"{f(a['per_class'][c]['precision'])} / {f(a['per_class'][c]['recall'])}",
                     f"{f(b['per_class'][c]['precision'])} / {f(b['per_class'][c]['recall'])}"))
    return rows
