"""The draft checker's entailment model at run time: a 3-class cross-encoder (entailment / neutral /
contradiction) for (premise, hypothesis), the committed int8 ONNX model in `app/models/nli/` (trained by
`dossier eval train-nli`, see its MODEL_CARD.md). onnxruntime and `tokenizers` only: no torch import.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np

MODEL_DIR = Path(__file__).parent / "models" / "nli"
LABELS = ("entailment", "neutral", "contradiction")


class NliError(RuntimeError):
    pass


class NliScorer:
    """probs(premise, hypothesis) -> (p_entailment, p_neutral, p_contradiction)."""

    def __init__(self, model_dir: Path | None = None, threads: int = 1):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.model_dir = Path(model_dir or MODEL_DIR)
        path = self.model_dir / "model.onnx"
        if not path.exists():
            raise NliError(f"{path}: entailment model weights missing (run `dossier eval train-nli`)")
        for need in ("nli.json", "tokenizer.json"):
            if not (self.model_dir / need).is_file():
                raise NliError(f"{self.model_dir / need}: missing (an entailment model folder holds model.onnx, nli.json and tokenizer.json)")
        try:
            cfg = json.loads((self.model_dir / "nli.json").read_text())
        except ValueError as e:
            raise NliError(f"{self.model_dir / 'nli.json'}: not JSON ({e})") from None
        if tuple(cfg.get("labels", ())) != LABELS:
            raise NliError(f"{self.model_dir / 'nli.json'}: expected labels {LABELS}, got {cfg.get('labels')}")
        self.max_length = int(cfg.get("max_length", 128))
        self.do_lower_case = bool(cfg.get("do_lower_case", True))
        self.tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.max_length, strategy="longest_first")
        self.tokenizer.no_padding()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        self.input_names = {i.name for i in self.session.get_inputs()}
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], tuple[float, float, float]] = {}

    def probs(self, premise: str, hypothesis: str) -> tuple[float, float, float]:
        """One pair per run (dynamic int8 quantization scales activations per input tensor: a pair's
        probabilities do not depend on batch mates)."""
        key = (premise, hypothesis)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        lc = self.do_lower_case
        enc = self.tokenizer.encode(premise.lower() if lc else premise, hypothesis.lower() if lc else hypothesis)
        feeds = {"input_ids": np.array([enc.ids], dtype=np.int64),
                 "attention_mask": np.array([enc.attention_mask], dtype=np.int64)}
        if "token_type_ids" in self.input_names:
            feeds["token_type_ids"] = np.array([enc.type_ids], dtype=np.int64)
        z = self.session.run(None, feeds)[0][0].astype(np.float64)
        e = np.exp(z - z.max())
        p = e / e.sum()
        hit = (float(p[0]), float(p[1]), float(p[2]))
        with self._lock:
            if len(self._cache) > 20000:  # bounded: drop the oldest half
                for k in list(self._cache)[:10000]:
                    self._cache.pop(k, None)
            self._cache[key] = hit
        return hit

    def label(self, premise: str, hypothesis: str) -> str:
        p = self.probs(premise, hypothesis)
        return LABELS[int(np.argmax(p))]
