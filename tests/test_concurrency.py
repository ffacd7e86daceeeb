"""20 concurrent chat sessions against the HTTP API of a real `dossier serve` (127.0.0.1, free port, temp
data dir with the seed ingested) while the same app ingests uploads through its Library endpoint
(Gradio's /add_docs, the path the Upload button takes). Bounded: a fixed number of requests per
session and a wall-clock limit. Promises: no errors, the same answer to the same question throughout,
the uploads visible to questions once ingested, latency p50/p95 reported (test-artifacts/concurrency.json)."""
from __future__ import annotations

import json
import statistics
import threading
import time
from pathlib import Path

import httpx
import pytest

from dossier.index.indexer import Ingestor
from dossier.ingest.manifest import ManifestIndex, load_manifest
from tests.conftest import REPO, SEED, SEED_MANIFEST, outside_contacts, serving

SESSIONS = 20
TURNS = 8  # requests per session (the last one a follow-up with history)
WALL_LIMIT_S = 420
SEED_QUESTIONS = [
    ("How far can the cameras detect people?", "110 meters"),
    ("How much was the contract with the Russian security company worth?", "380,900"),
    ("Which news organizations carried out the probe into EU-funded tenders and contracts?", "OCCRP"),
    ("What is the population of Belarus?", None),  # abstains, every time
]


def write_uploads(folder: Path, n: int = 8) -> list[Path]:
    """Notes on another topic (fisheries), so the seed questions' answers must not change."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        p = folder / f"fisheries-{i}.txt"
        p.write_text(f"Fisheries bulletin {i}\n\nThe harbour of Klaipeda registered {40 + i} tuna trawlers in "
                     f"{2001 + i}. Inspectors fined {i + 2} crews for undersized nets.\n")
        out.append(p)
    return out


def _key(answer: dict) -> tuple:
    return (answer["answer"], answer["abstained"], tuple((c["chunk_id"], c["start"], c["end"]) for c in answer["citations"]))


@pytest.mark.slow
def test_twenty_concurrent_sessions_while_the_app_ingests(tmp_path, make_service):
    import psutil
    from gradio_client import Client, handle_file

    data = tmp_path / "data"
    svc = make_service(data)
    Ingestor(svc, manifests=ManifestIndex([(SEED_MANIFEST, load_manifest(SEED_MANIFEST))])).run([str(SEED)])
    svc.catalog.close()
    uploads = write_uploads(tmp_path / "uploads", n=16)

    audit = tmp_path / "net-audit.jsonl"
    with serving(data, tmp_path / "serve.log", net_audit=audit) as (server, base):
        listening = {c.laddr.ip for c in psutil.Process(server.pid).net_connections(kind="inet") if c.status == "LISTEN"}
        assert listening == {"127.0.0.1"}, listening  # loopback by default

        with httpx.Client(base_url=base, timeout=120, trust_env=False) as http:
            baseline = {}
            for q, expected in SEED_QUESTIONS:
                r = http.post("/api/ask", json={"question": q})
                assert r.status_code == 200, r.text
                baseline[q] = _key(r.json())
                assert (expected is None) == r.json()["abstained"] and (expected is None or expected in r.json()["answer"])

        results: list[dict] = []
        lock = threading.Lock()
        deadline = time.monotonic() + WALL_LIMIT_S
        ingest_out: dict = {}

        def ingest() -> None:
            t0 = time.monotonic()
            client = Client(base + "/", verbose=False)
            reports = [client.predict([handle_file(str(p)) for p in uploads[k:k + 4]], "", None, "", "", "",
                                      api_name="/add_docs")[0] for k in range(0, len(uploads), 4)]
            ingest_out.update(seconds=time.monotonic() - t0, reports=reports, start=t0, end=time.monotonic())

        def session(i: int) -> None:
            with httpx.Client(base_url=base, timeout=180, trust_env=False) as http:
                history = []
                for turn in range(TURNS):
                    if time.monotonic() > deadline:
                        return
                    q, _ = SEED_QUESTIONS[(i + turn) % len(SEED_QUESTIONS)]
                    body = {"question": q, "id": f"s{i}-t{turn}"}
                    follow_up = turn == TURNS - 1
                    if follow_up:
                        body = {"question": "And how far can the cameras detect people?", "history": history[-1:]}
                    t0 = time.monotonic()
                    try:
                        r = http.post("/api/ask", json=body)
                        status, payload = r.status_code, (r.json() if r.status_code == 200 else r.text)
                    except httpx.HTTPError as exc:
                        status, payload = 0, repr(exc)
                    took = time.monotonic() - t0
                    with lock:
                        results.append({"session": i, "question": body["question"], "follow_up": follow_up,
                                         "status": status, "seconds": took, "answer": payload, "start": t0})
                    if status == 200:
                        history.append({"question": body["question"], "answer": payload["answer"]})

        t_start = time.monotonic()
        threads = [threading.Thread(target=ingest, name="ingest")]
        threads += [threading.Thread(target=session, args=(i,), name=f"session-{i}") for i in range(SESSIONS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(WALL_LIMIT_S + 60)
        wall = time.monotonic() - t_start

        with httpx.Client(base_url=base, timeout=120, trust_env=False) as http:
            after = http.post("/api/ask", json={"question": "How many tuna trawlers did the harbour of Klaipeda register in 2004?"})
            health = http.get("/api/health").json()

    assert outside_contacts(audit) == []  # no telemetry, no hub: nothing but loopback under load
    errors = [r for r in results if r["status"] != 200]
    assert not errors, errors[:3]
    assert len(results) == SESSIONS * TURNS, len(results)
    for r in results:  # the same question, the same answer, whatever the ingest was doing
        if not r["follow_up"]:
            assert _key(r["answer"]) == baseline[r["question"]], (r["question"], r["answer"]["answer"])
        else:
            assert "110 meters" in r["answer"]["answer"]
    assert ingest_out and all("ingested" in rep and "failed" not in rep for rep in ingest_out["reports"]), ingest_out
    assert health["documents"] == 1 + len(uploads)
    assert after.status_code == 200 and "43 tuna trawlers" in after.json()["answer"], after.text

    latencies = sorted(r["seconds"] for r in results)
    p50 = statistics.median(latencies)
    p95 = latencies[min(len(latencies) - 1, int(round(0.95 * len(latencies))) - 1)]
    summary = {"sessions": SESSIONS, "requests": len(results), "errors": len(errors), "wall_s": round(wall, 1),
               "latency_s": {"p50": round(p50, 2), "p95": round(p95, 2), "max": round(latencies[-1], 2)},
               "throughput_rps": round(len(results) / wall, 2), "ingest_s": round(ingest_out["seconds"], 1),
               "ingested_during_load": len(uploads),
               "requests_during_ingest": sum(1 for r in results if ingest_out["start"] <= r["start"] <= ingest_out["end"])}
    out = REPO / "test-artifacts" / "concurrency.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary))
    assert p95 < 120, summary
    assert summary["requests_during_ingest"] >= SESSIONS, summary  # the load really overlapped the ingest
