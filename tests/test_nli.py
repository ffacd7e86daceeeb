"""The draft checker's entailment model: the committed int8 model on clear pairs written for this test,
its training data (public NLI files, synthetic pairs made by rule), the training command end to end on a
tiny slice, and how the checker reads it (only for the candidates its verdict reads)."""
from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from dossier.app.nli import LABELS, MODEL_DIR, NliError, NliScorer
from dossier.eval import nli_data, squad

ROOT = Path(__file__).resolve().parents[1]
EXTERNAL = ROOT.parent / "shared" / "external"
needs_external = pytest.mark.skipif(not (EXTERNAL / squad.DEV_OPEN).exists(), reason=f"{EXTERNAL}: SQuAD files not present")


@pytest.fixture(scope="module")
def nli() -> NliScorer:
    return NliScorer()


# Written for this test (not from any training file).
PREMISE = "The harbour authority of Veltmark opened a new container terminal in 2019, after four years of construction."


@pytest.mark.parametrize("hypothesis, label", [
    ("A new container terminal was opened in 2019.", "entailment"),
    ("A new container terminal opened in Veltmark.", "entailment"),
    ("The harbour authority of Veltmark opened a new container terminal in 2011.", "contradiction"),
    ("The harbour authority of Veltmark did not open a new container terminal.", "contradiction"),
])
def test_committed_model_on_clear_pairs(nli, hypothesis, label):
    p = nli.probs(PREMISE, hypothesis)
    assert abs(sum(p) - 1.0) < 1e-6 and all(0.0 <= x <= 1.0 for x in p)
    assert LABELS[max(range(3), key=lambda i: p[i])] == label, p


@pytest.mark.xfail(strict=True, reason="known weakness: a name said in another form ('Veltmark's authority' for 'the "
                   "authority of Veltmark') reads as a changed name, as the synthetic name swaps taught it (model card, Limits)")
def test_a_name_said_in_another_form_is_still_entailed(nli):
    assert nli.label(PREMISE, "Veltmark's harbour authority opened a new container terminal in 2019.") == "entailment"


def test_entailment_is_likelier_for_the_stated_fact_than_for_an_unrelated_one(nli):
    stated = nli.probs(PREMISE, "A new container terminal opened in Veltmark.")[0]
    unrelated = nli.probs(PREMISE, "The terminal's cranes were built in Finland.")[0]
    assert stated > unrelated + 0.3


def test_a_pair_scores_the_same_twice_and_is_cached(nli):
    a = nli.probs(PREMISE, "The terminal opened in 2019.")
    assert nli.probs(PREMISE, "The terminal opened in 2019.") == a and (PREMISE, "The terminal opened in 2019.") in nli.pair._cache


def test_missing_weights_are_a_clear_error(tmp_path):
    with pytest.raises(NliError, match="train-nli"):
        NliScorer(tmp_path)


def test_model_card_and_training_record():
    record = json.loads((MODEL_DIR / "training.json").read_text())
    card = (MODEL_DIR / "MODEL_CARD.md").read_text()
    assert record["labels"] == list(LABELS) and "dossier eval train-nli" in card
    for d in record["data"]:
        assert d["sha256"] in card
    assert (MODEL_DIR / "model.onnx").stat().st_size < 40_000_000


# ----------------------------------------------------------------------------- training data


def test_public_pairs_read_the_committed_files_and_hold_out_their_parts():
    snli, sick = nli_data.public_pairs()
    assert len(snli.train) > 1000 and len(snli.dev) > 1000 and len(sick.dev) == 1000
    assert {p[2] for p in snli.train + sick.train} == {0, 1, 2}
    # SICK repeats some sentence pairs across its splits, and the reversed training pairs meet a few held-out
    # ones: the held-out SICK figure is a sanity check, not a clean test (the model card says so)
    dev = {(p, h) for p, h, _ in sick.dev}
    assert len(dev & {(p, h) for p, h, _ in sick.train}) < 0.1 * len(dev)


def test_shorter_leaves_out_an_entailed_part_only():
    rng = random.Random(1)
    s = "In 2008, the council approved the new bridge (a steel design) over the river Amstel."
    outs = {nli_data.shorter(s, rng) for _ in range(20)}
    assert "The council approved the new bridge (a steel design) over the river Amstel." in outs
    assert "In 2008, the council approved the new bridge over the river Amstel." in outs
    assert nli_data.shorter("The council approved it.", rng) is None


