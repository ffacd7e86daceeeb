"""One store, several processes: the data dir's writer lock (`<data_dir>/store.lock`, fcntl.flock).

`dossier serve` and a writing command (ingest, remove, repair) hold it; a second writer process gets one
line, "store in use by pid N; use the app/API or --chroma-url", exit 2, and changes nothing; reading
commands (sources, search, ask) keep working; the lock dies with its process, kill -9 included.
With a Chroma server shared by several data dirs, repair never removes another data dir's vectors."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from dossier.index import lock as store_lock
from dossier.index.errors import StoreInUse
from dossier.index.indexer import Ingestor
from tests.conftest import DOSSIER, REPO, SEED, SEED_MANIFEST, cli_env, last_json, serving

IN_USE = re.compile(r"^error: store in use by pid (\d+); use the app/API or --chroma-url$")


def dossier(data_dir: Path, *args: str, timeout: float = 300, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(DOSSIER + [str(a) for a in args], cwd=REPO, env=cli_env(data_dir, **extra),
                          capture_output=True, text=True, timeout=timeout)


def catalog_state(data_dir: Path) -> tuple:
    import sqlite3

    con = sqlite3.connect(data_dir / "catalog.sqlite")
    try:
        return (sorted(con.execute("SELECT doc_id, sha256, n_chunks FROM documents")),
                sorted(r[0] for r in con.execute("SELECT chunk_id FROM chunks")))
    finally:
        con.close()


# --- the lock itself (cheap: no model) ---------------------------------------------------------------

_HOLD = textwrap.dedent("""
    import sys, time
    from dossier.index import lock
    lock.acquire(sys.argv[1], "test holder")
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
""")


def test_lock_is_exclusive_between_processes_reentrant_within_one_and_dies_with_its_holder(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(tmp_path), "60"], cwd=REPO, stdout=subprocess.PIPE,
                              text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert holder.stdout.readline().strip() == "held"
        assert store_lock.holder(tmp_path) == (holder.pid, "test holder")
        with pytest.raises(StoreInUse, match=rf"^store in use by pid {holder.pid}; use the app/API or --chroma-url$"):
            store_lock.acquire(tmp_path, "second writer")
        assert not store_lock.held_here(tmp_path)
        holder.send_signal(signal.SIGKILL)  # kill -9: the kernel drops the flock, the stale file blocks nobody
        holder.wait()
        with store_lock.store_lock(tmp_path, "writer"):
            with store_lock.store_lock(tmp_path, "nested"):  # re-entrant in one process (serve -> its own ingest)
                assert store_lock.held_here(tmp_path)
            assert store_lock.held_here(tmp_path)
        assert not store_lock.held_here(tmp_path)
        assert store_lock.holder(tmp_path) == (None, "")  # released: no stale pid left in the file
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_a_writer_in_another_process_blocks_ingest_remove_and_repair_but_not_reading(tmp_path, make_service):
    svc = make_service()
    (tmp_path / "a.txt").write_text("Northwind Optics delivered 14 thermal cameras to Pinsk in 2016.\n")
    Ingestor(svc).run([str(tmp_path / "a.txt")])
    before = catalog_state(svc.data_dir)
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(svc.data_dir), "60"], cwd=REPO, stdout=subprocess.PIPE,
                              text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert holder.stdout.readline().strip() == "held"
        (tmp_path / "b.txt").write_text("Kestrel Holdings financed razor wire in 2019.\n")
        for call in (lambda: Ingestor(svc).run([str(tmp_path / "b.txt")]),
                     lambda: svc.remove_document(next(iter(svc.catalog.doc_ids()))),
                     svc.repair):
            with pytest.raises(StoreInUse, match=f"pid {holder.pid}"):
                call()
        assert catalog_state(svc.data_dir) == before
        assert svc.retriever.search("thermal cameras Pinsk", k=1)  # reading needs no lock
    finally:
        holder.kill()
        holder.wait()
    assert Ingestor(svc).run([str(tmp_path / "b.txt")]).counts() == {"ingested": 1}


# --- the real commands ------------------------------------------------------------------------------

def _spawn(data: Path, *args) -> subprocess.Popen:
    return subprocess.Popen(DOSSIER + [str(a) for a in args], cwd=REPO, env=cli_env(data), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _assert_refused(done: dict, names, pid: int) -> None:
    for name in names:
        rc, out, err = done[name]
        assert rc == 2, (name, rc, out, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and IN_USE.match(lines[0]), (name, err)
        assert int(IN_USE.match(lines[0]).group(1)) == pid


def test_cli_writers_get_a_one_line_error_exit_2_while_another_process_writes(tmp_path, make_service):
    svc = make_service(tmp_path / "data")
    (tmp_path / "a.txt").write_text("Northwind Optics delivered 14 thermal cameras to Pinsk in 2016.\n")
    Ingestor(svc).run([str(tmp_path / "a.txt")])
    before = catalog_state(svc.data_dir)
    doc_id = before[0][0][0]
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(svc.data_dir), "60"], cwd=REPO, stdout=subprocess.PIPE,
                              text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert holder.stdout.readline().strip() == "held"
        procs = {"ingest": _spawn(svc.data_dir, "ingest", tmp_path / "a.txt"), "remove": _spawn(svc.data_dir, "remove", doc_id),
                 "repair": _spawn(svc.data_dir, "repair"), "sources": _spawn(svc.data_dir, "sources", "--json")}
        done = {name: (p.wait(120), *p.communicate()) for name, p in procs.items()}
        _assert_refused(done, ["ingest", "remove", "repair"], holder.pid)
        assert done["sources"][0] == 0 and doc_id in done["sources"][1]
        assert catalog_state(svc.data_dir) == before
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.slow
def test_cli_writers_get_a_one_line_error_while_serve_runs_and_readers_still_work(tmp_path):
    data = tmp_path / "data"
    first = dossier(data, "ingest", SEED, "--manifest", SEED_MANIFEST, "--json")
    assert first.returncode == 0, first.stderr
    before = catalog_state(data)
    doc_id = before[0][0][0]
    new = tmp_path / "new.txt"
    new.write_text("The border post at Lida received 3 radar units in 2020.\n")

    with serving(data, tmp_path / "serve.log") as (server, base):
        # the second writers: one line, exit 2, nothing changed; all at once, with the readers
        question = "How far can the cameras detect people?"
        procs = {"ingest": _spawn(data, "ingest", new), "remove": _spawn(data, "remove", doc_id), "repair": _spawn(data, "repair"),
                 "sources": _spawn(data, "sources", "--json"), "search": _spawn(data, "search", question, "--json"),
                 "ask": _spawn(data, "ask", question, "--json")}
        done = {name: (p.wait(240), *p.communicate()) for name, p in procs.items()}
        _assert_refused(done, ["ingest", "remove", "repair"], server.pid)
        for name in ("sources", "search", "ask"):
            rc, out, err = done[name]
            assert rc == 0, (name, err[-2000:])
        assert [d["doc_id"] for d in json.loads(done["sources"][1])["documents"]] == [doc_id]
        assert json.loads(done["search"][1])["results"]
        assert "110 meters" in json.loads(done["ask"][1])["answer"]
        assert catalog_state(data) == before
        assert httpx.get(f"{base}/api/health", timeout=5, trust_env=False).json()["documents"] == 1

        server.send_signal(signal.SIGKILL)  # even a killed server leaves nothing that blocks the next writer
        server.wait()

    after = dossier(data, "ingest", new, "--json")
    assert after.returncode == 0, after.stderr
    assert [r["status"] for r in last_json(after.stdout)["results"]] == ["ingested"]


# --- a Chroma server shared by two data dirs -------------------------------------------------------
# `chroma_server` (module-scoped, a real `chroma run`) is a fixture of tests/conftest.py


def test_shared_chroma_server_repair_never_removes_another_data_dirs_vectors(chroma_server, tmp_path, make_service):
    a = make_service(tmp_path / "a", chroma_url=chroma_server)
    b = make_service(tmp_path / "b", chroma_url=chroma_server)
    (tmp_path / "one.txt").write_text("Northwind Optics delivered 14 thermal cameras to Pinsk in 2016.\n")
    (tmp_path / "two.txt").write_text("Kestrel Holdings financed razor wire for Brest in 2019.\n")
    Ingestor(a).run([str(tmp_path / "one.txt")])
    (doc_a,) = a.catalog.doc_ids()
    vectors_a = a.store.ids_for_doc(doc_a)
    assert vectors_a == set(a.catalog.chunk_ids_for(doc_a))

    # b was interrupted mid-write: its journal names a document whose vectors it had written
    b.store.upsert(["dlost:0-10"], [b.embedder.embed(["lost"])[0]], [{"doc_id": "dlost", "ord": 0, "start": 0, "end": 10}])
    b.journal_path.write_text("12345\ndlost\n")
    report = Ingestor(b).run([str(tmp_path / "two.txt")])  # repairs first, then ingests
    assert report.repaired == 1 and report.counts() == {"ingested": 1}
    assert b.store.ids_for_doc("dlost") == set()
    assert a.store.ids_for_doc(doc_a) == vectors_a  # a's document, unknown to b's catalog, is untouched
    assert b.repair() == 0 and a.store.ids_for_doc(doc_a) == vectors_a
    assert a.retriever.search("thermal cameras Pinsk", k=1)[0].chunk.doc_id == doc_a
