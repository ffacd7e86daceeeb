"""The answer-sentence scorer at run time: the committed int8 ONNX cross-encoder (trained by
`dossier eval train-reader`, see `app/models/reader/MODEL_CARD.md`) and the abstention model fitted
on SQuAD dev articles (`abstain.json`). onnxruntime and `tokenizers` only: no torch import.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .onnx_pair import PairModel

MODEL_DIR = Path(__file__).parent / "models" / "reader"


class ReaderError(RuntimeError):
    pass


class AnswerScorer:
    """score(question, sentences) -> one logit per sentence: does this sentence answer the question?"""

    def __init__(self, model_dir: Path | None = None, threads: int = 1):
        self.model_dir = Path(model_dir or MODEL_DIR)
        self.pair = PairModel(self.model_dir, "reader.json", truncation="only_second", error=ReaderError, threads=threads,
                              missing="answer scorer weights missing (run `dossier eval train-reader`)")

    def score(self, question: str, sentences: list[str]) -> np.ndarray:
        """Each (question, sentence) pair run alone and remembered (see PairModel.logits)."""
        return np.array([self.pair.logits(question, s)[0] for s in sentences], dtype=np.float32)


@dataclass(frozen=True)
class AbstainModel:
    """Logistic regression over answer features, fitted on SQuAD dev articles (`dossier eval fit-abstain`):
    the probability that the best sentence answers the question, and the threshold under which the engine
    abstains."""
    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    threshold: float
    fitted_on: str = ""

    def confidence(self, x: dict[str, float]) -> float:
        z = self.bias + sum(w * (x[f] - m) / s for f, w, m, s in zip(self.features, self.weights, self.mean, self.scale))
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))

    @classmethod
    def load(cls, path: Path | None = None) -> "AbstainModel":
        p = Path(path or MODEL_DIR / "abstain.json")
        try:
            d = json.loads(p.read_text())
            return cls(tuple(d["features"]), tuple(float(w) for w in d["weights"]), float(d["bias"]),
                       tuple(float(v) for v in d["mean"]), tuple(float(v) for v in d["scale"]), float(d["threshold"]),
                       str(d.get("fitted_on", "")))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ReaderError(f"{p}: abstention model unreadable ({e})") from None

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps({"features": list(self.features), "weights": list(self.weights), "bias": self.bias,
                                          "mean": list(self.mean), "scale": list(self.scale), "threshold": self.threshold,
                                          "fitted_on": self.fitted_on}, indent=1) + "\n")
