"""Ingest that reports as it goes, keeps finished work, embeds each text once and uses every core (#14).

The CLI tests run the real `dossier ingest` in a child process with its stdout a pipe, and stop it
with real signals; the cache and worker tests use the real bundled int8 ONNX embedder and embedded
Chroma.
"""
from __future__ import annotations

import json
import random
import signal
import subprocess
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from dossier.index.indexer import IngestListener, Ingestor
from dossier.index.vector_cache import VectorCache
from dossier.ingest.settings import IngestSettings
from tests.conftest import DOSSIER, REPO, cli_env

_WORDS = ("camera border patrol embargo supplier contract tender ministry vehicle drone thermal fence report "
          "minister customs warehouse invoice shipment licence export").split()


def prose(n_paragraphs: int, seed: int, tag: str = "") -> list[str]:
    """Paragraphs of distinct sentences (every chunk text differs), `tag` making them differ across files."""
    rng = random.Random(seed)
    return [" ".join(f"{' '.join(rng.choice(_WORDS) for _ in range(rng.randint(8, 20))).capitalize()} {tag}item {p}-{s}."
                     for s in range(6)) for p in range(n_paragraphs)]


def write(path: Path, paragraphs: list[str]) -> Path:
    path.write_text("\n\n".join(paragraphs), encoding="utf-8")
    return path


