"""The draft-check benchmark runs and reports (shape only: `make bench` measures; no timing is asserted)."""
from __future__ import annotations

from dossier.eval.bench.check_bench import bench_draft, markdown, run_check_bench
from dossier.eval.bench.report import targets


def test_bench_draft_is_the_check_datasets_first_sentences():
    text = bench_draft(12)
    assert text.startswith("# Draft for the check benchmark")
    from dossier.app.check import draft_units

    assert sum(1 for *_, kind in draft_units(text) if kind == "sentence") == 12


def test_check_bench_small_run_reports_every_figure(tmp_path):
    res = run_check_bench(tmp_path, sentences=10, repeats=1, log=lambda m: None)
    assert res["sentences"] == 10 and res["documents"] == 4
    assert res["cli_exit_codes"][0] in (0, 1) and sum(res["summary"].values()) == 10
    assert res["cli_s"]["n"] == 1 and res["in_process_s"]["n"] == 1
    row = next(t for t in targets({"check": res}) if "dossier check" in t["target"])
    assert row["measured"] == res["cli_s"]["median"] and row["status"] in ("met", "missed")
    assert "Draft check" in "\n".join(markdown(res))
