"""Draft-check timing (issue #12: a 100-sentence draft checks in <= 10 s on this machine).

The draft is the first 100 sentences of the draft-check datasets (check-dev, then check-heldout), in
paragraphs of five, as one Markdown file with a heading. It is checked against a store of their corpus
(the seed article and the three fixture documents):

- `cli`: a fresh `dossier check DRAFT --json` process, spawn to exit (models loaded, every sentence
  retrieved and compared), repeated; the figure the target is judged on;
- `in_process`: `DraftChecker.check` with loaded models and an empty embedding cache, repeated.

The CPU time of the `dossier check` process is recorded beside its wall time: on a shared 2-core
machine the wall time follows the load, the CPU time much less.
"""
from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

DATASETS = Path(__file__).resolve().parents[1] / "datasets"
TARGET_S = 10.0


def bench_draft(n: int = 100) -> str:
    from ..check_data import load_check_dataset

    sents = [it.sentence for name in ("check-dev", "check-heldout") for it in load_check_dataset(DATASETS / f"{name}.jsonl")][:n]
    paras = [" ".join(sents[i:i + 5]) for i in range(0, len(sents), 5)]
    return "# Draft for the check benchmark\n\n" + "\n\n".join(paras) + "\n"


def _stats(xs: list[float]) -> dict:
    return {"median": round(statistics.median(xs), 3), "min": round(min(xs), 3), "max": round(max(xs), 3), "n": len(xs),
            "runs": [round(x, 3) for x in xs]}


def run_check_bench(work: Path, *, sentences: int = 100, repeats: int = 3, log: Callable[[str], None] = print) -> dict:
    from dossier.app.check import DraftChecker

    from ..squad_bench import open_store

    work = Path(work)
    app, _ = open_store("seed-dev", work)
    draft = work / "check-draft.md"
    text = bench_draft(sentences)
    draft.write_text(text, encoding="utf-8")
    svc = app.index
    inproc = []
    checked = 0
    for i in range(repeats):
        checker = DraftChecker(svc.retriever, svc.embedder.embed, app.settings.check)
        t = time.perf_counter()
        rep = checker.check(text)
        inproc.append(time.perf_counter() - t)
        checked = len(rep.sentences)
        log(f"check bench: in process, run {i + 1}: {inproc[-1]:.2f} s for {checked} sentences")
    cli, cpu, codes = [], [], []
    cmd = [sys.executable, "-c", "from dossier.cli import main; main()", "--data-dir", str(app.settings.data_dir), "check", str(draft), "--json"]
    summary = {}
    for i in range(repeats):
        t, r0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        cli.append(time.perf_counter() - t)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
        codes.append(p.returncode)
        if p.returncode in (0, 1) and p.stdout.strip():
            summary = json.loads(p.stdout)["summary"]
        log(f"check bench: dossier check process, run {i + 1}: {cli[-1]:.2f} s (exit {p.returncode})")
    return {"sentences": checked, "chunks": svc.catalog.chunk_count(), "documents": len(svc.catalog.doc_ids()),
            "in_process_s": _stats(inproc), "cli_s": _stats(cli), "cli_cpu_s": _stats(cpu), "load_average": list(os.getloadavg()),
            "cli_exit_codes": codes, "summary": summary,
            "command": "dossier check DRAFT --json", "target_s": TARGET_S}


def markdown(res: dict) -> list[str]:
    if not res:
        return []
    if "error" in res:
        return ["", "## Draft check", "", f"- failed: {res['error']}"]
    c, p = res["cli_s"], res["in_process_s"]
    return ["", "## Draft check", "",
            f"- a {res['sentences']}-sentence draft (the check datasets' first sentences) against {res['documents']} documents "
            f"({res['chunks']} chunks): `{res['command']}` spawn to exit median **{c['median']} s** (min {c['min']}, max {c['max']}, "
            f"n={c['n']}, exit codes {res['cli_exit_codes']}; CPU time {(res.get('cli_cpu_s') or {}).get('median')} s; "
            f"load average {[round(x, 2) for x in res.get('load_average', [])]}); in process with loaded models {p['median']} s "
            f"(min {p['min']}, max {p['max']}); verdicts {res['summary']}."]
