"""The draft checker's learned verdict model: the bundled weights load and behave, and the fit with grouped
cross-validation (eval/fit_check.py) runs on small synthetic candidate data."""
from __future__ import annotations

import json

import numpy as np
import pytest

from dossier.app.check_model import MODEL_PATH, NLI_MODEL_PATH, Logistic, VerdictModel


@pytest.mark.parametrize("path, reads_nli", [(MODEL_PATH, False), (NLI_MODEL_PATH, True)])
def test_the_bundled_models_load_and_their_probabilities_rise_with_the_evidence(path, reads_nli):
    """Both bundled verdicts: the default (no entailment model) and the opt-in one that reads it."""
    m = VerdictModel.load(path)
    assert 0 < m.support_threshold < 1 and 0 < m.contradict_threshold < 1
    fit = json.loads(path.read_text())["fit"]
    assert "check-heldout7" not in fit["datasets"] and fit["cross_validated"]["per_set"]  # CV figures recorded with it
    assert m.reads_nli is reads_nli
    weak = {"reader": -3.0, "similarity": 0.2, "clause": 0.2, "own": 0.1, "topical": 0.1, "coverage": 0.2, "entail": 0.05, "contra": 0.3}
    strong = {"reader": 3.0, "similarity": 0.95, "clause": 0.95, "own": 1.0, "topical": 1.0, "coverage": 1.0, "entail": 0.99, "contra": 0.01}
    assert m.match.prob(weak) < 0.1 < 0.9 < m.match.prob(strong)
    assert m.support.prob({**weak, "match": m.match.prob(weak)}) < m.support_threshold <= m.support.prob({**strong, "match": m.match.prob(strong)})


def test_round_trip(tmp_path):
    lg = Logistic(("reader",), (2.0,), -1.0, (0.5,), (1.0,))
    m = VerdictModel(lg, lg, lg, 0.8, 0.4, "x")
    m.save(tmp_path / "m.json", {"fit": {"note": 1}})
    assert VerdictModel.load(tmp_path / "m.json") == m
    assert lg.prob({"reader": 0.5}) == pytest.approx(1 / (1 + np.exp(1.0)))


def _synthetic(seed: int = 0, nli_signal: bool = False) -> list[dict]:
    """Three sets of sentences whose gold candidate reads close (supported, contradicted) or is absent. With
    `nli_signal`, only the entailment model's probabilities tell a supported sentence from an unsupported one
    whose gold-like candidate reads just as close."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(3):
        for i in range(30):
            label = ("supported", "contradicted", "unsupported")[i % 3]
            cands = []
            for k in range(4):
                gold = k == 0 and (label != "unsupported" or nli_signal)
                x = rng.normal(1.0 if gold else -1.0, 0.4)
                e = rng.uniform(0.7, 1.0) if gold and label == "supported" else rng.uniform(0.0, 0.3)
                c = rng.uniform(0.6, 1.0) if gold and label == "contradicted" else rng.uniform(0.0, 0.3)
                cands.append({"reader": x, "similarity": 0.5 + 0.2 * x, "clause": 0.5 + 0.2 * x, "own": 0.5 + 0.2 * x,
                              "topical": 0.5 + 0.2 * x, "coverage": 0.6, "gold": gold and label != "unsupported",
                              "entail_s": e, "entail_w": e, "contra_s": c, "contra_w": c, "entail": e, "contra": c,
                              "clean": label != "contradicted" if gold else k % 2 == 0,
                              "conflict": label == "contradicted" if gold else k % 2 == 1})
            rows.append({"set": f"s{s}", "id": f"s{s}-{i}", "label": label, "verbatim": False, "cands": cands})
    return rows


def test_fit_and_grouped_cross_validation_on_synthetic_data():
    pytest.importorskip("sklearn")
    from dossier.eval.fit_check import cross_validate, decide, fit, metrics, _probs

    rows = _synthetic()
    cv = cross_validate(rows, nli=False)
    assert set(cv["per_set"]) == {"s0", "s1", "s2"} and len(cv["verdicts"]) == len(rows)
    assert cv["pooled"]["accuracy"] > 0.9
    model = fit(rows, nli=False)
    assert not model.reads_nli
    v = decide(_probs(rows, model), model.support_threshold, model.contradict_threshold)
    assert metrics([r["label"] for r in rows], v)["nonsupported_marked_supported"] == 0  # max_danger 0 in the training data


def test_the_entailment_features_carry_what_the_other_signals_cannot():
    """Unsupported sentences whose closest candidate reads as close as a supporting one: without the entailment
    model's probabilities the fit cannot tell them apart, with them it can."""
    pytest.importorskip("sklearn")
    from dossier.eval.fit_check import cross_validate, fit

    rows = _synthetic(1, nli_signal=True)
    without = cross_validate(rows, nli=False)["pooled"]["accuracy"]
    with_nli = cross_validate(rows, nli=True)["pooled"]["accuracy"]
    assert with_nli > 0.9 and with_nli > without + 0.15
    assert fit(rows, nli=True).reads_nli


@pytest.mark.parametrize("change, says", [
    (lambda d: d["support"].update(features=d["support"]["features"][:-1] + ["velocity"]), "'support': unknown feature(s) velocity"),
    (lambda d: d["match"].update(weights=d["match"]["weights"][:-1]), "'match':"),
    (lambda d: d["contradict"].update(scale=[0.0] * len(d["contradict"]["scale"])), "'contradict': a feature scale is not positive"),
    (lambda d: d.pop("support_threshold"), "support_threshold"),
])
def test_a_verdict_file_not_fitted_for_this_checker_is_a_clear_error_naming_it(tmp_path, change, says):
    d = json.loads(MODEL_PATH.read_text())
    change(d)
    bad = tmp_path / "verdict.json"
    bad.write_text(json.dumps(d))
    with pytest.raises(RuntimeError) as e:
        VerdictModel.load(bad)
    assert str(bad) in str(e.value) and says in str(e.value)


def test_the_checker_computes_every_feature_a_verdict_may_name():
    """FEATURES (what a verdict file may name) is exactly what the checker computes for a candidate, plus match."""
    from dossier.app.check import _Judged
    from dossier.app.check_model import FEATURES

    judged = _Judged(cand=None, similarity=0.5, coverage=0.5, topical=0.5, missing=[], conflicts=[])
    assert set(judged.features()) | {"match"} == FEATURES


def test_a_match_regression_reading_entailment_features_is_refused(tmp_path):
    """The checker computes match before it reads the entailment model: a file whose match names those features
    would read zeros; it is refused at load."""
    d = json.loads(NLI_MODEL_PATH.read_text())
    d["match"]["features"][0] = "entail"
    bad = tmp_path / "v.json"
    bad.write_text(json.dumps(d))
    with pytest.raises(RuntimeError, match="'match': reads entailment features"):
        VerdictModel.load(bad)
