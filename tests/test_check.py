"""The draft checker against a real store (embedded Chroma, the bundled embedder) of the seed article and
the fictional test documents: verdicts with exact evidence quotes, `dossier check` end to end (exit
statuses, JSON, stdin, .docx), `POST /api/check`, and bad input leaving the store unchanged."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, SEED, build_service

CORPUS = FIXTURES / "corpus"
# one wrong year, one invented claim, one supported sentence, a heading and a block quote (context)
DRAFT = """# Belarus: the EU's border money

The embargo that the EU imposed on Belarus dates back to 2014.
According to the tender documents, the cameras can detect people up to 110 meters away.
The border guards also received twelve drones from a Lithuanian firm.

> "We will check every figure," the editor wrote.
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory, shared_embedder):
    """The seed article and the three fixture documents in one store (read only for these tests)."""
    from dossier.index.indexer import Ingestor

    data_dir = tmp_path_factory.mktemp("check-store")
    svc = build_service(data_dir, shared_embedder)
    rep = Ingestor(svc).run([str(SEED), str(CORPUS)])
    assert not rep.failed, rep.to_dict()
    return svc, data_dir


@pytest.fixture(scope="module")
def checker(store):
    from dossier.app.check import DraftChecker

    svc, _ = store
    return DraftChecker(svc.retriever, svc.embedder.embed)


def _fingerprint(data_dir: Path) -> dict[str, str]:
    """sha256 of every file of the store (catalog, Chroma, BM25)."""
    return {str(p.relative_to(data_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(data_dir.rglob("*")) if p.is_file() and not p.name.endswith((".lock", "-journal", "-wal", "-shm"))}


def test_wrong_year_invented_claim_and_supported_sentence(checker, store):
    svc, _ = store
    report = checker.check(DRAFT)
    by_start = {DRAFT[s.start:s.end]: s for s in report.sentences}
    assert len(report.sentences) == 3, "the heading and the block quote are context, not checked"
    year = by_start["The embargo that the EU imposed on Belarus dates back to 2014."]
    assert year.verdict == "contradicted"
    assert "2011" in year.reason and "2014" in year.reason
    cite = year.citations[0]
    assert "dates to 2011" in cite.quote
    assert svc.catalog.doc_text(cite.doc_id)[cite.start:cite.end] == cite.quote  # the source's own sentence
    cams = by_start["According to the tender documents, the cameras can detect people up to 110 meters away."]
    assert cams.verdict == "supported" and "110 meters" in cams.citations[0].quote
    drones = by_start["The border guards also received twelve drones from a Lithuanian firm."]
    assert drones.verdict == "unsupported" and not drones.citations
    assert report.summary.model_dump() == {"supported": 1, "contradicted": 1, "unsupported": 1}
    assert report.exit_status() == 1 and report.exit_status(strict=True) == 1


@pytest.mark.parametrize("sentence, kind", [
    ("Tender NBGS-2022-11 for six patrol boats was awarded to Halvik Marine AS for 2,590,000 euros.", "number"),
    ("Tomas Hedberg said in a written reply dated 1 March 2023 that the service accepts findings 1, 3 and 5.", "date"),
    pytest.param("Tomas Hedberg answered the auditors in a written reply dated 1 March 2023.", "date",
                 marks=pytest.mark.xfail(strict=True, reason="known limit: a loose paraphrase of a long source sentence "
                                         "(similarity 0.57, content coverage 0.67) is below both contradiction routes, "
                                         "so the wrong year is reported as not found instead of contradicted")),
    ("Researchers photographed thermal imaging binoculars made by Sorvik Communications at three border crossings.", "organisation"),
    ("Member States may inform the Commission of authorisations within 60 days of granting them.", "number"),
])
def test_fixture_documents_one_changed_slot(checker, sentence, kind):
    s = checker.check_sentence(sentence)
    assert s.verdict == "contradicted", (s.reason, s.signals)
    assert s.citations and s.reason


def test_sharing_words_is_not_support(checker):
    # every content word occurs in the audit report, but it never says where the binoculars went
    s = checker.check_sentence("The thermal imaging binoculars were deployed at the Harrowby headquarters.")
    assert s.verdict != "supported"


def test_checking_is_deterministic_and_offsets_point_into_the_draft(checker):
    a, b = checker.check(DRAFT), checker.check(DRAFT)
    assert a.model_dump(exclude={"timings_ms"}) == b.model_dump(exclude={"timings_ms"})
    for s in a.sentences:
        assert DRAFT[s.start:s.end] == s.text


# --- the command line ----------------------------------------------------------------------------


def test_cli_check_json_exit_status_and_stdin(run_cli, store, tmp_path, monkeypatch):
    import io

    _, data_dir = store
    draft = tmp_path / "draft.md"
    draft.write_text(DRAFT, encoding="utf-8")
    r = run_cli("--data-dir", data_dir, "check", draft, "--json")
    assert r.exit_code == 1, r.stderr
    obj = r.json()
    assert set(obj) >= {"sentences", "summary"}
    assert obj["summary"] == {"supported": 1, "contradicted": 1, "unsupported": 1}
    s0 = obj["sentences"][0]
    assert set(s0) >= {"text", "start", "end", "verdict", "reason", "score", "citations"}
    assert set(s0["citations"][0]) >= {"quote", "doc_id", "title", "page", "start", "end"}
    human = run_cli("--data-dir", data_dir, "check", draft)
    assert human.exit_code == 1 and "CONTRADICTED" in human.stdout and "2011" in human.stdout
    ok = "According to the tender documents, the cameras can detect people up to 110 meters away.\n"
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(ok.encode())))
    r2 = run_cli("--data-dir", data_dir, "check", "-", "--json")
    assert r2.exit_code == 0 and r2.json()["summary"]["supported"] == 1
    unsupported_only = tmp_path / "invented.txt"
    unsupported_only.write_text("The border guards also received twelve drones from a Lithuanian firm.\n", encoding="utf-8")
    assert run_cli("--data-dir", data_dir, "check", unsupported_only).exit_code == 0
    assert run_cli("--data-dir", data_dir, "check", unsupported_only, "--strict").exit_code == 1


