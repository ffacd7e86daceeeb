"""A `chroma run` server on 127.0.0.1 for the benchmarks that go through Chroma's server mode."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chroma_exe() -> str:
    exe = Path(sys.executable).parent / "chroma"
    return str(exe) if exe.exists() else (shutil.which("chroma") or "chroma")


SERVER_PIDS: dict[str, int] = {}  # URL -> pid of each server running from here (for its RSS)


@contextlib.contextmanager
def chroma_server(path: Path, timeout: float = 60) -> Iterator[str]:
    """Start `chroma run --path PATH --host 127.0.0.1 --port FREE`, yield its URL, stop it after."""
    import httpx

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    log = open(path / "server.log", "ab")
    env = dict(os.environ, ANONYMIZED_TELEMETRY="False")
    proc = subprocess.Popen([chroma_exe(), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"chroma run exited with status {proc.returncode} (see {path / 'server.log'})")
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"chroma run did not answer on {url} within {timeout:.0f} s")
            time.sleep(0.25)
        SERVER_PIDS[url] = proc.pid
        yield url
    finally:
        SERVER_PIDS.pop(url, None)
        stop_process(proc)
        log.close()


def stop_process(proc: subprocess.Popen, timeout: float = 15) -> None:
    """Terminate, then kill if it has not exited within `timeout` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
