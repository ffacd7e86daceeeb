"""`bench query`: retrieval and full extractive answer latency over an ingested store, with questions
generated from the corpus. Warm-up queries are run first and not counted; retrieval and answers are
measured on disjoint question sets (so no answer reuses a retrieval's warm state for its question)."""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable

from .corpus import read_queries
from .stats import ratio, summary

Log = Callable[[str], None]


def open_app(store_dir: Path, chroma_url: str | None = None):
    from dossier.app.context import AppContext, build_answerer
    from dossier.app.settings import DossierSettings

    settings = DossierSettings()
    settings.data_dir = Path(store_dir)
    settings.chroma_url = chroma_url or ""
    app = AppContext(settings)
    return app, build_answerer(app)


def run_query_bench(store_dir: Path, corpus: Path, *, queries: int = 100, warmup: int = 10,
                    chroma_url: str | None = None, one_thread_too: bool = True, log: Log = print) -> dict:
    qs = read_queries(corpus)
    per = 4 if one_thread_too else 2  # disjoint question sets: retrieval and answers, per variant
    if len(qs) < warmup + per * queries:
        queries = max(1, (len(qs) - warmup) // per)
    warm = qs[:warmup]

    t = time.perf_counter()
    app, answerer = open_app(store_dir, chroma_url)
    svc = app.index
    retriever = svc.retriever
    open_s = time.perf_counter() - t
    k = app.settings.answer.k
    n_chunks = svc.catalog.chunk_count()

    # warm-up: model load, BM25 load, Chroma segment load, first extractive engine build
    t = time.perf_counter()
    retriever.search(warm[0]["question"], k=k) if warm else None
    first_search_ms = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    for q in warm:
        answerer.ask(q["question"])
    warm_s = time.perf_counter() - t

    backend = svc.embedder.backend
    default_threads, set_threads = _thread_control(svc)
    variants = [("default", default_threads)] + ([("one_thread", 1)] if one_thread_too and default_threads != 1 and backend == "torch" else [])
    sets = {}
    for j, (vname, _) in enumerate(variants):
        base = warmup + 2 * queries * j
        sets[vname] = (qs[base:base + queries], qs[base + queries:base + 2 * queries])
    acc = {v: {"ret": [], "stage": {}, "hits": 0, "ans": [], "astage": {}, "abst": 0, "contains": 0} for v, _ in variants}
    log(f"query: {queries} retrievals and {queries} extractive answers over {n_chunks} chunks"
        + (", interleaved with the same counts at 1 torch thread" if len(variants) > 1 else ""))
    try:
        for i in range(queries):
            for vname, nthreads in variants:
                set_threads(nthreads)
                a_ = acc[vname]
                rset, aset = sets[vname]
                if i < len(rset):
                    _timed_retrieval(retriever, rset[i], k, a_)
                if i < len(aset):
                    _timed_answer(answerer, aset[i], a_)
    finally:
        set_threads(default_threads)

    count_ms = _count_ms(svc)
    out = {
        "store": str(store_dir), "chunks": n_chunks, "chroma": "server " + chroma_url if chroma_url else "embedded",
        "k": k, "warmup_queries": len(warm), "open_s": round(open_s, 3), "torch_threads": default_threads, "embed_backend": backend,
        "embedder": svc.embedder.id,
        "first_search_ms": round(first_search_ms, 1), "warmup_s": round(warm_s, 2),
        "store_count_ms": summary(count_ms, 3),
    }
    for vname, _ in variants:
        a_ = acc[vname]
        block = _block(a_)
        if vname == "default":
            out.update(block)
        else:
            out["experiment_one_torch_thread"] = block | {
                "how": "torch.set_num_threads(1) in the same process, interleaved query by query with the default "
                       "runs, on disjoint questions"}
    return out


def _thread_control(svc) -> tuple[int, Callable[[int], None]]:
    """The embedder's default thread count and a function that sets it (a no-op for onnxruntime)."""
    if svc.embedder.backend == "torch":
        import torch

        return torch.get_num_threads(), torch.set_num_threads
    # onnxruntime's threads are fixed per session: no interleaved thread experiment
    return svc.index_settings.torch_threads or os.cpu_count(), lambda n: None


def _timed_retrieval(retriever, q: dict, k: int, a_: dict) -> None:
    """One hybrid search: its latency, stage timings and whether the question's source document is in the top k."""
    t = time.perf_counter()
    hits = retriever.search(q["question"], k=k)
    a_["ret"].append((time.perf_counter() - t) * 1000)
    for name, v in retriever.last_timings.items():
        a_["stage"].setdefault(name, []).append(v)
    a_["hits"] += any(str(h.doc.get("source", "")).endswith(q["path"]) for h in hits)


def _timed_answer(answerer, q: dict, a_: dict) -> None:
    """One extractive answer: its latency, stage timings, abstention and whether the expected answer is in it."""
    t = time.perf_counter()
    ans = answerer.ask(q["question"], engine="extractive")
    a_["ans"].append((time.perf_counter() - t) * 1000)
    for name, v in (ans.timings_ms or {}).items():
        a_["astage"].setdefault(name, []).append(v)
    a_["abst"] += int(ans.abstained)
    a_["contains"] += int(not ans.abstained and q["answer"].lower() in ans.answer.lower())


def _count_ms(svc, n: int = 20) -> list[float]:
    """What a Chroma count() costs at this size (VectorStore.query ran one per query until it was dropped)."""
    out = []
    for _ in range(n):
        t = time.perf_counter()
        svc.store.count()
        out.append((time.perf_counter() - t) * 1000)
    return out


def _block(a_: dict) -> dict:
    r, a = summary(a_["ret"], 2), summary(a_["ans"], 2)
    nr, na = len(a_["ret"]), len(a_["ans"])
    return {
        "retrieval": {"queries": nr, "latency_ms": r, "p95_over_p50": ratio(r.get("p95"), r.get("p50")),
                      "stages_median_ms": {n: summary(v, 2)["median"] for n, v in a_["stage"].items()},
                      "source_doc_in_top_k": round(a_["hits"] / nr, 3) if nr else None},
        "answer": {"engine": "extractive", "queries": na, "latency_ms": a, "p95_over_p50": ratio(a.get("p95"), a.get("p50")),
                   "stages_median_ms": {n: summary(v, 2)["median"] for n, v in a_["astage"].items()},
                   "abstained": round(a_["abst"] / na, 3) if na else None,
                   "expected_answer_in_text": round(a_["contains"] / na, 3) if na else None},
    }
