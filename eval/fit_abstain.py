"""Fit the extractive engine's abstention model on dev data: the SQuAD dev articles (never the test
articles) and seed-dev, the hand-written dev set about the demo article. The two sources weigh the same
in the fit: SQuAD's unanswerable questions are written to look answerable (adversarial), seed-dev's are
what a reader asks (the sources simply don't say), and a model fitted on one alone misjudges the other.

For every dev question the engine ranks the retrieved sentences with the answer scorer and drafts its
answer as if it never abstained; the label is whether that answer holds a gold answer (unanswerable
questions: never). A logistic regression (scikit-learn) over the ranking's features gives the
probability that the answer is right: the answer's `confidence`. The threshold is the confidence that
maximises overall accuracy on the dev questions (answer right on answerable ones, abstain on the others).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .dataset import load_dataset, select_items
from .squad_bench import DATASETS, gold_in, golds_of, open_store


@dataclass
class Row:
    id: str
    answerable: bool
    correct: bool  # the never-abstaining answer holds a gold answer
    features: dict[str, float]
    source: str = ""


DEV_SETS = ("squad-dev", "seed-dev")


def collect(name: str, work: Path, *, settings=None, embedder=None, subset: int | None = None, k: int = 6,
            progress=None) -> list[Row]:
    """Feature rows of one dev dataset (eval/datasets/NAME.jsonl) over a store of its corpus (built once
    under `work`); follow-up questions are left out (their context comes from an earlier answer)."""
    from dossier.app.context import answer_scorer
    from dossier.app.engines.extractive import FEATURES, ExtractiveEngine
    from dossier.app.reader import AbstainModel

    from .metrics import answer_correct

    app, _ = open_store(name, work, settings, embedder)
    s = app.settings
    never = AbstainModel(FEATURES, (0.0,) * len(FEATURES), 0.0, (0.0,) * len(FEATURES), (1.0,) * len(FEATURES), 0.0)
    engine = ExtractiveEngine(answer_scorer(s.answer.reader_dir), never, threshold=-1.0,
                              max_sentences=s.answer.max_sentences, max_sentences_why=s.answer.max_sentences_why)
    items = [it for it in select_items(load_dataset(DATASETS / f"{name}.jsonl"), subset=subset) if not it.history]
    rows = []
    for i, it in enumerate(items, 1):
        hits = app.index.retriever.search(it.question, k=k)
        ranking = engine.rank(it.question, hits)
        if ranking.scored:
            text = " ".join(d.text for d in engine.decide(ranking).sentences)
            right = it.answerable and bool(answer_correct(text, it.answer_keys) or gold_in(text, golds_of(it)))
            rows.append(Row(it.id, it.answerable, right, ranking.features, name))
        if progress:
            progress(name, i, len(items))
    return rows


def best_threshold(p: np.ndarray, answerable: np.ndarray, correct: np.ndarray, weights: np.ndarray | None = None) -> tuple[float, float]:
    """The threshold on p maximising (weighted) overall accuracy (answer when p >= t), and that accuracy."""
    best_t, best_acc = 0.5, -1.0
    for t in np.unique(np.concatenate([p, [0.0, 1.0 + 1e-9]])):
        answer = p >= t
        acc = float(np.average(np.where(answerable, answer & correct, ~answer), weights=weights))
        if acc > best_acc + 1e-12:
            best_t, best_acc = float(t), acc
    return best_t, best_acc


def fit(rows: list[Row], fitted_on: str):
    from sklearn.linear_model import LogisticRegression

    from dossier.app.engines.extractive import FEATURES
    from dossier.app.reader import AbstainModel

    X = np.array([[r.features[f] for f in FEATURES] for r in rows], dtype=np.float64)
    y = np.array([r.correct for r in rows])
    answerable = np.array([r.answerable for r in rows])
    sources = [r.source for r in rows]
    counts = {src: sources.count(src) for src in set(sources)}
    w = np.array([len(rows) / (len(counts) * counts[src]) for src in sources])  # each source weighs the same
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale[scale == 0] = 1.0
    lr = LogisticRegression(C=1.0, max_iter=2000).fit((X - mean) / scale, y, sample_weight=w)
    p = lr.predict_proba((X - mean) / scale)[:, 1]
    threshold, acc = best_threshold(p, answerable, y, w)
    model = AbstainModel(FEATURES, tuple(float(w) for w in lr.coef_[0]), float(lr.intercept_[0]), tuple(mean.tolist()),
                         tuple(scale.tolist()), threshold, fitted_on)
    from sklearn.metrics import roc_auc_score

    per_source = {}
    for src in sorted(counts):
        m = np.array([x == src for x in sources])
        ans = p[m] >= threshold
        per_source[src] = {"n": int(m.sum()), "overall": float(np.mean(np.where(answerable[m], ans & y[m], ~ans))),
                           "answered_correct": float(np.mean((ans & y[m])[answerable[m]])) if answerable[m].any() else None,
                           "abstained_unanswerable": float(np.mean(~ans[~answerable[m]])) if (~answerable[m]).any() else None}
    stats = {"n": len(rows), "answerable": int(answerable.sum()), "correct_if_always_answering": int(y.sum()),
             "threshold": threshold, "dev_overall_at_threshold": acc, "per_source_in_sample": per_source,
             "auc_confidence": float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else None,
             "auc_top_score_alone": float(roc_auc_score(y, X[:, 0])) if 0 < y.sum() < len(y) else None,
             "weights": dict(zip(FEATURES, model.weights))}
    return model, stats


def write(model, stats: dict, out_dir: Path) -> None:
    model.save(out_dir / "abstain.json")
    (out_dir / "abstain-fit.json").write_text(json.dumps(stats, indent=1) + "\n")
