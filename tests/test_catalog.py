"""The SQLite catalog: documents with their text, chunk offsets, filters, versioning, the ingest log."""
from __future__ import annotations

import sqlite3
import threading

import pytest

from dossier.index.catalog import Catalog
from dossier.ingest.chunking import chunk_document
from dossier.ingest.models import Document, DocumentMeta, PageSpan
from dossier.ingest.settings import IngestSettings
from tests.conftest import FIXTURES, load_document

FP = "fp-test"


def make_doc(doc_id: str, source: str, text: str, **meta) -> Document:
    return Document(doc_id=doc_id, source=source, sha256=doc_id * 2, format="text", text=text,
                    meta=DocumentMeta(**meta), ingested_at="2024-01-01T00:00:00+00:00")


@pytest.fixture
def catalog(tmp_path):
    cat = Catalog(tmp_path / "catalog.sqlite")
    yield cat
    cat.close()


def put(cat: Catalog, doc: Document, settings=IngestSettings()):
    chunks = chunk_document(doc, settings)
    return cat.put_document(doc, chunks, FP), chunks


def test_document_round_trip_keeps_text_pages_and_headings(catalog):
    doc = load_document(FIXTURES / "two-pages.pdf")
    doc.meta = DocumentMeta(title="Nordland tender report", publisher="Audit Office", date="2020-05-04", kind="ngo-report",
                            language="en")
    replaced, chunks = put(catalog, doc)
    assert replaced is None
    back = catalog.get_document(doc.doc_id)
    assert back.text == doc.text and back.pages == [PageSpan(1, 0), PageSpan(2, doc.pages[1].start)]
    assert back.meta == doc.meta and back.sha256 == doc.sha256 and back.source == doc.source
    assert catalog.documents()[0]["n_chunks"] == len(chunks)
    stored = catalog.get_chunks([c.chunk_id for c in chunks])
    assert set(stored) == {c.chunk_id for c in chunks}
    for c in chunks:
        s = stored[c.chunk_id]
        assert (s.text, s.start, s.end, s.page, s.section, s.ord) == (c.text, c.start, c.end, c.page, c.section, c.ord)
        assert back.text[s.start:s.end] == s.text
    assert catalog.chunk_ids_for(doc.doc_id) == [c.chunk_id for c in chunks]
    assert catalog.get_document("nope") is None and catalog.get_chunks(["nope:1-2"]) == {}


def test_replacing_a_source_swaps_document_and_chunks(catalog):
    v1 = make_doc("dold", "/src/a.txt", "Old text about the tender.\n\nSecond old paragraph.")
    v2 = make_doc("dnew", "/src/a.txt", "New text about the delivery.")
    _, old_chunks = put(catalog, v1)
    version = catalog.version()
    replaced, new_chunks = put(catalog, v2)
    assert replaced == "dold"
    assert catalog.version() > version
    assert catalog.doc_ids() == {"dnew"}
    assert catalog.get_chunks([c.chunk_id for c in old_chunks]) == {}
    assert [c.chunk_id for c in catalog.iter_chunks()] == [c.chunk_id for c in new_chunks]
    # same content re-put (new chunking): nothing for the caller to delete by doc
    assert catalog.put_document(v2, new_chunks, "fp-other") is None


def test_batch_commits_once_and_a_failing_write_undoes_only_itself(catalog):
    """Ingest switches every finished document of a step in one transaction (catalog.batch): each put is a
    savepoint, so a put that fails leaves the documents before it stored and nothing of its own."""
    a, b = make_doc("da", "/a", "Alpha text about cameras."), make_doc("db", "/b", "Beta text about drones.")
    with catalog.batch():
        put(catalog, a)
        put(catalog, b)
    assert catalog.doc_ids() == {"da", "db"}
    bad = make_doc("dc", "/c", "Gamma text.")
    chunks = chunk_document(bad, IngestSettings())
    chunks = chunks + chunks[:1]  # a repeated chunk id: the chunks insert fails after the document row went in
    d = make_doc("dd", "/d", "Delta text about radar.")
    with pytest.raises(sqlite3.IntegrityError):
        with catalog.batch():
            put(catalog, d)
            catalog.put_document(bad, chunks, FP)
    assert catalog.doc_ids() == {"da", "db", "dd"}  # d committed; c's own document row undone
    assert catalog.chunk_ids_for("dc") == [] and not catalog.db.in_transaction
    put(catalog, make_doc("de", "/e", "Epsilon text."))  # the connection is usable afterwards
    assert "de" in catalog.doc_ids()


