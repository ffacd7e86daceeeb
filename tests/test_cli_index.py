"""The `dossier` command line end to end: ingest / search / sources / remove / repair, --json shapes,
exit statuses and one-line errors. Most runs call the real entry point in-process (the session's
embedder is reused); a few run the installed console script in a fresh process."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dossier.app.cli_index import snippet
from tests.conftest import FIXTURES, REPO, SEED, SEED_MANIFEST

DOSSIER = Path(sys.executable).parent / "dossier"
RESULT_KEYS = {"source", "status", "reason", "code", "doc_id", "title", "chunks"}
HIT_KEYS = {"rank", "chunk_id", "doc_id", "title", "publisher", "date", "kind", "source", "page", "section", "start", "end",
            "score", "dense_rank", "bm25_rank", "language", "text"}  # language: the chunk's (#16)


def one_error_line(res, *fragments: str) -> str:
    """The command failed with exit status 2 and exactly one line on stderr, no traceback."""
    assert res.exit_code == 2, (res.exit_code, res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("error: ") and "Traceback" not in res.stderr
    for f in fragments:
        assert f in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def inbox(tmp_path) -> Path:
    folder = tmp_path / "inbox"
    (folder / "broken").mkdir(parents=True)
    for name in ("two-pages.pdf", "notes.md", "nav-page.html"):
        shutil.copy(FIXTURES / name, folder / name)
    for name in ("fake.pdf", "scanned.pdf", "image.png"):
        shutil.copy(FIXTURES / "broken" / name, folder / "broken" / name)
    return folder


def test_ingest_json_report_and_exit_status(tmp_path, inbox, run_cli):
    data = tmp_path / "data"
    res = run_cli("--data-dir", data, "ingest", inbox, "--json")
    assert res.exit_code == 1  # some inputs failed; the others are ingested
    lines = res.json_lines()  # JSON Lines: one object per input as it finished, then the summary
    report = lines[-1]
    assert report["type"] == "summary" and all(x["type"] == "result" for x in lines[:-1])
    assert set(report) == {"type", "results", "counts", "chunks", "embedded", "reused", "embedded_chunks", "seconds",
                           "repaired", "interrupted", "not_started"}
    assert sorted((x["source"], x["status"]) for x in lines[:-1]) == sorted((r["source"], r["status"]) for r in report["results"])
    assert report["counts"] == {"ingested": 3, "failed": 3} and report["interrupted"] is None and report["not_started"] == []
    for r in report["results"]:
        assert set(r) == RESULT_KEYS
    by = {Path(r["source"]).name: r for r in report["results"]}
    assert by["two-pages.pdf"]["status"] == "ingested" and by["two-pages.pdf"]["title"] == "Nordland tender report"
    assert (by["fake.pdf"]["status"], by["fake.pdf"]["code"]) == ("failed", "corrupt")
    assert by["scanned.pdf"]["reason"] == "no extractable text (scanned? needs OCR)"
    assert by["image.png"]["reason"].startswith("unsupported file type")
    assert report["chunks"] == report["embedded"] + report["reused"] == sum(r["chunks"] for r in report["results"]) > 0
    assert report["embedded_chunks"] == report["embedded"]
    assert isinstance(report["seconds"], float)

    again = run_cli("--data-dir", data, "ingest", inbox / "two-pages.pdf", inbox / "notes.md", "--json")
    assert again.exit_code == 0
    assert again.json()["counts"] == {"unchanged": 2} and again.json()["embedded_chunks"] == 0


def test_ingest_plain_output(tmp_path, inbox, run_cli):
    data = tmp_path / "data"
    res = run_cli("--data-dir", data, "ingest", inbox)
    assert res.exit_code == 1
    lines = res.stdout.strip().splitlines()
    assert any(l.split()[0] == "ingested" and l.rstrip().endswith("chunks)") and "notes.md" in l for l in lines)
    failed = [l for l in lines if l.split()[0] == "failed"]
    assert len(failed) == 3 and any("fake.pdf — corrupt PDF" in l for l in failed)
    counts, _, summary = lines[-1].partition("; ")
    assert sorted(counts.split(", ")) == ["3 failed", "3 ingested"] and " embedded, " in summary and " reused in " in summary
    again = run_cli("--data-dir", data, "ingest", inbox / "notes.md")
    assert again.exit_code == 0
    assert "unchanged" in again.stdout and "no embedding needed" in again.stdout


def test_missing_path_is_a_failed_line_and_exit_1(tmp_path, run_cli):
    res = run_cli("--data-dir", tmp_path / "data", "ingest", tmp_path / "nope.txt")
    assert res.exit_code == 1
    assert "failed" in res.stdout and f"{tmp_path / 'nope.txt'} — no such file or folder" in res.stdout
    js = run_cli("--data-dir", tmp_path / "data", "ingest", tmp_path / "nope.txt", "--json").json()
    assert js["results"] == [{"source": str(tmp_path / "nope.txt"), "status": "failed", "reason": "no such file or folder",
                              "code": "missing", "doc_id": "", "title": "", "chunks": 0}]


def test_metadata_flags_and_manifest(tmp_path, run_cli):
    data = tmp_path / "data"
    src = tmp_path / "memo.txt"
    src.write_text("Memo: the Kessel holding centre held 47 people for more than 90 days.")
    res = run_cli("--data-dir", data, "ingest", src, "--kind", "ngo-report", "--title", "Kessel memo",
                  "--publisher", "Borderwatch", "--date", "2023-09", "--json")
    assert res.exit_code == 0 and res.json()["counts"] == {"ingested": 1}
    doc = run_cli("--data-dir", data, "sources", "--json").json()["documents"][0]
    assert (doc["kind"], doc["title"], doc["publisher"], doc["date"]) == ("ngo-report", "Kessel memo", "Borderwatch", "2023-09")

    res = run_cli("--data-dir", data, "ingest", src, "--title", "Renamed memo", "--json")
    assert res.json()["counts"] == {"metadata-updated": 1} and res.json()["embedded_chunks"] == 0
    assert run_cli("--data-dir", data, "sources", "--json").json()["documents"][0]["title"] == "Renamed memo"

    # the seed with its manifest: manifest metadata wins over what the reader finds
    res = run_cli("--data-dir", data, "ingest", SEED.parent, "--manifest", SEED_MANIFEST, "--json")
    assert res.exit_code == 0 and res.json()["counts"] == {"ingested": 1}
    docs = {d["title"]: d for d in run_cli("--data-dir", data, "sources", "--json").json()["documents"]}
    seed = docs["Equipping a Dictator"]
    assert (seed["kind"], seed["date"], seed["publisher"]) == ("article", "2019-01-31", "OCCRP (with Danwatch)")
    assert seed["url"].startswith("https://www.occrp.org/") and seed["source"] == str(SEED)


def test_sources_json_and_table(seed_index, run_cli):
    res = run_cli("--data-dir", seed_index.data_dir, "sources", "--json")
    assert res.exit_code == 0
    (doc,) = res.json()["documents"]
    assert {"doc_id", "source", "sha256", "format", "title", "publisher", "date", "kind", "language", "url",
            "ingested_at", "n_chunks"} <= set(doc)
    assert doc["doc_id"] == seed_index.doc_id and doc["n_chunks"] == seed_index.report.results[0].chunks > 0
    assert doc["language"] == "en" and doc["format"] == "text" and len(doc["sha256"]) == 64
    table = run_cli("--data-dir", seed_index.data_dir, "sources")
    assert table.exit_code == 0 and "article" in table.stdout and "2019-01-31" in table.stdout
    assert seed_index.doc_id in table.stdout  # whole, even in 80 columns: it is what --doc and remove take


def test_search_json_fields(seed_index, run_cli):
    res = run_cli("--data-dir", seed_index.data_dir, "search", "surveillance equipment sold to Belarus", "--k", "4", "--json")
    assert res.exit_code == 0
    out = res.json()
    assert out["query"] == "surveillance equipment sold to Belarus"
    assert set(out["timings_ms"]) == {"embed", "dense", "bm25", "fuse", "total"}
    hits = out["results"]
    assert [h["rank"] for h in hits] == [1, 2, 3, 4]
    text = seed_index.svc.catalog.doc_text(seed_index.doc_id)
    for h in hits:
        assert set(h) == HIT_KEYS
        assert h["title"] == "Equipping a Dictator" and h["kind"] == "article" and h["date"] == "2019-01-31"
        assert h["source"].startswith("https://www.occrp.org/")  # the URL from the manifest
        assert h["page"] is None and text[h["start"]:h["end"]] == h["text"]
        assert isinstance(h["score"], float) and h["score"] > 0
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_search_filters_and_pages_from_the_cli(tmp_path, inbox, run_cli):
    data = tmp_path / "data"
    run_cli("--data-dir", data, "ingest", inbox / "two-pages.pdf", "--kind", "ngo-report")
    run_cli("--data-dir", data, "ingest", inbox / "nav-page.html", "--kind", "article")
    hits = run_cli("--data-dir", data, "search", "Delivery of 14 thermal cameras in Pinsk", "--json").json()["results"]
    assert hits[0]["page"] == 2 and hits[0]["title"] == "Nordland tender report"
    only = run_cli("--data-dir", data, "search", "thermal cameras", "--kind", "article", "--json").json()["results"]
    assert only and {h["kind"] for h in only} == {"article"}
    doc_id = hits[0]["doc_id"]
    by_doc = run_cli("--data-dir", data, "search", "thermal cameras", "--doc", doc_id, "--json").json()["results"]
    assert by_doc and {h["doc_id"] for h in by_doc} == {doc_id}
    dated = run_cli("--data-dir", data, "search", "thermal cameras", "--from", "2020", "--json").json()["results"]
    assert dated and {h["date"] for h in dated} == {"2020-05-04"}
    for mode in ("dense", "bm25"):
        res = run_cli("--data-dir", data, "search", "thermal cameras", "--mode", mode, "--json")
        assert res.exit_code == 0 and res.json()["results"]
    text = run_cli("--data-dir", data, "search", "Delivery of 14 thermal cameras in Pinsk", "--k", "1")
    assert "1. Nordland tender report, p. 2" in text.stdout


def test_search_on_an_empty_store_says_so(tmp_path, run_cli):
    res = run_cli("--data-dir", tmp_path / "data", "search", "anything")
    assert res.exit_code == 0 and "the store is empty: run `dossier ingest`" in res.stdout
    assert run_cli("--data-dir", tmp_path / "data", "search", "anything", "--json").json()["results"] == []
    assert "the store is empty" in run_cli("--data-dir", tmp_path / "data", "sources").stdout


def test_remove_and_repair(tmp_path, run_cli):
    data = tmp_path / "data"
    src = tmp_path / "a.txt"
    src.write_text("A note about Northwind Optics.")
    doc_id = run_cli("--data-dir", data, "ingest", src, "--json").json()["results"][0]["doc_id"]
    res = run_cli("--data-dir", data, "remove", doc_id)
    assert res.exit_code == 0 and f"removed {doc_id}" in res.stdout
    assert run_cli("--data-dir", data, "sources", "--json").json()["documents"] == []
    one_error_line(run_cli("--data-dir", data, "remove", doc_id), f"no such document: {doc_id}")
    res = run_cli("--data-dir", data, "repair")
    assert res.exit_code == 0 and "removed vectors of 0 orphaned document(s)" in res.stdout


@pytest.mark.parametrize("args,fragments", [
    (["ingest", "{SEED}", "--kind", "memo"], ["--kind", "expected one of article, legal", "got 'memo'"]),
    (["ingest", "{SEED}", "--date", "31 January 2019"], ["--date: expected YYYY, YYYY-MM or YYYY-MM-DD", "'31 January 2019'"]),
    (["ingest", "{SEED}", "--date", "2019-13-45"], ["--date", "'2019-13-45'"]),
    (["ingest", "{SEED}", "--manifest", "{BAD_MANIFEST}"], ["bad.tsv:3: kind:", "got 'memo'"]),
    (["ingest", "{SEED}", "--manifest", "{BAD_DATE_MANIFEST}"], ["bad-date.tsv:2: date:", "got 'last week'"]),
    (["ingest", "{SEED}", "--manifest", "{NO_MANIFEST}"], ["nothere.tsv: manifest not found"]),
    (["search", "x", "--from", "yesterday"], ["--from: expected YYYY, YYYY-MM or YYYY-MM-DD, got 'yesterday'"]),
    (["search", "x", "--to", "2019-02-30"], ["--to:"]),
    (["search", "x", "--mode", "magic"], ["--mode: expected hybrid, dense or bm25, got 'magic'"]),
])
def test_user_errors_are_one_line(tmp_path, run_cli, args, fragments):
    bad = tmp_path / "bad.tsv"
    bad.write_text("id\tpath\tkind\nok\ta.txt\tarticle\nno\tb.txt\tmemo\n")
    bad_date = tmp_path / "bad-date.tsv"
    bad_date.write_text("id\tpath\tdate\nx\ta.txt\tlast week\n")
    subst = {"{SEED}": str(SEED), "{BAD_MANIFEST}": str(bad), "{BAD_DATE_MANIFEST}": str(bad_date),
             "{NO_MANIFEST}": str(tmp_path / "nothere.tsv")}
    data = tmp_path / "data"
    res = run_cli("--data-dir", data, *[subst.get(a, a) for a in args])
    one_error_line(res, *fragments)
    # a configuration error stops the command before anything is stored
    assert not (data / "catalog.sqlite").exists() or run_cli("--data-dir", data, "sources", "--json").json()["documents"] == []


def test_usage_errors_exit_2(run_cli):
    res = run_cli("search")
    assert res.exit_code == 2 and "Missing argument" in res.stderr
    res = run_cli("search", "x", "--k", "0")
    assert res.exit_code == 2 and "--k" in res.stderr


def test_snippet_shows_the_part_that_names_the_query_words():
    text = "Filler sentence about borders. " * 40 + "Joshua Franco, a senior research advisor, spoke. " + "More filler. " * 40
    shown = snippet(text, "Who is Joshua Franco?")
    assert "Joshua Franco, a senior research advisor" in shown and len(shown) <= 602
    assert shown.startswith("…") and shown.endswith("…")
    assert snippet("short text", "anything") == "short text"
    assert snippet(text, "zzz").startswith("Filler sentence")


# --- the installed console script, in fresh processes --------------------------------------------------

def _env(**extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOSSIER_")}
    env.update({"HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "NO_COLOR": "1", "COLUMNS": "80"}, **extra)
    return env


def test_console_script_sources_and_error(seed_index, tmp_path):
    res = subprocess.run([str(DOSSIER), "--data-dir", str(seed_index.data_dir), "sources", "--json"], cwd=REPO,
                         capture_output=True, text=True, env=_env(), timeout=120)
    assert res.returncode == 0, res.stderr
    assert [d["doc_id"] for d in json.loads(res.stdout)["documents"]] == [seed_index.doc_id]
    long_name = tmp_path / ("a-rather-long-folder-name-" * 4) / "manifest.tsv"
    long_name.parent.mkdir()
    long_name.write_text("id\tpath\tkind\nx\ty.txt\tpamphlet\n")
    res = subprocess.run([str(DOSSIER), "--data-dir", str(tmp_path / "d"), "ingest", str(SEED), "--manifest", str(long_name)],
                         cwd=REPO, capture_output=True, text=True, env=_env(), timeout=120)
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr  # one line even past 80 columns
    assert res.stderr.startswith("error: ") and "manifest.tsv:2: kind:" in res.stderr and "'pamphlet'" in res.stderr
