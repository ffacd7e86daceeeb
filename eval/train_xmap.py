"""Fit the question map (#16): a linear map from the multilingual encoder's space (USE Multilingual v3, 512) to the
bundled English embedder's (all-MiniLM-L6-v2, int8 ONNX, 384), written to `index/models/xmap.npz`.

    python -m dossier.eval.train_xmap [--external shared/external] [--out index/models/xmap.npz]

Why: under the default `DOSSIER_INDEX__MULTILINGUAL=foreign` English chunks have no multilingual vectors, so a
question in Russian could not reach English text (the English embedder reads Russian as noise). The map sends
the question's multilingual vector to where the English embedder would put the same question in English: the
multilingual encoder puts a Russian question next to its English translation, and the map, fitted on English
text only, carries that point into the English embedder's space, where the main collection is searched as usual.
No ingest cost, one 513 x 384 product per non-English question. Fitted by ridge regression on the English
questions and sentences of the SQuAD 2.0 training articles and on RuBQ's Russian questions with their English
translations (`eval/external/rubq-questions.jsonl`: the Russian question's multilingual vector is sent to where the
English embedder puts its English translation; real cross-language pairs, weighted `--rubq-weight`); nothing of the
xlang sets. The held-out parts (every tenth SQuAD text, every fifth RuBQ pair) give the recorded fit figures.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from .squad import articles, training_pairs

_EXTERNAL = Path(__file__).resolve().parents[2] / "shared" / "external"
RUBQ = Path(__file__).resolve().parent / "external" / "rubq-questions.jsonl"


def rubq_pairs(path: Path = RUBQ) -> list[tuple[str, str]]:
    """(Russian question, its English translation) of RuBQ 1.0/2.0 (eval/external/README.md)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(r["ru"], r["en"]) for r in rows]


def main(argv: list[str] | None = None) -> int:
    from dossier.index.embedder import Embedder
    from dossier.index.multilingual import shared_encoder
    from dossier.index.settings import IndexSettings

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--external", type=Path, default=_EXTERNAL)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "index" / "models" / "xmap.npz")
    ap.add_argument("--ridge", type=float, default=1.0)
    ap.add_argument("--rubq", type=Path, default=RUBQ, help="RuBQ question pairs (JSONL: ru, en); 'none' to leave out")
    ap.add_argument("--rubq-weight", type=float, default=3.0,
                    help="weight of a Russian question's row (its English translation's row weighs 1); 3 was chosen "
                         "among 1, 3, 10 on the held-out RuBQ fifth (retrieval@1 of the translation)")
    a = ap.parse_args(argv)
    texts = list(dict.fromkeys(t for q, s, _ in training_pairs(articles(a.external, "train"), hard=True) for t in (q, s)))
    pairs = rubq_pairs(a.rubq) if str(a.rubq) != "none" else []
    enc, emb = shared_encoder(1), Embedder(IndexSettings())
    U = enc.encode(texts)
    M = np.asarray(emb.embed(texts), dtype=np.float32)
    n_sq = len(texts)
    if pairs:
        # a Russian question's multilingual vector -> the English embedder's vector of its translation; the English
        # translation's own row too (the map must keep English questions where they were)
        Uru, Uen = enc.encode([r for r, _ in pairs]), enc.encode([e for _, e in pairs])
        Men = np.asarray(emb.embed([e for _, e in pairs]), dtype=np.float32)
        U, M = np.vstack([U, Uru, Uen]), np.vstack([M, Men, Men])
    weight = np.concatenate([np.ones(n_sq), np.full(len(pairs), a.rubq_weight), np.ones(len(pairs))]).astype(np.float32)
    A = np.hstack([U, np.ones((len(U), 1), dtype=np.float32)])
    idx = np.arange(len(U))
    pair_no = np.concatenate([np.full(n_sq, -1), np.arange(len(pairs)), np.arange(len(pairs))])
    held_sq = (idx < n_sq) & (idx % 10 == 9)
    held_rq = (pair_no >= 0) & (pair_no % 5 == 4)  # both rows of a held-out pair
    held = held_sq | held_rq

    def fit(rows):
        Aw = A[rows] * weight[rows, None]
        return np.linalg.solve(Aw.T @ A[rows] + a.ridge * np.eye(A.shape[1]), Aw.T @ M[rows]).astype(np.float32)

    def figures(W, rows):
        P = A[rows] @ W
        P /= np.linalg.norm(P, axis=1, keepdims=True)
        T = M[rows]
        return float((P * T).sum(axis=1).mean()), float(((P @ T.T).argmax(axis=1) == np.arange(int(rows.sum()))).mean())

    W = fit(~held)
    cos, self_at_1 = figures(W, held_sq)
    meta = {"source": enc.id, "target": emb.id, "ridge": a.ridge, "texts": n_sq,
            "trained_on": "English questions and sentences of the SQuAD 2.0 training articles (eval/squad.py)"
                          + (f"; {len(pairs)} RuBQ Russian questions with their English translations (RuBQ 1.0/2.0, "
                             f"CC BY-SA 4.0, eval/external/rubq-questions.jsonl), Russian rows weighted {a.rubq_weight}"
                             if pairs else ""),
            "held_out_mean_cosine": round(cos, 4), "held_out_self_retrieval_at_1": round(self_at_1, 4),
            "held_out": f"every tenth SQuAD text ({int(held_sq.sum())}) and every fifth RuBQ pair "
                        f"({int((held_rq & (idx < n_sq + len(pairs))).sum())}), map fitted on the rest for these figures",
            "how": "python -m dossier.eval.train_xmap"}
    if pairs:
        ru_rows = held_rq & (idx < n_sq + len(pairs))
        P = A[ru_rows] @ W
        P /= np.linalg.norm(P, axis=1, keepdims=True)
        T = M[ru_rows]  # the English embedder's vectors of the translations
        meta["held_out_rubq_ru_to_en_cosine"] = round(float((P * T).sum(axis=1).mean()), 4)
        meta["held_out_rubq_ru_to_en_at_1"] = round(float(((P @ T.T).argmax(axis=1) == np.arange(int(ru_rows.sum()))).mean()), 4)
    W = fit(np.ones(len(U), dtype=bool))  # the map written: fitted on every row
    np.savez_compressed(a.out, weights=W, meta=np.array(json.dumps(meta)))
    print(json.dumps(meta))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
