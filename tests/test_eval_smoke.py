"""The evaluation smoke test run by `make test`: the extractive engine on eval/datasets/seed-smoke.jsonl
(every 6th item of seed-dev) must stay within the recorded baselines of eval/baselines.toml
(correctness, citation precision, quote exactness, abstention...). A regression fails this test."""
from __future__ import annotations

from dossier.eval.check import DEFAULT_BASELINES, check_report, load_baselines
from dossier.eval.runner import run_eval
from tests.conftest import REPO as ROOT

SMOKE = ROOT / "eval" / "datasets" / "seed-smoke.jsonl"


def test_extractive_engine_holds_its_smoke_baseline(tmp_path, shared_embedder, eval_settings):
    result = run_eval(SMOKE, engine="extractive", out_dir=tmp_path / "run", settings=eval_settings, embedder=shared_embedder,
                      calibration={})  # calibration figures are not what this test checks
    res = check_report(result.report, load_baselines(DEFAULT_BASELINES), path=DEFAULT_BASELINES)
    assert res.section == "seed-smoke.extractive"
    assert res.ok, "regressions against eval/baselines.toml:\n" + "\n".join(res.failures) + \
        f"\n(report: {result.out_dir / 'report.md'})"
