"""Unit tests for eval.metrics and eval.stats on small hand-computed examples."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

try:  # the repo root is on sys.path when the package is installed or pytest's pythonpath is set
    import dossier.eval.metrics  # noqa: F401
except ImportError:  # pragma: no cover - plain `pytest tests/...` from a bare checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dossier.eval.metrics import (
    AbstentionMetrics,
    Faithfulness,
    abstention_metrics,
    answer_correct,
    broken_markers,
    extract_entities,
    faithfulness,
    find_unsupported_entities,
    gold_citation_precision_recall,
    hit_at_k,
    marker_numbers,
    mrr,
    ndcg_at_k,
    normalize_for_match,
    quote_exactness,
    recall_at_k,
    spans_overlap,
    token_f1,
    unsupported_entities,
)
from dossier.eval.stats import (
    Aggregate,
    aggregate,
    balanced_accuracy,
    bootstrap_ci,
    by_tag,
    cohen_kappa,
    paired_difference,
    precision_recall,
)

L2 = math.log2


def approx(x):
    return pytest.approx(x, abs=1e-12)


# ----------------------------------------------------------------------------- retrieval

GOLD = [("d1", 100, 150), ("d2", 0, 40)]
# ranks:   1: wrong doc    2: overlaps d2 gold  3: touches d1 gold only  4: overlaps d1 gold
CHUNKS = [("d3", 0, 500), ("d2", 30, 90), ("d1", 150, 200), ("d1", 90, 110)]


def test_spans_overlap_half_open_and_same_doc():
    assert spans_overlap(("a", 0, 10), ("a", 9, 20))
    assert not spans_overlap(("a", 0, 10), ("a", 10, 20))  # touching: [0,10) and [10,20)
    assert not spans_overlap(("a", 0, 10), ("b", 0, 10))  # other doc
    assert not spans_overlap(("a", 5, 5), ("a", 0, 10))  # empty span overlaps nothing


def test_hit_at_k():
    assert hit_at_k(CHUNKS, GOLD, 1) == 0.0  # rank 1 is d3
    assert hit_at_k(CHUNKS, GOLD, 2) == 1.0  # rank 2 overlaps ("d2", 0, 40): 30 < 40
    assert hit_at_k(CHUNKS, GOLD, 50) == 1.0  # k larger than the list
    assert hit_at_k([], GOLD, 3) == 0.0


def test_recall_at_k():
    assert recall_at_k(CHUNKS, GOLD, 1) == 0.0
    assert recall_at_k(CHUNKS, GOLD, 3) == 0.5  # only d2 gold covered; rank 3 merely touches d1
    assert recall_at_k(CHUNKS, GOLD, 4) == 1.0  # rank 4 [90,110) overlaps [100,150)
    assert recall_at_k(CHUNKS, GOLD, 10) == 1.0


def test_duplicate_gold_counts_once():
    dup = GOLD + [("d1", 100, 150)]
    assert recall_at_k(CHUNKS, dup, 3) == 0.5  # 1 of 2 distinct spans, not 1 of 3
    assert ndcg_at_k(CHUNKS, dup, 4) == ndcg_at_k(CHUNKS, GOLD, 4)


def test_no_gold_is_not_applicable():
    for fn in (hit_at_k, recall_at_k, ndcg_at_k):
        assert fn(CHUNKS, [], 5) is None
    assert mrr(CHUNKS, []) is None


def test_bad_k_rejected():
    with pytest.raises(ValueError, match="positive int"):
        hit_at_k(CHUNKS, GOLD, 0)


def test_mrr():
    assert mrr(CHUNKS, GOLD) == 0.5  # first relevant at rank 2 -> 1/2
    assert mrr(CHUNKS, GOLD, k=1) == 0.0  # cut-off before it
    assert mrr([("d1", 120, 130)], GOLD) == 1.0
    assert mrr([], GOLD) == 0.0


def test_ndcg_basic():
    # gains (k=4): rank2 -> d2 gold, rank4 -> d1 gold: DCG = 1/log2(3) + 1/log2(5)
    # ideal: min(2 gold, 4) = 2 gains at ranks 1,2: IDCG = 1/log2(2) + 1/log2(3) = 1 + 1/log2(3)
    expected = (1 / L2(3) + 1 / L2(5)) / (1 + 1 / L2(3))  # = (0.6309 + 0.4307) / 1.6309 = 0.6509
    assert ndcg_at_k(CHUNKS, GOLD, 4) == approx(expected)
    # k=2: DCG = 1/log2(3); IDCG = 1 + 1/log2(3)  -> 0.6309 / 1.6309 = 0.3869
    assert ndcg_at_k(CHUNKS, GOLD, 2) == approx((1 / L2(3)) / (1 + 1 / L2(3)))
    # k=1 and the top chunk is irrelevant -> 0
    assert ndcg_at_k(CHUNKS, GOLD, 1) == 0.0
    assert ndcg_at_k([], GOLD, 5) == 0.0


def test_ndcg_perfect_and_k_larger_than_gold():
    gold = [("d", 0, 10)]
    # one gold span, relevant chunk at rank 1: DCG = 1, IDCG over min(1, 10) = 1 gain = 1
    assert ndcg_at_k([("d", 5, 8), ("x", 0, 1)], gold, 10) == 1.0


def test_ndcg_gold_span_credited_once():
    gold = [("d", 0, 10), ("d", 100, 110)]
    # the same span retrieved twice: only rank 1 gains.
    # DCG = 1; IDCG = 1 + 1/log2(3) = 1.6309 -> 0.6131
    chunks = [("d", 0, 5), ("d", 2, 8)]
    assert ndcg_at_k(chunks, gold, 2) == approx(1 / (1 + 1 / L2(3)))


def test_ndcg_matching_not_greedy():
    gold = [("d", 0, 10), ("d", 20, 30)]
    # rank 1 overlaps both gold spans, rank 2 only the first.  A greedy "credit the first
    # span" would give rank 2 nothing; the matching credits rank1->span2, rank2->span1.
    # DCG = 1 + 1/log2(3) = IDCG -> 1.0
    chunks = [("d", 5, 25), ("d", 0, 3)]
    assert ndcg_at_k(chunks, gold, 2) == approx(1.0)
    # one chunk covering both spans gets one gain only: DCG = 1, IDCG = 1 + 1/log2(3)
    assert ndcg_at_k([("d", 0, 30)], gold, 5) == approx(1 / (1 + 1 / L2(3)))


span_st = st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 50), st.integers(0, 50)).map(
    lambda t: (t[0], min(t[1], t[2]), max(t[1], t[2]))
)


@settings(max_examples=200, deadline=None)
@given(st.lists(span_st, max_size=8), st.lists(span_st, max_size=5), st.integers(1, 10))
def test_retrieval_properties(chunks, gold, k):
    values = [fn(chunks, gold, k) for fn in (hit_at_k, recall_at_k, mrr, ndcg_at_k)]
    if not gold:
        assert values == [None] * 4
        return
    for v in values:
        assert v is not None and not math.isnan(v) and 0.0 <= v <= 1.0 + 1e-12
    hit, rec, rr, nd = values
    assert (hit == 0.0) == (rec == 0.0) == (rr == 0.0) == (nd == 0.0)
    assert recall_at_k(chunks, gold, k + 1) >= rec  # monotone in k


# ----------------------------------------------------------------------------- answers


def test_normalize_for_match():
    # curly quote -> ', punctuation -> space, thousands separator removed, dash -> '-' -> space
    text = "The EU’s ban: 2,000,000 barrels — “final”."
    assert normalize_for_match(text) == "the eu s ban 2000000 barrels final"
    assert normalize_for_match("20%") == "20 %"  # % kept as its own token


def test_answer_correct_groups_and_alternatives():
    keys = [["European Union", "EU"], ["2014"]]
    assert answer_correct("The EU acted in 2014.", keys) is True  # both groups matched
    assert answer_correct("The European Union acted.", keys) is False  # year group unmatched
    # case, hyphen and punctuation normalized: "european-union?" -> "european union"
    assert answer_correct("THE   european-union? in 2014", keys) is True


def test_answer_correct_hyphen_and_unicode_dash():
    # "Druzhba–pipeline" (en dash) -> "druzhba pipeline" after punctuation removal
    assert answer_correct("via the Druzhba–pipeline", [["Druzhba-pipeline"]]) is True


def test_answer_correct_stem_prefix_matching():
    # dataset keys are stems: a key may end inside an answer token ...
    assert answer_correct("surveillance cameras and boats", [["camera"], ["boat"]]) is True
    assert answer_correct("to curb migration", [["migra"]]) is True
    assert answer_correct("Paid in EUR.", [["EU"]]) is True  # documented consequence
    # ... but must start at a token boundary
    assert answer_correct("the Ukraine border", [["raine"]]) is False
    # ... and a key ending in a digit must not run into more digits
    assert answer_correct("in 20145", [["2014"]]) is False
    assert answer_correct("147 tenders", [["14"]]) is False
    assert answer_correct("14 tenders", [["14"]]) is True
    assert answer_correct("see Article 23", [["Article 2"]]) is False


def test_answer_correct_numbers_literal():
    assert answer_correct("It cost 2,000,000 euros.", [["2000000"]]) is True  # separator dropped
    assert answer_correct("It cost 2 000 000 euros.", [["2000000"]]) is False  # plain space kept
    assert answer_correct("It cost 2\u202f000\u202f000 euros.", [["2,000,000"]]) is True  # narrow nbsp
    assert answer_correct("It cost 2 million euros.", [["2,000,000"]]) is False  # not equated
    assert answer_correct("20 percent", [["20%"]]) is False  # "20 %" is not "20 percent"


def test_answer_correct_edge_cases():
    assert answer_correct("anything", []) is None  # no keys: not applicable
    assert answer_correct("", [["x"]]) is False
    assert answer_correct(None, [["x"]]) is False
    assert answer_correct("x", [["", "..."]]) is False  # empty alternatives never match
    with pytest.raises(ValueError, match="non-empty list"):
        answer_correct("x", [[]])
    with pytest.raises(ValueError, match="non-empty list"):
        answer_correct("x", ["x"])  # a bare string instead of a group


def test_token_f1():
    # pred tokens (a/the dropped): [cat, sat, on, mat]; ref: [cat, sat]
    # common = 2; P = 2/4, R = 2/2; F1 = 2*0.5*1/(1.5) = 2/3
    assert token_f1("The cat sat on the mat.", "a cat sat") == approx(2 / 3)
    assert token_f1("Cat!", "cat") == 1.0
    assert token_f1("", "") == 1.0  # both empty after normalization
    assert token_f1("the", "") == 1.0  # "the" normalizes to nothing
    assert token_f1("", "cat") == 0.0
    assert token_f1("dog", "cat") == 0.0
    # repeated tokens are clipped: pred [x, x, x], ref [x, y]: common = 1
    # P = 1/3, R = 1/2, F1 = 2*(1/6)/(5/6) = 0.4
    assert token_f1("x x x", "x y") == approx(0.4)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=30), st.text(max_size=30))
def test_token_f1_symmetric_and_bounded(a, b):
    f = token_f1(a, b)
    assert 0.0 <= f <= 1.0 and f == approx(token_f1(b, a))


def test_abstention_metrics():
    records = [
        {"answerable": False, "abstained": True},
        {"answerable": False, "abstained": True},
        {"answerable": False, "abstained": False},
        {"answerable": True, "abstained": True},
        {"answerable": True, "abstained": False},
        {"answerable": True, "abstained": False},
        {"answerable": True, "abstained": False},
        {"answerable": True, "abstained": None},  # failed run: counted apart
    ]
    # unanswerable: 2 of 3 abstained -> 0.6667; answerable: 1 of 4 abstained -> 0.25
    assert abstention_metrics(records) == AbstentionMetrics(2 / 3, 3, 0.25, 4, 1)


def test_abstention_metrics_empty_sides():
    assert abstention_metrics([]) == AbstentionMetrics(None, 0, None, 0, 0)
    only_answerable = abstention_metrics([{"answerable": True, "abstained": False}])
    assert only_answerable == AbstentionMetrics(None, 0, 0.0, 1, 0)


# ----------------------------------------------------------------------------- citations


def fake_supports(sentence: str, passages: list[str]) -> bool:
    """Deterministic fake verifier: every lowercase word of the sentence must occur in the
    joined passages (no passages -> False)."""
    if not passages:
        return False
    pool = set(" ".join(passages).lower().split())
    return set(sentence.lower().split()) <= pool


def cite(n, passage, doc="d", start=0, end=5, quote="hello"):
    return {"n": n, "doc_id": doc, "start": start, "end": end, "quote": quote, "passage": passage}


def sent(text, cites, support="supported"):
    return {"text": text, "citations": cites, "support": support, "score": 0.5}


ANSWER = {
    "answer": "alpha beta [1][2] gamma [3] delta [3] zeta",
    "abstained": False,
    "citations": [
        cite(1, "alpha"),
        cite(2, "beta"),
        cite(3, "gamma delta"),
        cite(4, "alpha beta"),
    ],
    "sentences": [
        sent("alpha beta", [1, 2]),  # needs both: joint supports; neither alone; both precise
        sent("gamma", [3, 4]),  # 3 alone supports; 4 alone doesn't and {3} without 4 does -> 4 imprecise
        sent("delta", [3], "partial"),  # single citation that supports -> precise
        sent("zeta", [], "unsupported"),  # no citation -> not supported, contributes no pairs
    ],
}


ABSTAINED = {"answer": "The sources don't say.", "abstained": True, "citations": [], "sentences": []}


def test_citation_metrics_on_abstention_and_empty_answer():
    assert broken_markers(ABSTAINED) == 0
    assert quote_exactness(ABSTAINED, {}) is None
    assert gold_citation_precision_recall(ABSTAINED, [("d", 0, 5)]) == (None, 0.0)


def test_gold_citation_precision_recall():
    answer = {
        "citations": [
            cite(1, "", doc="d1", start=10, end=20),  # overlaps gold ("d1", 15, 30)
            cite(2, "", doc="d1", start=30, end=40),  # touches it only: wrong
            cite(3, "", doc="d2", start=15, end=30),  # right offsets, wrong doc: wrong
        ]
    }
    gold = [("d1", 15, 30), ("d1", 100, 120), ("d1", 15, 30)]  # duplicate counted once
    # precision: 1 of 3 citations correct; recall: 1 of 2 distinct gold spans covered
    p, r = gold_citation_precision_recall(answer, gold)
    assert p == approx(1 / 3) and r == 0.5
    assert gold_citation_precision_recall(answer, []) == (0.0, None)


def test_quote_exactness():
    docs = {"d": "hello world"}
    answer = {
        "citations": [
            cite(1, "", doc="d", start=0, end=5, quote="hello"),  # exact
            cite(2, "", doc="d", start=6, end=11, quote="World"),  # case differs
            cite(3, "", doc="x", start=0, end=5, quote="hello"),  # unknown doc
            cite(4, "", doc="d", start=-5, end=11, quote="world"),  # negative start: not a slice trick
            cite(5, "", doc="d", start=6, end=99, quote="world"),  # end past the text
        ]
    }
    # 1 exact of 5 -> 0.2
    assert quote_exactness(answer, docs) == 0.2


def test_marker_numbers_and_broken_markers():
    assert marker_numbers("a [1] b [2, 3][4] c [x] [ 5 ]") == [1, 2, 3, 4]
    # markers: 1, 2, 3, 3 ; citations 1..4
    # dangling: none (1,2,3 exist); unreferenced: 4 -> 1
    assert broken_markers(ANSWER) == 1
    answer = {"answer": "x [1] y [7] z [7]", "citations": [{"n": 1}, {"n": 2}, {"n": 3}]}
    # dangling occurrences: [7] twice -> 2; unreferenced citations: 2, 3 -> 2; total 4
    assert broken_markers(answer) == 4
    assert broken_markers({"answer": "", "citations": []}) == 0


# ----------------------------------------------------------------------------- faithfulness


def test_faithfulness():
    # labels: supported, supported, partial, unsupported -> 2/4, 1/4, 1/4
    assert faithfulness(ANSWER) == Faithfulness(0.5, 0.25, 0.25, 4)
    assert faithfulness(ABSTAINED) == Faithfulness(None, None, None, 0)
    with pytest.raises(ValueError, match="supported|partial|unsupported"):
        faithfulness({"sentences": [sent("x", [], "maybe")]})


def test_extract_entities():
    text = (
        "The European Union banned 2,000,000 barrels in 2014 [2], Putin's Kremlin said. "
        "According to Rosneft-owned data, 1.5% went to the G7 and Émile Zola."
    )
    # "The"/"According" are stripped sentence starters; possessive ends the run;
    # hyphen splits "Rosneft-owned"; marker [2] ignored; thousands separator removed.
    assert extract_entities(text) == [
        "2000000", "2014", "1.5",
        "European Union", "Putin", "Kremlin", "Rosneft", "G7", "Émile Zola",
    ]
    assert extract_entities("") == []
    assert extract_entities("It was cold.") == []  # "It" is a stop word


def test_unsupported_entities():
    passages = ["In 2014 the EU fined Gazprom 2,000,000 euros.", "European Union sources"]
    # entities: 2014 ok, 200 (no such number token; "2000000" does not contain it as a token),
    # "EU" ok, "Gazprom" ok, "Putin" missing -> ["200", "Putin"]
    sentence = "In 2014 the EU fined Gazprom 200 euros, Putin said."
    assert find_unsupported_entities(sentence, passages) == ["200", "Putin"]
    assert unsupported_entities(sentence, passages) == 2
    # 2,000,000 in the sentence equals 2000000 in a passage; "European Union" found whole
    assert unsupported_entities("The European Union fined it 2000000 euros.", passages) == 0
    # names are whole-word: "EU" is not supported by "EUR"
    assert find_unsupported_entities("EU", ["EUR 5"]) == ["EU"]
    assert unsupported_entities("Putin", []) == 1
    assert unsupported_entities("", ["x"]) == 0


# ----------------------------------------------------------------------------- stats


def test_aggregate_constant_values():
    agg = aggregate([1.0, 1.0, 1.0], name="hit@5")
    assert agg == Aggregate("hit@5", 1.0, 3, 0, 1.0, 1.0)  # every resample mean is 1


def test_aggregate_none_excluded_and_failures_counted():
    # None is not applicable; the failed item is passed as 0.0 and counted in failed
    agg = aggregate([1.0, None, 0.5, 0.0], failed=1)
    # mean = (1 + 0.5 + 0) / 3 = 0.5 ; n = 3 (failure included) ; n_failed = 1
    assert agg.mean == 0.5 and agg.n == 3 and agg.n_failed == 1
    assert 0.0 <= agg.ci_low <= agg.mean <= agg.ci_high <= 1.0


def test_aggregate_empty_and_all_none():
    assert aggregate([]) == Aggregate("", None, 0, 0, None, None)
    assert aggregate([None, None], name="x") == Aggregate("x", None, 0, 0, None, None)


def test_aggregate_rejects_nan_and_bad_failed():
    with pytest.raises(ValueError, match="finite"):
        aggregate([1.0, float("nan")])
    with pytest.raises(ValueError, match="failed"):
        aggregate([1.0], failed=2)


def test_aggregate_seeded_and_reproducible():
    vals = [0.0, 1.0, 1.0, 0.0, 1.0, 0.5]
    assert aggregate(vals, seed=3) == aggregate(vals, seed=3)
    a = aggregate(vals, seed=0, n_boot=2000)
    assert a.ci_low < a.mean < a.ci_high


def test_bootstrap_single_value():
    assert bootstrap_ci([0.25]) == (0.25, 0.25)
    assert bootstrap_ci([]) == (None, None)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(0, 1)), max_size=20), st.integers(0, 5))
def test_aggregate_never_nan(values, seed):
    agg = aggregate(values, seed=seed, n_boot=50)
    finite = [v for v in values if v is not None]
    assert agg.n == len(finite)
    if not finite:
        assert agg.mean is None and agg.ci_low is None and agg.ci_high is None
    else:
        assert not math.isnan(agg.mean)
        assert agg.ci_low <= agg.mean + 1e-12 and agg.mean <= agg.ci_high + 1e-12


def test_by_tag():
    records = [
        {"id": "a", "tags": ["legal", "numbers"], "score": 1.0},
        {"id": "b", "tags": ["legal"], "score": 0.0},
        {"id": "c", "tags": ["numbers"], "failed": True, "score": 1.0},  # failure -> 0.0
        {"id": "d", "tags": [], "score": 0.5},
        {"id": "e", "tags": ["legal"], "score": None},  # not applicable
    ]
    out = by_tag(records, lambda r: r["score"], name="m")
    assert list(out) == ["(untagged)", "legal", "numbers"]
    # legal: a=1, b=0 (e is None) -> mean 0.5, n 2
    assert (out["legal"].mean, out["legal"].n, out["legal"].n_failed) == (0.5, 2, 0)
    # numbers: a=1, c failed=0 -> mean 0.5, n 2, 1 failed
    assert (out["numbers"].mean, out["numbers"].n, out["numbers"].n_failed) == (0.5, 2, 1)
    assert (out["(untagged)"].mean, out["(untagged)"].n) == (0.5, 1)
    assert out["legal"].name == "m"


def test_paired_difference():
    a = {"q1": 1.0, "q2": 0.5, "q3": 0.0, "q4": 1.0, "only_a": 1.0, "q5": None}
    b = {"q1": 0.0, "q2": 0.5, "q3": 1.0, "q4": 0.5, "only_b": 0.0, "q5": 1.0}
    # shared, non-None: q1 +1, q2 0, q3 -1, q4 +0.5 -> mean 0.5/4 = 0.125
    d = paired_difference(a, b)
    assert d.mean_diff == 0.125 and d.n == 4
    assert (d.wins, d.losses, d.ties) == (2, 1, 1)
    assert d.ci_low <= d.mean_diff <= d.ci_high
    assert paired_difference(a, b) == d  # seeded
    empty = paired_difference({"x": 1.0}, {"y": 1.0})
    assert (empty.mean_diff, empty.ci_low, empty.ci_high, empty.n) == (None, None, None, 0)


def test_cohen_kappa():
    a = ["yes", "yes", "no", "no"]
    b = ["yes", "no", "no", "no"]
    # p_o = 3/4 ; p_e = (2/4)(1/4) + (2/4)(3/4) = 2/16 + 6/16 = 1/2
    # kappa = (0.75 - 0.5) / (1 - 0.5) = 0.5
    assert cohen_kappa(a, b) == 0.5
    # total disagreement on a balanced pair: p_o = 0, p_e = 1/2 -> -1
    assert cohen_kappa(["x", "y"], ["y", "x"]) == -1.0
    assert cohen_kappa(["s", "s"], ["s", "s"]) == 1.0  # p_e = 1: identical labels, convention 1.0
    assert cohen_kappa([], []) is None
    with pytest.raises(ValueError, match="equal length"):
        cohen_kappa(["a"], [])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["supported", "partial", "unsupported"]), min_size=1, max_size=30), st.data())
def test_cohen_kappa_properties(labels, data):
    assert cohen_kappa(labels, list(labels)) == 1.0
    other = data.draw(st.lists(st.sampled_from(["supported", "partial", "unsupported"]),
                               min_size=len(labels), max_size=len(labels)))
    k = cohen_kappa(labels, other)
    assert not math.isnan(k) and -1.0 - 1e-12 <= k <= 1.0 + 1e-12
    assert k == approx(cohen_kappa(other, labels))


def test_balanced_accuracy():
    y_true = ["a", "a", "a", "b"]
    y_pred = ["a", "a", "b", "a"]
    # recall(a) = 2/3, recall(b) = 0/1 -> (2/3 + 0)/2 = 1/3
    assert balanced_accuracy(y_true, y_pred) == approx(1 / 3)
    assert balanced_accuracy(["a", "b"], ["a", "b"]) == 1.0
    assert balanced_accuracy([], []) is None


def test_precision_recall():
    y_true = ["sup", "sup", "uns", "uns", "sup"]
    y_pred = ["sup", "uns", "sup", "uns", "sup"]
    # tp = 2 (idx 0, 4), fp = 1 (idx 2), fn = 1 (idx 1)
    # P = 2/3, R = 2/3, F1 = 2/3
    pr = precision_recall(y_true, y_pred, "sup")
    assert (pr.tp, pr.fp, pr.fn) == (2, 1, 1)
    assert pr.precision == approx(2 / 3) and pr.recall == approx(2 / 3) and pr.f1 == approx(2 / 3)
    # nothing predicted positive: precision undefined (None), recall 0
    none_pred = precision_recall(["sup"], ["uns"], "sup")
    assert (none_pred.precision, none_pred.recall, none_pred.f1) == (None, 0.0, None)
    # both zero -> F1 0.0
    zero = precision_recall(["sup", "uns"], ["uns", "sup"], "sup")
    assert (zero.precision, zero.recall, zero.f1) == (0.0, 0.0, 0.0)
    assert precision_recall([], [], "sup").precision is None
