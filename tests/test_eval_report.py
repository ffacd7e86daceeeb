"""Reports, scoring of failures, check, compare and export on hand-made records (no model)."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from dossier.eval.adapters import export_records, to_deepeval, to_ragas
from dossier.eval.check import check_report, load_baselines
from dossier.eval.cli import eval_app
from dossier.eval.compare import compare_records
from dossier.eval.report import build_report, highlight_quote, render_html, render_markdown, write_all
from dossier.eval.scoring import failure_scores, score_item

DOC = "Intro line.\n\nThe masts were supplied by <Corvel & Sons> under a contract. Other text."
QUOTE = "The masts were supplied by <Corvel & Sons> under a contract."
START = DOC.index(QUOTE)


def _answer(text: str, abstained: bool = False) -> dict:
    if abstained:
        return {"answer": "The sources don't answer this.", "abstained": True, "citations": [], "sentences": [],
                "timings_ms": {"total": 40.0, "retrieve": 10.0}}
    return {
        "answer": f"{text} [1]", "abstained": False,
        "citations": [{"n": 1, "doc_id": "d1", "title": "T <b>", "source": "x.txt", "chunk_id": "c", "page": None,
                       "start": START, "end": START + len(QUOTE), "quote": QUOTE, "passage": DOC}],
        "sentences": [{"text": text, "citations": [1], "support": "supported", "score": 1.0}],
        "timings_ms": {"total": 100.0, "retrieve": 30.0},
    }


def _record(rid: str, *, answerable=True, abstained=False, failed=False, tags=("number",)) -> dict:
    rec = {"id": rid, "question": f"Who supplied <the masts>? {rid}", "tags": list(tags), "answerable": answerable,
           "reference_answer": "Corvel & Sons." if answerable else "", "answer_keys": [["Corvel"]] if answerable else [],
           "history": [], "gold": [{"doc": "k", "quote": QUOTE}] if answerable else [],
           "gold_spans": [["d1", START, START + len(QUOTE)]] if answerable else [],
           "failed": failed, "error": "RuntimeError: boom <x>" if failed else "", "query": "q",
           "retrieved": [], "answer": None, "abstained": None, "verdicts": [], "scores": {}}
    if failed:
        rec["scores"] = failure_scores(rec, 6)
        return rec
    ans = _answer(QUOTE, abstained=abstained)
    rec["answer"], rec["abstained"] = ans, abstained
    retrieved = [("d1", 0, 11), ("d1", START, len(DOC))]
    rec["scores"] = score_item(rec, ans, retrieved, {"d1": DOC}, lambda s, ps: True, 6)
    return rec


@pytest.fixture()
def records():
    return [_record("a"), _record("b", abstained=True), _record("c", answerable=False, abstained=True, tags=("unanswerable",)),
            _record("d", answerable=False, tags=("unanswerable",)), _record("e", failed=True)]


META = {"dataset": "tiny.jsonl", "dataset_name": "tiny", "engine": "extractive", "strict": False, "k": 6, "n_items": 5}


def test_scores_of_answered_abstained_and_failed_items(records):
    a, b, c, d, e = (r["scores"] for r in records)
    assert a["hit@1"] == 0.0 and a["hit@3"] == 1.0 and a["mrr@6"] == 0.5
    assert a["correct"] == 1.0 and a["over_abstention"] == 0.0 and a["abstention"] is None
    assert a["quote_exactness"] == 1.0 and a["gold_citation_precision"] == 1.0 and "citation_precision" not in a
    assert b["correct"] == 0.0 and b["over_abstention"] == 1.0 and b["gold_citation_recall"] is None
    assert c["abstention"] == 1.0 and c["correct"] is None and c["hit@1"] is None
    assert d["abstention"] == 0.0 and d["quote_exactness"] is not None  # answered an unanswerable question
    # a failed answerable item scores the worst value wherever the item makes the metric applicable
    assert e["correct"] == 0.0 and e["hit@6"] == 0.0 and e["over_abstention"] == 1.0
    assert e["broken_markers"] == 1.0 and e["abstention"] is None and e["faithful_partial"] is None


def test_report_counts_failures_and_writes_three_files(tmp_path, records):
    report = build_report(records, META, None)
    m = report["metrics"]
    assert m["correct"]["n"] == 3 and m["correct"]["n_failed"] == 1 and m["correct"]["mean"] == pytest.approx(1 / 3)
    assert m["abstention"]["n"] == 2 and m["abstention"]["mean"] == 0.5
    assert m["over_abstention"]["mean"] == pytest.approx(2 / 3)
    assert report["counts"] == {"items": 5, "failed": 1, "answerable": 3, "unanswerable": 2, "abstained": 2,
                                "sentences": 2, "citations": 2, "broken_markers": 0}
    assert report["failures"] == [{"id": "e", "error": "RuntimeError: boom <x>"}]
    assert report["latency_ms"]["total"]["p50"] == pytest.approx(70.0) and report["latency_ms"]["n"] == 4
    assert report["tag_counts"] == {"number": 3, "unanswerable": 2}
    assert report["by_tag"]["number"]["correct"]["n"] == 3

    paths = write_all(tmp_path, report, records)
    assert json.loads(paths["json"].read_text())["counts"]["failed"] == 1
    md = paths["md"].read_text()
    assert "| retrieval | Hit@1 ↑ |" in md and "## By tag" in md and "`e`: RuntimeError" in md
    page = paths["html"].read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "<style>" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "") and "<script" not in page
    assert "&lt;Corvel &amp; Sons&gt;" in page and "<Corvel" not in page  # source text is escaped
    assert "<mark>The masts were supplied by &lt;Corvel &amp; Sons&gt; under a contract.</mark>" in page
    assert "Who supplied &lt;the masts&gt;?" in page and "boom &lt;x&gt;" in page
    assert page.count("<details") == 5


def test_highlight_escapes_and_marks_first_occurrence():
    assert highlight_quote("a <b> a", "a") == "<mark>a</mark> &lt;b&gt; a"
    assert highlight_quote("text", "missing") == "text"
    assert highlight_quote("x & y", "") == "x &amp; y"


def test_calibration_section_is_rendered(records):
    figs = {"accuracy": 0.5, "balanced_accuracy": 0.5, "macro_f1": 0.4, "kappa": 0.2, "binary": {"kappa": 0.6},
            "per_class": {c: {"precision": 0.5, "recall": 0.5} for c in ("supported", "partial", "unsupported")}}
    cal = {"source": "eval/calibration.json", "n": 10, "n_train": 7, "n_heldout": 3, "seed": 0, "objective": "balanced_accuracy",
           "fitted": {"support_threshold": 0.7, "partial_threshold": 0.5}, "configured": {"support_threshold": 0.62, "partial_threshold": 0.4},
           "heldout": figs, "heldout_configured": figs}
    report = build_report(records, META, cal)
    assert "0.70 / 0.50" in render_markdown(report)
    assert "Cohen&#39;s kappa (supported vs not)" in render_html(report, records)  # markupsafe spells ' as &#39;


def test_check_pass_and_fail(tmp_path, records):
    report = build_report(records, META, None)
    base = tmp_path / "b.toml"
    base.write_text(
        "[tiny.extractive]\nn_items = 5\nmax_failed = 1\n[tiny.extractive.metrics]\n"
        "correct = { value = 0.35, tolerance = 0.05 }\nover_abstention = { value = 0.6, tolerance = 0.1 }\n", encoding="utf-8")
    res = check_report(report, load_baselines(base), path=base)
    assert res.ok and res.section == "tiny.extractive", res.failures
    base.write_text(
        "[tiny.extractive]\nmax_failed = 0\n[tiny.extractive.metrics]\n"
        "correct = { value = 0.5, tolerance = 0.05 }\nover_abstention = { value = 0.5, tolerance = 0.1 }\n"
        "quote_exactness = { value = 1.0, tolerance = 0.0 }\n", encoding="utf-8")
    res = check_report(report, load_baselines(base), path=base)
    assert not res.ok
    # the failed item counts as 0.0 in quote exactness too: failures are never averaged away
    assert [f.split(":")[0] for f in res.failures] == ["failed items", "correct", "over_abstention", "quote_exactness"]

    run = tmp_path / "run"
    write_all(run, report, records)
    cli = CliRunner().invoke(eval_app, ["check", str(run), "--baseline", str(base)])
    assert cli.exit_code == 1 and "FAIL" in cli.output and "correct: 0.333" in cli.output
    missing = CliRunner().invoke(eval_app, ["check", str(run), "--baseline", str(base), "--section", "other.llm"])
    assert missing.exit_code != 0 and "expected a baseline section" in str(missing.exception)


def test_compare_pairs_items_and_direction(records):
    better = [dict(r, scores=dict(r["scores"], correct=1.0 if r["answerable"] else None)) for r in records]
    rows = {r["metric"]: r for r in compare_records(better, records, names=["correct", "latency_ms"])}
    c = rows["correct"]
    assert c["n"] == 3 and c["mean_diff"] == pytest.approx(2 / 3) and c["wins"] == 2 and c["ties"] == 1
    assert rows["latency_ms"]["n"] == 4 and rows["latency_ms"]["mean_diff"] == 0.0
    with pytest.raises(ValueError, match="metric: expected one of"):
        compare_records(records, records, names=["nope"])


def test_export_field_mapping(records):
    r = records[0]
    rg = to_ragas(r)
    assert set(rg) >= {"user_input", "retrieved_contexts", "response", "reference"}
    assert rg["retrieved_contexts"] == [DOC] and rg["response"].endswith("[1]") and rg["reference"] == "Corvel & Sons."
    de = to_deepeval(r)
    assert set(de) >= {"input", "actual_output", "expected_output", "retrieval_context"}
    assert de["retrieval_context"] == [DOC] and de["context"] == [QUOTE]
    rows, skipped = export_records(records, "deepeval")
    assert len(rows) == 4 and skipped == 1
    follow = dict(r, history=[{"question": "Earlier?", "answer": "Yes."}])
    assert to_ragas(follow)["user_input"].startswith("Q: Earlier? A: Yes. Q: Who supplied")
