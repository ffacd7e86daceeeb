"""Hybrid retrieval over real indexes: metadata filters, fusion beating dense-only on names and numbers,
and the seed question through the real CLI."""
from __future__ import annotations

import shutil

import pytest

from dossier.index.bm25 import BM25Index
from dossier.index.indexer import Ingestor
from dossier.index.retrieval import Filters
from dossier.ingest.manifest import ManifestIndex, load_manifest
from tests.conftest import FIXTURES, build_service

CORPUS_MANIFEST = """id\tpath\tkind\tpublisher\tdate
council\tcouncil-note.txt\tlegal\tCouncil of the Northern Union\t2023-04-04
brief\tngo-brief.txt\tngo-report\tBorderwatch Collective\t2023-09-12
audit\tnordland-procurement.md\tother\tOffice of the Nordland State Auditor\t2024-03-14
web\tnav-page.html\tarticle\t\t
tender\ttwo-pages.pdf\tngo-report\tNordland Audit Office\t
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, shared_embedder):
    """Five documents with distinct kinds, publishers and dates (nav-page.html and two-pages.pdf keep
    the publisher/date their readers find)."""
    root = tmp_path_factory.mktemp("retrieval")
    folder = root / "in"
    folder.mkdir()
    for name in ("council-note.txt", "ngo-brief.txt", "nordland-procurement.md"):
        shutil.copy(FIXTURES / "corpus" / name, folder / name)
    for name in ("nav-page.html", "two-pages.pdf"):
        shutil.copy(FIXTURES / name, folder / name)
    manifest = folder / "manifest.tsv"
    manifest.write_text(CORPUS_MANIFEST)
    svc = build_service(root / "data", shared_embedder)
    report = Ingestor(svc, manifests=ManifestIndex([(manifest, load_manifest(manifest))])).run(
        [str(folder / n) for n in ("council-note.txt", "ngo-brief.txt", "nordland-procurement.md", "nav-page.html", "two-pages.pdf")])
    assert report.counts() == {"ingested": 5}, report.to_dict()
    ids = {r.source.rsplit("/", 1)[1].split(".")[0]: r.doc_id for r in report.results}
    return svc, ids


def doc_names(hits, ids) -> set[str]:
    names = {v: k for k, v in ids.items()}
    return {names[h.chunk.doc_id] for h in hits}


def test_reader_metadata_and_manifest_land_in_the_catalog(corpus):
    svc, ids = corpus
    web = svc.catalog.get_document(ids["nav-page"]).meta
    assert (web.kind, web.publisher, web.date, web.title) == ("article", "Northern Ledger", "2019-01-31",
                                                               "Thermal cameras for the Nordland border")
    tender = svc.catalog.get_document(ids["two-pages"]).meta
    assert (tender.kind, tender.publisher, tender.date) == ("ngo-report", "Nordland Audit Office", "2020-05-04")


QUERY = "thermal cameras bought for the border"


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
@pytest.mark.parametrize("filters,allowed", [
    (Filters(kinds=["legal"]), {"council-note"}),
    (Filters(kinds=["article", "ngo-report"]), {"nav-page", "ngo-brief", "two-pages"}),
    (Filters(publishers=["borderwatch"]), {"ngo-brief"}),
    (Filters(publishers=["NORDLAND"]), {"nordland-procurement", "two-pages"}),
    (Filters(date_from="2023-01-01", date_to="2023-12-31"), {"council-note", "ngo-brief"}),
    (Filters(date_to="2020"), {"nav-page", "two-pages"}),
    (Filters(date_from="2024"), {"nordland-procurement"}),
    (Filters(kinds=["ngo-report"], date_to="2021"), {"two-pages"}),
])
def test_filters_restrict_results(corpus, mode, filters, allowed):
    svc, ids = corpus
    hits = svc.retriever.search(QUERY, k=10, filters=filters, mode=mode)
    assert hits, "the filter should leave something to find"
    assert doc_names(hits, ids) <= allowed


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_doc_id_filter(corpus, mode):
    svc, ids = corpus
    hits = svc.retriever.search("Delivery of 14 thermal cameras in Pinsk", k=10, filters=Filters(doc_ids=[ids["ngo-brief"]]), mode=mode)
    assert hits and doc_names(hits, ids) == {"ngo-brief"}
    unfiltered = svc.retriever.search("Delivery of 14 thermal cameras in Pinsk", k=10, mode=mode)
    assert len(doc_names(unfiltered, ids)) > 1


def test_filters_that_match_nothing_return_nothing(corpus):
    svc, ids = corpus
    assert svc.retriever.search(QUERY, filters=Filters(kinds=["un-report"])) == []
    assert svc.retriever.search(QUERY, filters=Filters(publishers=["nobody"])) == []
    assert svc.retriever.search(QUERY, filters=Filters(doc_ids=["dnothere"])) == []
    assert svc.retriever.search(QUERY, filters=Filters(date_from="2030")) == []


def test_hits_are_exact_ranked_and_explained(corpus):
    svc, ids = corpus
    hits = svc.retriever.search("Which articles prohibit financing for equipment exports to Varnia?", k=5)
    assert len(hits) == 5
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[0].chunk.section == "Article 2" and hits[0].doc["kind"] == "legal"
    for h in hits:
        text = svc.catalog.doc_text(h.chunk.doc_id)
        assert text[h.chunk.start:h.chunk.end] == h.chunk.text
        assert h.dense_rank is not None or h.bm25_rank is not None
    assert set(svc.retriever.last_timings) == {"embed", "dense", "bm25", "fuse", "total"}
    pdf = svc.retriever.search("Delivery of 14 thermal cameras was completed in Pinsk", k=1, filters=Filters(doc_ids=[ids["two-pages"]]))
    assert pdf[0].chunk.page == 2 and pdf[0].doc["title"] == "Nordland tender report"


def test_bm25_is_persisted_and_reloaded(corpus):
    svc, _ = corpus
    svc.retriever.search("Varnia", mode="bm25")
    fresh = BM25Index(svc.catalog, svc.data_dir / "bm25")
    assert fresh._load(svc.catalog.version())  # a new process loads it instead of rebuilding
    assert fresh.search("Velgrad demonstrations", 3) == svc.bm25.search("Velgrad demonstrations", 3)


# --- hybrid vs dense-only on names and numbers -------------------------------------------------------

PEOPLE = ["Anna Berg", "Jonas Lind", "Marta Kowalska", "Piotr Nowak", "Elena Sokolova", "Lars Holm", "Ivan Petrov",
          "Sofia Lund", "Mikael Strand", "Olga Ivanova", "Tomas Novak", "Karin Dahl", "Pavel Horak", "Irena Zajac", "Nils Ek",
          "Vera Sokol"]
TARGET = "Invoice 4471 for office furniture and catering was approved by Oskar Vantreeck at the regional finance office."


@pytest.fixture(scope="module")
def names_corpus(tmp_path_factory, shared_embedder):
    """Sixteen agreements for border cameras worded without the query's words (paraphrases a dense model
    ranks close to it, BM25 not at all), and one invoice about something else that is the only passage
    naming Oskar Vantreeck and the number 4471. Dense retrieval ranks the invoice 13th of 17 for the first
    query (cosine 0.38 against 0.42-0.43 for the 5th, fp32 and int8 alike, measured on AVX-512): far past
    the rank-5 boundary the tests assert, so the int8 kernels of another CPU cannot move it across."""
    root = tmp_path_factory.mktemp("names")
    folder = root / "in"
    folder.mkdir()
    for i, person in enumerate(PEOPLE):
        (folder / f"contract-{i:02d}.txt").write_text(
            f"An agreement for infrared surveillance imagers on the eastern frontier was concluded by {person}, "
            f"procurement chief of the border guard service.")
    (folder / "payment.txt").write_text(TARGET)
    svc = build_service(root / "data", shared_embedder)
    assert Ingestor(svc).run([str(folder)]).counts() == {"ingested": len(PEOPLE) + 1}
    return svc


def rank_of_target(hits) -> int:
    ranks = [i for i, h in enumerate(hits, 1) if "Vantreeck" in h.chunk.text]
    return ranks[0] if ranks else 99


@pytest.mark.parametrize("query", [
    "Did Oskar Vantreeck sign the thermal camera contract 4471?",
    "Oskar Vantreeck 4471 thermal cameras contract",
    "Which contract did Oskar Vantreeck sign for the border cameras?",
])
def test_hybrid_beats_dense_only_on_names_and_numbers(names_corpus, query):
    r = names_corpus.retriever
    dense = rank_of_target(r.search(query, k=17, mode="dense"))
    bm25 = rank_of_target(r.search(query, k=17, mode="bm25"))
    hybrid = rank_of_target(r.search(query, k=17, mode="hybrid"))
    assert bm25 == 1
    assert hybrid < dense, (hybrid, dense)


def test_hybrid_finds_the_name_in_the_top_3_where_dense_alone_misses(names_corpus):
    r = names_corpus.retriever
    query = "Did Oskar Vantreeck sign the thermal camera contract 4471?"
    assert rank_of_target(r.search(query, k=17, mode="dense")) >= 9  # 13 measured: four places of margin past 8
    assert rank_of_target(r.search(query, k=3)) <= 3


# --- the seed ------------------------------------------------------------------------------------------

def test_seed_who_is_joshua_franco_retriever(seed_index):
    hits = seed_index.svc.retriever.search("Who is Joshua Franco?", k=3)
    assert any("Joshua Franco, a senior research advisor at Amnesty International" in h.chunk.text for h in hits)
    assert hits[0].doc["title"] == "Equipping a Dictator" and hits[0].doc["kind"] == "article"


def test_seed_who_is_joshua_franco_cli(seed_index, run_cli):
    res = run_cli("--data-dir", seed_index.data_dir, "search", "Who is Joshua Franco?", "--k", "3", "--json")
    assert res.exit_code == 0, res.stderr
    results = res.json()["results"]
    assert len(results) == 3
    assert any("Joshua Franco" in r["text"] for r in results)
    plain = run_cli("--data-dir", seed_index.data_dir, "search", "Who is Joshua Franco?", "--k", "3")
    assert plain.exit_code == 0 and "1. Equipping a Dictator" in plain.stdout
    assert "Joshua Franco" in plain.stdout


def test_vector_query_past_the_collection_size_and_on_an_empty_store(tmp_path):
    """VectorStore.query asks Chroma for k results without counting first: fewer vectors than k give what
    there is, an empty collection gives nothing, and a doc filter still applies."""
    from dossier.index.store import VectorStore

    st = VectorStore(data_dir=tmp_path, collection="small", embedder_id="e", dim=None, fingerprint="f")
    assert st.query([1.0, 0.0, 0.0], 50) == []
    st.upsert(["c1", "c2"], [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], [{"doc_id": "d1"}, {"doc_id": "d2"}])
    hits = st.query([1.0, 0.1, 0.0], 50)
    assert [h.chunk_id for h in hits] == ["c1", "c2"] and hits[0].doc_id == "d1"
    assert [h.chunk_id for h in st.query([1.0, 0.1, 0.0], 50, doc_ids=["d2"])] == ["c2"]
    assert st.query([1.0, 0.1, 0.0], 50, doc_ids=[]) == []
