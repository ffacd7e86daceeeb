"""`bench multilingual` (#16): what sources in other languages cost.

- the multilingual encoder's speed (sentences/s, 1 and 2 threads) on English bench sentences and on the
  Russian/German/Polish fixture sentences;
- per-chunk language at ingest: `chunk_language` over every chunk text of the bench corpus (the script pass
  English-only ingest pays);
- the multilingual sync after an English-only ingest under the default 'foreign' (nothing to embed: the set
  difference only);
- retrieval latency over a copy of the bench store, before and after every chunk gets multilingual sentence
  vectors ('all', the most the query side can pay: each query also encodes the question and queries the
  second collection), on the same questions; and the time that sync took (the ingest cost of 'all').
"""
from __future__ import annotations

import shutil
import statistics
import time
from pathlib import Path
from typing import Callable

from .corpus import read_queries

Log = Callable[[str], None]
FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "multilingual"


def _p(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else 0.0


def encoder_speed(sentences: list[str], threads: int, repeats: int = 3) -> dict:
    from dossier.index.multilingual import MultilingualEncoder

    enc = MultilingualEncoder(threads)
    t = time.perf_counter()
    enc.encode(["warm up"])
    load_s = time.perf_counter() - t
    rates = []
    for _ in range(repeats):
        t = time.perf_counter()
        enc.encode(sentences)
        rates.append(len(sentences) / (time.perf_counter() - t))
    one = []
    for s in sentences[:50]:
        t = time.perf_counter()
        enc.encode([s])
        one.append((time.perf_counter() - t) * 1000)
    return {"threads": threads, "sentences": len(sentences), "load_s": round(load_s, 2),
            "sentences_per_s": round(statistics.median(rates), 1), "one_sentence_ms_p50": round(_p(one, 0.5), 2)}


def _retrieval(svc, questions: list[str], k: int) -> dict:
    r = svc.retriever
    for q in questions[:5]:
        r.search(q, k=k)
    ms, multi = [], []
    for q in questions:
        t = time.perf_counter()
        r.search(q, k=k)
        ms.append((time.perf_counter() - t) * 1000)
        multi.append(r.last_timings.get("multilingual", 0.0))
    return {"queries": len(questions), "p50_ms": round(_p(ms, 0.5), 2), "p95_ms": round(_p(ms, 0.95), 2),
            "multilingual_stage_p50_ms": round(_p(multi, 0.5), 2)}


def run_multilingual_bench(store: Path, corpus: Path, work: Path, *, queries: int = 100, log: Log = print) -> dict:
    from dossier.index.service import IndexService
    from dossier.index.settings import IndexSettings
    from dossier.ingest.language import chunk_language
    from dossier.ingest.sentences import sentence_spans
    from dossier.ingest.settings import IngestSettings

    out: dict = {}
    copy = work / "multilingual-store"
    if copy.exists():
        shutil.rmtree(copy)
    log(f"copying {store} -> {copy}")
    shutil.copytree(store, copy, ignore=shutil.ignore_patterns("store.lock", "ingest.inprogress"))
    svc = IndexService(copy, IndexSettings(), IngestSettings())
    chunks = list(svc.catalog.iter_chunks())
    texts = [c.text for c in chunks]
    t = time.perf_counter()
    for c in chunks:
        chunk_language(c.text, "en")
    out["chunk_language"] = {"chunks": len(chunks), "seconds": round(time.perf_counter() - t, 3),
                             "us_per_chunk": round((time.perf_counter() - t) / max(1, len(chunks)) * 1e6, 1)}
    en_sents = [texts[i][a:b] for i in range(0, len(texts), 20) for a, b in sentence_spans(texts[i])][:512]
    foreign = [line.strip() for f in sorted(FIXTURES.glob("*.txt")) for line in f.read_text(encoding="utf-8").splitlines()
               if len(line.split()) > 3]
    log("encoder speed")
    out["encoder"] = {f"english_{n}t": encoder_speed(en_sents, n) for n in (1, 2)}
    out["encoder"].update({f"fixtures_{n}t": encoder_speed(foreign * 8, n) for n in (1, 2)})
    qs = [q["question"] for q in read_queries(corpus)][:queries]
    k = 6
    log("sync under 'foreign' (English-only store) and retrieval before")
    t = time.perf_counter()
    stats = svc.retriever.multilingual.sync()
    out["sync_foreign_english_only"] = {**stats, "seconds": round(time.perf_counter() - t, 3)}
    out["retrieval_multilingual_empty"] = _retrieval(svc, qs, k)
    log("sync under 'all' (every chunk's sentences embedded)")
    svc_all = IndexService(copy, IndexSettings(multilingual="all"), IngestSettings())
    svc_all.embedder = svc.embedder
    with svc_all.writing("bench"):
        stats = svc_all.retriever.multilingual.sync()
    out["sync_all"] = {**stats, "chunks_per_s": round(stats["added_chunks"] / max(stats["seconds"], 1e-9), 1),
                       "sentences_per_s": round(stats["sentences"] / max(stats["seconds"], 1e-9), 1)}
    log("retrieval after")
    out["retrieval_multilingual_all"] = _retrieval(svc_all, qs, k)
    out["query_p50_growth_ms"] = round(out["retrieval_multilingual_all"]["p50_ms"] - out["retrieval_multilingual_empty"]["p50_ms"], 2)
    out["store"] = {"path": str(store), "chunks": len(chunks)}
    return out


QUERY_GROWTH_TARGET_MS = 30.0  # issue #16: query p50 grows by at most 30 ms at 10k chunks


def targets(ml: dict) -> list[dict]:
    """The #16 query-latency target, judged on this bench's before/after retrieval p50."""
    if not ml:
        return []
    growth = ml.get("query_p50_growth_ms")
    chunks = (ml.get("store") or {}).get("chunks")
    status = "not measured" if growth is None else ("met" if growth <= QUERY_GROWTH_TARGET_MS else "missed")
    return [{"target": "retrieval p50 growth, every chunk with multilingual vectors vs none", "measured": growth, "op": "<=",
             "goal": QUERY_GROWTH_TARGET_MS, "unit": "ms", "status": status,
             "where": f"{chunks:,} chunks" if chunks else "", "note": ""}]


def markdown(ml: dict) -> list[str]:
    """The multilingual section of a benchmark report."""
    if not ml:
        return []
    L = ["", "## Sources in other languages (multilingual encoder)", ""]
    for key, vals in (ml.get("encoder") or {}).items():
        L.append(f"- encoder, {key.replace('_', ' sentences, ')}: {vals['sentences_per_s']:,.1f} sentences/s, one sentence "
                 f"p50 {vals['one_sentence_ms_p50']:.2f} ms (load {vals['load_s']:.2f} s)")
    cl = ml.get("chunk_language") or {}
    if cl:
        L.append(f"- per-chunk language over {cl['chunks']:,} chunks: {cl['us_per_chunk']:.1f} us a chunk")
    eo = ml.get("sync_foreign_english_only") or {}
    if eo:
        L.append(f"- multilingual sync after an English-only ingest (default 'foreign'): {eo['added_chunks']} chunks added, "
                 f"{eo['seconds']:.2f} s")
    sa = ml.get("sync_all") or {}
    if sa:
        L.append(f"- every chunk given multilingual sentence vectors ('all'): {sa['added_chunks']:,} chunks, {sa['sentences']:,} "
                 f"sentences in {sa['seconds']:,.1f} s ({sa['chunks_per_s']} chunks/s)")
    before, after = ml.get("retrieval_multilingual_empty") or {}, ml.get("retrieval_multilingual_all") or {}
    if before and after:
        L.append(f"- retrieval p50 {before['p50_ms']:.2f} ms -> {after['p50_ms']:.2f} ms (p95 {before['p95_ms']:.2f} -> "
                 f"{after['p95_ms']:.2f}; multilingual stage p50 {after['multilingual_stage_p50_ms']:.2f} ms) over "
                 f"{after['queries']} questions: growth **{ml.get('query_p50_growth_ms')} ms**")
    return L
