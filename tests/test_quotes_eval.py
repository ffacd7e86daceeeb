"""Quote attribution evaluation (#13): the labelled sets validate, the scorer counts what it says it counts
(checked on hand-made predictions), and `dossier eval quotes` reports the sets with the issue's targets on the
seed (direct recall and precision >= 0.90, reported speech >= 0.75)."""
from __future__ import annotations

import json

import pytest

from dossier.eval.dataset import DatasetError
from dossier.eval.quotes_eval import (LabelledQuote, QuoteEval, KindScore, _match, _speaker_list, default_datasets,
                                      load_labels, same_speaker, validate_quote_dataset)
from dossier.ingest.quotes import Quote


def lab(id, kind, quote, speaker, typ="person", org="", aliases=()):
    return LabelledQuote(id, "d", kind, quote, speaker, typ, "", org, tuple(aliases))


def pred(text, quote, kind, speaker, typ="person", org=""):
    a = text.index(quote)
    return ("d", Quote(a, a + len(quote), kind, speaker, typ, "", org, 0, 0, quote))


def test_every_quote_dataset_validates():
    names = [p.name for p in default_datasets()]
    assert {"quotes-seed.jsonl", "quotes-fixtures.jsonl", "quotes-court.jsonl", "quotes-hearing.jsonl"} <= set(names)
    assert names[-2:] == ["quotes-court.jsonl", "quotes-hearing.jsonl"]  # the held-out sets are reported last
    for p in default_datasets():
        rep = validate_quote_dataset(p)
        assert rep.ok, rep.problems


def test_validator_names_what_is_wrong(tmp_path):
    corpus = tmp_path / "quotes-x.corpus.toml"
    (tmp_path / "doc.txt").write_text("“It works,” said Ada Berg.\n", encoding="utf-8")
    corpus.write_text('[[documents]]\nkey = "d"\npath = "doc.txt"\n', encoding="utf-8")
    good = {"id": "x1", "doc": "d", "kind": "direct", "quote": "It works,", "speaker": "Ada Berg", "speaker_type": "person",
            "role": "", "org": "", "aliases": []}
    ds = tmp_path / "quotes-x.jsonl"
    ds.write_text(json.dumps(good) + "\n" + json.dumps({**good, "id": "x2", "quote": "It fails"}) + "\n"
                  + json.dumps({**good, "id": "x3", "org": "Skarva"}) + "\n", encoding="utf-8")
    rep = validate_quote_dataset(ds)
    assert not rep.ok
    assert any(":2: quote: expected one exact span" in p for p in rep.problems)
    assert any(":3: speaker: expected the same type/role/org" in p for p in rep.problems)
    ds.write_text(json.dumps({**good, "kind": "paraphrase"}) + "\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="kind: expected direct or reported"):
        load_labels(ds)


def test_scoring_counts_found_attributed_and_extras():
    text = "“It works,” said Ada Berg. Nils Brun argued that it does not. “Fine,” he said. Greenpeace said that all is lost."
    labels = [lab("1", "direct", "It works,", "Ada Berg"),
              lab("2", "reported", "Nils Brun argued that it does not.", "Nils Brun"),
              lab("3", "reported", "Greenpeace said that all is lost.", "Greenpeace", "organisation")]
    predicted = [pred(text, "It works,", "direct", "Berg"),  # surname of the labelled person: right
                 pred(text, "Nils Brun argued that it does not.", "reported", "Ada Berg"),  # found, wrong speaker
                 pred(text, "Fine,", "direct", "Nils Brun")]  # no label: an extra
    res = QuoteEval("x", "dev", ["d"], {k: KindScore() for k in ("direct", "reported", "all")})
    _match(res, labels, {"d": text}, predicted)
    d, r, a = (res.kinds[k].to_dict() for k in ("direct", "reported", "all"))
    assert (d["labelled"], d["predicted"], d["attributed"], d["recall"], d["precision"]) == (1, 2, 1, 1.0, 0.5)
    assert (r["labelled"], r["found"], r["attributed"], r["recall"], r["span_recall"]) == (2, 1, 0, 0.0, 0.5)
    assert a["attributed"] == 1 and a["labelled"] == 3 and a["predicted"] == 3
    assert {m["id"]: m["why"] for m in res.misses} == {"2": "attributed to Ada Berg", "3": "not found"}
    assert [x["quote"] for x in res.extras] == ["Fine,"]


def test_speaker_names_and_list():
    g = lab("1", "direct", "q", "State Border Committee", "organisation", aliases=["SBC"])
    assert same_speaker("the SBC", g) and same_speaker("State Border Committee", g) and not same_speaker("Border", g)
    p = lab("2", "direct", "q", "Miklós Haraszti", org="UN")
    assert same_speaker("Miklos Haraszti", p) and same_speaker("Haraszti", p) and not same_speaker("Miklós Orban", p)
    quotes = [Quote(0, 1, "direct", "Haraszti", "person", "", "UN", 0, 0, "q"),
              Quote(0, 1, "direct", "Someone Else", "person", "", "", 0, 0, "q")]
    sl = _speaker_list([g, p], quotes)
    assert (sl["labelled"], sl["listed"], sl["recall"], sl["precision"], sl["accuracy"]) == (2, 2, 0.5, 0.5, 0.5)
    assert sl["unlabelled"] == ["Someone Else"]


def test_eval_quotes_command_reports_every_set_and_meets_the_seed_targets(run_cli):
    res = run_cli("eval", "quotes", "--json")
    assert res.exit_code == 0, res.stderr
    results = {r["dataset"]: r for r in json.loads(res.stdout)}
    assert results["quotes-court"]["role"] == results["quotes-hearing"]["role"] == "held-out"
    assert results["quotes-seed"]["role"] == "dev"
    seed = results["quotes-seed"]
    assert seed["direct"]["recall"] >= 0.90 and seed["direct"]["precision"] >= 0.90
    assert seed["reported"]["recall"] >= 0.75 and seed["reported"]["precision"] >= 0.75
    for r in results.values():  # every figure is a share, computed on labelled data
        assert r["all"]["labelled"] > 0 and 0.0 <= r["all"]["recall"] <= 1.0
    plain = run_cli("eval", "quotes", "--show")
    assert plain.exit_code == 0 and "| quotes-court (court-ruling) | held-out | direct |" in plain.stdout
    bad = run_cli("eval", "quotes", "missing.jsonl")
    assert bad.exit_code == 2 and "not found" in bad.stderr
