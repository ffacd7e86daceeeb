"""The ingest pipeline against real components: readers, chunker, the bundled embedder, embedded Chroma,
SQLite catalog and BM25. Incremental runs, atomic replacement, prune, bad input, interrupted writes,
and the vector store's embedder/chunking guard."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dossier.index.errors import EmbedderMismatch
from dossier.index.indexer import Ingestor
from dossier.index.settings import IndexSettings
from dossier.index.store import VectorStore
from dossier.ingest.manifest import ManifestIndex, load_manifest
from dossier.ingest.settings import IngestSettings
from tests.conftest import FIXTURES

GOOD = ["nav-page.html", "two-pages.pdf", "report.docx", "latin1.txt", "notes.md", "utf16.txt"]
# broken file -> (code, words the reason must contain)
BROKEN = {
    "binary.txt": ("binary", "binary data, not text"),
    "blank.txt": ("empty", "empty"),
    "empty.txt": ("empty", "empty"),
    "bomb.docx": ("archive-bomb", "archive expands"),
    "encrypted.pdf": ("corrupt", "encrypted PDF"),
    "fake.pdf": ("corrupt", "corrupt PDF"),
    "truncated.pdf": ("corrupt", "corrupt PDF"),
    "not-a-zip.docx": ("corrupt", "corrupt DOCX"),
    "scanned.pdf": ("no-text", "no extractable text (scanned? needs OCR)"),
    "scripts-only.html": ("no-text", "no extractable text"),
    "image.png": ("unsupported-type", "unsupported file type"),
    "sheet.xlsx": ("unsupported-type", "unsupported file type"),
}


def mixed_folder(root: Path) -> Path:
    folder = root / "inbox"
    (folder / "broken").mkdir(parents=True)
    for name in GOOD:
        shutil.copy(FIXTURES / name, folder / name)
    for name in BROKEN:
        shutil.copy(FIXTURES / "broken" / name, folder / "broken" / name)
    return folder


def by_name(report) -> dict[str, object]:
    return {Path(r.source).name: r for r in report.results}


def vectors(svc, ids: list[str]) -> list[str]:
    return svc.store.collection.get(ids=ids)["ids"] if ids else []


def assert_store_consistent(svc) -> None:
    """Catalog and Chroma hold exactly the same chunk ids (no duplicates, no leftovers)."""
    cat_ids = {c.chunk_id for c in svc.catalog.iter_chunks()}
    got = svc.store.collection.get(include=[])["ids"]
    assert len(got) == len(set(got)) and set(got) == cat_ids


class CountingEmbed:
    def __init__(self, embedder):
        self.real = embedder.embed
        self.calls: list[int] = []

    def __call__(self, texts, batch_size=None, workers=1):
        self.calls.append(len(texts))
        self.workers = workers
        return self.real(texts, batch_size, workers)


@pytest.fixture
def counting(shared_embedder, monkeypatch):
    counter = CountingEmbed(shared_embedder)
    monkeypatch.setattr(shared_embedder, "embed", counter)
    return counter


def test_mixed_folder_reports_each_file_and_second_run_embeds_nothing(tmp_path, make_service, counting):
    folder = mixed_folder(tmp_path)
    svc = make_service()
    report = Ingestor(svc).run([str(folder), str(tmp_path / "missing.txt")])
    results = by_name(report)
    assert len(results) == len(GOOD) + len(BROKEN) + 1
    for name in GOOD:
        r = results[name]
        assert r.status == "ingested" and r.chunks > 0 and r.doc_id.startswith("d"), r
    for name, (code, words) in BROKEN.items():
        r = results[name]
        assert (r.status, r.code) == ("failed", code), r
        assert words in r.reason and "Traceback" not in r.reason and "\n" not in r.reason
    assert (results["missing.txt"].status, results["missing.txt"].reason) == ("failed", "no such file or folder")
    assert len(report.failed) == len(BROKEN) + 1
    assert report.counts() == {"ingested": len(GOOD), "failed": len(BROKEN) + 1}
    n_chunks = sum(results[n].chunks for n in GOOD)
    assert report.embedded_chunks + report.reused_chunks == n_chunks == svc.catalog.chunk_count() == svc.store.count()
    stored = svc.catalog.get_chunks([c for d in svc.catalog.doc_ids() for c in svc.catalog.chunk_ids_for(d)])
    assert report.embedded_chunks == len({c.text for c in stored.values()})  # each distinct text embedded once
    assert_store_consistent(svc)
    # every valid file is searchable, failures or not
    hits = svc.retriever.search("Who approved the single-bidder procedure?", k=3)
    assert any("single-bidder" in h.chunk.text for h in hits)
    # the per-file report is logged
    assert {r["status"] for r in svc.catalog.recent_log()} == {"ingested", "failed"}
    assert counting.calls  # the embedder ran

    counting.calls.clear()
    again = Ingestor(svc).run([str(folder)])
    assert again.embedded_chunks == 0 and counting.calls == []
    statuses = {Path(r.source).name: r.status for r in again.results}
    assert all(statuses[n] == "unchanged" for n in GOOD)
    assert all(statuses[n] == "failed" for n in BROKEN)
    assert by_name(again)["notes.md"].reason == "content unchanged, nothing to do"
    assert svc.store.count() == n_chunks


def test_size_limit_is_a_per_file_failure(tmp_path, make_service):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "big.txt").write_text("A long line of text about tenders. " * 100)
    (folder / "small.txt").write_text("Short note about the Pinsk delivery.")
    svc = make_service(ingest=IngestSettings(max_file_mb=0.001))
    results = by_name(Ingestor(svc).run([str(folder)]))
    assert (results["big.txt"].status, results["big.txt"].code) == ("failed", "too-large")
    assert "over the 0.001 MB limit" in results["big.txt"].reason
    assert results["small.txt"].status == "ingested"


def test_changed_content_replaces_chunks_everywhere(tmp_path, make_service, counting):
    src = tmp_path / "story.txt"
    src.write_text("The border guards bought drones from Skyline Ltd in 2017.\n\n"
                   "The contract was worth 3 million euros.")
    svc = make_service()
    first = Ingestor(svc).run([str(src)])
    old = by_name(first)["story.txt"]
    old_ids = svc.catalog.chunk_ids_for(old.doc_id)
    assert old_ids and vectors(svc, old_ids) == old_ids

    src.write_text("The border guards bought armoured trucks from Volkov Motors in 2018.\n\n"
                   "The deal was signed in Grodno.")
    counting.calls.clear()
    second = Ingestor(svc).run([str(src)])
    new = by_name(second)["story.txt"]
    assert new.status == "replaced" and new.doc_id != old.doc_id
    assert sum(counting.calls) == new.chunks
    # old chunks gone from the catalog AND from Chroma
    assert svc.catalog.get_chunks(old_ids) == {} and vectors(svc, old_ids) == []
    assert svc.catalog.doc_ids() == {new.doc_id}
    assert_store_consistent(svc)
    for mode in ("hybrid", "dense", "bm25"):
        hits = svc.retriever.search("Volkov Motors armoured trucks", k=5, mode=mode)
        assert hits and "Volkov Motors" in hits[0].chunk.text
        assert all(h.chunk.doc_id == new.doc_id for h in hits)
        assert len({h.chunk.chunk_id for h in hits}) == len(hits)
    assert not any("Skyline" in h.chunk.text for h in svc.retriever.search("Skyline drones", k=5))


def test_metadata_only_change_updates_without_embedding(tmp_path, make_service, counting):
    src = tmp_path / "memo.txt"
    src.write_text("Memo on the procurement of thermal cameras for the eastern border.")
    svc = make_service()
    first = by_name(Ingestor(svc, overrides={"title": "Old title"}).run([str(src)]))["memo.txt"]
    assert first.title == "Old title"
    counting.calls.clear()

    report = Ingestor(svc, overrides={"title": "New title", "kind": "ngo-report"}).run([str(src)])
    r = by_name(report)["memo.txt"]
    assert r.status == "metadata-updated" and "kind, title" in r.reason
    assert report.embedded_chunks == 0 and counting.calls == []
    doc = svc.catalog.get_document(first.doc_id)
    assert (doc.meta.title, doc.meta.kind) == ("New title", "ngo-report")
    hit = svc.retriever.search("thermal cameras memo", k=1)[0]
    assert hit.doc["title"] == "New title"

    manifest = tmp_path / "manifest.tsv"
    manifest.write_text("id\tpath\tpublisher\tdate\nm1\tmemo.txt\tBorderwatch\t2023-09-12\n")
    counting.calls.clear()  # (the search above embedded its query)
    report = Ingestor(svc, manifests=ManifestIndex([(manifest, load_manifest(manifest))])).run([str(src)])
    assert by_name(report)["memo.txt"].status == "metadata-updated" and counting.calls == []
    doc = svc.catalog.get_document(first.doc_id)
    assert (doc.meta.publisher, doc.meta.date, doc.meta.title) == ("Borderwatch", "2023-09-12", "New title")
    assert svc.retriever.search("thermal cameras", k=1, filters=_filters(publishers=["borderwatch"]))


def _filters(**kw):
    from dossier.index.retrieval import Filters

    return Filters(**kw)


def test_prune_removes_documents_whose_files_are_gone(tmp_path, make_service):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "keep.txt").write_text("Keep this note about Northwind Optics.")
    (folder / "drop.txt").write_text("Drop this note about Kestrel Holdings.")
    svc = make_service()
    first = by_name(Ingestor(svc).run([str(folder)]))
    dropped = first["drop.txt"].doc_id
    (folder / "drop.txt").unlink()

    without_prune = Ingestor(svc).run([str(folder)])
    assert dropped in svc.catalog.doc_ids()  # nothing is removed unless asked
    assert [r.status for r in without_prune.results] == ["unchanged"]

    report = Ingestor(svc).run([str(folder)], prune=True)
    statuses = {(Path(r.source).name, r.status) for r in report.results}
    assert statuses == {("keep.txt", "unchanged"), ("drop.txt", "removed")}
    assert svc.catalog.doc_ids() == {first["keep.txt"].doc_id}
    assert dropped not in svc.store.doc_ids()
    assert_store_consistent(svc)
    assert not any(h.chunk.doc_id == dropped for h in svc.retriever.search("Kestrel Holdings", k=5))


def test_a_renamed_file_keeps_its_document_through_prune(tmp_path, make_service, counting):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "draft.txt").write_text("Kestrel Holdings financed the purchase of razor wire in 2019.")
    svc = make_service()
    first = by_name(Ingestor(svc).run([str(folder)]))["draft.txt"]
    (folder / "draft.txt").rename(folder / "final.txt")
    counting.calls.clear()
    report = Ingestor(svc).run([str(folder)], prune=True)
    (r,) = report.results
    assert Path(r.source).name == "final.txt" and r.status == "metadata-updated" and "moved from" in r.reason
    assert counting.calls == [] and report.embedded_chunks == 0
    assert svc.catalog.doc_ids() == {first.doc_id}
    assert svc.catalog.get_document(first.doc_id).source == str((folder / "final.txt").resolve())
    assert_store_consistent(svc)
    assert [r.status for r in Ingestor(svc).run([str(folder)], prune=True).results] == ["unchanged"]


def test_duplicate_content_is_stored_once(tmp_path, make_service):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(FIXTURES / "two-pages.pdf", folder / "a.pdf")
    shutil.copy(FIXTURES / "pdf-named.txt", folder / "b.txt")  # same bytes, misleading name
    svc = make_service()
    results = by_name(Ingestor(svc).run([str(folder)]))
    assert results["a.pdf"].status == "ingested"
    assert (results["b.txt"].status, results["b.txt"].code) == ("skipped", "duplicate")
    assert "same content as" in results["b.txt"].reason and "a.pdf" in results["b.txt"].reason
    assert results["b.txt"].doc_id == results["a.pdf"].doc_id
    assert len(svc.catalog.doc_ids()) == 1
    # a later copy at a third path is skipped too, naming the stored document
    shutil.copy(FIXTURES / "two-pages.pdf", tmp_path / "c.pdf")
    r = by_name(Ingestor(svc).run([str(tmp_path / "c.pdf")]))["c.pdf"]
    assert (r.status, r.code) == ("skipped", "duplicate") and results["a.pdf"].doc_id in r.reason
    assert_store_consistent(svc)


def test_a_failing_file_never_removes_what_was_stored(tmp_path, make_service):
    folder = tmp_path / "in"
    folder.mkdir()
    report_pdf = folder / "report.pdf"
    shutil.copy(FIXTURES / "two-pages.pdf", report_pdf)
    (folder / "other.txt").write_text("A note on the Pinsk border crossing.")
    svc = make_service()
    first = by_name(Ingestor(svc).run([str(folder)]))
    before_ids = set(svc.catalog.chunk_ids_for(first["report.pdf"].doc_id))

    shutil.copy(FIXTURES / "broken" / "truncated.pdf", report_pdf)  # the file is now corrupt
    (folder / "new.txt").write_text("A new note about Grodno.")
    report = Ingestor(svc).run([str(folder)])
    results = by_name(report)
    assert (results["report.pdf"].status, results["report.pdf"].code) == ("failed", "corrupt")
    assert results["new.txt"].status == "ingested" and results["other.txt"].status == "unchanged"
    assert set(svc.catalog.chunk_ids_for(first["report.pdf"].doc_id)) == before_ids
    assert set(vectors(svc, sorted(before_ids))) == before_ids
    hits = svc.retriever.search("Delivery of 14 thermal cameras", k=3)
    assert hits[0].chunk.doc_id == first["report.pdf"].doc_id and hits[0].chunk.page == 2


def test_interrupted_write_leaves_orphans_that_retrieval_ignores_and_repair_removes(tmp_path, make_service):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("Northwind Optics delivered thermal cameras to Pinsk in November 2016.")
    (folder / "b.txt").write_text("Kestrel Holdings financed the purchase of razor wire in 2019.")
    svc = make_service()
    ingestor = Ingestor(svc, flush_chunks=1)  # write each document on its own
    real_put = svc.catalog.put_document

    def crash_on_b(doc, chunks, fp, **kw):
        if "Kestrel" in doc.text:
            raise KeyboardInterrupt  # the process dies after the vectors, before the catalog switch
        return real_put(doc, chunks, fp, **kw)

    svc.catalog.put_document = crash_on_b
    with pytest.raises(KeyboardInterrupt):
        ingestor.run([str(folder)])
    svc.catalog.put_document = real_put

    orphan_docs = svc.store.doc_ids() - svc.catalog.doc_ids()
    assert len(orphan_docs) == 1
    assert (svc.data_dir / "ingest.inprogress").exists()
    # retrieval never returns a chunk the catalog does not know, in any mode, and still fills k
    for mode in ("hybrid", "dense"):
        hits = svc.retriever.search("Kestrel Holdings razor wire", k=1, mode=mode)
        assert hits and all(h.chunk.doc_id in svc.catalog.doc_ids() for h in hits)

    # the next run sees the marker, repairs, then writes b properly
    report = Ingestor(svc).run([str(folder)])
    assert report.repaired == 1
    assert {Path(r.source).name: r.status for r in report.results} == {"a.txt": "unchanged", "b.txt": "ingested"}
    assert not (svc.data_dir / "ingest.inprogress").exists()
    assert_store_consistent(svc)
    assert "Kestrel" in svc.retriever.search("Kestrel Holdings razor wire", k=1)[0].chunk.text


def test_a_failure_mid_step_keeps_and_reports_the_documents_written_before_it(tmp_path, make_service):
    """Documents finished in the same step share one catalog transaction; when one of them fails, those before it
    are committed, reported and searchable, and nothing of the failing one is in the catalog."""
    from dossier.index.indexer import IngestListener

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("Northwind Optics delivered thermal cameras to Pinsk in November 2016.")
    (folder / "b.txt").write_text("Kestrel Holdings financed the purchase of razor wire in 2019.")
    svc = make_service()
    real_put = svc.catalog.put_document

    def crash_on_b(doc, chunks, fp, **kw):
        if "Kestrel" in doc.text:
            raise KeyboardInterrupt
        return real_put(doc, chunks, fp, **kw)

    heard = []

    class Listener(IngestListener):
        def result(self, result, done, total):
            heard.append((Path(result.source).name, result.status))

    upserts = []
    real_upsert = svc.store.upsert
    svc.store.upsert = lambda ids, *a, **k: (upserts.append(len(ids)), real_upsert(ids, *a, **k))[1]
    svc.catalog.put_document = crash_on_b
    ingestor = Ingestor(svc, flush_chunks=64)
    ingestor.IDLE_WAIT_S = 60.0  # no step while b is read: both documents are embedded, then written, in one step
    with pytest.raises(KeyboardInterrupt):
        ingestor.run([str(folder)], listener=Listener())
    svc.catalog.put_document, svc.store.upsert = real_put, real_upsert
    assert upserts == [2]
    assert heard == [("a.txt", "ingested")]
    assert len(svc.catalog.doc_ids()) == 1 and not svc.catalog.db.in_transaction
    assert "Northwind" in svc.retriever.search("Northwind thermal cameras Pinsk", k=1)[0].chunk.text
    report = Ingestor(svc).run([str(folder)])  # the next run repairs b's orphan vectors and writes it
    assert {Path(r.source).name: r.status for r in report.results} == {"a.txt": "unchanged", "b.txt": "ingested"}


def test_repair_removes_vectors_of_unknown_documents(tmp_path, make_service, shared_embedder):
    src = tmp_path / "a.txt"
    src.write_text("Northwind Optics delivered thermal cameras to Pinsk in November 2016.")
    svc = make_service()
    Ingestor(svc).run([str(src)])
    query = "thermal cameras delivered to Pinsk"
    vec = shared_embedder.embed([query])[0]  # orphans closer to the query than any real chunk
    ids = [f"dorphan{i}:0-10" for i in range(5)]
    svc.store.upsert(ids, [vec] * 5, [{"doc_id": f"dorphan{i}", "ord": 0, "start": 0, "end": 10} for i in range(5)])
    (real,) = svc.catalog.doc_ids()
    for mode in ("dense", "hybrid"):
        for k in (1, 3):
            hits = svc.retriever.search(query, k=k, mode=mode)
            assert [h.chunk.doc_id for h in hits] == [real], (mode, k)
    assert svc.repair() == 5
    assert svc.store.doc_ids() == svc.catalog.doc_ids()
    assert svc.repair() == 0


# --- the vector store's guard ----------------------------------------------------------------------

def test_store_refuses_another_embedder_or_chunking(tmp_path, make_service):
    svc = make_service()
    src = tmp_path / "a.txt"
    src.write_text("Some text about thermal cameras.")
    Ingestor(svc).run([str(src)])
    common = dict(data_dir=svc.data_dir, collection="dossier", dim=None)
    with pytest.raises(EmbedderMismatch) as exc:
        VectorStore(embedder_id="sentence-transformers/other-model", fingerprint=svc.fingerprint, **common)
    msg = str(exc.value)
    assert "sentence-transformers/all-MiniLM-L6-v2" in msg and "other-model" in msg
    assert "re-index" in msg and "dossier ingest" in msg and "--data-dir" in msg
    with pytest.raises(EmbedderMismatch, match="chunking settings"):
        VectorStore(embedder_id=svc.embedder.id, fingerprint="000000000000", **common)
    # the configured pair opens fine
    assert VectorStore(embedder_id=svc.embedder.id, fingerprint=svc.fingerprint, **common).count() == svc.store.count()


def test_service_with_another_embedder_refuses_to_ingest_or_search(tmp_path, make_service):
    data = tmp_path / "data"
    svc = make_service(data)
    src = tmp_path / "a.txt"
    src.write_text("Some text about thermal cameras.")
    Ingestor(svc).run([str(src)])
    model = tmp_path / "my-model"
    model.mkdir()  # never loaded: the mismatch is found before any embedding
    other = make_service(data, index=IndexSettings(embed_model=str(model)))
    with pytest.raises(EmbedderMismatch, match="re-index"):
        Ingestor(other).run([str(src)])
    with pytest.raises(EmbedderMismatch, match="my-model"):
        other.retriever.search("thermal cameras")
    # other chunking settings over the same store: refused too
    rechunk = make_service(data, ingest=IngestSettings(chunk_tokens=64))
    with pytest.raises(EmbedderMismatch, match="chunking"):
        Ingestor(rechunk).run([str(src)])


def test_read_ahead_is_bounded_and_every_source_is_ingested_in_order(tmp_path, make_service, counting):
    """Sources are read and chunked ahead of the embedder, but never more than `read_ahead` at a time."""
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(30):
        (folder / f"note-{n:02d}.txt").write_text(f"Note {n}. The shipment number {n} left the port of Varna on day {n}. "
                                                  f"It carried {n * 7} crates of cameras.\n", encoding="utf-8")
    svc = make_service()
    ing = Ingestor(svc, flush_chunks=4, read_ahead=3)
    started: list[str] = []
    real_prepare = ing._prepare

    def prepare(source):
        started.append(source)
        return real_prepare(source)

    ing._prepare = prepare
    real_prepared = ing.prepared
    seen: list[tuple[int, int]] = []

    def prepared(sources, **kw):
        i = 0
        for prep in real_prepared(sources, **kw):
            if prep is not None:  # None: the next source not read yet, the embedder busy meanwhile
                i += 1
                seen.append((i, len(started)))
            yield prep

    ing.prepared = prepared
    done: list[int] = []
    report = ing.run([str(folder)], progress=lambda i, total, src: done.append(i))
    assert report.counts() == {"ingested": 30} and report.embedded_chunks == 30
    assert [Path(r.source).name for r in report.results] == sorted(p.name for p in folder.iterdir())
    assert done == list(range(1, 31))  # one progress call per input, as its outcome is final
    assert all(n_started <= i + 3 for i, n_started in seen), seen  # consumed i, at most 3 more in flight
    assert max(counting.calls) <= 4 + 1  # flushes of about flush_chunks
    assert_store_consistent(svc)


def test_the_collector_is_quieter_during_a_run_and_restored_after_even_when_runs_overlap():
    import gc

    from dossier.index.indexer import _collector_quiet

    before = gc.get_threshold()
    with _collector_quiet(young=5000):
        assert gc.get_threshold()[0] == max(5000, before[0]) and gc.get_freeze_count() > 0
        with _collector_quiet(young=5000):  # a second run in the same process
            assert gc.get_threshold()[0] == max(5000, before[0])
        assert gc.get_threshold()[0] == max(5000, before[0])  # the first run is still going
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
