"""`dossier bench ...` (registered through the `dossier.cli` entry point; `make bench` runs `dossier bench all`)."""
from __future__ import annotations

import contextlib
import json
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

import typer

bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks: ingest throughput, query latency, cold start, memory.")

SIZES = {"1k": 1_000, "10k": 10_000, "100k": 100_000, "1m": 1_000_000}
DEFAULT_WORK = Path(".bench")
DEFAULT_OUT = Path("eval/bench-results")



def parse_size(s: str | int) -> int:
    if isinstance(s, int):
        return s
    t = s.strip().lower().replace("_", "").replace(",", "")
    if t in SIZES:
        return SIZES[t]
    if t.endswith("k") and t[:-1].isdigit():
        return int(t[:-1]) * 1000
    if t.endswith("m") and t[:-1].isdigit():
        return int(t[:-1]) * 1_000_000
    if t.isdigit():
        return int(t)
    raise typer.BadParameter(f"expected a chunk count like 1000, 10k, 100k or 1m, got {s!r}")


def _log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _label(n: int) -> str:
    from .report import size_label

    return size_label(n).lower()


def corpus_dir(work: Path, chunks: int, seed: int) -> Path:
    return Path(work) / f"corpus-{_label(chunks)}-s{seed}"


def store_dir(work: Path, chunks: int, seed: int, server: bool) -> Path:
    return Path(work) / "stores" / f"{_label(chunks)}-s{seed}{'-server' if server else ''}"


def server_path(store: Path) -> Path:
    return store.parent / (store.name + "-chroma")


def _ensure_corpus(work: Path, chunks: int, seed: int) -> tuple[Path, dict]:
    from .corpus import ensure_corpus

    d = corpus_dir(work, chunks, seed)
    _log(f"corpus {_label(chunks)} (seed {seed}) in {d}")
    info = ensure_corpus(chunks, d, seed, log=_log)
    _log(f"corpus: {info['documents']} documents, {info['chunks']} chunks ({'reused' if info.get('reused') else 'generated'})")
    return d, info


@contextlib.contextmanager
def _maybe_server(store: Path, server: bool, wipe: bool = False):
    if not server:
        yield None
        return
    from .server import chroma_server

    path = server_path(store)
    if wipe and path.exists():
        shutil.rmtree(path)
    with chroma_server(path) as url:
        _log(f"chroma server at {url} (data in {path})")
        yield url


def store_ok(store: Path, corpus_info: dict) -> dict | None:
    """The store's record when it holds exactly this corpus with the configured embedder and chunking."""
    rec_path = Path(store) / "bench-store.json"
    if not rec_path.is_file():
        return None
    rec = json.loads(rec_path.read_text())
    from dossier.index.settings import IndexSettings
    from dossier.ingest.chunking import chunking_fingerprint
    from dossier.ingest.settings import IngestSettings

    want_fp = chunking_fingerprint(IngestSettings())
    if rec.get("corpus_digest") != corpus_info["digest"] or rec.get("fingerprint") != want_fp:
        return None
    from dossier.index.embedder import Embedder

    if IndexSettings().embed_model != "bundled" or rec.get("embedder") != Embedder(IndexSettings()).id:
        return None
    if rec.get("chunks") != corpus_info["chunks"]:
        return None
    return rec


class ReusedVectors:
    """Stands in for Embedder.embed while building a large store for query latency only: the first
    `real` chunk texts are embedded by the real embedder; every later chunk gets the vector of real chunk
    (i mod real) plus seeded Gaussian noise (norm ~`noise`), renormalised. Texts, catalog and BM25 stay
    real; dense results for chunks past the first `real` do not match their text, so the store measures
    latency and memory at its size, not retrieval quality."""

    def __init__(self, embed, real: int, seed: int = 0, noise: float = 0.5):
        import numpy as np

        self.np, self.embed, self.real, self.seed, self.noise = np, embed, real, seed, noise
        self.base = None  # (real, dim) array once filled
        self.done = 0
        self.real_embedded = 0

    def __call__(self, texts, batch_size=None, workers=1):
        np = self.np
        out = []
        n_real = max(0, min(len(texts), self.real - self.done))
        if n_real:
            vecs = np.asarray(self.embed(list(texts[:n_real]), batch_size, workers), dtype=np.float32)
            self.base = vecs if self.base is None else np.vstack([self.base, vecs])
            self.real_embedded += n_real
            out.extend(vecs.tolist())
        rest = len(texts) - n_real
        if rest:
            idx = np.arange(self.done + n_real, self.done + len(texts))
            base = self.base[idx % len(self.base)]
            rng = np.random.default_rng([self.seed, int(idx[0])])
            noisy = base + rng.normal(0.0, self.noise / np.sqrt(base.shape[1]), size=base.shape).astype(np.float32)
            noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
            out.extend(noisy.tolist())
        self.done += len(texts)
        return out


