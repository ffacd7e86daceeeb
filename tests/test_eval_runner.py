"""A real end-to-end `run_eval` on the tiny fixture dataset: real embedder, embedded Chroma in tmp_path,
the extractive engine; then check, compare and export on the run folder."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from dossier.eval.calibrate import figures
from dossier.eval.cli import eval_app
from dossier.eval.runner import load_records, run_eval
from tests.conftest import TINY


def _calibration_stub() -> dict:
    y = ["supported", "partial", "unsupported"]
    return {"n": 3, "n_train": 2, "n_heldout": 1, "seed": 0, "objective": "balanced_accuracy",
            "fitted": {"support_threshold": 0.7, "partial_threshold": 0.5},
            "configured": {"support_threshold": 0.62, "partial_threshold": 0.4},
            "heldout": figures(y, y), "heldout_configured": figures(y, y)}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, shared_embedder, eval_settings):
    out = tmp_path_factory.mktemp("tiny-run")
    (out / "calibration.json").write_text(json.dumps(_calibration_stub()), encoding="utf-8")
    seen = []
    result = run_eval(TINY, engine="extractive", strict=False, out_dir=out, settings=eval_settings,
                      embedder=shared_embedder, progress=lambda done, total, item: seen.append((done, total, item)))
    return result, seen


def test_run_writes_records_and_reports(tiny_run):
    result, seen = tiny_run
    out = result.out_dir
    assert seen[-1] == (5, 5, "t-5")
    for name in ("records.jsonl", "run.json", "report.json", "report.md", "report.html"):
        assert (out / name).is_file(), name
    assert (out / "store" / "catalog.sqlite").is_file()  # a fresh store inside the run folder
    records = load_records(out)
    assert [r["id"] for r in records] == ["t-1", "t-2", "t-3", "t-4", "t-5"]
    assert not any(r["failed"] for r in records), [r["error"] for r in records]
    meta = json.loads((out / "run.json").read_text())
    assert set(meta["corpus_doc_ids"]) == {"harbour", "ferry"} and meta["fresh_store"] is True
    assert meta["engine"] == "extractive" and meta["k"] == 6 and meta["n_failed"] == 0
    report = json.loads((out / "report.json").read_text())
    assert report["calibration"]["source"].endswith("calibration.json")
    assert "<mark>" in (out / "report.html").read_text()


def test_records_hold_spans_answers_and_verdicts(tiny_run, eval_settings):
    result, _ = tiny_run
    from dossier.index.catalog import Catalog

    catalog = Catalog(result.out_dir / "store" / "catalog.sqlite")
    ids = result.meta["corpus_doc_ids"]
    by_id = {r["id"]: r for r in result.records}
    r1 = by_id["t-1"]
    (doc_id, a, b), = r1["gold_spans"]
    assert doc_id == ids["harbour"]
    assert catalog.doc_text(doc_id)[a:b] == r1["gold"][0]["quote"]
    assert r1["retrieved"] and all(h["doc_id"] in ids.values() for h in r1["retrieved"])
    assert r1["query"] == r1["question"]
    for r in result.records:
        ans = r["answer"]
        assert ans["id"] == r["id"] and r["abstained"] == ans["abstained"]
        assert len(r["verdicts"]) == len(ans["sentences"])
        for c in ans["citations"]:  # quotes are exact spans of the stored text
            assert catalog.doc_text(c["doc_id"])[c["start"]:c["end"]] == c["quote"]
        if r["answerable"]:
            assert r["scores"]["hit@6"] == 1.0  # the tiny corpus has only a few chunks
    # the follow-up was answered with its history: the retrieval query carries the earlier question
    assert "radar masts" in by_id["t-5"]["query"]
    assert by_id["t-1"]["scores"]["correct"] == 1.0  # the answer states "twelve"; other items measure the engine


def test_report_metrics_of_the_tiny_run(tiny_run):
    result, _ = tiny_run
    m = result.report["metrics"]
    assert m["correct"]["n"] == 4 and m["abstention"]["n"] == 1 and m["hit@6"]["n"] == 4
    assert m["quote_exactness"]["mean"] == 1.0
    assert m["broken_markers"]["mean"] == 0.0
    assert all(a["n_failed"] == 0 for a in m.values())
    lat = result.report["latency_ms"]["total"]
    assert 0 < lat["p50"] <= lat["p95"]


def test_check_compare_export_on_the_run_folder(tiny_run, tmp_path):
    result, _ = tiny_run
    run = str(result.out_dir)
    correct = result.report["metrics"]["correct"]["mean"]
    base = tmp_path / "baselines.toml"
    base.write_text(f"[tiny.extractive]\nn_items = 5\nmax_failed = 0\n[tiny.extractive.metrics]\n"
                    f"correct = {{ value = {correct}, tolerance = 0.05 }}\nquote_exactness = {{ value = 1.0, tolerance = 0.0 }}\n",
                    encoding="utf-8")
    runner = CliRunner()
    ok = runner.invoke(eval_app, ["check", run, "--baseline", str(base)])
    assert ok.exit_code == 0, ok.output
    base.write_text("[tiny.extractive.metrics]\ncorrect = { value = 1.5, tolerance = 0.05 }\n", encoding="utf-8")
    bad = runner.invoke(eval_app, ["check", run, "--baseline", str(base), "--json"])
    assert bad.exit_code == 1
    verdict = json.loads(bad.output)
    assert verdict["ok"] is False and verdict["failures"][0].startswith("correct:")

    cmp = runner.invoke(eval_app, ["compare", run, run, "--json"])
    assert cmp.exit_code == 0, cmp.output
    rows = {r["metric"]: r for r in json.loads(cmp.output)["metrics"]}
    assert rows["correct"]["mean_diff"] == 0.0 and rows["correct"]["n"] == 4

    exp = runner.invoke(eval_app, ["export", run, "--format", "ragas"])
    assert exp.exit_code == 0
    lines = [json.loads(x) for x in exp.stdout.splitlines()]
    assert len(lines) == 5 and all(isinstance(x["retrieved_contexts"], list) for x in lines)
    out = tmp_path / "de.jsonl"
    assert runner.invoke(eval_app, ["export", run, "--format", "deepeval", "--out", str(out)]).exit_code == 0
    assert json.loads(out.read_text().splitlines()[0])["input"].startswith("How many radar masts")


def test_item_failures_are_recorded_not_dropped(tiny_run, tmp_path, shared_embedder, eval_settings):
    """An engine that cannot answer makes every item fail; each is recorded and scored as a failure.
    The run reuses the first run's store (an existing data dir: nothing is ingested)."""
    first, _ = tiny_run
    result = run_eval(TINY, engine="no-such-engine", out_dir=tmp_path / "run2", settings=eval_settings,
                      store=first.out_dir / "store", embedder=shared_embedder, calibration={})
    assert len(result.records) == 5 and result.n_failed == 5
    assert all("unknown engine" in r["error"] for r in result.records)
    assert result.meta["fresh_store"] is False and result.meta["corpus_doc_ids"] == first.meta["corpus_doc_ids"]
    m = result.report["metrics"]
    assert m["correct"]["mean"] == 0.0 and m["correct"]["n_failed"] == 4
    assert m["over_abstention"]["mean"] == 1.0
    assert m["abstention"]["n_failed"] == 1
    assert len(result.report["failures"]) == 5
    assert len((tmp_path / "run2" / "records.jsonl").read_text().splitlines()) == 5
