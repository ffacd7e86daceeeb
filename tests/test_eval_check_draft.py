"""The draft-check datasets and their evaluation: schema errors name the field, the shipped sets validate
and meet the issue's shape, the metrics are right on hand-made records, and a real run on check-dev."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from dossier.eval.check_data import (
    CheckItem,
    DatasetError,
    is_check_dataset,
    load_check_dataset,
    validate_check_dataset,
)
from dossier.eval.check_draft import _holds, score
from tests.conftest import REPO

DATASETS = REPO / "eval" / "datasets"
SETS = ("check-dev", "check-heldout", "check-heldout2", "check-heldout3", "check-heldout4", "check-heldout5", "check-heldout6", "check-heldout7", "check-heldout8")
GOOD = {"id": "c-1", "sentence": "The cameras see 110 meters.", "label": "supported", "slot": "",
        "evidence": [{"doc": "seed", "quote": "110 meters"}], "note": ""}


@pytest.mark.parametrize("name", SETS)
def test_shipped_sets_validate(name):
    rep = validate_check_dataset(DATASETS / f"{name}.jsonl")
    assert rep.ok, rep.problems
    assert is_check_dataset(DATASETS / f"{name}.jsonl")


def test_the_sets_have_the_shape_the_issue_asks_for():
    items = [it for n in ("check-dev", "check-heldout") for it in load_check_dataset(DATASETS / f"{n}.jsonl")]
    labels = Counter(it.label for it in items)
    assert len(items) >= 90 and min(labels[x] for x in ("supported", "contradicted", "unsupported")) >= 25
    slots = Counter(it.slot for it in items if it.label == "contradicted")
    assert set(slots) == {"number", "year", "name", "role", "organisation", "polarity"} and min(slots.values()) >= 5
    ids = [it.id for n in SETS for it in load_check_dataset(DATASETS / f"{n}.jsonl")]
    assert len(ids) == len(set(ids))
    assert not is_check_dataset(DATASETS / "seed-dev.jsonl")


@pytest.mark.parametrize("change, pattern", [
    ({"label": "maybe"}, r"label: expected supported \| contradicted \| unsupported"),
    ({"label": "contradicted"}, r"slot: expected one of number, year"),
    ({"slot": "year"}, r"slot: expected \"\" for a supported or unsupported item"),
    ({"evidence": []}, r"evidence: expected at least one quote"),
    ({"label": "unsupported"}, r"evidence: expected \[\] for an unsupported item"),
    ({"extra": 1}, r"extra: expected one of id, sentence"),
])
def test_schema_errors_name_the_field(tmp_path, change, pattern):
    p = tmp_path / "c.jsonl"
    p.write_text(json.dumps({**GOOD, **change}) + "\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=pattern):
        load_check_dataset(p)


def test_metrics_on_hand_made_records():
    items = [CheckItem("a", "s", "supported", "", ()), CheckItem("b", "s", "contradicted", "year", ()),
             CheckItem("c", "s", "contradicted", "role", ()), CheckItem("d", "s", "unsupported", "", ())]
    recs = [{"id": "a", "verdict": "supported", "evidence_ok": None}, {"id": "b", "verdict": "contradicted", "evidence_ok": None},
            {"id": "c", "verdict": "supported", "evidence_ok": None}, {"id": "d", "verdict": "contradicted", "evidence_ok": None}]
    rep = score(items, recs)
    m = rep["metrics"]
    assert m["accuracy"]["mean"] == 0.5
    assert m["contradicted_recall"]["mean"] == 0.5 and m["contradicted_precision"]["mean"] == 0.5
    assert rep["dangerous_count"] == 1 and rep["nonsupported"] == 3
    assert rep["contradicted_by_slot"] == {"year": {"n": 1, "flagged": 1}, "role": {"n": 1, "flagged": 0}}
    assert m["accuracy"]["ci_low"] <= 0.5 <= m["accuracy"]["ci_high"]


def test_evidence_holds_when_the_cited_sentence_contains_the_gold_span():
    gold = [("d1", 100, 140)]
    assert _holds({"doc_id": "d1", "start": 90, "end": 150}, gold)
    assert _holds({"doc_id": "d1", "start": 110, "end": 200}, gold)  # covers 30 of 40 characters
    assert not _holds({"doc_id": "d1", "start": 130, "end": 200}, gold)
    assert not _holds({"doc_id": "d2", "start": 90, "end": 150}, gold)


def test_a_real_run_on_check_dev(tmp_path, shared_embedder):
    """The dev set, through the real store and models: a regression gate on the set the thresholds were
    set on (the held-out figures are in eval/check-results, not asserted here)."""
    from dossier.eval.check_draft import run_check_eval

    res = run_check_eval(DATASETS / "check-dev.jsonl", work=tmp_path, embedder=shared_embedder)
    rep = res["report"]
    assert rep["items"] == 65 and len(res["records"]) == 65
    assert rep["metrics"]["accuracy"]["mean"] >= 0.95
    assert rep["dangerous_count"] == 0
    assert set(rep["metrics"]) == {"accuracy", "contradicted_recall", "contradicted_precision",
                                   "nonsupported_marked_supported", "evidence_accuracy"}
    for r in res["records"]:
        for c in r["citations"]:
            assert c["quote"], r


def test_eval_run_dispatches_a_check_dataset(run_cli, tmp_path):
    out = tmp_path / "run"
    r = run_cli("eval", "run", DATASETS / "check-dev.jsonl", "--out", out, "--json")
    assert r.exit_code == 0, r.stderr
    rep = r.json()
    assert rep["dataset"] == "check-dev" and rep["items"] == 65
    assert {"accuracy", "contradicted_recall", "evidence_accuracy"} <= set(rep["metrics"])
    assert (out / "report.md").read_text(encoding="utf-8").startswith("# Draft checker on check-dev")
    assert sum(1 for _ in (out / "records.jsonl").open(encoding="utf-8")) == 65
