"""BM25 at a store's size, in a fresh process (`python -m eval.bench.bm25_bench STORE QUERIES.jsonl`):
load time of the persisted (memory-mapped) index, RSS growth, search latency, size on disk."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    store, queries_path = Path(sys.argv[1]), Path(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    index_dir = Path(sys.argv[4]) if len(sys.argv) > 4 else store / "bm25"  # an empty folder: a build from the catalog
    built = not any(index_dir.glob("*"))
    import bm25s  # noqa: F401  (imported before the RSS baseline)
    import numpy as np  # noqa: F401

    from dossier.index.bm25 import BM25Index
    from dossier.index.catalog import Catalog

    from .stats import summary

    qs = [json.loads(x)["question"] for x in queries_path.read_text(encoding="utf-8").splitlines() if x.strip()][:n + 10]
    cat = Catalog(store / "catalog.sqlite")
    rss0 = _rss_mib()
    t = time.perf_counter()
    bm = BM25Index(cat, index_dir)
    bm._ensure()
    load_s = time.perf_counter() - t
    for q in qs[:10]:
        bm.search(q, 50)
    times = []
    for q in qs[10:]:
        t = time.perf_counter()
        bm.search(q, 50)
        times.append((time.perf_counter() - t) * 1000)
    disk = sum(f.stat().st_size for f in index_dir.rglob("*") if f.is_file())
    print(json.dumps({"chunks": len(bm._chunk_ids), "load_s": round(load_s, 3), "built": built, "rss_growth_mib": round(_rss_mib() - rss0, 1),
                      "disk_mib": round(disk / 1048576, 1), "search_ms": summary(times, 3)}))


def bm25_probe(store: Path, queries: Path, n: int = 200, index_dir: Path | None = None, timeout: float = 900) -> dict:
    """In a fresh process: load the store's persisted index, or with `index_dir` (an empty folder) build one from the catalog."""
    extra = [str(index_dir)] if index_dir else []
    p = subprocess.run([sys.executable, "-m", "dossier.eval.bench.bm25_bench", str(store), str(queries), str(n)] + extra,
                       capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        return {"error": (p.stderr.strip().splitlines() or ["?"])[-1][:300]}
    return json.loads(p.stdout.strip().splitlines()[-1])


def extrapolate_1m(rows: list[dict]) -> str:
    """Linear in the number of chunks from the largest measured size (bm25s scores are a pass over the
    postings of the query terms plus one dense score array per query; both grow with the corpus)."""
    if not rows:
        return ""
    big = max(rows, key=lambda r: r["chunks"])
    f = 1_000_000 / big["chunks"]
    return (f"x{f:.0f} from {big['chunks']:,} chunks, assuming linear growth: on disk ~{big['disk_mib'] * f:,.0f} MiB, "
            f"load ~{big['load_s'] * f:.1f} s, search p50 ~{big['search_ms']['p50'] * f:.0f} ms. "
            "Not measured; a 1M store would shard BM25 (or keep it in one process, e.g. `dossier serve`) if that p50 is too slow.")


if __name__ == "__main__":
    from dossier.ingest.runtime import apply_process_settings

    apply_process_settings()
    main()