def catalog_docs(data: Path) -> dict[str, int]:
    con = sqlite3.connect(data / "catalog.sqlite")
    try:
        return {Path(s).name: n for s, n in con.execute("SELECT source, n_chunks FROM documents")}
    finally:
        con.close()


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_pipe_gets_a_line_per_file_as_it_finishes_and_a_signal_keeps_finished_work(tmp_path, sig, code):
    """In a pipe, the small files' lines arrive while the big file is still being embedded; a signal then
    stops the run: the small files stay stored, the big one is reported not stored, and the same command
    run again completes it without duplicates."""
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(3):
        write(folder / f"a-small-{i}.txt", prose(2, seed=i, tag=f"s{i} "))
    write(folder / "b-big.txt", prose(1200, seed=99, tag="big "))  # ~700 chunks: still embedding when the signal lands
    data = tmp_path / "data"
    env = cli_env(data, DOSSIER_INGEST__FLUSH_CHUNKS="8", DOSSIER_INDEX__INGEST_WORKERS="1")
    proc = subprocess.Popen(DOSSIER + ["ingest", str(folder), "--json"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        first = [json.loads(proc.stdout.readline()) for _ in range(3)]
        assert proc.poll() is None  # the lines came while the big file was still being embedded
        assert [(Path(r["source"]).name, r["status"], r["type"]) for r in first] == [
            (f"a-small-{i}.txt", "ingested", "result") for i in range(3)]
        proc.send_signal(sig)
        rest, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == code, err[-2000:]
    lines = [json.loads(x) for x in rest.splitlines()]
    summary = lines[-1]
    assert summary["type"] == "summary" and summary["interrupted"] == signal.Signals(sig).name
    big = [r for r in lines[:-1] if r["source"].endswith("b-big.txt")]
    assert [(r["status"], r["code"]) for r in big] == [("interrupted", "stopped")]
    assert signal.Signals(sig).name in err
    stored = catalog_docs(data)
    assert set(stored) == {f"a-small-{i}.txt" for i in range(3)}  # finished documents kept, the one in flight not
    assert not (data / "ingest.inprogress").exists()  # a clean stop, nothing to repair

    env.pop("DOSSIER_INDEX__INGEST_WORKERS")  # the re-run on every core
    again = subprocess.run(DOSSIER + ["ingest", str(folder), "--json"], cwd=REPO, env=env, capture_output=True, text=True,
                           timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    done = json.loads(again.stdout.splitlines()[-1])
    assert done["counts"] == {"unchanged": 3, "ingested": 1}
    # vectors the big file got before the stop (if any) come from the cache; the rest is embedded now
    assert done["embedded"] + done["reused"] == catalog_docs(data)["b-big.txt"]
    con = sqlite3.connect(data / "catalog.sqlite")
    assert con.execute("SELECT COUNT(*), COUNT(DISTINCT chunk_id) FROM chunks").fetchone()[0] == sum(catalog_docs(data).values())
    con.close()


def test_identical_texts_are_embedded_once_and_an_edit_re_embeds_only_changed_chunks(tmp_path, make_service, shared_embedder,
                                                                                        monkeypatch):
    calls: list[int] = []
    real = shared_embedder.embed

    def counting(texts, batch_size=None, workers=1):
        calls.append(len(texts))
        return real(texts, batch_size, workers)

    monkeypatch.setattr(shared_embedder, "embed", counting)
    svc = make_service()
    paras = prose(600, seed=7)
    doc = write(tmp_path / "long.txt", paras)
    copy = write(tmp_path / "copy.txt", paras + ["A closing line that makes this file differ from the first."])
    first = Ingestor(svc).run([str(doc), str(copy)])
    n = first.results[0].chunks
    assert n >= 300 and first.counts() == {"ingested": 2}
    # the copy's chunks (all but its last) came from the cache: within the run, each text embedded once
    assert first.embedded_chunks == sum(calls) <= n + 2 and first.reused_chunks >= n - 2

    calls.clear()
    paras[300] += " A sentence added in the middle of the document, about a shipment of fences."
    write(doc, paras)
    edited = Ingestor(svc).run([str(doc)])
    assert edited.counts() == {"replaced": 1}
    assert 0 < edited.embedded_chunks == sum(calls) <= 0.05 * edited.results[0].chunks
    assert edited.embedded_chunks + edited.reused_chunks == edited.results[0].chunks == svc.store.count() - copy_chunks(first)


def copy_chunks(report) -> int:
    return next(r.chunks for r in report.results if r.source.endswith("copy.txt"))


def test_the_cache_is_bounded_least_recently_used_and_forgets_another_embedder(tmp_path):
    path = tmp_path / "vc.sqlite"
    cache = VectorCache(path, "emb-a", max_entries=10)
    texts = [f"text {i}" for i in range(10)]
    cache.put_many(texts, [[float(i), 1.0] for i in range(10)])
    assert cache.get_many(["text 0"]) == {0: [0.0, 1.0]}  # text 0 becomes the most recent
    cache.put_many(["text 10", "text 11"], [[10.0, 1.0], [11.0, 1.0]])  # over the bound: evict down to 9
    assert len(cache) == 9
    have = cache.get_many(texts + ["text 10", "text 11"])
    assert 0 in have and 10 in have and 11 in have and 1 not in have and 2 not in have  # the oldest unused went
    cache.close()
    other = VectorCache(path, "emb-b", max_entries=10)  # another embedder: nothing of emb-a survives
    assert len(other) == 0 and other.get_many(["text 0"]) == {}
    other.close()


def test_every_core_gives_the_same_vectors_as_one(shared_embedder):
    """Ingest's parallel embedding (one onnxruntime thread per text in flight) is the one-thread function."""
    texts = [" ".join(p) for p in zip(prose(40, seed=3), prose(40, seed=4))]
    one = np.array(shared_embedder.embed(texts, workers=1))
    two = np.array(shared_embedder.embed(texts, workers=2))
    four = np.array(shared_embedder.embed(texts, workers=4))
    assert one.shape == (40, 384)
    assert np.abs(one - two).max() < 1e-6 and np.abs(one - four).max() < 1e-6


def test_ingest_embeds_with_every_core_by_default(make_service, tmp_path, shared_embedder, monkeypatch):
    seen: list[int] = []
    real = shared_embedder.embed
    monkeypatch.setattr(shared_embedder, "embed", lambda texts, batch_size=None, workers=1: seen.append(workers) or real(texts, batch_size, workers))
    import os

    Ingestor(make_service()).run([str(write(tmp_path / "a.txt", prose(3, seed=1)))])
    assert seen and set(seen) == {len(os.sched_getaffinity(0))}


def test_an_absurd_file_is_a_per_file_error_and_the_rest_is_stored(tmp_path, make_service):
    svc = make_service(ingest=IngestSettings(max_chunks_per_document=50))
    big = write(tmp_path / "huge.txt", prose(200, seed=5))
    small = write(tmp_path / "note.txt", prose(2, seed=6))
    report = Ingestor(svc).run([str(big), str(small)])
    by = {Path(r.source).name: r for r in report.results}
    assert (by["huge.txt"].status, by["huge.txt"].code) == ("failed", "too-many-chunks")
    assert "over the limit of 50 per document" in by["huge.txt"].reason and "ingest.max_chunks_per_document" in by["huge.txt"].reason
    assert by["note.txt"].status == "ingested" and svc.catalog.doc_ids() == {by["note.txt"].doc_id}


def test_a_stop_request_keeps_written_documents_and_reports_the_rest(tmp_path, make_service):
    """In process: stop after the first document is written; the second (in flight) and third (never read)
    are reported, and nothing of theirs is stored."""
    folder = tmp_path / "in"
    folder.mkdir()
    for i, n in enumerate((2, 60, 2)):
        write(folder / f"{i}.txt", prose(n, seed=10 + i, tag=f"f{i} "))
    svc = make_service()
    ing = Ingestor(svc, flush_chunks=4, read_ahead=1)

    class StopAfterFirst(IngestListener):
        def result(self, result, done, total):
            ing.request_stop("SIGINT")

    report = ing.run([str(folder)], listener=StopAfterFirst())
    by = {Path(r.source).name: r.status for r in report.results}
    assert by == {"0.txt": "ingested", "1.txt": "interrupted"} and report.interrupted == "SIGINT"
    assert [Path(s).name for s in report.not_started] == ["2.txt"]
    assert len(svc.catalog.doc_ids()) == 1 and svc.store.count() == report.results[0].chunks
