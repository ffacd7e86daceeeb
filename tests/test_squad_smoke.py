"""Outside data in `make test`: the extractive engine on eval/datasets/squad-smoke.jsonl (every 10th question
of the SQuAD test articles, open book: both articles in one store, every question asked of it) must stay
within the recorded baselines of eval/baselines.toml (section squad-smoke.extractive)."""
from __future__ import annotations

from pathlib import Path

from dossier.app.settings import DossierSettings
from dossier.eval.check import DEFAULT_BASELINES, check_report, load_baselines
from dossier.eval.runner import run_eval

SMOKE = Path(__file__).resolve().parents[1] / "eval" / "datasets" / "squad-smoke.jsonl"


def test_extractive_engine_holds_its_squad_baseline(tmp_path, shared_embedder):
    settings = DossierSettings(data_dir=tmp_path / "unused", chroma_url="")
    result = run_eval(SMOKE, engine="extractive", out_dir=tmp_path / "run", settings=settings, embedder=shared_embedder,
                      calibration={})  # calibration figures are not what this test checks
    res = check_report(result.report, load_baselines(DEFAULT_BASELINES), path=DEFAULT_BASELINES)
    assert res.section == "squad-smoke.extractive"
    assert res.ok, "regressions against eval/baselines.toml:\n" + "\n".join(res.failures) + \
        f"\n(report: {result.out_dir / 'report.md'})"