def test_cli_reads_a_docx_draft(run_cli, store, tmp_path):
    import docx

    _, data_dir = store
    d = docx.Document()
    d.add_heading("Draft", level=1)
    d.add_paragraph("The EU's embargo against Belarus dates to 2011.")
    path = tmp_path / "draft.docx"
    d.save(path)
    r = run_cli("--data-dir", data_dir, "check", path, "--json")
    assert r.exit_code == 0, r.stderr
    assert [s["verdict"] for s in r.json()["sentences"]] == ["supported"]


def test_bad_input_is_one_line_exit_2_and_the_store_is_unchanged(run_cli, store, tmp_path):
    _, data_dir = store
    before = _fingerprint(data_dir)
    empty = tmp_path / "empty.md"
    empty.write_text("\n\n  \n", encoding="utf-8")
    binary = tmp_path / "draft.txt"
    binary.write_bytes(bytes(range(256)) * 64)
    headings = tmp_path / "headings.md"
    headings.write_text("# Title\n\n## Only headings\n", encoding="utf-8")
    long = tmp_path / "long.txt"
    long.write_text("The embargo dates to 2011. The cameras see 110 meters. The EU funded it.\n", encoding="utf-8")
    cases = [
        ((empty,), {}, "empty"),
        ((binary,), {}, "cannot read"),
        ((headings,), {}, "no sentence"),
        ((tmp_path / "missing.md",), {}, "no such file"),
        ((long,), {"DOSSIER_CHECK__MAX_SENTENCES": "2"}, "over the limit of 2"),
        ((long,), {"DOSSIER_INGEST__MAX_FILE_MB": "0.00001"}, "MB limit"),
    ]
    for args, env, words in cases:
        r = run_cli("--data-dir", data_dir, "check", *args, env=env)
        assert r.exit_code == 2, (args, r.stdout, r.stderr)
        lines = [x for x in r.stderr.splitlines() if x.strip()]
        assert len(lines) == 1 and lines[0].startswith("error:") and words in lines[0], r.stderr
        assert not r.stdout.strip()
    assert _fingerprint(data_dir) == before


def test_empty_library_is_bad_input(run_cli, tmp_path):
    draft = tmp_path / "d.txt"
    draft.write_text("The embargo dates to 2011.\n", encoding="utf-8")
    r = run_cli("--data-dir", tmp_path / "nothing", "check", draft)
    assert r.exit_code == 2 and "empty" in r.stderr


# --- the HTTP API --------------------------------------------------------------------------------


def test_api_check(store, shared_embedder):
    from fastapi.testclient import TestClient

    from dossier.app.context import AppContext
    from dossier.app.server import create_app
    from dossier.app.settings import DossierSettings

    svc, data_dir = store
    ctx = AppContext(DossierSettings(data_dir=data_dir, chroma_url=""))
    ctx.__dict__["index"] = svc  # the module's service (and its loaded embedder)
    client = TestClient(create_app(ctx, mount_ui=False, answerer=object()))
    r = client.post("/api/check", json={"text": DRAFT})
    assert r.status_code == 200
    body = r.json()
    assert body["summary"] == {"supported": 1, "contradicted": 1, "unsupported": 1}
    assert json.dumps(body)  # plain JSON
    bad = client.post("/api/check", json={"text": "   "})
    assert bad.status_code == 422 and "empty" in bad.json()["detail"]
    assert client.post("/api/check", json={"draft": "x"}).status_code == 422


