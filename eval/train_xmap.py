"""Fit the question map (#16): a linear map from the multilingual encoder's space (USE Multilingual v3, 512) to the
bundled English embedder's (all-MiniLM-L6-v2, int8 ONNX, 384), written to `index/models/xmap.npz`.

    python -m dossier.eval.train_xmap [--external shared/external] [--out index/models/xmap.npz]

Why: under the default `DOSSIER_INDEX__MULTILINGUAL=foreign` English chunks have no multilingual vectors, so a
question in Russian could not reach English text (the English embedder reads Russian as noise). The map sends
the question's multilingual vector to where the English embedder would put the same question in English: the
multilingual encoder puts a Russian question next to its English translation, and the map, fitted on English
text only, carries that point into the English embedder's space, where the main collection is searched as usual.
No ingest cost, one 513 x 384 product per non-English question. Fitted by ridge regression on the English
questions and sentences of the SQuAD 2.0 training articles (no cross-language data, nothing of the xlang sets);
the held-out part of those texts (every tenth) gives the recorded fit figures.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from .squad import articles, training_pairs

_EXTERNAL = Path(__file__).resolve().parents[2] / "shared" / "external"


def main(argv: list[str] | None = None) -> int:
    from dossier.index.embedder import Embedder
    from dossier.index.multilingual import shared_encoder
    from dossier.index.settings import IndexSettings

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--external", type=Path, default=_EXTERNAL)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "index" / "models" / "xmap.npz")
    ap.add_argument("--ridge", type=float, default=1.0)
    a = ap.parse_args(argv)
    texts = list(dict.fromkeys(t for q, s, _ in training_pairs(articles(a.external, "train"), hard=True) for t in (q, s)))
    enc, emb = shared_encoder(1), Embedder(IndexSettings())
    U = enc.encode(texts)
    M = np.asarray(emb.embed(texts), dtype=np.float32)
    A = np.hstack([U, np.ones((len(U), 1), dtype=np.float32)])
    held = np.arange(len(texts)) % 10 == 9

    def fit(rows):
        return np.linalg.solve(A[rows].T @ A[rows] + a.ridge * np.eye(A.shape[1]), A[rows].T @ M[rows]).astype(np.float32)

    W = fit(~held)
    P = A[held] @ W
    P /= np.linalg.norm(P, axis=1, keepdims=True)
    cos = float((P * M[held]).sum(axis=1).mean())
    self_at_1 = float(((P @ M[held].T).argmax(axis=1) == np.arange(int(held.sum()))).mean())
    W = fit(np.ones(len(texts), dtype=bool))  # the map written: fitted on every text
    meta = {"source": enc.id, "target": emb.id, "ridge": a.ridge, "texts": len(texts),
            "trained_on": "English questions and sentences of the SQuAD 2.0 training articles (eval/squad.py)",
            "held_out_mean_cosine": round(cos, 4), "held_out_self_retrieval_at_1": round(self_at_1, 4),
            "held_out": f"every tenth text ({int(held.sum())}), map fitted on the rest for these figures",
            "how": "python -m dossier.eval.train_xmap"}
    np.savez_compressed(a.out, weights=W, meta=np.array(json.dumps(meta)))
    print(json.dumps(meta))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
