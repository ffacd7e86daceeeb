"""Run as `python -m eval.bench.memprobe STORE CORPUS --queries N`: open a store, answer N questions,
print one JSON line with the process's peak and current RSS."""
from __future__ import annotations

import argparse
import json
import resource
import time

from .corpus import read_queries
from .query_bench import open_app


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("store")
    ap.add_argument("corpus")
    ap.add_argument("--queries", type=int, default=30)
    ap.add_argument("--chroma-url", default=None)
    a = ap.parse_args()
    t = time.perf_counter()
    app, answerer = open_app(a.store, a.chroma_url)
    qs = read_queries(a.corpus)[: a.queries]
    for q in qs:
        answerer.ask(q["question"])
    # VmHWM: this process image's own peak. (ru_maxrss is not used as the figure: on Linux it also keeps
    # the peak of the image before exec, i.e. of the parent that spawned this probe.)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    hwm_kib = None
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                hwm_kib = int(line.split()[1])
    except OSError:
        pass
    try:
        import psutil

        rss_now = psutil.Process().memory_info().rss
    except ImportError:
        rss_now = None
    print(json.dumps({"chunks": app.index.catalog.chunk_count(), "queries": len(qs),
                      "seconds": round(time.perf_counter() - t, 2),
                      "peak_rss_mib": round((hwm_kib or peak_kib) / 1024, 1),
                      "peak_from": "VmHWM" if hwm_kib else "ru_maxrss",
                      "ru_maxrss_mib_incl_pre_exec": round(peak_kib / 1024, 1),
                      "rss_at_end_mib": round(rss_now / 1048576, 1) if rss_now else None}))


if __name__ == "__main__":
    from dossier.ingest.runtime import apply_process_settings

    apply_process_settings()
    main()
