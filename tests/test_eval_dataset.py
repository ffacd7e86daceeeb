"""eval.dataset: schema validation messages, corpus sidecars, gold resolution, the validator (no model)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dossier.eval.cli import eval_app
from dossier.eval.dataset import (
    DatasetError,
    corpus_path_for,
    load_corpus,
    load_dataset,
    resolve_gold,
    select_items,
    validate_dataset,
)
from tests.conftest import EVAL_FIXTURES as FIXTURES, REPO as ROOT, TINY

DEV = ROOT / "eval" / "datasets" / "seed-dev.jsonl"
SMOKE = ROOT / "eval" / "datasets" / "seed-smoke.jsonl"

GOOD = {"id": "x-1", "question": "Q?", "answerable": True, "reference_answer": "Twelve.", "answer_keys": [["twelve"]],
        "gold": [{"doc": "d", "quote": "twelve masts"}], "tags": ["number"]}


def _write(tmp_path: Path, *objs, raw: str | None = None) -> Path:
    p = tmp_path / "ds.jsonl"
    lines = [json.dumps(o) for o in objs]
    if raw is not None:
        lines.append(raw)
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def test_the_shipped_datasets_load():
    dev = load_dataset(DEV)
    assert len(dev) == 129 and dev[0].id == "sd-001"
    assert sum(it.answerable for it in dev) == 99
    assert [it for it in dev if it.id == "sd-073"][0].history[0].question.startswith("Which organization")


def test_smoke_subset_is_every_sixth_item_verbatim():
    """seed-smoke.jsonl is picked by a fixed rule (ids divisible by 6), lines copied unchanged."""
    dev_lines = DEV.read_text(encoding="utf-8").splitlines()
    want = [line for line in dev_lines if int(json.loads(line)["id"].split("-")[1]) % 6 == 0]
    assert SMOKE.read_text(encoding="utf-8").splitlines() == want
    assert load_corpus(corpus_path_for(SMOKE)).documents == load_corpus(corpus_path_for(DEV)).documents


@pytest.mark.parametrize("change, pattern", [
    ({"answerable": "yes"}, r"answerable: expected a bool, got string \"yes\""),
    ({"id": ""}, r"id: expected a non-empty string, got string \"\""),
    ({"answer_keys": "twelve"}, r"answer_keys: expected a list of lists of strings, got string"),
    ({"answer_keys": [[]]}, r"answer_keys\[0\]: expected a non-empty list of strings, got list \[\]"),
    ({"answer_keys": [["ok", 3]]}, r"answer_keys\[0\]\[1\]: expected a non-empty string, got int 3"),
    ({"gold": [{"doc": "d"}]}, r"gold\[0\]: expected an object with exactly \"doc\" and \"quote\""),
    ({"gold": [{"doc": "d", "quote": "a\nb"}]}, r"gold\[0\]\.quote: expected a quote without line breaks"),
    ({"tags": "number"}, r"tags: expected a list of strings, got string"),
    ({"history": [{"question": "q"}]}, r"history\[0\]: expected an object with exactly \"question\" and \"answer\""),
    ({"extra": 1}, r"extra: expected one of id, question, .* got an unknown field"),
    ({"answerable": False}, r"answer_keys: expected \[\] for an unanswerable item"),
    ({"answer_keys": []}, r"answer_keys: expected at least one group for an answerable item"),
])
def test_schema_errors_name_file_line_field(tmp_path, change, pattern):
    bad = {**GOOD, "id": "x-2", **change}
    p = _write(tmp_path, GOOD, bad)
    with pytest.raises(DatasetError) as exc:
        load_dataset(p)
    msg = str(exc.value)
    assert msg.startswith(f"{p}:2: "), msg
    assert re.search(pattern, msg), msg


def test_missing_field_invalid_json_duplicate_id(tmp_path):
    missing = {k: v for k, v in GOOD.items() if k != "tags"}
    with pytest.raises(DatasetError, match=r":1: tags: expected a value, got nothing"):
        load_dataset(_write(tmp_path, missing))
    with pytest.raises(DatasetError, match=r":2: line: expected valid JSON, got a parse error"):
        load_dataset(_write(tmp_path, GOOD, raw="{not json"))
    with pytest.raises(DatasetError, match=r":2: id: expected a unique id, got 'x-1' again \(first on line 1\)"):
        load_dataset(_write(tmp_path, GOOD, GOOD))
    with pytest.raises(DatasetError, match=r"expected at least one item"):
        load_dataset(_write(tmp_path))


def test_select_items_by_tag_id_and_subset():
    items = load_dataset(TINY)
    assert [it.id for it in select_items(items, tags=["number"])] == ["t-1", "t-5"]
    assert [it.id for it in select_items(items, ids=["t-3", "t-4"])] == ["t-3", "t-4"]
    assert [it.id for it in select_items(items, subset=2)] == ["t-1", "t-2"]


def test_corpus_sidecar_paths_and_errors(tmp_path):
    assert corpus_path_for(TINY) == FIXTURES / "tiny.corpus.toml"
    corpus = load_corpus(FIXTURES / "tiny.corpus.toml")  # paths relative to the toml
    assert [d.key for d in corpus.documents] == ["harbour", "ferry"]
    assert corpus.documents[0].path == (FIXTURES / "docs" / "harbour-report.txt").resolve()
    assert corpus.documents[1].overrides()["kind"] == "press-release"
    dev = load_corpus(corpus_path_for(DEV))  # paths relative to the repository root
    assert dev.by_key()["seed"].path == (ROOT / "sources" / "docs" / "equipping-a-dictator.txt").resolve()

    bad = tmp_path / "x.corpus.toml"
    bad.write_text('[[documents]]\nkey = "a"\npath = "nowhere.txt"\n', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"documents\[0\]: path: expected a file .* got 'nowhere.txt' \(not found\)"):
        load_corpus(bad)
    (tmp_path / "a.txt").write_text("text", encoding="utf-8")
    bad.write_text('[[documents]]\nkey = "a"\npath = "a.txt"\nkind = "blog"\n', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"kind: expected one of article, .* got 'blog'"):
        load_corpus(bad)
    bad.write_text('[[documents]]\nkey = "a"\npath = "a.txt"\nauthor = "me"\n', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"author: expected one of key, path, .* got an unknown key"):
        load_corpus(bad)
    with pytest.raises(DatasetError, match="corpus file not found"):
        load_corpus(tmp_path / "none.corpus.toml")


def test_resolve_gold_exact_repeated_loose_and_missing():
    items = load_dataset(TINY)
    texts = {"harbour": (FIXTURES / "docs" / "harbour-report.txt").read_text(encoding="utf-8"),
             "ferry": (FIXTURES / "docs" / "ferry-memo.md").read_text(encoding="utf-8")}
    res = resolve_gold(items, texts, {"harbour": "dH", "ferry": "dF"})
    assert not res.problems and not res.loose
    (doc_id, a, b), = res.spans["t-2"]
    assert doc_id == "dH" and texts["harbour"][a:b] == items[1].gold[0].quote
    assert res.spans["t-4"] == []

    # a quote that occurs twice yields both spans; whitespace differences are found loosely; absent ones are reported
    doubled = {"harbour": "Corvel Systems. Corvel Systems.", "ferry": "Service  resumed\non 14 June 2022 with a replacement vessel, the MS Tern."}
    from dossier.eval.dataset import DatasetItem, GoldQuote

    it = DatasetItem("z", "q", True, "r", (("x",),), (GoldQuote("harbour", "Corvel Systems"), GoldQuote("ferry", items[2].gold[0].quote),
                                                      GoldQuote("harbour", "absent"), GoldQuote("nope", "x")), ())
    res = resolve_gold([it], doubled)
    assert res.spans["z"][:2] == [("harbour", 0, 14), ("harbour", 16, 30)]
    assert res.spans["z"][2][0] == "ferry" and len(res.loose) == 1
    assert any("gold[2].quote" in p and "not found" in p for p in res.problems)
    assert any("gold[3].doc" in p for p in res.problems)


def test_validator_passes_on_shipped_data_and_flags_bad_quotes(tmp_path):
    rep = validate_dataset(DEV)
    assert rep.ok, rep.problems
    assert rep.n_items == 129 and rep.n_quotes == 120

    (tmp_path / "doc.txt").write_text("The masts were supplied by Corvel Systems.\n", encoding="utf-8")
    (tmp_path / "ds.corpus.toml").write_text('[[documents]]\nkey = "d"\npath = "doc.txt"\n', encoding="utf-8")
    item = {**GOOD, "reference_answer": "Corvel.", "answer_keys": [["Corvel"], ["Kestrel"]],
            "gold": [{"doc": "d", "quote": "supplied by Corvel Systems"}, {"doc": "d", "quote": "supplied by Kestrel"}]}
    p = _write(tmp_path, item)
    rep = validate_dataset(p)
    assert not rep.ok
    assert any(re.search(r":1: gold\[1\]\.quote: expected an exact span of 'd'", x) for x in rep.problems), rep.problems
    assert any(re.search(r":1: answer_keys\[1\]: expected a key occurring in reference_answer", x) for x in rep.problems)
    assert len(rep.problems) == 2

    runner = CliRunner()
    ok = runner.invoke(eval_app, ["validate", str(TINY)])
    assert ok.exit_code == 0, ok.output
    assert "5 items" in ok.output and "ok" in ok.output
    bad = runner.invoke(eval_app, ["validate", str(p), "--json"])
    assert bad.exit_code == 1
    assert json.loads(bad.output)["ok"] is False
