"""The benchmark harness (`dossier bench`): corpus generation is repeatable, and a tiny end-to-end run of
the ingest and query benchmarks produces the result structure the report needs. No timing assertions:
numbers from a shared machine are reported, never tested."""
from __future__ import annotations

import json
import subprocess

import pytest

from dossier.eval.bench.corpus import ensure_corpus, generate_corpus, read_queries
from dossier.eval.bench.report import markdown, targets, write
from dossier.eval.bench.stats import percentile, ratio, summary
from tests.conftest import DOSSIER, REPO, cli_env


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    for k, v in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}.items():
        monkeypatch.setenv(k, v)


def test_corpus_is_seeded_repeatable_and_nested(tmp_path):
    a = generate_corpus(120, tmp_path / "a", seed=3)
    b = generate_corpus(120, tmp_path / "b", seed=3)
    small = generate_corpus(40, tmp_path / "small", seed=3)
    other = generate_corpus(120, tmp_path / "other", seed=4)
    assert a["digest"] == b["digest"] and a["documents"] == b["documents"]
    assert other["digest"] != a["digest"]
    assert a["chunks"] >= 120 and a["chunks"] < 120 + 12  # sized by the real chunker: overshoot by at most one document
    # a smaller corpus with the same seed is a prefix of the larger one
    first = sorted((tmp_path / "small" / "docs").rglob("*.txt"))
    assert first and all((tmp_path / "a" / p.relative_to(tmp_path / "small")).read_bytes() == p.read_bytes() for p in first)
    assert small["documents"] < a["documents"]
    # documents have the promised texture: paragraphs, numbers, dates
    text = first[0].read_text()
    assert text.count("\n\n") >= 2 and any(ch.isdigit() for ch in text)
    # manifest rows for every document; questions answerable from their document
    rows = (tmp_path / "a" / "manifest.tsv").read_text().splitlines()
    assert rows[0] == "id\tpath\tkind\ttitle\tpublisher\tdate" and len(rows) == a["documents"] + 1
    qs = read_queries(tmp_path / "a")
    assert qs and all({"id", "question", "answer", "path"} <= set(q) for q in qs)
    for q in qs[:10]:
        assert q["answer"] in (tmp_path / "a" / q["path"]).read_text()
    # reused when asked again with the same parameters
    assert ensure_corpus(120, tmp_path / "a", seed=3)["reused"] is True


def test_stats():
    xs = [float(x) for x in range(1, 101)]
    assert percentile(xs, 50) == pytest.approx(50.5)
    assert percentile(xs, 99) == pytest.approx(99.01)
    s = summary(xs)
    assert {"n", "median", "p50", "p95", "p99", "min", "max", "iqr"} <= set(s) and s["n"] == 100
    assert summary([]) == {"n": 0}
    assert ratio(1, 0) is None and ratio(3, 2) == 1.5


def test_parse_size():
    from dossier.eval.bench.cli import parse_size

    assert parse_size("10k") == 10_000 and parse_size("1M") == 1_000_000 and parse_size("250") == 250
    with pytest.raises(Exception):
        parse_size("lots")


