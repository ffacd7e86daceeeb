"""Fit the extractive engine's abstention model on SQuAD dev articles (never the test articles).

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

from .squad_bench import dataset_path, gold_in, golds_of, open_store
from .dataset import load_dataset, select_items


@dataclass
class Row:
    id: str
    answerable: bool
    correct: bool  # the never-abstaining answer holds a gold answer
    features: dict[str, float]


def collect(split: str, work: Path, *, settings=None, embedder=None, subset: int | None = None, k: int = 6,
            progress=None) -> list[Row]:
    from dossier.app.context import answer_scorer
    from dossier.app.engines.extractive import FEATURES, ExtractiveEngine
    from dossier.app.reader import AbstainModel

    app, _ = open_store(split, work, settings, embedder)
    s = app.settings
    never = AbstainModel(FEATURES, (0.0,) * len(FEATURES), 0.0, (0.0,) * len(FEATURES), (1.0,) * len(FEATURES), 0.0)
    engine = ExtractiveEngine(answer_scorer(s.answer.reader_dir), never, threshold=-1.0, rules=(),
                              max_sentences=s.answer.max_sentences, max_sentences_why=s.answer.max_sentences_why,
                              doc_text=app.index.catalog.doc_text)
    items = select_items(load_dataset(dataset_path(split)), subset=subset)
    rows = []
    for i, it in enumerate(items, 1):
        hits = app.index.retriever.search(it.question, k=k)
        ranking = engine.rank(it.question, hits)
        if not ranking.scored:
            continue
        draft = engine.draft(it.question, hits)
        text = " ".join(d.text for d in draft.sentences)
        rows.append(Row(it.id, it.answerable, it.answerable and gold_in(text, golds_of(it)), ranking.features))
        if progress:
            progress("features", i, len(items))
    return rows


def best_threshold(p: np.ndarray, answerable: np.ndarray, correct: np.ndarray) -> tuple[float, float]:
    """The threshold on p maximising overall accuracy (answer when p >= t), and that accuracy."""
    best_t, best_acc = 0.5, -1.0
    for t in np.unique(np.concatenate([p, [0.0, 1.0 + 1e-9]])):
        answer = p >= t
        acc = float(np.mean(np.where(answerable, answer & correct, ~answer)))
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
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale[scale == 0] = 1.0
    lr = LogisticRegression(C=1.0, max_iter=1000).fit((X - mean) / scale, y)
    p = lr.predict_proba((X - mean) / scale)[:, 1]
    threshold, acc = best_threshold(p, answerable, y)
    model = AbstainModel(FEATURES, tuple(float(w) for w in lr.coef_[0]), float(lr.intercept_[0]), tuple(mean.tolist()),
                         tuple(scale.tolist()), threshold, fitted_on)
    from sklearn.metrics import roc_auc_score

    stats = {"n": len(rows), "answerable": int(answerable.sum()), "correct_if_always_answering": int(y.sum()),
             "threshold": threshold, "dev_overall_at_threshold": acc,
             "auc_confidence": float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else None,
             "auc_top_score_alone": float(roc_auc_score(y, X[:, 0])) if 0 < y.sum() < len(y) else None,
             "weights": dict(zip(FEATURES, model.weights))}
    return model, stats


def write(model, stats: dict, out_dir: Path) -> None:
    model.save(out_dir / "abstain.json")
    (out_dir / "abstain-fit.json").write_text(json.dumps(stats, indent=1) + "\n")
