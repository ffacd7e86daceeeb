"""Cold start (a fresh `dossier ask` process to its printed answer; `dossier serve` to its first answer
where that command exists) and the peak memory of a process holding a store while answering."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .stats import summary


def dossier_exe() -> list[str]:
    exe = Path(sys.executable).parent / "dossier"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("dossier")
    return [found] if found else [sys.executable, "-m", "app.cli"]


def _env() -> dict:
    env = dict(os.environ)
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "DO_NOT_TRACK": "1"})
    return env


def cold_ask(store_dir: Path, question: str, repeats: int = 3, timeout: float = 300) -> dict:
    """Wall time of `dossier --data-dir STORE ask QUESTION` from spawn to exit (answer printed)."""
    cmd = dossier_exe() + ["--data-dir", str(store_dir), "ask", question]
    runs, rcs, printed = [], [], []
    for _ in range(repeats):
        t = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=_env())
        runs.append(time.perf_counter() - t)
        rcs.append(p.returncode)
        printed.append(bool(p.stdout.strip()))
    help_s = []
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run(dossier_exe() + ["--help"], capture_output=True, timeout=timeout, env=_env())
        help_s.append(time.perf_counter() - t)
    return {"command": " ".join(["dossier", "--data-dir", str(store_dir), "ask", repr(question)]),
            "seconds": summary(runs, 3), "exit_codes": rcs, "printed_answer": all(printed),
            "baseline_dossier_help_s": summary(help_s, 3)}


def serve_first_answer() -> dict:
    """`dossier serve` to first answer: measured only where app/cli_serve.py exists."""
    import importlib.util

    if importlib.util.find_spec("app.cli_serve") is None:
        return {"skipped": "app/cli_serve.py does not exist yet: `dossier serve` cannot be timed"}
    return {"skipped": "app/cli_serve.py exists but its HTTP contract is not known to this bench yet; "
                       "add a probe once serve exposes an answer endpoint"}


def memory_probe(store_dir: Path, corpus: Path, queries: int = 30, chroma_url: str | None = None, timeout: float = 900) -> dict:
    """Peak RSS of a fresh process that opens the store and answers QUERIES questions (extractive)."""
    cmd = [sys.executable, "-m", "eval.bench.memprobe", str(store_dir), str(corpus), "--queries", str(queries)]
    if chroma_url:
        cmd += ["--chroma-url", chroma_url]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=_env(), cwd=Path(__file__).resolve().parents[2])
    if p.returncode != 0:
        return {"error": (p.stderr.strip().splitlines() or ["failed"])[-1][:300]}
    return json.loads(p.stdout.strip().splitlines()[-1])
