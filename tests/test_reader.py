"""The learned answer-sentence scorer: the committed int8 model, its abstention model, the training
command end to end on a tiny slice, and the article-level SQuAD split."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dossier.app.reader import MODEL_DIR, AbstainModel, AnswerScorer, ReaderError
from dossier.eval import squad
from dossier.eval.fit_abstain import best_threshold

ROOT = Path(__file__).resolve().parents[1]
EXTERNAL = ROOT.parent / "shared" / "external"
needs_external = pytest.mark.skipif(not (EXTERNAL / squad.DEV_OPEN).exists(), reason=f"{EXTERNAL}: SQuAD files not present")


@pytest.fixture(scope="module")
def scorer() -> AnswerScorer:
    return AnswerScorer()


# Text written for this test (not SQuAD, not the seed): the scorer must tell the answering sentence apart.
PASSAGE = [
    "The harbour authority of Veltmark opened a new container terminal in 2019.",
    "Its cranes can lift loads of up to 65 tonnes, twice what the old quay could handle.",
    "The terminal was designed by the engineering firm Ostrand & Hale.",
    "Local fishermen protested that the construction blocked access to the northern slipway.",
]


@pytest.mark.parametrize("question, answer", [
    ("How heavy a load can the cranes lift?", 1),
    ("Who designed the terminal?", 2),
    ("When did the new container terminal open?", 0),
    ("Why did fishermen protest?", 3),
])
def test_committed_scorer_puts_the_answering_sentence_first(scorer, question, answer):
    scores = scorer.score(question, PASSAGE)
    assert int(np.argmax(scores)) == answer, dict(zip(PASSAGE, scores.round(2)))


def test_a_pair_scores_the_same_alone_and_among_others(scorer):
    alone = scorer.score("Who designed the terminal?", [PASSAGE[2]])[0]
    scorer.pair._cache.clear()
    among = scorer.score("Who designed the terminal?", PASSAGE)[2]
    assert alone == pytest.approx(among, abs=1e-6)


def test_missing_weights_are_a_clear_error(tmp_path):
    with pytest.raises(ReaderError, match="model.onnx: answer scorer weights missing"):
        AnswerScorer(tmp_path)


def test_abstention_model_loads_and_is_a_probability():
    m = AbstainModel.load()
    assert 0.0 < m.threshold < 1.0 and "SQuAD" in m.fitted_on
    x = {f: mu for f, mu in zip(m.features, m.mean)}
    assert 0.0 < m.confidence(x) < 1.0
    hi = dict(x, top=x["top"] + 5 * m.scale[m.features.index("top")])
    assert m.confidence(hi) > m.confidence(x)  # a higher best score means more confidence


def test_abstention_model_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "abstain.json"
    bad.write_text("{}")
    with pytest.raises(ReaderError, match="abstain.json: abstention model unreadable"):
        AbstainModel.load(bad)


def test_threshold_maximises_overall_accuracy():
    p = np.array([0.9, 0.8, 0.3, 0.2, 0.1])
    answerable = np.array([True, True, True, False, False])
    correct = np.array([True, True, False, False, False])
    t, acc = best_threshold(p, answerable, correct)
    assert 0.2 < t <= 0.8 and acc == pytest.approx(0.8)  # answer the two right ones, abstain on the unanswerable


def test_model_card_states_data_hashes_and_figures():
    card = (MODEL_DIR / "MODEL_CARD.md").read_text()
    record = json.loads((MODEL_DIR / "training.json").read_text())
    for d in record["data"]:
        assert d["sha256"] in card
    assert "dossier eval train-reader" in card and str(record["seed"]) in card
    assert set(record["test_articles"]) == set(squad.TEST_ARTICLES)


@needs_external
def test_split_is_by_article_and_test_articles_never_train():
    splits = {s: {a.title for a in squad.articles(EXTERNAL, s)} for s in squad.SPLITS}
    assert not splits["train"] & splits["dev"] and not splits["train"] & splits["test"] and not splits["dev"] & splits["test"]
    assert splits["test"] == set(squad.TEST_ARTICLES) and splits["dev"] == set(squad.DEV_ARTICLES)
    pairs = squad.training_pairs(squad.articles(EXTERNAL, "train"), max_questions=3)
    test_questions = {q.question for a in squad.articles(EXTERNAL, "test") for q in a.questions}
    assert pairs and not {p[0] for p in pairs} & test_questions
    record = json.loads((MODEL_DIR / "training.json").read_text())
    assert not set(record["train_articles"]) & (splits["dev"] | splits["test"])


@needs_external
def test_converted_datasets_match_the_shared_files():
    """eval/datasets/squad-*.jsonl are what `dossier eval squad-convert` writes from shared/external."""
    for split in ("dev", "test"):
        items = squad.dataset_items(squad.articles(EXTERNAL, split))
        lines = (ROOT / "eval" / "datasets" / f"squad-{split}.jsonl").read_text(encoding="utf-8").splitlines()
        assert [json.loads(x) for x in lines] == items


@needs_external
def test_train_reader_end_to_end_on_a_tiny_slice(tmp_path, run_cli):
    """The real training command: a few pairs, one short epoch, exported to int8 ONNX and loadable."""
    out = tmp_path / "reader"
    res = run_cli("eval", "train-reader", "--external", EXTERNAL, "--out", out, "--max-pairs", "24", "--json")
    assert res.exit_code == 0, res.stderr
    record = json.loads(res.stdout.strip().splitlines()[-1])
    assert record["pairs"] == 24 and record["steps"] >= 1
    assert {d["file"] for d in record["data"]} == {squad.TRAIN_PART, squad.DEV_OPEN}
    tiny = AnswerScorer(out)
    s = tiny.score("Who designed the terminal?", PASSAGE)
    assert s.shape == (4,) and np.isfinite(s).all()
    assert (out / "model.onnx").stat().st_size < 40_000_000  # int8, embeddings included