@pytest.mark.parametrize("sentence, kind, expect", [
    ("The bridge cost 240 million euros.", "number", lambda o: not re.search(r"\b240\b", o) and o.endswith(" million euros.")),
    ("The bridge opened in 1998.", "number", lambda o: re.fullmatch(r"The bridge opened in (19|20)\d\d\.", o) and "1998" not in o),
    ("The bridge was built quickly.", "polarity", lambda o: o == "The bridge was not built quickly."),
    ("The bridge was not built quickly.", "polarity", lambda o: o == "The bridge was built quickly."),
    ("Traffic increased after the opening.", "opposite", lambda o: "decreased" in o or "before" in o),
    ("It opened in March last year.", "month", lambda o: "March" not in o),
])
def test_one_slot_changes(sentence, kind, expect):
    rng = random.Random(3)
    fn = {"number": nli_data._change_number, "polarity": nli_data._change_polarity, "opposite": nli_data._change_opposite,
          "month": nli_data._change_month}[kind]
    out = fn(sentence, rng)
    assert out and out != sentence and expect(out), out


def test_name_swap_takes_another_name_of_the_article():
    rng = random.Random(2)
    out = nli_data._change_name("The plan was drawn up by Anna Berg in Utrecht.", ["Anna Berg", "Karl Moen", "Utrecht"], rng)
    assert out in {"The plan was drawn up by Karl Moen in Utrecht."}


def test_synthetic_pairs_have_all_three_labels_and_contradictions_differ_from_their_premise():
    paras = ["In 2008, the council of Norden approved a new bridge over the river Amstel, which cost 240 million euros. "
             "Construction began in March 2009 and was finished in 2012. The bridge was designed by Anna Berg, an engineer "
             "from Utrecht. Traffic on the old ferry decreased sharply after the opening.",
             "Karl Moen, the mayor of Norden, said the bridge was the largest project in the town's history. "
             "The council had rejected an earlier tunnel plan in 2004."]
    pairs = nli_data.synthetic_pairs(paras, random.Random(0), rounds=3)
    assert {p[2] for p in pairs} == {0, 1, 2}
    for premise, hypothesis, label in pairs:
        assert premise.strip() and hypothesis.strip()
        if label == 2:
            assert hypothesis.rstrip(".") not in premise


@needs_external
def test_synthetic_split_keeps_the_dev_article_out_of_training():
    """No sentence of the held-out article is a premise or hypothesis of any training pair (all of them, not a
    prefix), and the held-out part is made of that article's sentences."""
    src = nli_data.squad_synthetic(EXTERNAL, rounds=1)
    dev = next(a for a in squad.articles(EXTERNAL, "train") if a.title == nli_data.SYNTHETIC_DEV_ARTICLE)
    dev_sents = {s for para in nli_data.article_sentences(dev.paragraphs) for s in para}
    assert src.dev and src.train and len(dev_sents) > 50
    long_sents = [x for x in dev_sents if len(x) >= 40]  # a short sentence could recur in another article by chance
    # the held-out pairs are that article's (a few premises are shortened sentences: most hold a whole one)
    assert sum(any(x in p for x in dev_sents) for p, _, _ in src.dev) >= 0.9 * len(src.dev)
    assert not any(x in p or x in h for p, h, _ in src.train for x in long_sents)


@needs_external
def test_train_nli_end_to_end_on_a_tiny_slice(tmp_path, run_cli):
    """The real training command: a few pairs, one short epoch, exported to int8 ONNX and loadable."""
    out = tmp_path / "nli"
    res = run_cli("eval", "train-nli", "--external", EXTERNAL, "--out", out, "--max-pairs", "24", "--max-dev", "5",
                  "--epochs", "1", "--json")
    assert res.exit_code == 0, res.stderr
    record = json.loads(res.stdout.strip().splitlines()[-1])
    assert record["pairs"] == 24 and record["steps"] >= 1 and record["labels"] == list(LABELS)
    assert set(record["held_out"]) == {"snli", "sick", "synthetic"}
    p = NliScorer(out).probs("A man is walking.", "A person walks.")
    assert abs(sum(p) - 1.0) < 1e-6
