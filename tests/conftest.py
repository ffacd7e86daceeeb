"""Shared pytest fixtures."""
from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import textwrap
import time

# Offline and quiet before anything imports transformers or chromadb.
for _k, _v in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
               "TOKENIZERS_PARALLELISM": "false", "DO_NOT_TRACK": "1"}.items():
    os.environ[_k] = _v

import sys
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest

from dossier.app.local_llm import LLMServerError, running_llm_server


@pytest.fixture(scope="session")
def llm_server():
    """Base URL ("http://127.0.0.1:PORT/v1") of a real llama.cpp server running SmolLM2-135M-Instruct."""
    try:
        with running_llm_server() as base_url:
            yield base_url
    except LLMServerError as e:
        pytest.fail(f"llama.cpp server fixture: {e}", pytrace=False)


# --- index: the real bundled embedder, loaded once per session -------------------------------------

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
SEED = REPO / "sources" / "docs" / "equipping-a-dictator.txt"
SEED_MANIFEST = REPO / "sources" / "manifest.tsv"
EVAL_FIXTURES = FIXTURES / "eval"  # the evaluation tests' tiny dataset and its corpus
TINY = EVAL_FIXTURES / "tiny.jsonl"


def load_document(path: Path, settings=None):
    """A Document built the way the ingestor builds it (doc_id from the content hash), with the real readers."""
    import hashlib

    from dossier.ingest.models import Document, DocumentMeta
    from dossier.ingest.readers import read_bytes
    from dossier.ingest.settings import IngestSettings

    data = path.read_bytes()
    read = read_bytes(data, path.name, settings or IngestSettings())
    sha = hashlib.sha256(data).hexdigest()
    return Document(doc_id="d" + sha[:15], source=str(path), sha256=sha, format=read.format, text=read.text,
                    meta=DocumentMeta(language="en"), pages=read.pages, headings=read.headings)


@pytest.fixture(scope="session")
def shared_embedder():
    """The real bundled all-MiniLM-L6-v2 embedder, loaded once for the whole session."""
    from dossier.index.embedder import Embedder
    from dossier.index.settings import IndexSettings

    emb = Embedder(IndexSettings())
    emb.embed(["warm-up"])
    return emb


def build_service(data_dir: Path, embedder, *, chroma_url: str | None = None, index=None, ingest=None):
    """A real IndexService in `data_dir` that reuses an already loaded embedder."""
    from dossier.index.service import IndexService
    from dossier.index.settings import IndexSettings
    from dossier.ingest.settings import IngestSettings

    svc = IndexService(Path(data_dir), index or IndexSettings(), ingest or IngestSettings(), chroma_url=chroma_url)
    if index is None or index.embed_model == "bundled":
        svc.embedder = embedder
    return svc


@pytest.fixture(scope="session")
def eval_settings(tmp_path_factory):
    """Default settings with a throwaway data dir (run_eval replaces it by OUT/store anyway)."""
    from dossier.app.settings import DossierSettings

    return DossierSettings(data_dir=tmp_path_factory.mktemp("eval-data"), chroma_url="")


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    """URL of a real `chroma run` server on loopback, persisted in a temp dir; stopped after the module."""
    from dossier.eval.bench.server import chroma_server as running_chroma

    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.exists():
        pytest.fail(f"the chroma executable is missing: {chroma} (run `make setup`)", pytrace=False)
    try:
        with running_chroma(tmp_path_factory.mktemp("chroma-server") / "db") as url:
            yield url
    except RuntimeError as exc:
        pytest.fail(f"chroma server: {exc}", pytrace=False)


@pytest.fixture
def make_service(tmp_path, shared_embedder):
    """Factory: make_service(data_dir=None, chroma_url=None, index=None, ingest=None) -> IndexService."""

    def make(data_dir: Path | None = None, **kw):
        return build_service(data_dir or tmp_path / "data", shared_embedder, **kw)

    return make


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory, shared_embedder):
    """The seed article ingested once with its manifest. Read-only: tests must not change it."""
    from dossier.index.indexer import Ingestor
    from dossier.ingest.manifest import ManifestIndex, load_manifest

    data_dir = tmp_path_factory.mktemp("seed-index")
    svc = build_service(data_dir, shared_embedder)
    manifests = ManifestIndex([(SEED_MANIFEST, load_manifest(SEED_MANIFEST))])
    report = Ingestor(svc, manifests=manifests).run([str(SEED)])
    assert [r.status for r in report.results] == ["ingested"], report.to_dict()
    return SimpleNamespace(svc=svc, report=report, data_dir=data_dir, doc_id=report.results[0].doc_id)


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self):
        """The output's JSON object; for a JSON Lines stream (`ingest --json`), its last object (the summary)."""
        return last_json(self.stdout)

    def json_lines(self) -> list:
        import json

        return [json.loads(x) for x in self.stdout.splitlines() if x.strip()]


def last_json(text: str):
    """One JSON document, or the last line of a JSON Lines stream."""
    import json

    try:
        return json.loads(text)
    except ValueError:
        return json.loads(text.strip().splitlines()[-1])


