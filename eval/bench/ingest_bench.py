"""`bench ingest`: end-to-end chunks/s through the Ingestor, beside the raw embedder on the same chunk
texts in the same run, beside the plain llama-index route on the same documents, and the re-ingest
of the unchanged corpus.

Order within one run (so slow drift of a shared machine hits both sides of each ratio):
  raw embedder, even slices -> dossier ingest -> [llama-index route] -> raw embedder, odd slices
  -> re-ingest -> BM25 build (what the first query after an ingest pays)
When the llama-index route runs on a prefix of the corpus, dossier ingests the same prefix into a
fresh store right before it, and that pair gives the llama-index ratio.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .stats import ratio, summary

Log = Callable[[str], None]


@dataclass
class Meter:
    seconds: float = 0.0
    calls: int = 0
    items: int = 0
    ends: list = field(default_factory=list)  # (perf_counter at end, items) per call


def meter(obj: Any, name: str, m: Meter, count: Callable[..., int] | None = None) -> None:
    """Wrap obj.name (on the instance only) to add its wall time to m; the class is untouched."""
    fn = getattr(obj, name)

    def wrapped(*a, **k):
        t = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            end = time.perf_counter()
            m.seconds += end - t
            m.calls += 1
            n = count(*a, **k) if count else 0
            m.items += n
            m.ends.append((end, n))

    setattr(obj, name, wrapped)


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(c: tuple[float, float]) -> tuple[float, float]:
    return time.perf_counter() - c[0], time.process_time() - c[1]


def corpus_files(corpus: Path) -> list[Path]:
    return sorted((Path(corpus) / "docs").rglob("*.txt"))


def chunk_texts(files: list[Path], settings) -> list[str]:
    """The chunk texts the pipeline will embed, in its order (sorted paths, reader, language, chunker)."""
    from dossier.ingest.chunking import chunk_document
    from dossier.ingest.language import detect_language
    from dossier.ingest.models import Document, DocumentMeta
    from dossier.ingest.readers import read_bytes

    out: list[str] = []
    for p in files:
        read = read_bytes(p.read_bytes(), p.name, settings)
        d = Document(doc_id="d", source=str(p), sha256="", format=read.format, text=read.text,
                     meta=DocumentMeta(language=read.meta.get("language", "") or detect_language(read.text)),
                     headings=read.headings)
        out.extend(c.text for c in chunk_document(d, settings))
    return out


def _texts_digest(texts) -> str:
    h = hashlib.sha256()
    for t in sorted(texts):
        h.update(hashlib.sha256(t.encode()).digest())
    return h.hexdigest()[:16]


def open_service(data_dir: Path, chroma_url: str | None = None, *, fresh: bool = True, vector_cache: bool = True):
    """A service over `data_dir`; `vector_cache=False` for stores whose vectors are not the texts' own
    (perturbed copies must never be cached as a text's vector)."""
    from dossier.index.service import IndexService
    from dossier.index.settings import IndexSettings
    from dossier.ingest.settings import IngestSettings

    if fresh and Path(data_dir).exists():
        shutil.rmtree(data_dir)
    index = IndexSettings() if vector_cache else IndexSettings(vector_cache_entries=0)
    return IndexService(Path(data_dir), index, IngestSettings(), chroma_url=chroma_url)


def _manifests(corpus: Path):
    from dossier.ingest.manifest import ManifestIndex, load_manifest

    m = Path(corpus) / "manifest.tsv"
    return ManifestIndex([(m, load_manifest(m))]) if m.is_file() else ManifestIndex([])


def dossier_ingest(svc, corpus: Path, inputs: list[str], flush: int, listener=None) -> dict:
    """One Ingestor run with its stages metered. The model and store are opened before the clock starts."""
    from dossier.index.indexer import Ingestor

    import dossier.index.indexer as indexer_mod

    svc.store  # noqa: B018  (open Chroma now, not inside the timed run)
    embed_m, upsert_m, put_m, prep_m, sha_m, quotes_m = Meter(), Meter(), Meter(), Meter(), Meter(), Meter()
    meter(svc.embedder, "embed", embed_m, count=lambda texts, *a, **k: len(texts))
    meter(svc.store, "upsert", upsert_m, count=lambda ids, *a, **k: len(ids))
    meter(svc.catalog, "put_document", put_m)
    meter(svc.catalog, "by_sha", sha_m)
    ing = Ingestor(svc, manifests=_manifests(corpus), flush_chunks=flush)
    meter(ing, "_prepare", prep_m)
    real_extract = indexer_mod.extract_quotes  # quote extraction (#13), in the read-ahead thread
    meter(indexer_mod, "extract_quotes", quotes_m, count=lambda text, *a, **k: len(text))
    metered, quotes_cpu = indexer_mod.extract_quotes, [0.0]

    def extract_with_cpu(*a, **k):  # the thread's own CPU time too: its wall time also counts waiting for a core
        t = time.thread_time()
        try:
            return metered(*a, **k)
        finally:
            quotes_cpu[0] += time.thread_time() - t

    indexer_mod.extract_quotes = extract_with_cpu
    c = _clock()
    try:
        rep = ing.run(inputs, listener=listener)
    finally:
        indexer_mod.extract_quotes = real_extract
    wall, cpu = _since(c)
    counts = rep.counts()
    n = rep.embedded_chunks + rep.reused_chunks  # chunks stored; `reused` came from the vector cache (repeated texts)
    # per-flush end-to-end throughput: chunks of each flush over the time since the previous flush ended
    windows, prev = [], c[0]
    for end, k in embed_m.ends:
        windows.append((k, end - prev))
        prev = end
    # the last flush's store writes happen after its embed call: fold the tail into the last window
    if windows:
        k, dt = windows[-1]
        windows[-1] = (k, dt + (c[0] + wall - prev))
    per_flush = [k / dt for k, dt in windows if dt > 0 and k]
    return {
        "documents": sum(v for s, v in counts.items() if s in ("ingested", "replaced")),
        "counts": counts, "failed": len(rep.failed), "chunks": n, "embedded": rep.embedded_chunks, "reused": rep.reused_chunks,
        "seconds": round(wall, 3), "report_seconds": round(rep.seconds, 3), "cpu_seconds": round(cpu, 3),
        "chunks_per_s": round(n / wall, 3) if wall else None,
        "chunks_per_cpu_s": round(n / cpu, 3) if cpu else None,
        "per_flush_chunks_per_s": summary(per_flush, 3),
        "stages_s": {
            "embed": round(embed_m.seconds, 3), "store_upsert": round(upsert_m.seconds, 3),
            "catalog_put_document": round(put_m.seconds, 3), "catalog_by_sha": round(sha_m.seconds, 3),
            "prepare_in_reader_thread": round(prep_m.seconds, 3),
            "quotes_in_reader_thread": round(quotes_m.seconds, 3),
        },
        # quote extraction's own time over the ingest's wall time: an upper bound of the throughput it costs (it
        # runs in the read-ahead thread, beside the embedder)
        "quotes": {"seconds": round(quotes_m.seconds, 3), "cpu_seconds": round(quotes_cpu[0], 3), "documents": quotes_m.calls,
                   "chars": quotes_m.items, "share_of_wall": round(quotes_m.seconds / wall, 4) if wall else None,
                   "cpu_share_of_wall": round(quotes_cpu[0] / wall, 4) if wall else None,
                   "ms_per_document": round(1000 * quotes_m.seconds / quotes_m.calls, 3) if quotes_m.calls else None},
        "calls": {"embed": embed_m.calls, "store_upsert": upsert_m.calls, "catalog_put_document": put_m.calls,
                  "catalog_by_sha": sha_m.calls},
        "other_main_thread_s": round(wall - embed_m.seconds - upsert_m.seconds - put_m.seconds, 3),
    }


def raw_embed(embedder, slices: list[list[str]], workers: int = 1) -> dict:
    """Embedder.embed on each slice (the pipeline's flush size, the configured batch size, the pipeline's
    number of embedding workers)."""
    rates, total_n = [], 0
    c = _clock()
    for s in slices:
        t = time.perf_counter()
        embedder.embed(s, workers=workers)
        dt = time.perf_counter() - t
        rates.append(len(s) / dt)
        total_n += len(s)
    wall, cpu = _since(c)
    return {"chunks": total_n, "seconds": round(wall, 3), "cpu_seconds": round(cpu, 3), "per_slice": rates}


# --- the plain llama-index route ------------------------------------------------------------
def llama_embedding(model, batch_size: int):
    """A minimal llama-index BaseEmbedding over an already loaded sentence-transformers model."""
    from llama_index.core.embeddings import BaseEmbedding
    from pydantic import PrivateAttr

    class SentenceTransformerEmbedding(BaseEmbedding):
        _st: Any = PrivateAttr()

        def __init__(self, st, **kw):
            super().__init__(**kw)
            self._st = st

        def _encode(self, texts: list[str]) -> list[list[float]]:
            return self._st.encode(texts, batch_size=self.embed_batch_size, normalize_embeddings=True,
                                   convert_to_numpy=True, show_progress_bar=False).tolist()

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._encode([text])[0]

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._encode(texts)

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._encode([query])[0]

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

    return SentenceTransformerEmbedding(model, model_name="all-MiniLM-L6-v2 (bundled)", embed_batch_size=batch_size)


def llama_ingest(files: list[Path], work: Path, model, *, batch_size: int, chunk_tokens: int, overlap: int) -> dict:
    """SimpleDirectoryReader -> SentenceSplitter -> VectorStoreIndex.from_documents into Chroma."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.vector_stores.chroma import ChromaVectorStore

    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    client = chromadb.PersistentClient(path=str(work / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    coll = client.get_or_create_collection("llama", metadata={"hnsw:space": "cosine"}, embedding_function=None)
    storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=coll))
    embed = llama_embedding(model, batch_size)
    splitter = SentenceSplitter(chunk_size=chunk_tokens, chunk_overlap=overlap)
    c = _clock()
    docs = SimpleDirectoryReader(input_files=[str(f) for f in files]).load_data(show_progress=False)
    VectorStoreIndex.from_documents(docs, storage_context=storage, embed_model=embed, transformations=[splitter])
    wall, cpu = _since(c)
    n = coll.count()
    return {"documents": len(docs), "chunks": n, "seconds": round(wall, 3), "cpu_seconds": round(cpu, 3),
            "chunks_per_s": round(n / wall, 3) if wall else None,
            "settings": {"splitter": f"SentenceSplitter(chunk_size={chunk_tokens}, chunk_overlap={overlap})",
                         "embed_batch_size": batch_size, "vector_store": "ChromaVectorStore (PersistentClient)"}}


def llama_available() -> str | None:
    """None when the llama-index route can run; otherwise why not."""
    try:
        import llama_index.vector_stores.chroma  # noqa: F401
    except ImportError:
        return "llama-index-vector-stores-chroma is not installed (pip install -e '.[bench]')"
    return None


# --- the whole ingest benchmark -------------------------------------------------------------
def run_ingest_bench(corpus: Path, work: Path, *, store_dir: Path | None = None, flush: int = 512,
                     llama: bool = True, llama_chunks: int | None = None, reingest: bool = True,
                     chroma_url: str | None = None, raw_fraction: float = 1.0, log: Log = print) -> dict:
    """Ingest throughput of the dossier pipeline against the raw embedder on the same chunk texts (half the
    raw slices embedded before the ingest, half after), optionally against plain llama-index on the same
    documents, then re-ingest, BM25 build and probes; the store is left under `store_dir` for the query bench."""
    from dossier.ingest.settings import IngestSettings

    corpus, work = Path(corpus), Path(work)
    info = json.loads((corpus / "corpus.json").read_text())
    files = corpus_files(corpus)
    settings = IngestSettings()
    store_dir = Path(store_dir or work / "store")
    out: dict = {"corpus": {k: info[k] for k in ("documents", "chunks", "words", "digest")} | {"path": str(corpus)},
                 "flush_chunks": flush, "store_dir": str(store_dir), "chroma": "server " + chroma_url if chroma_url else "embedded"}

    svc = open_service(store_dir, chroma_url)
    t = time.perf_counter()
    svc.embedder.embed(["warm-up sentence for the embedder."] * 8)
    out["model_load_s"] = round(time.perf_counter() - t, 3)
    batch = svc.index_settings.embed_batch_size
    out["embed_batch_size"] = batch

    log(f"ingest: chunking {len(files)} documents to get the texts the pipeline embeds")
    t = time.perf_counter()
    texts = chunk_texts(files, settings)
    out["chunk_texts_s"] = round(time.perf_counter() - t, 3)
    slices, every = _raw_slices(texts, flush, raw_fraction)
    chosen = slices[::every]  # raw_fraction < 1: an evenly spread sample of the same slices
    even, odd = chosen[0::2], chosen[1::2]

    from dossier.index.embedder import resolve_workers

    workers = resolve_workers(svc.index_settings.ingest_workers)
    out["ingest_workers"] = workers
    out["embedder_cores"] = _cores(svc.embedder, texts, workers, log)
    log(f"ingest: raw embedder, first half ({sum(map(len, even))} chunks, {workers} workers)")
    raw_a = raw_embed(svc.embedder, even, workers)

    log(f"ingest: dossier Ingestor on {len(files)} documents")
    ours = dossier_ingest(svc, corpus, [str(corpus / "docs")], flush)
    out["dossier"] = ours
    cat_texts = [c.text for c in svc.catalog.iter_chunks()]
    out["same_texts_as_raw"] = len(cat_texts) == len(texts) and _texts_digest(cat_texts) == _texts_digest(texts)

    why_not = None if llama else "disabled (--no-llama)"
    why_not = why_not or llama_available()
    if why_not is None:
        out["dossier_embedder"] = f"{svc.embedder.id} ({svc.embedder.backend}), batch {batch}"
        out["llama_index_route"] = _llama_route(svc, corpus, files, work, settings, ours, flush=flush, llama_chunks=llama_chunks,
                                                chroma_url=chroma_url, log=log)
    else:
        out["llama_index_route"] = {"skipped": why_not}

    log(f"ingest: raw embedder, second half ({sum(map(len, odd))} chunks)")
    raw_b = raw_embed(svc.embedder, odd, workers)
    out["raw_embedder"] = _raw_result(raw_a, raw_b, texts=texts, slices=slices, every=every, batch=batch)
    out["pipeline_vs_raw"] = ratio(ours["chunks_per_s"], out["raw_embedder"]["chunks_per_s"])
    out["pipeline_vs_raw_cpu"] = ratio(ours["chunks_per_cpu_s"], out["raw_embedder"]["chunks_per_cpu_s"])

    if reingest:
        out["reingest"] = _reingest(svc, corpus, flush, first_seconds=ours["seconds"], log=log)

    log("ingest: BM25 build (paid by the first query after an ingest)")
    t = time.perf_counter()
    svc.bm25.search("warm up", 1)
    out["bm25_build_s"] = round(time.perf_counter() - t, 3)
    out["pipeline_incl_bm25_vs_raw"] = ratio(ours["chunks"] / (ours["seconds"] + out["bm25_build_s"]),
                                             out["raw_embedder"]["chunks_per_s"])
    out["catalog_probe"] = catalog_probe(svc)
    out["truncation"] = truncation_probe(svc, texts)
    _write_store_record(store_dir, svc, info, ours, chroma_url)
    return out


def _raw_slices(texts: list[str], flush: int, raw_fraction: float) -> tuple[list[list[str]], int]:
    """The chunk texts in slices of one flush (at least four slices, so some run before and some after the
    ingest), and the stride that samples `raw_fraction` of them."""
    slices = [texts[i:i + flush] for i in range(0, len(texts), flush)]
    if len(slices) < 4:  # small corpora: still split before/after the ingest
        step = -(-len(texts) // 4)
        slices = [texts[i:i + step] for i in range(0, len(texts), step)]
    every = max(1, round(1 / raw_fraction)) if raw_fraction > 0 else 1
    return slices, every


def _llama_route(svc, corpus: Path, files: list[Path], work: Path, settings, ours: dict, *, flush: int,
                 llama_chunks: int | None, chroma_url: str | None, log: Log) -> dict:
    """Plain llama-index (from_documents into Chroma) against dossier on the same documents: the whole
    corpus, or its first documents up to `llama_chunks` chunks (dossier re-run on those, fresh store)."""
    # the llama-index route keeps its normal path: sentence-transformers (torch) with the same weights,
    # whatever backend dossier's embedder uses; both at the configured thread count
    if svc.embedder.backend == "torch":
        torch_emb = svc.embedder
    else:
        from dossier.index.embedder import Embedder

        torch_emb = Embedder(svc.index_settings.model_copy(update={"embed_backend": "torch"}))
    model = torch_emb._load()
    llama_batch = 64  # the batch size it was measured with before (llama-index's own default is 10)
    if llama_chunks and llama_chunks < ours["chunks"]:
        sub = _first_files(files, settings, llama_chunks)
        log(f"llama-index route: dossier on the first {len(sub)} documents (fresh store), then llama-index on the same")
        svc2 = open_service(work / "store-prefix", chroma_url)
        svc2.embedder = svc.embedder  # the same loaded model: no second load, same weights
        pair_ours = dossier_ingest(svc2, corpus, [str(f) for f in sub], flush)
        scope = f"the first {len(sub)} of {len(files)} documents ({pair_ours['chunks']} dossier chunks)"
    else:
        sub, pair_ours, scope = files, ours, f"the whole corpus ({len(files)} documents)"
        log("llama-index route on the whole corpus")
    lr = llama_ingest(sub, work / "llama", model, batch_size=llama_batch, chunk_tokens=settings.chunk_tokens,
                      overlap=settings.chunk_overlap)
    lr["embedding"] = (f"sentence-transformers {torch_emb.id} on torch, {svc.index_settings.torch_threads or 'default'} "
                       f"thread(s), batch {llama_batch}")
    return {
        "scope": scope, "llama_index": lr, "dossier": {k: pair_ours[k] for k in ("documents", "chunks", "seconds", "cpu_seconds", "chunks_per_s")},
        "docs_per_s": {"dossier": round(len(sub) / pair_ours["seconds"], 3), "llama_index": round(len(sub) / lr["seconds"], 3)},
        "speedup_same_documents": ratio(lr["seconds"], pair_ours["seconds"]),
        "speedup_chunks_per_s": ratio(pair_ours["chunks_per_s"], lr["chunks_per_s"]),
    }


def _first_files(files: list[Path], settings, max_chunks: int) -> list[Path]:
    """The first files, in order, until they hold at least `max_chunks` chunks."""
    sub, n = [], 0
    for f, k in _chunks_per_file(files, settings):
        if n >= max_chunks:
            break
        sub.append(f)
        n += k
    return sub


def _cores(embedder, texts: list[str], workers: int, log: Log, sample: int = 512) -> dict:
    """The raw embedder on one core and on `workers` (the ingest's default: every core), same texts, twice
    each in alternation (1, N, 1, N) so drift in the machine's load falls on both."""
    part = texts[:: max(1, len(texts) // sample)][:sample]
    log(f"ingest: raw embedder on 1 and {workers} workers ({len(part)} texts, alternating)")
    runs: dict[int, list[float]] = {1: [], workers: []}
    for w in (1, workers, 1, workers):
        t = time.perf_counter()
        embedder.embed(part, workers=w)
        runs[w].append(len(part) / (time.perf_counter() - t))
    one, many = sum(runs[1]) / len(runs[1]), sum(runs[workers]) / len(runs[workers])
    return {"texts": len(part), "workers": workers, "one_worker_chunks_per_s": round(one, 2),
            "all_workers_chunks_per_s": round(many, 2), "speedup": round(many / one, 3) if one else None}


def _raw_result(raw_a: dict, raw_b: dict, *, texts: list[str], slices: list[list[str]], every: int, batch: int) -> dict:
    """The raw embedder's figures from its runs before (`raw_a`) and after (`raw_b`) the ingest."""
    raw_n = raw_a["chunks"] + raw_b["chunks"]
    raw_s = raw_a["seconds"] + raw_b["seconds"]
    raw_cpu = raw_a["cpu_seconds"] + raw_b["cpu_seconds"]
    return {
        "chunks": raw_n, "seconds": round(raw_s, 3), "cpu_seconds": round(raw_cpu, 3),
        "chunks_per_s": round(raw_n / raw_s, 3) if raw_s else None,
        "chunks_per_cpu_s": round(raw_n / raw_cpu, 3) if raw_cpu else None,
        "before_ingest_chunks_per_s": round(raw_a["chunks"] / raw_a["seconds"], 3) if raw_a["seconds"] else None,
        "after_ingest_chunks_per_s": round(raw_b["chunks"] / raw_b["seconds"], 3) if raw_b["seconds"] else None,
        "per_slice_chunks_per_s": summary(raw_a["per_slice"] + raw_b["per_slice"], 3),
        "how": f"Embedder.embed on the pipeline's chunk texts in slices of {len(slices[0]) if slices else 0} (batch size {batch}); "
               + (f"every {every}th slice ({raw_n} of {len(texts)} texts); " if every > 1 else "all of them; ")
               + "alternate slices before and after the ingest",
    }


def _reingest(svc, corpus: Path, flush: int, *, first_seconds: float, log: Log) -> dict:
    """Re-ingest of the unchanged corpus: nothing should be embedded again."""
    log("ingest: re-ingest of the unchanged corpus")
    from dossier.index.indexer import Ingestor

    c = _clock()
    rep = Ingestor(svc, manifests=_manifests(corpus), flush_chunks=flush).run([str(corpus / "docs")])
    wall, cpu = _since(c)
    return {"seconds": round(wall, 3), "cpu_seconds": round(cpu, 3), "counts": rep.counts(),
            "embedded_chunks": rep.embedded_chunks, "fraction_of_first": ratio(wall, first_seconds, 4)}


def _write_store_record(store_dir: Path, svc, info: dict, ours: dict, chroma_url: str | None) -> None:
    """`bench-store.json`: what the store under `store_dir` holds, so the query bench can reuse it."""
    (store_dir / "bench-store.json").write_text(json.dumps({
        "corpus_digest": info["digest"], "chunks": ours["chunks"], "documents": ours["documents"],
        "embedder": svc.embedder.id, "fingerprint": svc.fingerprint, "ingest_seconds": ours["seconds"],
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "chroma_url": chroma_url or "",
    }, indent=2))


def _chunks_per_file(files: list[Path], settings):
    from dossier.ingest.chunking import chunk_document
    from dossier.ingest.language import detect_language
    from dossier.ingest.models import Document, DocumentMeta
    from dossier.ingest.readers import read_bytes

    for p in files:
        read = read_bytes(p.read_bytes(), p.name, settings)
        d = Document(doc_id="d", source=str(p), sha256="", format=read.format, text=read.text,
                     meta=DocumentMeta(language=detect_language(read.text)), headings=read.headings)
        yield p, len(chunk_document(d, settings))


def catalog_probe(svc, n: int = 50) -> dict:
    """The per-new-document catalog lookup by content hash: its query plan and latency at this size."""
    db = svc.catalog.db
    plan = " | ".join(r[-1] for r in db.execute("EXPLAIN QUERY PLAN SELECT doc_id FROM documents WHERE sha256=?", ("x",)))
    times = []
    for i in range(n):
        t = time.perf_counter()
        svc.catalog.by_sha(f"{i:064x}")
        times.append((time.perf_counter() - t) * 1000)
    docs = db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    return {"documents": docs, "by_sha_plan": plan, "by_sha_ms": summary(times, 3)}


def truncation_probe(embedder_svc, texts: list[str], sample: int = 500) -> dict:
    """How many chunks are longer than the embedder's max_seq_length (their tail is not embedded)."""
    from tokenizers import Tokenizer

    path = embedder_svc.embedder.path
    tok = Tokenizer.from_file(str(path / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    limit = int(json.loads((path / "sentence_bert_config.json").read_text()).get("max_seq_length") or 512)
    step = max(1, len(texts) // sample)
    part = texts[::step][:sample]
    lens = [len(e.ids) for e in tok.encode_batch(part)]
    over = [n for n in lens if n > limit]
    return {"max_seq_length": limit, "sampled": len(part), "wordpieces": summary([float(x) for x in lens], 1),
            "truncated_fraction": round(len(over) / len(part), 3) if part else None}