def test_smoke_ingest_and_query_bench(tmp_path):
    from dossier.eval.bench.ingest_bench import run_ingest_bench
    from dossier.eval.bench.query_bench import run_query_bench

    corpus = tmp_path / "corpus"
    info = ensure_corpus(40, corpus, seed=0, max_queries=200)
    store = tmp_path / "store"
    ing = run_ingest_bench(corpus, tmp_path / "work", store_dir=store, flush=16, llama=True, llama_chunks=12,
                           log=lambda m: None)
    assert ing["dossier"]["chunks"] == info["chunks"] and ing["dossier"]["failed"] == 0
    assert ing["raw_embedder"]["chunks"] == info["chunks"] and ing["same_texts_as_raw"] is True
    assert isinstance(ing["pipeline_vs_raw"], float) and ing["raw_embedder"]["per_slice_chunks_per_s"]["n"] >= 2
    assert set(ing["dossier"]["stages_s"]) >= {"embed", "store_upsert", "catalog_put_document"}
    assert ing["reingest"]["counts"] == {"unchanged": info["documents"]} and ing["reingest"]["embedded_chunks"] == 0
    ll = ing["llama_index_route"]
    assert "skipped" in ll or (ll["llama_index"]["chunks"] > 0 and ll["speedup_same_documents"] > 0)
    assert (store / "bench-store.json").is_file() and ing["catalog_probe"]["documents"] == info["documents"]

    q = run_query_bench(store, corpus, queries=3, warmup=1, log=lambda m: None)
    assert q["chunks"] == info["chunks"] and q["warmup_queries"] == 1
    for block in (q, q.get("experiment_one_torch_thread") or q):
        for key in ("retrieval", "answer"):
            lat = block[key]["latency_ms"]
            assert 1 <= block[key]["queries"] <= 3 and lat["n"] == block[key]["queries"]
            assert lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"]
    assert 0 <= q["retrieval"]["source_doc_in_top_k"] <= 1 and "embed" in q["retrieval"]["stages_median_ms"]

    result = {"command": "pytest", "started_at": "now", "notes": [], "total_seconds": 1.0, "load_average_at_end": [],
              "machine": {"cpu": "x", "cores": 2, "ram_gib": 1, "os": "y", "python": "3", "torch_threads": 2,
                          "versions": {}, "load_average_at_start": [], "git": {"commit": "c", "dirty": False}},
              "ingest": ing, "query": {str(q["chunks"]): q}}
    result["targets"] = targets(result)
    names = {t["target"] for t in result["targets"]}
    assert "ingest: pipeline / raw embedder throughput" in names and "retrieval p50 at 100k" in names
    assert all(t["status"] for t in result["targets"])
    j, md = write(result, tmp_path / "results", "smoke")
    assert json.loads(j.read_text())["ingest"]["dossier"]["chunks"] == info["chunks"]
    text = md.read_text()
    assert "## Targets" in text and "## Ingest" in text and "## Query latency" in text and markdown(result) == text


def test_bench_cli_corpus_command(tmp_path):
    from typer.testing import CliRunner

    from dossier.eval.bench.cli import bench_app

    res = CliRunner().invoke(bench_app, ["corpus", "--chunks", "30", "--out", str(tmp_path / "c"), "--seed", "1"])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "c" / "corpus.json").read_text())["chunks"] >= 30


