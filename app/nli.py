"""The draft checker's entailment model at run time: a 3-class cross-encoder (entailment / neutral /
contradiction) for (premise, hypothesis), the committed int8 ONNX model in `app/models/nli/` (trained by
`dossier eval train-nli`, see its MODEL_CARD.md), read by `onnx_pair.PairModel`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .onnx_pair import PairModel

MODEL_DIR = Path(__file__).parent / "models" / "nli"
LABELS = ("entailment", "neutral", "contradiction")


class NliError(RuntimeError):
    pass


class NliScorer:
    """probs(premise, hypothesis) -> (p_entailment, p_neutral, p_contradiction)."""

    def __init__(self, model_dir: Path | None = None, threads: int = 1):
        self.model_dir = Path(model_dir or MODEL_DIR)
        self.pair = PairModel(self.model_dir, "nli.json", truncation="longest_first", error=NliError, threads=threads,
                              missing="entailment model weights missing (run `dossier eval train-nli`)")
        if tuple(self.pair.config.get("labels", ())) != LABELS:
            raise NliError(f"{self.model_dir / 'nli.json'}: expected labels {LABELS}, got {self.pair.config.get('labels')}")

    def probs(self, premise: str, hypothesis: str) -> tuple[float, float, float]:
        """The softmax of the pair's logits (each pair run alone and remembered: see PairModel.logits)."""
        z = self.pair.logits(premise, hypothesis).astype(np.float64)
        e = np.exp(z - z.max())
        p = e / e.sum()
        return (float(p[0]), float(p[1]), float(p[2]))

    def label(self, premise: str, hypothesis: str) -> str:
        p = self.probs(premise, hypothesis)
        return LABELS[int(np.argmax(p))]
