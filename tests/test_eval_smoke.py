"""The evaluation smoke tests run by `make test`: the extractive engine must stay within the recorded
baselines of eval/baselines.toml (correctness, abstention, gold-span citation accuracy, quote exactness)
on two fast subsets, through `eval check`. A regression fails the suite.

- seed-smoke: every 6th item of seed-dev (the demo article and the fixture corpus);
- squad-smoke: every 10th question of the SQuAD 2.0 test articles (Normans, Immune_system), open book:
  outside data that no training or tuning touched."""
from __future__ import annotations

import pytest

from dossier.eval.check import DEFAULT_BASELINES, check_report, load_baselines
from dossier.eval.runner import run_eval
from tests.conftest import REPO as ROOT


@pytest.mark.parametrize("name", ["seed-smoke", "squad-smoke"])
def test_extractive_engine_holds_its_smoke_baseline(name, tmp_path, shared_embedder, eval_settings):
    dataset = ROOT / "eval" / "datasets" / f"{name}.jsonl"
    result = run_eval(dataset, engine="extractive", out_dir=tmp_path / "run", settings=eval_settings, embedder=shared_embedder,
                      calibration={})  # calibration figures are not what this test checks
    res = check_report(result.report, load_baselines(DEFAULT_BASELINES), path=DEFAULT_BASELINES)
    assert res.section == f"{name}.extractive"
    assert res.ok, "regressions against eval/baselines.toml:\n" + "\n".join(res.failures) + \
        f"\n(report: {result.out_dir / 'report.md'})"
