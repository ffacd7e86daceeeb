"""`bench embedders`: the embedder backends side by side on the same chunk texts in one process
(interleaved slices, so a shared machine's drift hits each alike): throughput, cosine agreement with
sentence-transformers (torch), and a fresh process's import + load + first embed."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from .stats import ratio, summary

Log = Callable[[str], None]
BACKENDS = ("torch", "onnx", "onnx-int8")

_COLD = """
import sys, time, json
t = time.perf_counter()
from dossier.index.embedder import Embedder
from dossier.index.settings import IndexSettings
e = Embedder(IndexSettings(embed_backend=sys.argv[1]))
e.embed_query("How far can the cameras detect people?")
print(json.dumps({"seconds": round(time.perf_counter() - t, 3), "imports_torch": "torch" in sys.modules,
                  "imports_sentence_transformers": "sentence_transformers" in sys.modules}))
"""


def cold_load(backend: str, repeats: int = 2) -> dict:
    """A fresh interpreter: import the embedder, load the model, embed one query (median of repeats)."""
    runs = []
    env = {**os.environ, "PYTHONPATH": str(Path.cwd())}
    for _ in range(repeats):
        p = subprocess.run([sys.executable, "-c", _COLD, backend], capture_output=True, text=True, env=env, timeout=300)
        if p.returncode != 0:
            return {"error": (p.stderr.strip().splitlines() or ["?"])[-1][:300]}
        runs.append(json.loads(p.stdout.strip().splitlines()[-1]))
    out = dict(runs[-1])
    out["seconds"] = summary([r["seconds"] for r in runs], 3)["median"]
    out["runs_s"] = [r["seconds"] for r in runs]
    return out


def run_embed_bench(texts: list[str], *, slice_size: int = 32, log: Log = print) -> dict:
    import numpy as np

    from dossier.index.embedder import Embedder
    from dossier.index.settings import IndexSettings

    base = IndexSettings()
    embs = {b: Embedder(base.model_copy(update={"embed_backend": b})) for b in BACKENDS}
    for b, e in embs.items():
        e.embed(["warm-up sentence for the embedder."] * 4)
    log(f"embedders: {', '.join(BACKENDS)} on {len(texts)} chunk texts, interleaved slices of {slice_size}")
    secs = {b: 0.0 for b in BACKENDS}
    vecs: dict[str, list] = {b: [] for b in BACKENDS}
    for i in range(0, len(texts), slice_size):
        part = texts[i:i + slice_size]
        order = BACKENDS if (i // slice_size) % 2 == 0 else tuple(reversed(BACKENDS))
        for b in order:
            t = time.perf_counter()
            v = embs[b].embed(part)
            secs[b] += time.perf_counter() - t
            vecs[b].extend(v)
    ref = np.asarray(vecs["torch"], dtype=np.float64)
    rows = []
    for b in BACKENDS:
        cps = len(texts) / secs[b] if secs[b] else None
        row = {"backend": b, "id": embs[b].id, "seconds": round(secs[b], 3), "chunks_per_s": round(cps, 3) if cps else None}
        if b != "torch":
            cos = (np.asarray(vecs[b], dtype=np.float64) * ref).sum(axis=1)
            row["cosine_to_torch"] = {"min": round(float(cos.min()), 7), "mean": round(float(cos.mean()), 7),
                                      "p01": round(float(np.quantile(cos, 0.01)), 7)}
        rows.append(row)
    t_cps = rows[0]["chunks_per_s"]
    for r in rows:
        r["vs_torch"] = ratio(r["chunks_per_s"], t_cps)
    log("embedders: fresh-process import + load + first embed, per backend")
    for r in rows:
        r["cold"] = cold_load(r["backend"])
    return {"texts": len(texts), "slice": slice_size, "batch_size": base.embed_batch_size,
            "threads": base.torch_threads or os.cpu_count(), "backends": rows}