def test_reused_vectors_store_is_labelled_and_bm25_probe_runs(tmp_path, shared_embedder):
    """`bench store --real-vectors N`: N chunks embedded for real, the rest seeded perturbed copies of
    them; the record says so, and the 100k targets measured on such a store carry the label."""
    import numpy as np

    from dossier.eval.bench.bm25_bench import bm25_probe, extrapolate_1m
    from dossier.eval.bench.cli import ReusedVectors, build_store

    texts = [f"Shipment {i} of cameras left Varna on day {i}." for i in range(7)]
    rv = ReusedVectors(shared_embedder.embed, real=3, seed=0)
    a = np.array(rv(texts[:2]) + rv(texts[2:]))
    real = np.array(shared_embedder.embed(texts[:3]))
    np.testing.assert_allclose(a[:3], real, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    cos = (a[3:] * real[[0, 1, 2, 0]]).sum(axis=1)
    assert (cos > 0.8).all() and (cos < 0.99).all()  # near the copied vector, not equal to it
    assert rv.real_embedded == 3 and rv.done == 7
    again = ReusedVectors(shared_embedder.embed, real=3, seed=0)
    np.testing.assert_allclose(np.array(again(texts)), a, atol=1e-5)  # seeded: the same store twice

    corpus = tmp_path / "corpus"
    info = ensure_corpus(60, corpus, seed=0, max_queries=50)
    store = tmp_path / "store"
    res = build_store(corpus, store, None, real_vectors=20)
    rec = json.loads((store / "bench-store.json").read_text())
    assert rec["vectors"]["real"] == 20 and rec["vectors"]["perturbed_copies"] == info["chunks"] - 20 == res["vectors"]["perturbed_copies"]
    fake_q = {"retrieval": {"latency_ms": {"p50": 10.0}, "p95_over_p50": 1.5},
              "answer": {"latency_ms": {"p50": 50.0}, "p95_over_p50": 1.5}, "store_record": rec}
    ts = {t["target"]: t for t in targets({"query": {"100000": fake_q}})}
    t = ts["retrieval p50 at 100k"]
    assert t["status"] == "met (synthetic vectors)" and "perturbed" in t["where"] and "latency, not quality" in t["note"]

    b = bm25_probe(store, corpus / "queries.jsonl", n=5)
    assert b["chunks"] == info["chunks"] and b["search_ms"]["n"] >= 1 and b["disk_mib"] > 0
    assert "assuming linear growth" in extrapolate_1m([b])


def test_embedder_backends_side_by_side():
    from dossier.eval.bench.embed_bench import run_embed_bench

    texts = ["The cameras can detect people up to 110 meters away.", "A 380,900 euro contract with a Russian company.",
             "The audit found that the border guard paid twice for the same radios.", "Council decision 2023/118."] * 3
    r = run_embed_bench(texts, slice_size=4, log=lambda m: None)
    rows = {b["backend"]: b for b in r["backends"]}
    assert set(rows) == {"torch", "onnx", "onnx-int8"} and r["texts"] == 12
    assert rows["onnx"]["cosine_to_torch"]["min"] > 0.99999 and rows["onnx-int8"]["cosine_to_torch"]["min"] > 0.97
    assert rows["torch"]["vs_torch"] == 1.0 and all(b["chunks_per_s"] > 0 for b in rows.values())
    assert rows["onnx-int8"]["cold"]["imports_torch"] is False and rows["torch"]["cold"]["imports_torch"] is True


def test_bench_store_if_missing_keeps_a_matching_store(tmp_path):
    """`make bench` builds the 100k latency store once: `bench store --if-missing` keeps a store whose record
    matches the corpus, embedder and chunking, and builds one where there is none."""
    from typer.testing import CliRunner

    from dossier.eval.bench.cli import bench_app

    args = ["store", "--chunks", "40", "--real-vectors", "10", "--work", str(tmp_path / "w"), "--if-missing"]
    first = CliRunner().invoke(bench_app, args)
    assert first.exit_code == 0, first.output
    rec = next((tmp_path / "w" / "stores").glob("*/bench-store.json"))
    stamp = rec.stat().st_mtime_ns
    again = CliRunner().invoke(bench_app, args)
    assert again.exit_code == 0, again.output
    assert rec.stat().st_mtime_ns == stamp  # kept, not rebuilt


def test_million_command_through_a_chroma_server(tmp_path):
    """`bench million` (the #14 1M path) on a small server store, through the real CLI and a real `chroma run`:
    query latency via the server, the app process's peak RSS and the server's, BM25 built from the catalog in a
    fresh process and then loaded; the report carries a 1M-memory section. (The 1M targets are judged only at 1M.)"""
    work, out = tmp_path / "work", tmp_path / "out"
    env = cli_env(tmp_path / "data")
    build = subprocess.run(DOSSIER + ["bench", "store", "--chunks", "300", "--chroma-server", "--real-vectors", "40",
                                      "--work", str(work)], cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert build.returncode == 0, build.stderr[-2000:]
    run = subprocess.run(DOSSIER + ["bench", "million", "--chunks", "300", "--queries", "3", "--warmup", "1", "--work", str(work),
                                    "--out", str(out), "--name", "m"], cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    res = json.loads((out / "m.json").read_text())
    (size, q), = res["query"].items()
    assert q["retrieval"]["queries"] == 3 and q["chroma"].startswith("server") and q["store_record"]["vectors"]["real"] == 40
    mem, srv = res["million"]["memory"], res["million"]["chroma_server"]
    assert mem["chunks"] == int(size) and mem["peak_rss_mib"] > 100 and srv["rss_mib"] > 10 and srv["disk_mib"] > 0
    built, loaded = res["bm25"]["sizes"]
    assert built["built"] is True and loaded["built"] is False and built["chunks"] == loaded["chunks"] == int(size)
    md = (out / "m.md").read_text()
    assert "1M chunks through a chroma server: memory" in md and "built from the catalog" in md
    assert not any(t["target"].endswith("at 1M") for t in res["targets"])  # a 300-chunk store judges no 1M target


def _multilingual_result(growth: float) -> dict:
    """A `bench multilingual` result (the shape run_multilingual_bench returns), for the report's unit tests."""
    enc = {"threads": 1, "sentences": 512, "load_s": 1.1, "sentences_per_s": 500.0, "one_sentence_ms_p50": 2.0}
    return {"command": "dossier bench multilingual", "started_at": "2026-11-30 16:00:00 UTC", "notes": [],
            "machine": {"cpu": "test", "cores": 2, "ram_gib": 1, "os": "x", "python": "3", "torch_threads": 1,
                        "load_average_at_start": [0, 0, 0], "git": {"commit": "abc", "dirty": False}, "versions": {}},
            "multilingual": {
                "chunk_language": {"chunks": 300, "seconds": 0.02, "us_per_chunk": 66.7},
                "encoder": {"english_1t": enc, "fixtures_2t": {**enc, "threads": 2}},
                "sync_foreign_english_only": {"added_chunks": 0, "removed_chunks": 0, "sentences": 0, "seconds": 0.1},
                "retrieval_multilingual_empty": {"queries": 5, "p50_ms": 8.0, "p95_ms": 9.0, "multilingual_stage_p50_ms": 0.0},
                "sync_all": {"added_chunks": 300, "removed_chunks": 0, "sentences": 2400, "seconds": 9.0,
                             "chunks_per_s": 33.3, "sentences_per_s": 266.7},
                "retrieval_multilingual_all": {"queries": 5, "p50_ms": 8.0 + growth, "p95_ms": 40.0,
                                               "multilingual_stage_p50_ms": 7.0},
                "query_p50_growth_ms": growth, "store": {"path": "s", "chunks": 300}}}


@pytest.mark.parametrize("growth,status", [(12.5, "met"), (31.0, "missed")])
def test_multilingual_report_judges_the_query_growth_target(growth, status):
    res = _multilingual_result(growth)
    res["targets"] = targets(res)
    (t,) = [t for t in res["targets"] if "multilingual" in t["target"]]
    assert (t["measured"], t["goal"], t["status"], t["where"]) == (growth, 30.0, status, "300 chunks")
    md = markdown(res)
    assert "## Sources in other languages" in md and f"growth **{growth} ms**" in md and "2,400 sentences" in md


@pytest.mark.slow
def test_multilingual_command_end_to_end(tmp_path):
    """`bench multilingual` through the real CLI on a small bench store: the real multilingual encoder, a real
    'all' sync into a copy of the store, retrieval before and after, and a report with the target row."""
    work, out = tmp_path / "work", tmp_path / "out"
    env = cli_env(tmp_path / "data")
    build = subprocess.run(DOSSIER + ["bench", "store", "--chunks", "300", "--work", str(work)], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=900)
    assert build.returncode == 0, build.stderr[-2000:]
    run = subprocess.run(DOSSIER + ["bench", "multilingual", "--chunks", "300", "--queries", "5", "--work", str(work),
                                    "--out", str(out), "--name", "ml"], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    res = json.loads((out / "ml.json").read_text())
    ml = res["multilingual"]
    assert ml["sync_all"]["added_chunks"] == ml["store"]["chunks"] > 0 and ml["retrieval_multilingual_all"]["queries"] == 5
    assert ml["sync_foreign_english_only"]["added_chunks"] == 0
    assert any("multilingual" in t["target"] and t["status"] in ("met", "missed") for t in res["targets"])
    assert "## Sources in other languages" in (out / "ml.md").read_text()
