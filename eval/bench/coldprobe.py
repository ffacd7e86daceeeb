"""Run as `python -m eval.bench.coldprobe STORE QUESTION`: the stages of a cold `dossier ask`, timed one
by one in a fresh process, printed as one JSON line (where the cold-start seconds go)."""
from __future__ import annotations

import json
import sys
import time


def main() -> None:
    store, question = sys.argv[1], sys.argv[2]
    stages: dict[str, float] = {}
    t = time.perf_counter()

    def mark(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        stages[name] = round(now - t, 3)
        t = now

    import dossier.app.cli as cli
    from dossier.eval.bench.cli import bench_app
    from dossier.eval.cli import eval_app

    cli.build({"eval": eval_app, "bench": bench_app})  # what the console script registers
    mark("import CLI and register commands")
    from dossier.index.settings import IndexSettings

    if IndexSettings().embed_backend == "torch":
        import torch  # noqa: F401

        mark("import torch")
        import sentence_transformers  # noqa: F401

        mark("import sentence_transformers")
    else:
        import onnxruntime  # noqa: F401
        import tokenizers  # noqa: F401

        mark("import onnxruntime + tokenizers")
    import nltk  # noqa: F401  (sentence splitting and stemming on the answer path)

    mark("import nltk")
    from .query_bench import open_app

    app, answerer = open_app(store)
    mark("settings, catalog, import chromadb + open the store, answerer")
    app.index.embedder._load()
    mark("load embedding model")
    app.index.bm25._ensure()
    mark("load BM25 index")
    a = answerer.ask(question)
    mark("first answer (retrieve + extractive + verify)")
    answerer.ask(question + " ")
    mark("second answer (same question, warm)")
    print(json.dumps({"stages_s": stages, "total_s": round(sum(stages.values()), 3), "abstained": a.abstained,
                      "timings_ms_first": a.timings_ms}))


if __name__ == "__main__":
    from dossier.ingest.runtime import apply_process_settings

    apply_process_settings()
    main()
