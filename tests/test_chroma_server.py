"""Server mode against a real `chroma run` on 127.0.0.1: ingest and search through --chroma-url, and
clean one-line errors when the server is not there."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from dossier.index.embedder import Embedder
from dossier.index.settings import IndexSettings
from tests.conftest import FIXTURES, REPO

DOSSIER = Path(sys.executable).parent / "dossier"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ingest_and_search_through_a_chroma_server(chroma_server, tmp_path, run_cli):
    import chromadb

    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("council-note.txt", "ngo-brief.txt"):
        shutil.copy(FIXTURES / "corpus" / name, folder / name)
    shutil.copy(FIXTURES / "two-pages.pdf", folder / "tender.pdf")
    data = tmp_path / "data"
    common = ("--data-dir", data, "--chroma-url", chroma_server)

    res = run_cli(*common, "ingest", folder, "--json")
    assert res.exit_code == 0, res.stderr
    report = res.json()
    assert report["counts"] == {"ingested": 3}
    n_chunks = report["embedded_chunks"]
    assert n_chunks > 0
    # the vectors live on the server, not in the data dir
    assert not (data / "chroma").exists()
    host, port = chroma_server.rsplit("//", 1)[1].split(":")
    client = chromadb.HttpClient(host=host, port=int(port))
    coll = client.get_collection("dossier")
    assert coll.count() == n_chunks
    assert coll.metadata["embedder"] == Embedder(IndexSettings()).id  # the configured default embedder

    res = run_cli(*common, "search", "How many people were detained at the Kessel holding centre?", "--k", "3", "--json")
    assert res.exit_code == 0, res.stderr
    hits = res.json()["results"]
    assert hits and "Kessel" in hits[0]["text"]
    res = run_cli(*common, "search", "financing of equipment exports", "--kind", "other", "--doc",
                  report["results"][0]["doc_id"], "--json")
    assert res.exit_code == 0 and {h["doc_id"] for h in res.json()["results"]} <= {report["results"][0]["doc_id"]}
    pdf = run_cli(*common, "search", "Delivery of 14 thermal cameras", "--k", "1", "--json").json()["results"][0]
    assert pdf["page"] == 2

    # incremental against the server too: the second run embeds nothing
    again = run_cli(*common, "ingest", folder, "--json")
    assert again.json()["counts"] == {"unchanged": 3} and again.json()["embedded_chunks"] == 0
    assert coll.count() == n_chunks

    # replace and remove go through the server as well
    (folder / "ngo-brief.txt").write_text("Borderwatch retracted Briefing Paper No. 12 in October 2023.")
    replaced = run_cli(*common, "ingest", folder, "--json").json()
    assert replaced["counts"] == {"unchanged": 2, "replaced": 1}
    assert coll.count() == n_chunks - next(r["chunks"] for r in report["results"] if r["source"].endswith("ngo-brief.txt")) + 1
    hits = run_cli(*common, "search", "Kessel holding centre detentions", "--json").json()["results"]
    assert not any("Kessel" in h["text"] for h in hits)
    doc_id = next(r["doc_id"] for r in replaced["results"] if r["source"].endswith("tender.pdf"))
    assert run_cli(*common, "remove", doc_id).exit_code == 0
    assert coll.count() == n_chunks - next(r["chunks"] for r in report["results"] if r["source"].endswith("ngo-brief.txt")) + 1 \
        - next(r["chunks"] for r in report["results"] if r["source"].endswith("tender.pdf"))


def test_chroma_url_from_the_environment(chroma_server, tmp_path, run_cli):
    src = tmp_path / "note.txt"
    src.write_text("Northwind Optics won the 2016 tender for fourteen thermal cameras.")
    env = {"DOSSIER_CHROMA_URL": chroma_server, "DOSSIER_INDEX__COLLECTION": "from-env"}
    res = run_cli("--data-dir", tmp_path / "data", "ingest", src, "--json", env=env)
    assert res.exit_code == 0 and res.json()["counts"] == {"ingested": 1}, res.stderr
    import chromadb

    host, port = chroma_server.rsplit("//", 1)[1].split(":")
    assert chromadb.HttpClient(host=host, port=int(port)).get_collection("from-env").count() == 1
    assert not (tmp_path / "data" / "chroma").exists()


def test_server_collection_refuses_another_embedder(chroma_server, tmp_path, run_cli):
    src = tmp_path / "note.txt"
    src.write_text("A short note.")
    env = {"DOSSIER_INDEX__COLLECTION": "guarded"}
    assert run_cli("--data-dir", tmp_path / "a", "--chroma-url", chroma_server, "ingest", src, env=env).exit_code == 0
    model = tmp_path / "other-model"
    model.mkdir()
    env["DOSSIER_INDEX__EMBED_MODEL"] = str(model)
    res = run_cli("--data-dir", tmp_path / "b", "--chroma-url", chroma_server, "search", "note", env=env)
    assert res.exit_code == 2
    line = res.stderr.strip()
    assert "\n" not in line and "collection 'guarded' was built with embedder" in line and "re-index" in line


def test_closed_port_is_a_one_line_error_exit_2(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOSSIER_")}
    env.update(HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False", NO_COLOR="1")
    for args in (["search", "thermal cameras"], ["ingest", str(FIXTURES / "notes.md")]):
        res = subprocess.run([str(DOSSIER), "--data-dir", str(tmp_path / "data"), "--chroma-url", url, *args], cwd=REPO,
                             capture_output=True, text=True, env=env, timeout=120)
        assert res.returncode == 2, (args, res.stdout, res.stderr)
        assert "Traceback" not in res.stderr and res.stderr.count("\n") == 1, res.stderr
        assert res.stderr.startswith(f"error: cannot open the Chroma store at {url}: ")


@pytest.mark.parametrize("url,fragment", [
    ("ftp://127.0.0.1:8000", "invalid Chroma URL 'ftp://127.0.0.1:8000': expected http://HOST:PORT"),
    ("http://", "invalid Chroma URL"),
])
def test_malformed_chroma_url_is_a_one_line_error(tmp_path, run_cli, url, fragment):
    res = run_cli("--data-dir", tmp_path / "data", "--chroma-url", url, "search", "x")
    assert res.exit_code == 2 and res.stderr.strip().count("\n") == 0
    assert fragment in res.stderr and "Traceback" not in res.stderr