def build_store(corpus: Path, store: Path, chroma_url: str | None, real_vectors: int | None = None) -> dict:
    """Ingest the corpus into a fresh store (no comparisons): for query benchmarks at sizes whose
    full ingest benchmark does not fit the time budget. real_vectors: embed only that many chunks for
    real and give the rest perturbed copies of them (ReusedVectors), recorded in bench-store.json."""
    from dossier.index.indexer import IngestListener

    from .ingest_bench import dossier_ingest, open_service

    class _StoreProgress(IngestListener):
        """A log line every 2% of the documents (a 1M build takes most of an hour)."""

        def __init__(self, total: int):
            self.step, self.t0, self.next = max(1, total // 50), time.perf_counter(), 0

        def result(self, result, done: int, total: int) -> None:
            if done >= self.next or done == total:
                self.next = done + self.step
                dt = time.perf_counter() - self.t0
                _log(f"store: {done:,}/{total:,} documents in {dt:,.0f} s ({done / dt if dt else 0:,.1f} documents/s)")

    info = json.loads((corpus / "corpus.json").read_text())
    svc = open_service(store, chroma_url, vector_cache=not real_vectors)
    svc.embedder.embed(["warm-up"])
    reused = None
    if real_vectors and real_vectors < info["chunks"]:
        reused = ReusedVectors(svc.embedder.embed, real_vectors)
        svc.embedder.embed = reused
    res = dossier_ingest(svc, corpus, [str(corpus / "docs")], 512, listener=_StoreProgress(info["documents"]))
    if reused is not None:
        del svc.embedder.embed  # the instance attribute: back to the real method
        res["vectors"] = {"real": reused.real_embedded, "perturbed_copies": reused.done - reused.real_embedded,
                          "noise_norm": reused.noise, "how": " ".join((ReusedVectors.__doc__ or "").split())}
    t = time.perf_counter()
    svc.bm25.search("warm up", 1)
    res["bm25_build_s"] = round(time.perf_counter() - t, 3)
    (store / "bench-store.json").write_text(json.dumps({
        "corpus_digest": info["digest"], "chunks": res["chunks"], "documents": res["documents"], "embedder": svc.embedder.id,
        "fingerprint": svc.fingerprint, "ingest_seconds": res["seconds"], "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "chroma_url": chroma_url or "", "vectors": res.get("vectors") or {"real": res["chunks"], "perturbed_copies": 0},
        "bm25_build_s": res["bm25_build_s"],
    }, indent=2))
    return res


def _new_result(command: str) -> dict:
    from .machine import machine_info

    return {"command": command, "started_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "machine": machine_info(Path.cwd()),
            "notes": []}


def _finish(result: dict, out: Path, name: str, t0: float) -> None:
    from .machine import load_average
    from .report import markdown, targets, write

    result["total_seconds"] = round(time.perf_counter() - t0, 1)
    result["load_average_at_end"] = load_average()
    result["targets"] = targets(result)
    j, md = write(result, out, name)
    print(markdown(result))
    _log(f"wrote {j} and {md}")


def _command() -> str:
    args = sys.argv[1:]
    return "dossier " + " ".join(shlex.quote(a) for a in args)


# --- commands ---------------------------------------------------------------------------------
@bench_app.command("corpus")
def corpus_cmd(
    chunks: str = typer.Option("10k", "--chunks", help="About how many chunks the corpus should yield: 1000, 10k, 100k, 1m."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder (default .bench/corpus-SIZE-sSEED)."),
    seed: int = typer.Option(0, "--seed", help="Seed: the same seed and size give byte-identical files."),
    force: bool = typer.Option(False, "--force", help="Regenerate even when OUT already holds this corpus."),
):
    """Write a seeded synthetic corpus (.txt documents, manifest.tsv, queries.jsonl, corpus.json)."""
    from .corpus import ensure_corpus, generate_corpus

    n = parse_size(chunks)
    d = out or corpus_dir(DEFAULT_WORK, n, seed)
    info = (generate_corpus if force else ensure_corpus)(n, d, seed, log=_log)
    print(json.dumps(info | {"path": str(d)}, indent=2))


@bench_app.command("ingest")
def ingest_cmd(
    chunks: str = typer.Option("10k", "--chunks", help="Corpus size in chunks."),
    seed: int = typer.Option(0, "--seed"),
    work: Path = typer.Option(DEFAULT_WORK, "--work", help="Where corpora and stores live (git-ignored)."),
    flush: int = typer.Option(512, "--flush", help="Chunks per embed+write flush (the Ingestor's flush_chunks)."),
    llama: bool = typer.Option(True, "--llama/--no-llama", help="Also time the plain llama-index route."),
    llama_chunks: Optional[str] = typer.Option(None, "--llama-chunks", help="Run the llama-index pair on a prefix of the corpus of about this many chunks (default: the whole corpus)."),
    chroma_server: bool = typer.Option(False, "--chroma-server", help="Write to a `chroma run` server on 127.0.0.1 instead of embedded Chroma."),
    raw_fraction: float = typer.Option(1.0, "--raw-fraction", min=0.01, max=1.0, help="Share of the chunk texts the raw embedder run re-embeds (an evenly spread sample of the same texts)."),
    out: Path = typer.Option(DEFAULT_OUT, "--out", help="Results folder."),
    name: Optional[str] = typer.Option(None, "--name", help="Result file name (default ingest-SIZE)."),
):
    """Ingest throughput beside the raw embedder and the plain llama-index route; re-ingest time."""
    from .ingest_bench import run_ingest_bench

    t0 = time.perf_counter()
    n = parse_size(chunks)
    result = _new_result(_command())
    corpus, info = _ensure_corpus(work, n, seed)
    result["corpus"] = info
    st = store_dir(work, n, seed, chroma_server)
    with _maybe_server(st, chroma_server, wipe=True) as url:
        result["ingest"] = run_ingest_bench(corpus, work / "ingest-work", store_dir=st, flush=flush, llama=llama,
                                            llama_chunks=parse_size(llama_chunks) if llama_chunks else None,
                                            chroma_url=url, raw_fraction=raw_fraction, log=_log)
    _finish(result, out, name or f"ingest-{_label(n)}", t0)


@bench_app.command("store")
def store_cmd(
    chunks: str = typer.Option("100k", "--chunks", help="Corpus size in chunks."),
    seed: int = typer.Option(0, "--seed"),
    work: Path = typer.Option(DEFAULT_WORK, "--work"),
    chroma_server: bool = typer.Option(False, "--chroma-server", help="Store vectors in a `chroma run` server (kept under WORK/stores)."),
    real_vectors: Optional[str] = typer.Option(None, "--real-vectors", help="Embed only this many chunks for real; the rest get seeded "
                                               "perturbed copies of their vectors (a latency/memory store; results say so)."),
    if_missing: bool = typer.Option(False, "--if-missing", help="Keep an existing store that matches the corpus, embedder and chunking."),
):
    """Build (ingest) a store for `bench query` / `bench all` to reuse, without the comparisons."""
    n = parse_size(chunks)
    corpus, info = _ensure_corpus(work, n, seed)
    st = store_dir(work, n, seed, chroma_server)
    if if_missing and (rec := store_ok(st, info)) is not None:
        _log(f"store: {st} already holds this corpus ({rec.get('chunks')} chunks): kept")
        return
    with _maybe_server(st, chroma_server, wipe=True) as url:
        res = build_store(corpus, st, url, real_vectors=parse_size(real_vectors) if real_vectors else None)
    print(json.dumps({k: res.get(k) for k in ("documents", "chunks", "seconds", "chunks_per_s", "bm25_build_s", "vectors")} | {"store": str(st)}, indent=2))


def _embed_texts(work: Path, seed: int, n: int) -> list[str]:
    from dossier.ingest.settings import IngestSettings

    from .ingest_bench import chunk_texts, corpus_files

    corpus, _ = _ensure_corpus(work, 1000, seed)
    return chunk_texts(corpus_files(corpus), IngestSettings())[:n]


@bench_app.command("embedders")
def embedders_cmd(
    texts: int = typer.Option(256, "--texts", help="Chunk texts of the 1k corpus embedded by each backend."),
    seed: int = typer.Option(0, "--seed"),
    work: Path = typer.Option(DEFAULT_WORK, "--work"),
    out: Path = typer.Option(DEFAULT_OUT, "--out"),
    name: str = typer.Option("embedders", "--name"),
):
    """Embedder backends (torch, onnx, onnx-int8) side by side: chunks/s, cosine to torch, cold load."""
    from .embed_bench import run_embed_bench

    t0 = time.perf_counter()
    result = _new_result(_command())
    result["embedders"] = run_embed_bench(_embed_texts(work, seed, texts), log=_log)
    _finish(result, out, name, t0)


def _bm25_sizes(work: Path, seed: int, sizes: list[int]) -> dict:
    from .bm25_bench import bm25_probe, extrapolate_1m

    rows = []
    for n in sizes:
        corpus, info = _ensure_corpus(work, n, seed)
        st = store_dir(work, n, seed, False)
        if store_ok(st, info) is None:
            continue
        _log(f"bm25: load and search at {_label(n)} (fresh process)")
        r = bm25_probe(st, corpus / "queries.jsonl")
        if "error" not in r:
            rows.append(r)
    return {"sizes": rows, "extrapolation_1m": extrapolate_1m(rows)}


@bench_app.command("bm25")
def bm25_cmd(
    chunks: str = typer.Option("10k,100k", "--chunks", help="Sizes whose stores exist."),
    seed: int = typer.Option(0, "--seed"),
    work: Path = typer.Option(DEFAULT_WORK, "--work"),
    out: Path = typer.Option(DEFAULT_OUT, "--out"),
    name: str = typer.Option("bm25", "--name"),
):
    """BM25 load time, memory and search latency at the given store sizes; 1M extrapolated."""
    t0 = time.perf_counter()
    result = _new_result(_command())
    result["bm25"] = _bm25_sizes(work, seed, [parse_size(x) for x in chunks.split(",") if x.strip()])
    _finish(result, out, name, t0)


def _query_one(work: Path, n: int, seed: int, server: bool, *, queries: int, warmup: int, build: bool,
               budget_left: float | None = None, probe_rate: float | None = None, one_thread: bool = True) -> dict:
    from .query_bench import run_query_bench

    corpus, info = _ensure_corpus(work, n, seed)
    st = store_dir(work, n, seed, server)
    rec = store_ok(st, info)
    if rec is None and not build:
        est = f"; building it takes about {info['chunks'] / probe_rate / 60:.0f} min at {probe_rate:.1f} chunks/s" if probe_rate else ""
        return {"skipped": f"no {_label(n)} store in {st} (build it with `dossier bench store --chunks {_label(n)}`){est}"}
    if rec is None and budget_left is not None and probe_rate and info["chunks"] / probe_rate > budget_left:
        return {"skipped": f"no {_label(n)} store, and building it (~{info['chunks'] / probe_rate / 60:.0f} min) does not fit the budget"}
    with _maybe_server(st, server, wipe=rec is None) as url:
        built = None
        if rec is None:
            _log(f"query: building the {_label(n)} store first")
            built = build_store(corpus, st, url)
            rec = store_ok(st, info)
        res = run_query_bench(st, corpus, queries=queries, warmup=warmup, chroma_url=url, one_thread_too=one_thread, log=_log)
    res["store_record"] = rec
    if built:
        res["store_built_now"] = {k: built[k] for k in ("chunks", "seconds", "chunks_per_s", "bm25_build_s")}
    return res


@bench_app.command("query")
def query_cmd(
    chunks: str = typer.Option("10k", "--chunks", help="Store size(s), comma-separated: 10k,100k."),
    seed: int = typer.Option(0, "--seed"),
    work: Path = typer.Option(DEFAULT_WORK, "--work"),
    queries: int = typer.Option(100, "--queries", help="Measured queries (each for retrieval and for answers, disjoint sets)."),
    warmup: int = typer.Option(10, "--warmup", help="Warm-up questions answered first and not counted."),
    build: bool = typer.Option(True, "--build/--no-build", help="Build a missing store first (slow at 100k: ~embedder speed)."),
    chroma_server: bool = typer.Option(False, "--chroma-server", help="Query through a `chroma run` server (the 1M path)."),
    one_thread: bool = typer.Option(True, "--one-thread/--no-one-thread", help="Also measure, interleaved, with torch at 1 thread."),
    out: Path = typer.Option(DEFAULT_OUT, "--out"),
    name: Optional[str] = typer.Option(None, "--name", help="Result file name (default query-SIZES)."),
):
    """Retrieval and extractive answer latency p50/p95/p99 over stores of the given sizes."""
    t0 = time.perf_counter()
    sizes = [parse_size(s) for s in chunks.split(",") if s.strip()]
    result = _new_result(_command())
    result["query"] = {}
    for n in sizes:
        result["query"][str(n)] = _query_one(work, n, seed, chroma_server, queries=queries, warmup=warmup, build=build,
                                             one_thread=one_thread)
    _finish(result, out, name or "query-" + "-".join(_label(n) for n in sizes), t0)


def _server_rss_mib(url: str) -> float | None:
    """RSS of the chroma server started here for `url`."""
    import psutil

    from .server import SERVER_PIDS

    try:
        return round(psutil.Process(SERVER_PIDS[url]).memory_info().rss / 1048576, 1)
    except (KeyError, psutil.Error):
        return None


@bench_app.command("million")
def million_cmd(
    chunks: str = typer.Option("1m", "--chunks", help="Store size (1m; a smaller server store only to try the command)."),
    seed: int = typer.Option(0, "--seed"),
    work: Path = typer.Option(DEFAULT_WORK, "--work"),
    queries: int = typer.Option(100, "--queries", help="Measured queries (each for retrieval and for answers, disjoint sets)."),
    warmup: int = typer.Option(10, "--warmup"),
    out: Path = typer.Option(DEFAULT_OUT, "--out"),
    name: str = typer.Option("million", "--name"),
):
    """1M chunks through a `chroma run` server (#14): retrieval and extractive answer latency, the peak RSS of an app
    process holding the store while answering (what `serve` holds) and the chroma server's RSS, and BM25 at 1M for
    real (load, size on disk, search latency). Needs the store: `dossier bench store --chunks 1m --chroma-server
    --real-vectors 5000` (about 40 min here)."""
    from .bm25_bench import bm25_probe
    from .coldstart import memory_probe
    from .query_bench import run_query_bench

    t0 = time.perf_counter()
    n = parse_size(chunks)
    corpus, st = corpus_dir(work, n, seed), store_dir(work, n, seed, True)
    build = f"`dossier bench store --chunks {_label(n)} --chroma-server --real-vectors 5000`"
    if not (corpus / "corpus.json").is_file():
        raise typer.BadParameter(f"no {_label(n)} corpus in {corpus}: run {build} first")
    info = json.loads((corpus / "corpus.json").read_text())
    rec = store_ok(st, info)
    if rec is None:
        raise typer.BadParameter(f"no finished {_label(n)} server store in {st}: run {build} first")
    result = _new_result(_command())
    result["corpus"] = {k: info[k] for k in ("documents", "chunks", "words", "digest") if k in info}
    with _maybe_server(st, True) as url:
        q = run_query_bench(st, corpus, queries=queries, warmup=warmup, chroma_url=url, one_thread_too=False, log=_log)
        q["store_record"] = rec
        result["query"] = {str(n): q}
        _log(f"memory: peak RSS of an app process answering from the {_label(n)} store")
        mem = memory_probe(st, corpus, chroma_url=url)
        path = server_path(st)
        result["million"] = {"memory": mem, "chroma_server": {
            "rss_mib": _server_rss_mib(url),
            "disk_mib": round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1048576, 1)}}
    _log(f"bm25: build, load, size and search latency at {_label(n)}")
    with tempfile.TemporaryDirectory(dir=work) as tmp:  # a build from the catalog, then the persisted index's load
        rows = [bm25_probe(st, corpus / "queries.jsonl", index_dir=Path(tmp), timeout=3600), bm25_probe(st, corpus / "queries.jsonl")]
    result["bm25"] = {"sizes": rows}
    _finish(result, out, name, t0)


@bench_app.command("multilingual")
def multilingual_cmd(
    chunks: str = typer.Option("10k", "--chunks", help="Size of the bench store to measure on (built by `bench store`)."),
    seed: int = typer.Option(0, "--seed"),
    work: Path = typer.Option(DEFAULT_WORK, "--work"),
    queries: int = typer.Option(100, "--queries"),
    out: Path = typer.Option(DEFAULT_OUT, "--out"),
    name: Optional[str] = typer.Option(None, "--name"),
):
    """Sources in other languages (#16): multilingual encoder speed, per-chunk language and sync cost at ingest, and
    retrieval p50 before and after every chunk of a copy of the bench store gets multilingual vectors."""
    from .multilingual_bench import run_multilingual_bench

    t0 = time.perf_counter()
    n = parse_size(chunks)
    store, corpus = store_dir(work, n, seed, False), corpus_dir(work, n, seed)
    if not (store / "catalog.sqlite").exists():
        raise typer.BadParameter(f"no bench store at {store}: run `dossier bench store --chunks {chunks}` first")
    result = _new_result(_command())
    result["multilingual"] = run_multilingual_bench(store, corpus, work, queries=queries, log=_log)
    _finish(result, out, name or f"multilingual-{_label(n)}", t0)


@bench_app.command("coldstart")
def coldstart_cmd(
    chunks: str = typer.Option("10k", "--chunks", help="Size of the (existing) store to answer from."),
    seed: int = typer.Option(0, "--seed"),
    work: Path = typer.Option(DEFAULT_WORK, "--work"),
    repeats: int = typer.Option(3, "--repeats"),
    out: Path = typer.Option(DEFAULT_OUT, "--out"),
    name: Optional[str] = typer.Option(None, "--name"),
):
    """Cold `dossier ask` (fresh process to printed answer), serve to first answer, peak RSS."""
    t0 = time.perf_counter()
    n = parse_size(chunks)
    result = _new_result(_command())
    corpus, info = _ensure_corpus(work, n, seed)
    st = store_dir(work, n, seed, False)
    if store_ok(st, info) is None:
        raise typer.BadParameter(f"no {_label(n)} store in {st}: run `dossier bench store --chunks {_label(n)}` first")
    _cold(result, corpus, st, info, repeats)
    _finish(result, out, name or f"coldstart-{_label(n)}", t0)


def _cold(result: dict, corpus: Path, st: Path, info: dict, repeats: int) -> None:
    from .coldstart import cold_ask, memory_probe, serve_first_answer
    from .corpus import read_queries

    qs = read_queries(corpus)
    q = qs[-1]["question"]
    _log(f"cold start: `dossier ask` x{repeats} on {info['chunks']} chunks")
    result["cold_start"] = {"ask": cold_ask(st, q, repeats), "store_chunks_label": f"{info['chunks']} chunks"}
    _log("cold start: `dossier serve` to first answer, then 20 answers; serve's peak RSS")
    result["cold_start"]["serve"] = serve_first_answer(st, qs[-2]["question"], questions=[x["question"] for x in qs[-22:-2]])
    _log("memory: peak RSS of a process answering from the store")
    result["memory"] = memory_probe(st, corpus)


def _probe(work: Path, seed: int, n: int = 128) -> dict:
    """Raw embedder throughput on n chunk texts of the 1k corpus (what the plan is sized by)."""
    from dossier.index.embedder import Embedder
    from dossier.index.settings import IndexSettings
    from dossier.ingest.settings import IngestSettings

    from .ingest_bench import chunk_texts, corpus_files

    corpus, _ = _ensure_corpus(work, 1000, seed)
    texts = chunk_texts(corpus_files(corpus)[:60], IngestSettings())[:n]
    emb = Embedder(IndexSettings())
    t = time.perf_counter()
    emb.embed(["warm-up"] * 4)
    load = time.perf_counter() - t
    t = time.perf_counter()
    emb.embed(texts)
    dt = time.perf_counter() - t
    return {"chunks": len(texts), "seconds": round(dt, 3), "chunks_per_s": round(len(texts) / dt, 3),
            "model_load_s": round(load, 3), "batch_size": IndexSettings().embed_batch_size}


def plan_note(rows: list[dict], chosen: int, budget_min: float, rate: float, *, forced: bool) -> str:
    """What the plan says in words: which size ran, and which sizes do not fit the budget and why."""
    over = [r for r in rows if not r["fits"] and r["chunks"] >= chosen]
    parts = [f"Ingest benchmark at {_label(chosen)} chunks" + (" (--size given)" if forced else " (the largest size that fits)") + "."]
    if over:
        parts.append(f"Over the {budget_min:g}-minute budget on this machine: " + "; ".join(
            f"{r['label']} ~{r['estimated_s'] / 60:.0f} min, of which embedding alone ~{r['chunks'] / rate / 60:.0f} min"
            for r in over) + f" (at the probed {rate:.1f} chunks/s).")
    parts.append("Every figure is labelled with the store size it was measured at.")
    return " ".join(parts)


def estimate_seconds(n: int, rate: float, *, llama_chunks: int, queries: int, warmup: int, raw_fraction: float = 1.0,
                     one_thread: bool = True, llama_rate: float | None = None) -> float:
    """A deliberately conservative estimate of `bench all` at n chunks: embedding dominates. The
    llama-index route embeds with sentence-transformers (torch): llama_rate, when the default backend differs."""
    pair = min(llama_chunks, n) * 1.15
    embed = ((1 + raw_fraction) * n + pair) / rate + pair / (llama_rate or rate)  # ours + raw, then the llama-index pair
    fixed = n / 1500 + n / 1500 + n / 4000  # corpus generation, chunking for the raw run, re-ingest + BM25
    answers = (warmup + 2 * queries * (2 if one_thread else 1)) * 1.0 + 2 * 60  # query bench; cold start, memory probe
    return embed + fixed + answers + 60


@bench_app.command("all")
def all_cmd(
    size: str = typer.Option("auto", "--size", help="Ingest size: auto (the largest of 100k/10k/1k that fits the budget) or a size."),
    budget_min: float = typer.Option(15.0, "--budget-min", help="Time budget for `auto` (minutes)."),
    million: bool = typer.Option(False, "--million", help="Consider 1M chunks too (through a `chroma run` server)."),
    query_sizes: str = typer.Option("10k,100k", "--query-sizes", help="Also measure queries at these sizes when their stores exist (see `bench store`)."),
    llama_chunks: str = typer.Option("2000", "--llama-chunks", help="Size of the corpus prefix for the llama-index pair (0: whole corpus)."),
    queries: int = typer.Option(100, "--queries"),
    warmup: int = typer.Option(10, "--warmup"),
    raw_fraction: float = typer.Option(1.0, "--raw-fraction", min=0.01, max=1.0, help="Share of the chunk texts the raw embedder run re-embeds."),
    one_thread: bool = typer.Option(True, "--one-thread/--no-one-thread", help="Also measure queries, interleaved, with torch at 1 thread (torch backend only)."),
    seed: int = typer.Option(0, "--seed"),
    work: Path = typer.Option(DEFAULT_WORK, "--work"),
    out: Path = typer.Option(DEFAULT_OUT, "--out"),
    name: str = typer.Option("latest", "--name"),
):
    """Everything, sized to the budget: probe the embedder, ingest bench, query bench, cold start, memory."""
    t0 = time.perf_counter()
    result = _new_result(_command())
    budget = budget_min * 60
    lc = parse_size(llama_chunks)
    _log("probe: raw embedder throughput")
    probe = _probe(work, seed)
    rate = probe["chunks_per_s"]
    from .embed_bench import run_embed_bench

    result["embedders"] = run_embed_bench(_embed_texts(work, seed, 192), log=_log)
    torch_rate = next((b["chunks_per_s"] for b in result["embedders"]["backends"] if b["backend"] == "torch"), None) or rate
    cands = ([1_000_000] if million else []) + [100_000, 10_000, 1_000]
    rows = []
    for n in cands:
        est = estimate_seconds(n, rate, llama_chunks=lc or n, queries=queries, warmup=warmup, raw_fraction=raw_fraction,
                               one_thread=one_thread, llama_rate=torch_rate)
        rows.append({"label": _label(n), "chunks": n, "estimated_s": round(est), "fits": est <= budget})
    if size == "auto":
        fitting = [r for r in rows if r["fits"]]
        chosen = (fitting[0] if fitting else rows[-1])["chunks"]
    else:
        chosen = parse_size(size)
    note = plan_note(rows, chosen, budget_min, rate, forced=size != "auto")
    result["plan"] = {"probe_chunks_per_s": rate, "probe_chunks": probe["chunks"], "batch_size": probe["batch_size"],
                      "budget_s": budget, "sizes": rows, "chosen": _label(chosen), "note": note, "probe": probe}
    _log(note)
    server = chosen >= 1_000_000
    corpus, info = _ensure_corpus(work, chosen, seed)
    result["corpus"] = info
    st = store_dir(work, chosen, seed, server)
    with _maybe_server(st, server, wipe=True) as url:
        from .ingest_bench import run_ingest_bench

        result["ingest"] = run_ingest_bench(corpus, work / "ingest-work", store_dir=st, llama=True,
                                            llama_chunks=lc or None, chroma_url=url, raw_fraction=raw_fraction, log=_log)
    result["query"] = {}
    sizes = [chosen] + [n for n in (parse_size(s) for s in query_sizes.split(",") if s.strip()) if n != chosen]
    if million and 1_000_000 not in sizes:
        sizes.append(1_000_000)
    for n in sizes:
        left = budget - (time.perf_counter() - t0)
        result["query"][str(n)] = _query_one(work, n, seed, n >= 1_000_000, queries=queries, warmup=warmup,
                                             build=False, budget_left=left, probe_rate=rate, one_thread=one_thread)
    measured = [int(k) for k, v in result["query"].items() if "retrieval" in v and int(k) < 1_000_000]
    result["bm25"] = _bm25_sizes(work, seed, sorted(measured))
    big = max(measured) if measured else chosen
    cinfo = _ensure_corpus(work, big, seed)
    _cold(result, cinfo[0], store_dir(work, big, seed, False), cinfo[1], 3)
    result["check"] = _check(work)
    result["notes"] += _auto_notes(result)
    _finish(result, out, name, t0)


def _check(work: Path, repeats: int = 3) -> dict:
    """The draft-check timing (a failure is recorded, the other figures stand)."""
    from .check_bench import run_check_bench

    try:
        return run_check_bench(work / "check", repeats=repeats, log=_log)
    except Exception as exc:  # recorded in the results, not fatal to a long bench run
        return {"error": f"{type(exc).__name__}: {exc}"}


@bench_app.command("check")
def check_cmd(
    repeats: int = typer.Option(3, "--repeats", min=1),
    work: Path = typer.Option(DEFAULT_WORK, "--work"),
    out: Path = typer.Option(DEFAULT_OUT, "--out"),
    name: str = typer.Option("check", "--name"),
):
    """A 100-sentence draft through `dossier check` (fresh process, spawn to exit) and in process."""
    t0 = time.perf_counter()
    result = _new_result(_command())
    result["check"] = _check(work, repeats)
    _finish(result, out, name, t0)


@bench_app.command("folder")
def folder_cmd(
    work: Path = typer.Option(DEFAULT_WORK / "folder", "--work", help="Scratch folder (wiped first)."),
    pdf_pages: int = typer.Option(2000, "--pdf-pages", min=1, help="Pages of the generated PDF."),
    out: Path = typer.Option(DEFAULT_OUT, "--out"),
    name: str = typer.Option("folder", "--name"),
):
    """`dossier ingest` as a user meets it: 16 mixed and hostile files plus a 10 MB single-line file, a
    2,000-page PDF, and a 500-chunk document edited in one paragraph (time, peak memory, re-embedded share)."""
    from .folder_bench import run_folder_bench

    t0 = time.perf_counter()
    result = _new_result(_command())
    result["folder"] = run_folder_bench(work, log=_log, pdf_pages=pdf_pages)
    _finish(result, out, name, t0)


def _auto_notes(result: dict) -> list[str]:
    notes = []
    ing = result.get("ingest") or {}
    cp = ing.get("catalog_probe") or {}
    if "SCAN" in cp.get("by_sha_plan", ""):
        notes.append(f"Catalog.by_sha (run once per new document during ingest) is a full table scan "
                     f"(`{cp['by_sha_plan']}`): {cp['by_sha_ms'].get('median')} ms at {cp['documents']:,} documents, growing "
                     "linearly, so ingest is quadratic in the number of documents; an index on documents(sha256) fixes it.")
    tr = ing.get("truncation") or {}
    if tr.get("truncated_fraction"):
        notes.append(f"{tr['truncated_fraction']:.0%} of chunks are longer than the embedder's max_seq_length ({tr['max_seq_length']} word pieces; "
                     f"chunks are {tr['wordpieces'].get('median')} at the median): their tails are never embedded.")
    ll = ing.get("llama_index_route") or {}
    if ll.get("speedup_same_documents") is not None and ll["speedup_same_documents"] < 2:
        emb = {b["backend"]: b for b in (result.get("embedders") or {}).get("backends", [])}
        mine = (ing.get("dossier_embedder") or "").split("(")[-1].split(")")[0]
        if mine and mine != "torch" and emb.get(mine):
            notes.append(f"dossier embeds with {mine} ({emb[mine]['vs_torch']}x torch's chunks/s in the embedders table), llama-index "
                         f"with sentence-transformers on torch; the ingest ratio is bounded by that embedder ratio, since both "
                         f"routes spend most of their time embedding.")
        else:
            notes.append("Both ingest routes are bound by the same embedder (MiniLM on 2 CPU cores), so no pipeline-only change can reach "
                         "2x over llama-index; only a cheaper embedder path (quantized/ONNX, shorter sequences) can.")
    d = ing.get("dossier") or {}
    calls = d.get("calls") or {}
    if calls.get("store_upsert") and d.get("documents") and calls["store_upsert"] >= d["documents"]:
        notes.append(f"The Ingestor writes vectors with one Chroma upsert per document ({calls['store_upsert']:,} calls, "
                     f"{d['stages_s']['store_upsert']} s) and one SQLite transaction per document "
                     f"({d['stages_s']['catalog_put_document']} s): one upsert per flush would cut the calls "
                     f"{calls['store_upsert'] / max(1, calls.get('embed', 1)):.0f}-fold (each is an HTTP request in server mode).")
    if ing.get("bm25_build_s") is not None:
        notes.append(f"BM25 is rebuilt from every chunk by the first query after any catalog change: {ing['bm25_build_s']} s at "
                     f"{d.get('chunks', 0):,} chunks (linear in the corpus; not part of the Ingestor's time).")
    for size, q in (result.get("query") or {}).items():
        if "skipped" in q:
            notes.append(f"Queries at {_label(int(size))}: {q['skipped']}.")
            continue
        ex = q.get("experiment_one_torch_thread")
        if ex:
            notes.append(
                f"At {_label(int(size))}: with torch at 1 thread (interleaved in the same process) retrieval p50/p95 "
                f"{ex['retrieval']['latency_ms']['p50']}/{ex['retrieval']['latency_ms']['p95']} ms vs "
                f"{q['retrieval']['latency_ms']['p50']}/{q['retrieval']['latency_ms']['p95']} ms at the default "
                f"{q.get('torch_threads')} threads; answers {ex['answer']['latency_ms']['p50']}/{ex['answer']['latency_ms']['p95']} "
                f"vs {q['answer']['latency_ms']['p50']}/{q['answer']['latency_ms']['p95']} ms.")
        st = q["answer"].get("stages_median_ms") or {}
        if st.get("answer") and st.get("total"):
            notes.append(f"At {_label(int(size))}: the extractive engine's own step (it embeds candidate sentences of the {q['k']} "
                         f"passages at question time) is {st['answer']:.0f} of {st['total']:.0f} ms (median); "
                         f"retrieval is {st.get('retrieve', 0):.0f} ms.")
    return notes


@bench_app.command("render")
def render_cmd(
    result_json: Path = typer.Argument(Path("eval/bench-results/latest.json"), help="A result JSON written by a bench command."),
):
    """Re-render a result's targets and Markdown from its JSON (the measurements are not touched)."""
    from .report import markdown, targets

    result = json.loads(result_json.read_text(encoding="utf-8"))
    plan = result.get("plan")
    if plan:
        chosen = next((r["chunks"] for r in plan["sizes"] if r["label"] == plan["chosen"]), None)
        if chosen is not None:
            forced = "--size" in result.get("command", "") and "--size auto" not in result.get("command", "")
            plan["note"] = plan_note(plan["sizes"], chosen, plan["budget_s"] / 60, plan["probe_chunks_per_s"], forced=forced)
    result["targets"] = targets(result)
    result["notes"] = _auto_notes(result)
    result_json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    md = result_json.with_suffix(".md")
    md.write_text(markdown(result), encoding="utf-8")
    _log(f"re-rendered {md}")