@pytest.fixture
def run_cli(monkeypatch, capsys, shared_embedder):
    """Run the real `dossier` entry point (dossier.cli:main) in this process: argv in, (exit code, stdout,
    stderr) out. DOSSIER_* variables from the outer environment are cleared; `env` sets some. The
    bundled embedder is the session's instance, so the model is not loaded again."""
    import dossier.index.service as service_mod
    from dossier.cli import main

    real_embedder = service_mod.Embedder
    monkeypatch.setattr(service_mod, "Embedder",
                        lambda s: shared_embedder if s.embed_model == "bundled" else real_embedder(s))
    for k in list(os.environ):
        if k.startswith("DOSSIER_"):
            monkeypatch.delenv(k)

    def run(*args, env: dict[str, str] | None = None) -> CliResult:
        with monkeypatch.context() as m:
            for k, v in (env or {}).items():
                m.setenv(k, v)
            m.setattr(sys, "argv", ["dossier", *map(str, args)])
            capsys.readouterr()
            try:
                main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


# --- the real `dossier` command in a child process (CLI, `dossier serve`) ------------------------------

DOSSIER = [sys.executable, "-c", "from dossier.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment for a child `dossier`: offline, loopback unproxied, this data dir, no outer DOSSIER_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOSSIER_")}
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "DOSSIER_DATA_DIR": str(data_dir),
                "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}, **extra)
    return env


def ingest_seed(env: dict[str, str]) -> None:
    """The seed article (`sources/docs` with its manifest) ingested through the real CLI into env's data dir."""
    ing = subprocess.run(DOSSIER + ["ingest", str(REPO / "sources" / "docs"), "--manifest", str(SEED_MANIFEST)],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert ing.returncode == 0, ing.stdout + ing.stderr


# Run before `dossier`'s main(): records every DNS lookup and connection to an address that is not on
# this machine (telemetry, hub downloads, ...) as a JSON line in $NET_AUDIT_OUT.
NET_AUDIT = textwrap.dedent("""
    import json, os, sys
    _out = os.environ["NET_AUDIT_OUT"]
    _local = ("127.", "::1", "localhost", "0.0.0.0")

    def _hook(event, args):
        if event == "socket.getaddrinfo":
            where = str(args[0])
        elif event == "socket.connect" and isinstance(args[1], tuple):
            where = str(args[1][0])
        else:
            return
        if where and where != "None" and not where.startswith(_local):
            with open(_out, "a") as f:
                f.write(json.dumps({"event": event, "to": where}) + "\\n")

    sys.addaudithook(_hook)
    from dossier.cli import main
    main()
""")


def outside_contacts(path: Path) -> list[dict]:
    """The contacts off this machine that NET_AUDIT recorded in `path` (none when it wrote nothing)."""
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


@contextlib.contextmanager
def serving(data_dir: Path, log_path: Path, timeout: float = 180, net_audit: Path | None = None):
    """A real `dossier serve` on a free loopback port (default host): yields (process, base_url).
    With net_audit, every contact with an address off this machine is written there. A context manager
    rather than a fixture: tests start and stop the server at chosen points (while a lock is held, ...)."""
    import httpx

    port = free_port()
    cmd = DOSSIER if net_audit is None else [sys.executable, "-c", NET_AUDIT]
    extra = {} if net_audit is None else {"NET_AUDIT_OUT": str(net_audit)}
    with log_path.open("w") as log:
        proc = subprocess.Popen(cmd + ["serve", "--port", str(port)], cwd=REPO, env=cli_env(data_dir, **extra),
                                stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while True:
                assert proc.poll() is None, log_path.read_text()[-3000:]
                try:
                    if httpx.get(f"{base}/api/health", timeout=2, trust_env=False).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "server did not come up:\n" + log_path.read_text()[-3000:]
                time.sleep(0.25)
            yield proc, base
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


# --- real headless Chromium (browser tests) ---------------------------------------------------------
CHROMIUM = os.environ.get("DOSSIER_TEST_CHROMIUM", "/usr/bin/chromium")
# the background-networking flags: without them Chromium's own connections are refused by the closed network
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = REPO / "test-artifacts" / "screenshots"
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} not found: apt-get install chromium")


@contextlib.contextmanager
def chromium_page(base_url: str, timeout_ms: int = 30_000):
    """A page of the app at `base_url` in a fresh headless Chromium, loaded (the question box shown), with
    `page.errors` collecting the page's JavaScript errors; closed after."""
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        ctx = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
        try:
            yield open_app_page(ctx, base_url, timeout_ms)
        finally:
            ctx.close()
            browser.close()


def open_app_page(ctx, base_url: str, timeout_ms: int = 30_000):
    """A new page of a browser context at the app, loaded, with `page.errors` (JavaScript errors)."""
    pg = ctx.new_page()
    pg.set_default_timeout(timeout_ms)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(base_url + "/")
    pg.wait_for_selector("#question textarea")
    pg.errors = errors
    return pg


def ask_in_page(pg, question: str, turn: int):
    """Ask in the chat and wait for the turn's final answer (a bot message that is no longer a placeholder)."""
    pg.fill("#question textarea", question)
    pg.click("#ask")
    bot = pg.locator('#chatbot [data-testid="bot"]').nth(turn - 1)
    bot.wait_for()
    pg.wait_for_function(
        """n => { const m = document.querySelectorAll('#chatbot [data-testid="bot"]')[n - 1];
                 return m && !m.querySelector('.thinking, .cursor'); }""", arg=turn)
    # the sources panel is filled in the same final update
    pg.wait_for_function("n => !!document.querySelector(`#sources #sources-t${n}`) || "
                         "!!document.querySelector('#chatbot .error')", arg=turn)
    return bot
