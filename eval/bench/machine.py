"""What machine and software a benchmark ran on (so a result file says where its numbers come from)."""
from __future__ import annotations

import os
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

PACKAGES = ("torch", "sentence-transformers", "transformers", "chromadb", "llama-index-core",
            "llama-index-vector-stores-chroma", "bm25s", "numpy", "tiktoken", "onnxruntime", "onnx", "tokenizers")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def total_ram_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1048576, 1)
    except OSError:
        pass
    return None


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def git_state(root: Path) -> dict:
    def run(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    return {"commit": run("rev-parse", "--short", "HEAD"), "dirty": bool(run("status", "--porcelain", "--untracked-files=no"))}


def machine_info(root: Path | None = None) -> dict:
    versions = {}
    for p in PACKAGES:
        try:
            versions[p] = version(p)
        except PackageNotFoundError:
            versions[p] = None
    from dossier.index.settings import IndexSettings

    idx = IndexSettings()
    torch_threads = idx.torch_threads or os.cpu_count()  # the embedder's threads (torch or onnxruntime)
    return {
        "cpu": cpu_model(), "cores": os.cpu_count(), "ram_gib": total_ram_gib(),
        "os": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
        "torch_threads": torch_threads, "embed_backend": idx.embed_backend, "embed_batch_size": idx.embed_batch_size,
        "versions": versions, "load_average_at_start": load_average(),
        "git": git_state(root or Path.cwd()),
    }
