"""kill -9 during ingest, then run it again: the final catalog and Chroma state equal an uninterrupted
run (same doc ids, chunk ids, vector ids and count; no orphan vectors; no half-written document).

Real subprocesses killed with SIGKILL: at the two worst points of a write, made deterministic by a
wrapper that kills its own process there (after the new vectors, before the catalog switch; after the
catalog switch, before the replaced document's vectors are deleted), and at a random point of a plain
`dossier ingest` watched from outside."""
from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from dossier.index.indexer import Ingestor
from tests.conftest import DOSSIER, REPO, cli_env, last_json

PLACES = ["Pinsk", "Brest", "Grodno", "Vitebsk", "Gomel", "Mogilev", "Minsk", "Lida", "Orsha", "Polotsk"]
THINGS = ["thermal cameras", "patrol boats", "razor wire", "radio sets", "night-vision scopes", "drones", "radar units"]
FIRMS = ["Northwind Optics", "Kestrel Holdings", "Baltic Secure", "Polar Systems", "Vega Trading", "Orion Defence"]


def write_corpus(folder: Path, n: int = 30, seed: int = 7) -> list[Path]:
    """n small procurement notes, three chunks each at the default chunk size."""
    rnd = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        paras = []
        for j in range(4):
            paras.append(" ".join(
                f"In {2010 + (i * 7 + j + k) % 12} {rnd.choice(FIRMS)} delivered {rnd.randint(2, 90)} {rnd.choice(THINGS)} "
                f"to the border post at {rnd.choice(PLACES)} under contract {i}-{j}-{k}." for k in range(5)))
        p = folder / f"note{i:02d}.txt"
        p.write_text(f"Procurement note {i}\n\n" + "\n\n".join(paras) + "\n")
        paths.append(p)
    return paths


def state(data_dir: Path) -> dict:
    import chromadb
    from chromadb.config import Settings

    con = sqlite3.connect(data_dir / "catalog.sqlite")
    docs = sorted(r[0] for r in con.execute("SELECT doc_id FROM documents"))
    chunks = sorted(r[0] for r in con.execute("SELECT chunk_id FROM chunks"))
    per_doc = dict(con.execute("SELECT doc_id, n_chunks FROM documents"))
    con.close()
    client = chromadb.PersistentClient(path=str(data_dir / "chroma"), settings=Settings(anonymized_telemetry=False))
    col = client.get_collection("dossier")
    vectors = sorted(col.get(include=[])["ids"])
    return {"docs": docs, "chunks": chunks, "vectors": vectors, "count": col.count(), "per_doc": per_doc}


_KILL_AT = textwrap.dedent("""
    import os, signal, sys
    point, nth = sys.argv[1], int(sys.argv[2])
    sys.argv = ["dossier"] + sys.argv[3:]
    calls = [0]

    def die_on_nth(real):
        def wrapped(self, *a, **k):
            calls[0] += 1
            if calls[0] == nth:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(self, *a, **k)
        return wrapped

    if point == "before-catalog-switch":      # the new vectors are in Chroma, the catalog does not know them
        from dossier.index.catalog import Catalog
        Catalog.put_document = die_on_nth(Catalog.put_document)
    elif point == "before-old-vectors-go":    # the catalog switched, the replaced version's vectors remain
        from dossier.index.store import VectorStore
        VectorStore.delete_doc = die_on_nth(VectorStore.delete_doc)
    from dossier.cli import main
    main()
""")


def _count_docs(data_dir: Path) -> int:
    try:
        con = sqlite3.connect(f"file:{data_dir / 'catalog.sqlite'}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_kill_9_during_ingest_then_rerun_equals_an_uninterrupted_run(tmp_path, make_service):
    corpus = tmp_path / "corpus"
    paths = write_corpus(corpus)

    # the uninterrupted run
    clean = make_service(tmp_path / "clean")
    assert Ingestor(clean).run([str(corpus)]).counts() == {"ingested": 30}
    want = state(clean.data_dir)
    assert len(want["docs"]) == 30 and want["chunks"] == want["vectors"] and want["count"] == len(want["chunks"])

    data = tmp_path / "crashed"
    env = {"DOSSIER_INGEST__FLUSH_CHUNKS": "4"}  # many small writes: a kill lands mid-run
    kills = []

    # an older version of note05 is stored first, so the crashed runs replace a document too
    original = paths[5].read_text()
    paths[5].write_text("Procurement note 5 (draft)\n\nAn early draft about 3 patrol boats for Brest.\n")
    pre = subprocess.run(DOSSIER + ["ingest", str(paths[5])], cwd=REPO, env=cli_env(data, **env), capture_output=True,
                         text=True, timeout=300)
    assert pre.returncode == 0, pre.stderr
    paths[5].write_text(original)

    # 1. killed after the catalog switched to the new note05, before the draft's vectors were deleted
    p = subprocess.run([sys.executable, "-c", _KILL_AT, "before-old-vectors-go", "1", "ingest", str(corpus)], cwd=REPO,
                       env=cli_env(data, **env, PYTHONPATH=str(REPO)), capture_output=True, text=True, timeout=300)
    assert p.returncode == -signal.SIGKILL, p.stderr[-2000:]
    kills.append(("after catalog switch", _count_docs(data)))
    assert (data / "ingest.inprogress").exists()

    # 2. killed with new vectors written and the catalog not yet switched (the 4th document written)
    p = subprocess.run([sys.executable, "-c", _KILL_AT, "before-catalog-switch", "4", "ingest", str(corpus)], cwd=REPO,
                       env=cli_env(data, **env, PYTHONPATH=str(REPO)), capture_output=True, text=True, timeout=300)
    assert p.returncode == -signal.SIGKILL, p.stderr[-2000:]
    kills.append(("before catalog switch", _count_docs(data)))
    mid = state(data)
    assert set(mid["vectors"]) - set(mid["chunks"]), "the kill should have left orphan vectors behind"

    # 3-4. plain `dossier ingest` killed from outside at a random moment once a few more documents are in
    rnd = random.Random(int(os.environ.get("CRASH_SEED", "0")) or None)
    for _ in range(2):
        target = _count_docs(data) + rnd.randint(2, 5)
        proc = subprocess.Popen(DOSSIER + ["ingest", str(corpus)], cwd=REPO, env=cli_env(data, **env),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 240
        while _count_docs(data) < target and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(rnd.random() * 0.5)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills.append(("random", _count_docs(data)))

    # the re-run: repairs, finishes, and the store equals the uninterrupted one
    final = subprocess.run(DOSSIER + ["ingest", str(corpus), "--json"], cwd=REPO, env=cli_env(data, **env),
                           capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr[-2000:]
    report = last_json(final.stdout)
    assert set(report["counts"]) <= {"ingested", "replaced", "unchanged"}, report["counts"]
    got = state(data)
    print(json.dumps({"kills": kills, "final_counts": report["counts"]}))
    assert got["docs"] == want["docs"]
    assert got["chunks"] == want["chunks"]
    assert got["vectors"] == want["vectors"] and got["count"] == want["count"]  # no orphans, nothing missing
    assert got["per_doc"] == want["per_doc"]  # no half-written document
    assert not (data / "ingest.inprogress").exists()

    again = subprocess.run(DOSSIER + ["ingest", str(corpus), "--json"], cwd=REPO, env=cli_env(data, **env),
                           capture_output=True, text=True, timeout=300)
    assert last_json(again.stdout)["counts"] == {"unchanged": 30} and last_json(again.stdout)["embedded_chunks"] == 0
