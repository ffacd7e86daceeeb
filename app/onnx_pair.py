"""A cross-encoder exported to int8 ONNX, read at run time with onnxruntime and `tokenizers` (no torch import):
the answer scorer (`app/reader.py`) and the draft checker's entailment model (`app/nli.py`) are both one. The
model folder holds `model.onnx`, `tokenizer.json` and a JSON config (`max_length`, `do_lower_case`, ...)."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np

CACHE_PAIRS = 20000  # pairs remembered; past it the oldest half is dropped (dicts keep insertion order)


class PairModel:
    """logits(a, b) -> the model's logits for the pair (a, b), as a 1-d array (one value for a scorer)."""

    def __init__(self, model_dir: Path, config: str, *, truncation: str, error: type[Exception], missing: str,
                 threads: int = 1):
        from dossier.index.onnx_embed import cpu_session
        from tokenizers import Tokenizer

        self.model_dir = Path(model_dir)
        path = self.model_dir / "model.onnx"
        if not path.exists():
            raise error(f"{path}: {missing}")
        for need in (config, "tokenizer.json"):
            if not (self.model_dir / need).is_file():
                raise error(f"{self.model_dir / need}: missing (the model folder holds model.onnx, {config} and tokenizer.json)")
        try:
            self.config = json.loads((self.model_dir / config).read_text())
        except ValueError as e:
            raise error(f"{self.model_dir / config}: not JSON ({e})") from None
        self.max_length = int(self.config.get("max_length", 128))
        self.do_lower_case = bool(self.config.get("do_lower_case", True))
        self.tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.max_length, strategy=truncation)
        self.tokenizer.no_padding()
        self.session = cpu_session(path, threads)
        self.input_names = {i.name for i in self.session.get_inputs()}
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], np.ndarray] = {}

    def logits(self, a: str, b: str) -> np.ndarray:
        """One pair per run: dynamic int8 quantization scales activations per input tensor, so a batched run would
        depend on its batch mates; one at a time, a pair's output is a function of the pair. Remembered."""
        key = (a, b)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        lc = self.do_lower_case
        enc = self.tokenizer.encode(a.lower() if lc else a, b.lower() if lc else b)
        feeds = {"input_ids": np.array([enc.ids], dtype=np.int64),
                 "attention_mask": np.array([enc.attention_mask], dtype=np.int64)}
        if "token_type_ids" in self.input_names:
            feeds["token_type_ids"] = np.array([enc.type_ids], dtype=np.int64)
        hit = np.atleast_1d(self.session.run(None, feeds)[0][0])  # one logit (a scorer) or one per class
        with self._lock:
            if len(self._cache) > CACHE_PAIRS:
                for k in list(self._cache)[:CACHE_PAIRS // 2]:
                    self._cache.pop(k, None)
            self._cache[key] = hit
        return hit
