"""The answer-sentence scorer at run time: the committed int8 ONNX cross-encoder (trained by
`dossier eval train-reader`, see `app/models/reader/MODEL_CARD.md`) and the abstention model fitted
on SQuAD dev articles (`abstain.json`). onnxruntime and `tokenizers` only: no torch import.
"""
from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MODEL_DIR = Path(__file__).parent / "models" / "reader"


class ReaderError(RuntimeError):
    pass


class AnswerScorer:
    """score(question, sentences) -> one logit per sentence: does this sentence answer the question?"""

    def __init__(self, model_dir: Path | None = None, threads: int = 1):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.model_dir = Path(model_dir or MODEL_DIR)
        path = self.model_dir / "model.onnx"
        if not path.exists():
            raise ReaderError(f"{path}: answer scorer weights missing (run `dossier eval train-reader`)")
        cfg = json.loads((self.model_dir / "reader.json").read_text())
        self.max_length = int(cfg.get("max_length", 128))
        self.do_lower_case = bool(cfg.get("do_lower_case", True))
        self.tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.max_length, strategy="only_second")
        self.tokenizer.no_padding()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        self.input_names = {i.name for i in self.session.get_inputs()}
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], float] = {}

    def score(self, question: str, sentences: list[str]) -> np.ndarray:
        """One pair per run: dynamic int8 quantization scales activations per input tensor, so a batched
        score would depend on its batch mates; one at a time, a pair's score is a function of the pair."""
        q = question.lower() if self.do_lower_case else question
        out = np.empty(len(sentences), dtype=np.float32)
        for i, s in enumerate(sentences):
            key = (question, s)
            hit = self._cache.get(key)
            if hit is None:
                enc = self.tokenizer.encode(q, s.lower() if self.do_lower_case else s)
                feeds = {"input_ids": np.array([enc.ids], dtype=np.int64),
                         "attention_mask": np.array([enc.attention_mask], dtype=np.int64)}
                if "token_type_ids" in self.input_names:
                    feeds["token_type_ids"] = np.array([enc.type_ids], dtype=np.int64)
                hit = float(self.session.run(None, feeds)[0][0])
                with self._lock:
                    if len(self._cache) > 20000:  # bounded: drop the oldest half (dicts keep insertion order)
                        for k in list(self._cache)[:10000]:
                            self._cache.pop(k, None)
                    self._cache[key] = hit
            out[i] = hit
        return out


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