def test_delete_document_removes_its_chunks(catalog):
    put(catalog, make_doc("da", "/a", "Alpha text."))
    put(catalog, make_doc("db", "/b", "Beta text."))
    assert catalog.delete_document("da") is True
    assert catalog.delete_document("da") is False
    assert catalog.doc_ids() == {"db"} and catalog.chunk_count() == 1
    assert {c.doc_id for c in catalog.iter_chunks()} == {"db"}


def test_lookup_by_source_and_sha(catalog):
    doc = make_doc("dx", "/x.txt", "Some text.")
    put(catalog, doc)
    assert catalog.by_source("/x.txt")["doc_id"] == "dx"
    assert catalog.by_sha(doc.sha256)["source"] == "/x.txt"
    assert catalog.by_source("/y.txt") is None


@pytest.fixture
def filled(catalog):
    for doc_id, kind, publisher, date in [
        ("d1", "legal", "Council of the Northern Union", "2023-04-04"),
        ("d2", "ngo-report", "Borderwatch Collective", "2023-09"),
        ("d3", "article", "OCCRP (with Danwatch)", "2019-01-31"),
        ("d4", "article", "Northern Ledger", "2019"),
        ("d5", "other", "", ""),
    ]:
        put(catalog, make_doc(doc_id, f"/{doc_id}", f"Text of {doc_id}.", kind=kind, publisher=publisher, date=date))
    return catalog


@pytest.mark.parametrize("filters,expected", [
    ({}, None),
    ({"kinds": ["article"]}, {"d3", "d4"}),
    ({"kinds": ["legal", "ngo-report"]}, {"d1", "d2"}),
    ({"publishers": ["occrp"]}, {"d3"}),  # substring, case-insensitive
    ({"publishers": ["northern"]}, {"d1", "d4"}),
    ({"doc_ids": ["d2", "d5"]}, {"d2", "d5"}),
    ({"date_from": "2023-01-01"}, {"d1", "d2"}),
    ({"date_to": "2019-12-31"}, {"d3", "d4"}),
    ({"date_to": "2019"}, {"d3", "d4"}),  # a partial bound includes the whole year
    ({"date_from": "2019-02", "date_to": "2023-06"}, {"d1"}),
    ({"date_from": "2023-09", "date_to": "2023-09"}, {"d2"}),
    ({"kinds": ["article"], "publishers": ["ledger"]}, {"d4"}),
    ({"kinds": ["un-report"]}, set()),
])
def test_filters(filled, filters, expected):
    got = filled.filter_doc_ids(**filters)
    assert (None if got is None else set(got)) == expected


def test_ingest_log_and_meta(catalog):
    catalog.log("2024-01-01T00:00:00+00:00", "/a", "failed", "corrupt", "corrupt PDF", "")
    catalog.log("2024-01-01T00:00:01+00:00", "/b", "ingested", "", "", "db")
    assert [r["source"] for r in catalog.recent_log()] == ["/b", "/a"]
    assert catalog.recent_log()[1]["reason"] == "corrupt PDF"
    catalog.set_meta("embedder", "x")
    assert catalog.get_meta("embedder") == "x" and catalog.get_meta("missing") is None


def test_catalog_reopens_and_serves_threads(tmp_path):
    cat = Catalog(tmp_path / "c.sqlite")
    put(cat, make_doc("da", "/a", "Alpha text."))
    cat.close()
    again = Catalog(tmp_path / "c.sqlite")
    seen = []
    t = threading.Thread(target=lambda: seen.append(again.doc_ids()))
    t.start()
    t.join()
    assert seen == [{"da"}] and again.doc_ids() == {"da"}


def test_failed_transaction_changes_nothing(catalog):
    put(catalog, make_doc("da", "/a", "Alpha text."))
    dup = make_doc("db", "/b", "Beta text.")
    chunks = chunk_document(dup, IngestSettings())
    bad = chunks + chunks  # duplicate chunk ids: the insert fails inside the transaction
    with pytest.raises(Exception):
        catalog.put_document(dup, bad, FP)
    assert catalog.doc_ids() == {"da"} and catalog.chunk_count() == 1