class _CountingNli:
    """A stand-in entailment model that records what it is asked (the real one is tested in test_nli.py)."""

    def __init__(self):
        self.pairs = []

    def probs(self, premise, hypothesis):
        self.pairs.append((premise, hypothesis))
        return (0.9, 0.05, 0.05) if "110 meters" in premise and "110 meters" in hypothesis else (0.1, 0.8, 0.1)


def test_the_entailment_model_is_read_only_for_the_candidates_the_verdict_reads(store):
    """A verdict model reading the entailment features gets them for at most two candidates a sentence (the
    closest clean one and the closest conflicting one), each with the sentence and its window as premise."""
    from dataclasses import replace

    from dossier.app.check import DraftChecker
    from dossier.app.check_model import NLI_MODEL_PATH, Logistic, VerdictModel

    svc, _ = store
    model = VerdictModel.load(NLI_MODEL_PATH)
    assert model.reads_nli
    flat = Logistic(("match",), (0.0,), 0.0, (0.0,), (1.0,))
    without = replace(model, support=flat, contradict=flat)
    assert not without.reads_nli
    unread = _CountingNli()
    DraftChecker(svc.retriever, svc.embedder.embed, model=without, nli=unread).check_sentence("The cameras see 110 meters.")
    assert not unread.pairs  # a verdict model without the entailment features never calls it
    fake = _CountingNli()
    checker = DraftChecker(svc.retriever, svc.embedder.embed, model=model, nli=fake)
    sentence = "The Belarusian border guards received cameras that see people up to 110 meters away."
    judged = checker.judge(sentence)
    out = checker._verdict(sentence, judged)
    assert 1 <= len(fake.pairs) <= 4 and all(h == sentence for _, h in fake.pairs)
    read = [j for j in judged if j.nli_read]
    assert 1 <= len(read) <= 2 and len(judged) > len(read)
    assert out.verdict in ("supported", "contradicted", "unsupported")
    if any("110 meters" in j.cand.text for j in read):
        assert "entail" in out.signals or out.verdict != "supported"


def test_the_entailment_model_is_opt_in(store):
    """By default the checker's verdict reads no entailment model (its training data include SICK, CC BY-NC-SA
    3.0); `check.entailment` switches to the verdict fitted with it, and an explicit model path wins over both."""
    from dossier.app.check import DraftChecker
    from dossier.app.check_model import MODEL_PATH, NLI_MODEL_PATH, VerdictModel
    from dossier.app.settings import CheckSettings

    svc, _ = store
    default = DraftChecker(svc.retriever, svc.embedder.embed)
    assert default.model == VerdictModel.load(MODEL_PATH) and not default.model.reads_nli
    on = DraftChecker(svc.retriever, svc.embedder.embed, CheckSettings(entailment=True))
    assert on.model == VerdictModel.load(NLI_MODEL_PATH) and on.model.reads_nli
    explicit = DraftChecker(svc.retriever, svc.embedder.embed, CheckSettings(entailment=True, model_path=MODEL_PATH))
    assert not explicit.model.reads_nli


def test_a_broken_entailment_model_or_verdict_file_is_one_clear_error_before_checking(store, tmp_path):
    """With the entailment model switched on, a folder missing its tokenizer (or weights) fails when the checker is
    built, naming the file; a verdict file that is not JSON likewise: CheckError (exit status 2 in the CLI)."""
    import shutil

    from dossier.app.check import CheckError, DraftChecker
    from dossier.app.nli import MODEL_DIR
    from dossier.app.settings import CheckSettings

    svc, _ = store
    broken = tmp_path / "nli"
    broken.mkdir()
    shutil.copy(MODEL_DIR / "nli.json", broken / "nli.json")
    shutil.copy(MODEL_DIR / "model.onnx", broken / "model.onnx")
    with pytest.raises(CheckError, match=r"entailment model: .*tokenizer\.json: missing"):
        DraftChecker(svc.retriever, svc.embedder.embed, CheckSettings(entailment=True, nli_dir=broken))
    bad = tmp_path / "verdict.json"
    bad.write_text("{not json")
    with pytest.raises(CheckError, match="verdict.json: the draft checker's verdict model is unreadable"):
        DraftChecker(svc.retriever, svc.embedder.embed, CheckSettings(model_path=bad))
