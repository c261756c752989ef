"""Metrics with the expected values of the t5 library's own tests (t5/evaluation/metrics_test.py,
qa_utils_test.py), plus hand-computed cases. minit5 takes (predictions, targets); t5 takes
(targets, predictions), so the arguments below are swapped from the upstream tests."""
import math

import pytest

from minit5.data import metrics

REF = "this is a string"


def test_bleu_like_t5():
    pytest.importorskip("sacrebleu")
    assert metrics.bleu([REF, REF], [REF, REF]) == pytest.approx(100)
    assert metrics.bleu(["", ""], [REF, REF]) == pytest.approx(0)
    assert metrics.bleu([REF, REF], [["", REF], [REF, ""]]) == pytest.approx(100)


def test_bleu_uses_the_international_tokenizer():
    # "13a" leaves "5€" one token; "intl" splits the currency sign off, as t5 does
    pytest.importorskip("sacrebleu")
    prediction = ["The price is 5 € for the whole box of apples today ."]
    target = ["The price is 5€ for the whole box of apples today ."]
    assert metrics.bleu(prediction, target) == pytest.approx(100)
    with pytest.raises(ValueError, match="same number of references"):
        metrics.bleu([REF, REF], [[REF], [REF, REF]])


def test_rouge_like_t5():
    pytest.importorskip("rouge_score")
    assert metrics.rouge([REF, REF], [REF, REF]) == pytest.approx(
        {"rouge1": 100, "rouge2": 100, "rougeLsum": 100})
    assert metrics.rouge(["", ""], [REF, REF]) == pytest.approx(
        {"rouge1": 0, "rouge2": 0, "rougeLsum": 0})


def test_rouge_lsum_splits_sentences_first():
    # two sentences in swapped order: as one sentence the LCS covers half; per sentence, all
    pytest.importorskip("rouge_score")
    a = "the cat sat on the mat . the dog ran in the park ."
    b = "the dog ran in the park . the cat sat on the mat ."
    assert metrics.rouge([b], [a])["rougeLsum"] == pytest.approx(100)


def test_squad_like_t5():
    assert metrics.squad([REF, REF], [["", REF], [REF, REF]]) == {"em": 100, "f1": 100}
    assert metrics.squad(["", ""], [[REF, REF], [REF, REF]]) == {"em": 0, "f1": 0}
    big = metrics.squad(["‘a big  Moose!‘", "wrong", "correct2.2", "c"],
                        [["big moose", "hippo"], ["correct1"], ["correct2.1", "correct2.2"],
                         ["a", "b"]])
    assert big == pytest.approx({"em": 25.0, "f1": 35.0})
    assert metrics.squad(["abd"], [["abc abd", "$$$$"]]) == pytest.approx(
        {"em": 0.0, "f1": 100 * 2 / 3})
    assert metrics.squad(["The Answer."], ["answer"]) == {"em": 100, "f1": 100}  # one string


def test_normalize_squad_like_t5():
    assert metrics.normalize_squad("`Needs\tA_LOT of the 'normalization'.\"‘") == \
        "needs alot of normalization‘"
    assert metrics.normalize_squad("needs no normalization") == "needs no normalization"


def test_squad_errors():
    with pytest.raises(ValueError, match="predictions but"):
        metrics.squad(["answer"] * 5, [["answer"]] * 6)
    with pytest.raises(ValueError, match="no reference"):
        metrics.squad(["x"], [[]])


def test_matthews_corrcoef():
    assert metrics.matthews_corrcoef([0, 1, 2, 1], [0, 0, 2, 1]) == pytest.approx(70)  # t5
    # by hand, binary: TP 1, FN 1, TN 2, FP 0 -> (1*2 - 0*1) / sqrt(1 * 2 * 2 * 3)
    assert metrics.matthews_corrcoef([1, 0, 0, 0], [1, 1, 0, 0]) == pytest.approx(
        100 * 2 / math.sqrt(12))
    assert metrics.matthews_corrcoef([1, 0, 1, 0], [0, 1, 0, 1]) == pytest.approx(-100)
    assert metrics.matthews_corrcoef([1, 1, 1], [0, 1, 0]) == 0.0   # constant predictions
    # an unparsed prediction (-1) is a class of its own, hence wrong
    assert metrics.matthews_corrcoef([-1, 0], [1, 0]) < 100


def test_f1_with_invalid_like_t5():
    assert metrics.f1_with_invalid([0, 1, 2, 2], [0, 1, 1, 0]) == pytest.approx(50)
    # by hand: TP 2, FP 1, FN 1 -> 2*2 / (2*2 + 1 + 1)
    assert metrics.f1_with_invalid([1, 1, 1, 0], [1, 1, 0, 1]) == pytest.approx(100 * 4 / 6)
    with pytest.raises(ValueError, match="0 or 1"):
        metrics.f1_with_invalid([0], [2])


def test_mean_multiclass_f1_like_t5():
    assert metrics.mean_multiclass_f1([0, 0, 2, 2], [0, 1, 1, 2], 3) == pytest.approx(
        44.44444444444444)
    with pytest.raises(ValueError, match="class ids"):
        metrics.mean_multiclass_f1(["entailment"], [0], 3)


def test_multirc_like_t5():
    # t5's test_multirc_f1_over_all_answers: f1 50; exact match per question by hand
    scores = metrics.multirc([1, 0, 1], [1, 1, 0], ["a", "a", "b"])
    assert scores["f1"] == pytest.approx(50)
    assert scores["exact_match"] == 0.0
    assert metrics.multirc([1, 1, 1], [1, 1, 0], ["a", "a", "b"])["exact_match"] == 50.0


def test_record_scores_each_query_once():
    # t5's test_deduplicate_metric, with squad as the metric: group a counts once
    scores = metrics.record(["x", "x", "x"], [["x"], ["x"], ["y"]], ["a", "a", "b"])
    assert scores == {"em": 50.0, "f1": 50.0}


def test_registry():
    assert metrics.get_metric("accuracy")(["a", "b"], ["a", "a"]) == {"accuracy": 0.5}
    assert metrics.get_metric("squad")(["The cat"], ["cat"]) == {"em": 100, "f1": 100}
    assert metrics.get_metric("pearson")(["1", "2", "x"], ["1", "2", "3"])["pearson"] < 1
    with pytest.raises(KeyError, match="choose one of"):
        metrics.get_metric("bluer")
    with pytest.raises(ValueError, match="must be a number"):
        metrics.get_metric("spearman")(["1"], ["one"])
