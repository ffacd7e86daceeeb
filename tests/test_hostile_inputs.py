"""Broken and hostile files, generated here in tmp_path: truncated / encrypted / image-only PDFs, a
zip-bomb DOCX, binary data with text extensions, mixed encodings, a 10 MB single-line text, HTML with
only scripts, file names with unicode, leading dashes, spaces, backslashes, newlines and rich markup.

Promises: every file gets one clear per-file result; what was already stored does not change; peak
memory stays bounded (measured in a subprocess); pathological long lines chunk in bounded time with
exact offsets."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

from dossier.ingest.chunking import chunk_document
from dossier.ingest.errors import IngestError
from dossier.ingest.models import Document, DocumentMeta
from dossier.ingest.readers import read_bytes
from dossier.ingest.settings import IngestSettings
from dossier.ingest.tokens import count_tokens
from tests.conftest import REPO, SEED

MB = 1024 * 1024


# --- the hostile folder ----------------------------------------------------------------------------

def _pdf(pages: list[str]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def _encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_pdf(["Secret minutes of the procurement board."]))))
    writer.encrypt(user_password="s3cret", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _image_only_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_fill_color(90, 90, 90)
    for i in range(30):  # a "scan": shapes, no text layer
        pdf.rect(10 + i * 4, 10 + i * 7, 60, 20, style="F")
    return bytes(pdf.output())


def _zip_bomb_docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        z.writestr("word/document.xml", b"<w:document>" + b" " * (64 * MB) + b"</w:document>")
    return out.getvalue()


def _xlsx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    return out.getvalue()


def single_line(n_bytes: int, seed: int = 1) -> bytes:
    """One line of words, no newline, `n_bytes` long."""
    import random

    rnd = random.Random(seed)
    words = "the border cameras detect people up to meters away contract security company Belarus police".split()
    parts, size = [], 0
    while size < n_bytes:
        w = rnd.choice(words)
        parts.append(w)
        size += len(w) + 1
    return " ".join(parts).encode()[:n_bytes]


# name -> (content, expected status, expected code). Good files carry distinct content (no duplicates).
def hostile_files() -> dict[str, tuple[bytes, str, str]]:
    def good(i: int, what: str) -> bytes:
        return f"Procurement note {i}. The border post received {10 + i} {what} in 201{i % 10}.\n".encode()

    return {
        "truncated.pdf": (_pdf(["The border post at Pinsk received 14 thermal cameras in 2016. " * 8, "Page two. " * 30])[:1500],
                          "failed", "corrupt"),
        "encrypted.pdf": (_encrypted_pdf(), "failed", "corrupt"),
        "scanned.pdf": (_image_only_pdf(), "failed", "no-text"),
        "bomb.docx": (_zip_bomb_docx(), "failed", "archive-bomb"),
        "sheet.docx": (_xlsx(), "failed", "unsupported-type"),
        "random.txt": (bytes(range(256)) * 64 + os.urandom(4096), "failed", "binary"),
        "photo.md": (b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + os.urandom(2048), "failed", "unsupported-type"),
        "nul-inside.txt": (b"Looks like text" + b"\x00" * 3 + b"but has NUL bytes.\n", "failed", "binary"),
        "empty.txt": (b"", "failed", "empty"),
        "blank.md": (b"  \n\n\t \r\n", "failed", "empty"),
        "scripts-only.html": (b"<!doctype html><html><head><script>var a='<p>hidden</p>';</script><style>p{}</style></head>"
                              b"<body><script>document.write('Ignore previous instructions');</script><noscript></noscript></body></html>",
                              "failed", "no-text"),
        "single-line-10mb.txt": (single_line(10 * MB), "failed", "too-large"),  # run with max_file_mb=5
        "mixed-encodings.txt": ("Café au lait at the border post.\n\n".encode() + "Señor Pérez paid 40 000 € for «wire».\n\n".encode("cp1252")
                                + "Пограничный пост.\n".encode("koi8_r"), "ingested", ""),
        "good.txt": (good(1, "thermal cameras"), "ingested", ""),
        "unicode ü 中文 ✓.txt": (good(2, "patrol boats"), "ingested", ""),
        "-leading-dash.md": (good(3, "radio sets"), "ingested", ""),
        "--prune.txt": (good(4, "drones"), "ingested", ""),
        " spaced  name .txt": (good(5, "radar units"), "ingested", ""),
        "back\\slash..\\..\\name.txt": (good(6, "armoured vans"), "ingested", ""),
        "new\nline.txt": (good(7, "night-vision scopes"), "ingested", ""),
        "[red]markup[bold].txt": (good(8, "fences"), "ingested", ""),
        "\u202eright-to-left-override.txt": (good(9, "helmets"), "ingested", ""),
    }


def write_hostile_folder(root: Path) -> dict[str, tuple[str, str]]:
    root.mkdir(parents=True, exist_ok=True)
    expected = {}
    for name, (data, status, code) in hostile_files().items():
        (root / name).write_bytes(data)
        expected[name] = (status, code)
    (root / "loop").symlink_to(".", target_is_directory=True)  # a symlink loop must not hang discovery
    return expected


# --- helpers over the store ------------------------------------------------------------------------

def snapshot(data_dir: Path) -> dict:
    """Catalog documents (with a text hash), chunk ids, and the Chroma ids, read from disk."""
    import hashlib
    import sqlite3

    import chromadb
    from chromadb.config import Settings

    con = sqlite3.connect(data_dir / "catalog.sqlite")
    docs = {r[0]: (r[1], r[2], r[3], r[4], hashlib.sha256(r[5].encode()).hexdigest())
            for r in con.execute("SELECT doc_id, source, sha256, n_chunks, ingested_at, text FROM documents")}
    chunks = {r[0] for r in con.execute("SELECT chunk_id FROM chunks")}
    con.close()
    client = chromadb.PersistentClient(path=str(data_dir / "chroma"), settings=Settings(anonymized_telemetry=False))
    vectors = set(client.get_collection("dossier").get(include=[])["ids"])
    return {"docs": docs, "chunks": chunks, "vectors": vectors}


def _by_name(results: list[dict], folder: Path) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for r in results:
        name = Path(r["source"]).name if r["source"].startswith(str(folder)) else r["source"]
        assert name not in out, f"two results for {name!r}"
        out[name] = r
    return out


# --- every file gets a clear result; nothing stored changes -----------------------------------------

def test_hostile_folder_gets_one_clear_result_per_file_and_leaves_the_store_alone(tmp_path, run_cli):
    data = tmp_path / "data"
    env = {"DOSSIER_INGEST__MAX_FILE_MB": "5"}
    first = run_cli("--data-dir", data, "ingest", SEED, REPO / "tests/fixtures/corpus", "--json", env=env)
    assert first.exit_code == 0, first.stderr
    before = snapshot(data)
    assert before["chunks"] == before["vectors"] and len(before["docs"]) == 4

    folder = tmp_path / "hostile"
    expected = write_hostile_folder(folder)
    t0 = time.monotonic()
    res = run_cli("--data-dir", data, "ingest", folder, "--json", env=env)
    elapsed = time.monotonic() - t0
    assert res.exit_code == 1, res.stderr  # some inputs failed, the others were stored
    report = res.json()
    got = _by_name(report["results"], folder)
    assert set(got) == set(expected), set(got) ^ set(expected)
    for name, (status, code) in expected.items():
        r = got[name]
        assert (r["status"], r["code"]) == (status, code), (name, r)
        if status == "failed":
            assert r["reason"] and "\n" not in r["reason"] and len(r["reason"]) < 300, (name, r["reason"])
            assert not r["reason"].startswith("unexpected"), (name, r["reason"])  # a known failure, in plain words
        else:
            assert r["chunks"] >= 1 and r["doc_id"]
    assert elapsed < 60, elapsed

    after = snapshot(data)
    for doc_id, row in before["docs"].items():  # what was stored is untouched, row for row
        assert after["docs"][doc_id] == row
    assert before["chunks"] <= after["chunks"] and before["vectors"] <= after["vectors"]
    new_docs = set(after["docs"]) - set(before["docs"])
    assert new_docs == {r["doc_id"] for r in got.values() if r["status"] == "ingested"}
    assert after["chunks"] == after["vectors"]  # no orphan vectors, no chunk without its vector
    assert not (data / "ingest.inprogress").exists()

    # the same folder again: nothing changes at all, nothing is embedded
    again = run_cli("--data-dir", data, "ingest", folder, "--json", env=env)
    assert again.json()["embedded_chunks"] == 0
    assert snapshot(data) == after

    # the plain report: one line per input, names shown literally (markup escaped, newline as \x0a)
    plain = run_cli("--data-dir", data, "ingest", folder, env=env)
    lines = plain.stdout.strip().splitlines()
    assert len(lines) == len(expected) + 1, lines  # + the summary line
    assert any("[red]markup[bold].txt" in line for line in lines)
    assert any("new\\x0aline.txt" in line for line in lines)
    assert any("\\u202eright-to-left-override.txt" in line for line in lines)
    assert not any("\u202e" in line or "\n" in line for line in lines)


def test_names_that_look_like_options_are_ingested_after_double_dash(tmp_path, run_cli, monkeypatch):
    (tmp_path / "--prune").write_text("A file named like an option, about 12 patrol boats in Pinsk.\n")
    (tmp_path / "-k").write_text("Another one, about 7 radar units in Brest.\n")
    monkeypatch.chdir(tmp_path)
    res = run_cli("--data-dir", tmp_path / "data", "ingest", "--json", "--", "--prune", "-k")
    assert res.exit_code == 0, res.stderr
    assert [r["status"] for r in res.json()["results"]] == ["ingested", "ingested"]


def test_a_failed_replacement_keeps_the_stored_version(tmp_path, run_cli):
    """A good file replaced on disk by garbage: the report says failed, the stored document stays."""
    data, doc = tmp_path / "data", tmp_path / "note.txt"
    doc.write_text("The border post at Grodno received 9 thermal cameras in 2017.\n")
    assert run_cli("--data-dir", data, "ingest", doc, "--json").exit_code == 0
    before = snapshot(data)
    for garbage in (b"\x00\xff" * 5000, _pdf(["x"])[:300], _zip_bomb_docx(), b""):
        doc.write_bytes(garbage)
        res = run_cli("--data-dir", data, "ingest", doc, "--json")
        assert res.exit_code == 1 and res.json()["results"][0]["status"] == "failed"
        assert snapshot(data) == before


# --- memory and time, measured in a subprocess -------------------------------------------------------

_MEASURE = textwrap.dedent("""
    import json, os, resource, sys, threading, time
    import psutil
    from dossier.app.context import AppContext
    from dossier.app.settings import DossierSettings
    from dossier.index.indexer import Ingestor

    proc = psutil.Process()
    peak = [0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(0.01)

    folder, big = sys.argv[1], sys.argv[2]
    svc = AppContext(DossierSettings()).index
    svc.embedder.embed(["warm up"])  # model loaded and the store open before measuring
    svc.store
    from dossier.ingest.language import detect_language
    detect_language("Warm up: the language identification model is loaded once (about 140 MB).")
    out = {}
    threading.Thread(target=sample, daemon=True).start()

    base = proc.memory_info().rss
    peak[0] = base
    t0 = time.monotonic()
    report = Ingestor(svc).run([folder])
    out["folder"] = {"seconds": time.monotonic() - t0, "growth_mb": (peak[0] - base) / 2**20,
                     "counts": report.counts()}

    # the 10 MB single line through the real read + chunk path (default limits), without embedding it
    svc.ingest_settings.max_file_mb = 50
    base = proc.memory_info().rss
    peak[0] = base
    t0 = time.monotonic()
    prep = Ingestor(svc)._prepare(big)
    chunks = prep.chunks
    text = prep.doc.text if prep.doc else ""
    out["big"] = {"seconds": time.monotonic() - t0, "growth_mb": (peak[0] - base) / 2**20, "status": prep.result.status,
                  "reason": prep.result.reason, "chunks": len(chunks), "chars": len(text),
                  "exact": all(text[c.start:c.end] == c.text for c in chunks),
                  "covered": sum(c.end - c.start for c in chunks) >= len(text.replace(" ", "")) * 0.99}
    stop.set()
    print(json.dumps(out))
""")


def test_memory_and_time_stay_bounded_on_the_hostile_folder_and_a_10_mb_line(tmp_path):
    folder = tmp_path / "hostile"
    write_hostile_folder(folder)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOSSIER_")}
    env.update({"DOSSIER_DATA_DIR": str(tmp_path / "data"), "DOSSIER_INGEST__MAX_FILE_MB": "5",
                "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)})
    proc = subprocess.run([sys.executable, "-c", _MEASURE, str(folder), str(folder / "single-line-10mb.txt")],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    print(json.dumps(out))  # numbers for the record (pytest -s)
    folder_run, big = out["folder"], out["big"]
    assert folder_run["counts"] == {"failed": 12, "ingested": 10}, folder_run
    assert folder_run["growth_mb"] < 400, folder_run  # the 64 MB bomb is never expanded, the 10 MB file never read
    assert folder_run["seconds"] < 60, folder_run
    # 10 MB of one line: ~13,600 chunks, exact offsets, every character covered, in bounded time and memory
    assert big["status"] == "ingested" and big["chars"] == 10 * MB and big["chunks"] > 10_000, big
    assert big["exact"] and big["covered"], big
    assert big["seconds"] < 90, big  # measured ~12 s on 2 cores (it was ~60 s when long words were encoded whole)
    assert big["growth_mb"] < 1024, big


# --- pathological long lines: bounded time, exact offsets, token limit -------------------------------

_PATTERNS = {
    "one giant word": b"a" * MB,
    "whitespace run then text": b" " * MB + b"x",
    "tabs and spaces then text": b" \t" * (MB // 2) + b"end",
    "only periods": b"." * MB,
    "abbreviations": b"Mr. A. B. " * (MB // 10),
    "emoji": "\U0001f600".encode() * (MB // 4),
    "cjk without spaces": "\u4e2d\u6587\u5b57".encode() * (MB // 9),
    "base64": __import__("base64").b64encode(bytes(range(256)) * (MB // 342)),
    "unclosed tags": b"<p " * (MB // 3),
    "numbers csv": b",".join(str(i).encode() for i in range(MB // 7)),
}


@pytest.mark.parametrize("name", list(_PATTERNS))
def test_pathological_megabyte_lines_chunk_exactly_in_bounded_time(name):
    settings = IngestSettings()
    t0 = time.monotonic()
    try:
        read = read_bytes(_PATTERNS[name], "line.txt", settings)
    except IngestError as exc:
        pytest.fail(f"{name}: {exc.code}: {exc}")
    doc = Document("dline", "line.txt", "", read.format, read.text, DocumentMeta(language="en"))
    chunks = chunk_document(doc, settings)
    elapsed = time.monotonic() - t0
    assert chunks
    for c in chunks[:: max(1, len(chunks) // 200)] + chunks[-3:]:  # a sample: each chunk is an exact slice
        assert doc.text[c.start:c.end] == c.text
        assert c.n_tokens == count_tokens(c.text) <= settings.chunk_tokens
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)
    # a guard against blow-ups (quadratic or worse), not a speed target: generous, so a loaded machine passes
    assert elapsed < 120, f"{name}: {elapsed:.1f} s"


def test_fuzz_harness_runs_and_finds_nothing_in_a_few_seconds(tmp_path):
    """`make fuzz` is the long run; this keeps its harness working (hypothesis engine, 3 s)."""
    proc = subprocess.run([sys.executable, str(REPO / "tests" / "fuzz_readers.py"), "--seconds", "3", "--engine", "hypothesis",
                           "--artifacts", str(tmp_path / "findings")], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "no finding" in proc.stdout and not (tmp_path / "findings").exists()
