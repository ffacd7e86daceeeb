"""Manifests (metadata overrides) and input discovery."""
from __future__ import annotations

from pathlib import Path

import pytest

from dossier.ingest.discover import expand_inputs, is_url
from dossier.ingest.manifest import ManifestError, ManifestIndex, load_manifest, normalize_date, validate_kind
from tests.conftest import SEED, SEED_MANIFEST


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_seed_manifest_loads_and_matches_the_seed():
    rows = load_manifest(SEED_MANIFEST)
    assert len(rows) == 1
    row = rows[0]
    assert (row.id, row.kind, row.title, row.date) == ("occ01", "article", "Equipping a Dictator", "2019-01-31")
    assert row.publisher.startswith("OCCRP") and row.url.startswith("https://www.occrp.org/")
    index = ManifestIndex([(SEED_MANIFEST, rows)])
    assert index.match(str(SEED)) is row
    assert index.match(row.url) is row
    assert index.match("/elsewhere/unrelated.txt") is None
    assert row.overrides() == {"kind": "article", "title": "Equipping a Dictator", "publisher": row.publisher,
                               "date": "2019-01-31", "url": row.url}


@pytest.mark.parametrize("value,expected", [
    ("2019-01-31", "2019-01-31"), ("2018-01", "2018-01"), ("2011", "2011"), (" 2011 ", "2011"),
    ("c.2016", "2016"), ("circa 2016", "2016"), ("n.d.", ""), ("", ""), ("unknown", ""),
    ("31/01/2019", ""), ("yesterday", ""), ("2019-13", ""), ("2019-02-30", ""), ("2019-13-45", ""),
])
def test_normalize_date(value, expected):
    assert normalize_date(value) == expected


def test_validate_kind():
    assert validate_kind(" Legal ", "x") == "legal"
    assert validate_kind("", "x") == ""
    with pytest.raises(ManifestError, match=r"--kind: kind: expected one of article, legal.*got 'memo'"):
        validate_kind("memo", "--kind")


def test_rows_match_by_relative_path_by_id_stem_and_by_url(tmp_path):
    docs = tmp_path / "docs"
    a = write(docs / "a.txt", "a")
    b = write(docs / "sub" / "b-report.txt", "b")
    m = write(tmp_path / "meta" / "manifest.csv",
              "id,path,kind,title,date,url\n"
              "first,../docs/a.txt,legal,First,2020,\n"
              "b-report,,ngo-report,Second,2021-03,\n"
              "web,,press-release,Third,,https://example.org/x\n")
    rows = load_manifest(m)
    index = ManifestIndex([(m, rows)])
    assert index.match(str(a)).title == "First"  # path relative to the manifest's folder
    assert index.match(str(b)).title == "Second"  # file stem equals id
    assert index.match("https://example.org/x").kind == "press-release"
    assert index.match("https://example.org/other") is None


@pytest.mark.parametrize("content,message", [
    ("", r"empty manifest"),
    ("path\tkind\nx.txt\tarticle\n", r"header: expected an 'id' column"),
    ("id\tpath\tcolour\nx\tx.txt\tred\n", r"header: unknown column\(s\) \['colour'\]"),
    ("id\tpath\tkind\nx\tx.txt\tarticle\ny\ty.txt\tmemo\n", r"manifest.tsv:3: kind: expected one of .* got 'memo'"),
    ("id\tpath\tdate\nx\tx.txt\tyesterday\n", r"manifest.tsv:2: date: expected YYYY, YYYY-MM or YYYY-MM-DD, got 'yesterday'"),
    ("id\tpath\tdate\nx\tx.txt\t2019-13-45\n", r"manifest.tsv:2: date: .*got '2019-13-45'"),
    ("id\tpath\nx\tx.txt\n\tz.txt\n", r"manifest.tsv:3: id: expected a value"),
    ("id\tpath\nx\tx.txt\nx\ty.txt\n", r"manifest.tsv:3: id: duplicate id 'x'"),
])
def test_malformed_manifest_names_file_line_and_field(tmp_path, content, message):
    m = write(tmp_path / "manifest.tsv", content)
    with pytest.raises(ManifestError, match=message):
        load_manifest(m)


def test_missing_manifest(tmp_path):
    with pytest.raises(ManifestError, match="manifest not found"):
        load_manifest(tmp_path / "nope.tsv")


def test_undated_rows_are_fine(tmp_path):
    m = write(tmp_path / "m.tsv", "id\tdate\nx\tn.d.\ny\t\n")
    assert [r.date for r in load_manifest(m)] == ["", ""]


# --- discovery --------------------------------------------------------------------------------------

def test_expand_inputs_recursive_sorted_deduplicated(tmp_path):
    root = tmp_path / "in"
    for name in ("b.txt", "a.txt", "sub/c.md", ".hidden/x.txt", "sub/.secret.txt"):
        write(root / name, name)
    (root / "link.txt").symlink_to(root / "a.txt")
    sources, missing = expand_inputs([str(root), str(root / "a.txt"), "https://example.org/page",
                                      str(tmp_path / "nope"), "https://example.org/page"])
    assert sources == [str((root / n).resolve()) for n in ("a.txt", "b.txt", "sub/c.md")] + ["https://example.org/page"]
    assert missing == [(str(tmp_path / "nope"), "no such file or folder")]
    assert is_url("http://x") and is_url("https://x") and not is_url("ftp://x") and not is_url("/x")


def test_expand_inputs_reports_what_is_not_a_file(tmp_path):
    fifo = tmp_path / "pipe"
    import os

    os.mkfifo(fifo)
    sources, missing = expand_inputs([str(fifo)])
    assert sources == [] and missing == [(str(fifo), "not a regular file")]
