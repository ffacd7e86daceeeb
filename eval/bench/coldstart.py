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

from .server import stop_process
from .stats import summary


def dossier_exe() -> list[str]:
    exe = Path(sys.executable).parent / "dossier"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("dossier")
    return [found] if found else [sys.executable, "-m", "dossier"]


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
    py = []
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], capture_output=True, timeout=timeout, env=_env())
        py.append(time.perf_counter() - t)
    probe = subprocess.run([sys.executable, "-m", "dossier.eval.bench.coldprobe", str(store_dir), question], capture_output=True,
                           text=True, timeout=timeout, env=_env(), cwd=Path(__file__).resolve().parents[2])
    try:
        stages = json.loads(probe.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        stages = {"error": (probe.stderr.strip().splitlines() or ["failed"])[-1][:300]}
    return {"command": " ".join(["dossier", "--data-dir", str(store_dir), "ask", repr(question)]),
            "seconds": summary(runs, 3), "exit_codes": rcs, "printed_answer": all(printed),
            "baseline_dossier_help_s": summary(help_s, 3), "baseline_python_s": summary(py, 3),
            "stages_in_one_fresh_process": stages}


def _vm_hwm_mib(pid: int) -> float | None:
    """Peak resident set size of a live process (Linux /proc/PID/status VmHWM)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def serve_first_answer(store_dir: Path | None = None, question: str = "", *, questions: list[str] | None = None,
                       timeout: float = 300) -> dict:
    """`dossier serve` from spawn to the first answer of POST /api/ask, then more answers; the serve
    process's peak RSS (VmHWM) at the end. Skipped where app/cli_serve.py does not exist."""
    import importlib.util
    import socket

    import httpx

    if importlib.util.find_spec("dossier.app.cli_serve") is None:
        return {"skipped": "app/cli_serve.py does not exist: `dossier serve` cannot be timed"}
    if store_dir is None:
        return {"skipped": "no store to serve"}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = dossier_exe() + ["--data-dir", str(store_dir), "serve", "--host", "127.0.0.1", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env())
    out: dict = {"command": " ".join(["dossier", "--data-dir", str(store_dir), "serve", "--port", str(port)])}
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                return out | {"error": f"serve exited with {proc.returncode}: "
                                       + (proc.stderr.read().decode(errors="replace").strip().splitlines() or [""])[-1][:300]}
            try:
                if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                return out | {"error": f"serve did not answer /api/health within {timeout:.0f} s"}
            time.sleep(0.1)
        out["listening_s"] = round(time.perf_counter() - t0, 3)
        r = httpx.post(f"{base}/api/ask", json={"question": question}, timeout=timeout)
        out["seconds"] = round(time.perf_counter() - t0, 3)
        out["first_answer_status"] = r.status_code
        out["first_answer_ok"] = r.status_code == 200 and "answer" in r.json()
        later = []
        for q in questions or []:
            t = time.perf_counter()
            httpx.post(f"{base}/api/ask", json={"question": q}, timeout=timeout)
            later.append((time.perf_counter() - t) * 1000)
        if later:
            out["later_answers_ms"] = summary(later, 1)
        out["peak_rss_mib"] = _vm_hwm_mib(proc.pid)
        return out
    finally:
        stop_process(proc)


def memory_probe(store_dir: Path, corpus: Path, queries: int = 30, chroma_url: str | None = None, timeout: float = 900) -> dict:
    """Peak RSS of a fresh process that opens the store and answers QUERIES questions (extractive)."""
    cmd = [sys.executable, "-m", "dossier.eval.bench.memprobe", str(store_dir), str(corpus), "--queries", str(queries)]
    if chroma_url:
        cmd += ["--chroma-url", chroma_url]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=_env(), cwd=Path(__file__).resolve().parents[2])
    if p.returncode != 0:
        return {"error": (p.stderr.strip().splitlines() or ["failed"])[-1][:300]}
    return json.loads(p.stdout.strip().splitlines()[-1])
