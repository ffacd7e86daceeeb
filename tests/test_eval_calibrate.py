"""Verifier calibration: the re-labelling rule, the split and the grid search (pure), and a real
calibration with the bundled embedder on a slice of the hand labels."""
from __future__ import annotations

import hashlib
import json

import pytest

from dossier.eval.calibrate import (
    DEFAULT_LABELS,
    Signals,
    calibrate,
    fit_thresholds,
    label_at,
    load_labels,
    split_indices,
    write_calibration,
)
from dossier.eval.dataset import DatasetError


def test_label_rule_matches_the_verifier_rule():
    assert label_at(Signals(0.9, False, False, False), 0.6, 0.4) == "supported"
    assert label_at(Signals(0.5, False, False, False), 0.6, 0.4) == "partial"
    assert label_at(Signals(0.3, False, False, False), 0.6, 0.4) == "unsupported"
    assert label_at(Signals(0.9, False, False, True), 0.6, 0.4) == "partial"  # a missing name caps at partial
    assert label_at(Signals(0.9, False, True, False), 0.6, 0.4) == "unsupported"  # a missing number is unsupported
    assert label_at(Signals(0.0, True, True, True), 0.6, 0.4) == "supported"  # verbatim wins


def test_split_is_seeded_stratified_and_disjoint():
    labels = load_labels(DEFAULT_LABELS)
    train, test = split_indices(labels, seed=0)
    assert (train, test) == split_indices(labels, seed=0)
    assert split_indices(labels, seed=1) != (train, test)
    assert not set(train) & set(test) and len(train) + len(test) == len(labels)
    for lab in ("supports", "partly", "doesnt"):
        n = sum(1 for x in labels if x.label == lab)
        n_train = sum(1 for i in train if labels[i].label == lab)
        assert abs(n_train - 0.7 * n) <= 1


def test_grid_search_recovers_separating_thresholds():
    raws = [0.9, 0.85, 0.8, 0.55, 0.5, 0.45, 0.2, 0.1]
    truth = ["supported"] * 3 + ["partial"] * 3 + ["unsupported"] * 2
    st, pt, obj = fit_thresholds([Signals(r, False, False, False) for r in raws], truth)
    assert obj == 1.0 and 0.55 < st <= 0.8 and 0.2 < pt <= 0.45


def test_bad_labels_file(tmp_path):
    p = tmp_path / "l.jsonl"
    p.write_text(json.dumps({"id": "a", "sentence": "s", "passage": "p", "label": "maybe"}) + "\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"l.jsonl:1: label: expected one of supports, partly, doesnt, got 'maybe'"):
        load_labels(p)


def test_real_calibration_on_a_slice(tmp_path, shared_embedder, eval_settings):
    before = hashlib.sha256(DEFAULT_LABELS.read_bytes()).hexdigest()
    res = calibrate(DEFAULT_LABELS, embedder=shared_embedder, settings=eval_settings, limit=60)
    assert hashlib.sha256(DEFAULT_LABELS.read_bytes()).hexdigest() == before  # the human labels are never changed
    assert res["n"] == 60 and res["n_train"] + res["n_heldout"] == 60
    assert res["relabel_mismatches"] == 0  # the grid's re-labelling equals Verifier.check at the configured thresholds
    f = res["fitted"]
    assert 0 < f["partial_threshold"] < f["support_threshold"] <= 1
    held = res["heldout"]
    assert held["n"] == res["n_heldout"]
    assert -1 <= held["kappa"] <= 1 and -1 <= held["binary"]["kappa"] <= 1
    assert set(held["per_class"]) == {"supported", "partial", "unsupported"}
    assert sum(sum(row.values()) for row in held["confusion"].values()) == held["n"]
    out = write_calibration(res, tmp_path / "cal.json")
    assert json.loads(out.read_text())["labels_sha256"] == before


def test_labels_written_by_the_grading_tab_load(tmp_path):
    """The app's grading tab appends labels with provenance fields; calibration reads them."""
    import json

    from dossier.eval.calibrate import load_labels

    p = tmp_path / "labels.jsonl"
    p.write_text(json.dumps({"id": "g1", "sentence": "The cameras see 110 meters.", "passage": "cameras ... 110 meters",
                             "label": "supports", "note": "", "source": "grading-tab", "question": "How far?",
                             "doc_id": "d1", "chunk_id": "d1:0-10", "start": 0, "end": 10, "grader": "ana",
                             "at": "2026-11-25T03:00:00Z"}) + "\n")
    labels = load_labels(p)
    assert [(x.id, x.label) for x in labels] == [("g1", "supports")]
