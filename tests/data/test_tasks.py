"""Text-to-text formats (paper §2.4), synthetic tasks, and their metrics."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minit5.data.metrics import (
    METRICS,
    accuracy,
    average_ranks,
    bleu,
    exact_match,
    pearson,
    rouge,
    spearman,
    token_f1,
)
from minit5.data.tasks import (
    LABEL_NAMES,
    NEGATIVE,
    POSITIVE,
    UNPARSEABLE_SCORE,
    Task,
    glue_format,
    label_to_string,
    lookup_task,
    pig_latin,
    squad_format,
    string_to_label,
    string_to_stsb,
    stsb_to_string,
    summarize,
    synthetic_tasks,
    translate,
)

TASKS = synthetic_tasks()


# --- formats ------------------------------------------------------------------------------------

def test_glue_keys_in_alphabetical_order():
    text = glue_format("mnli", {"premise": "A man sleeps.", "hypothesis": "A person rests."})
    assert text == "mnli hypothesis: A person rests. premise: A man sleeps."
    assert glue_format("cola", {"sentence": "Books was read."}) == "cola sentence: Books was read."
    assert glue_format("stsb", {"sentence2": "b", "sentence1": "a"}) == \
        "stsb sentence1: a sentence2: b"
    with pytest.raises(ValueError, match="fields is empty"):
        glue_format("cola", {})


def test_prefixes():
    assert translate("That is good.") == "translate English to German: That is good."
    assert translate("x", "English", "Romanian") == "translate English to Romanian: x"
    assert summarize("long text") == "summarize: long text"
    # t5's preprocessors_test: punctuation padded with spaces, whitespace collapsed
    assert squad_format("A question?", "Some context.") == \
        "question: A question ? context: Some context . "


# --- STS-B --------------------------------------------------------------------------------------

@pytest.mark.parametrize("score, text", [
    (2.57, "2.6"), (0.0, "0.0"), (5.0, "5.0"), (3.0, "3.0"), (4.19, "4.2"), (4.09, "4.0"),
    (0.5, "0.4"),   # 2.5 -> 2: half to even
    (1.5, "1.6"),   # 7.5 -> 8: half to even
    (0.1, "0.0"),   # 0.5 -> 0: half to even
    (0.3, "0.4"),   # 1.5 -> 2
    (-0.01, "0.0"),  # no "-0.0"
])
def test_stsb_to_string(score, text):
    assert stsb_to_string(score) == text


@given(st.floats(0, 5, allow_nan=False))
def test_stsb_round_trip_lands_on_the_grid(score):
    value = string_to_stsb(stsb_to_string(score))
    assert abs(value - score) <= 0.1 + 1e-9
    assert abs(value * 5 - round(value * 5)) < 1e-9


@pytest.mark.parametrize("text, value", [
    ("2.6", 2.6), (" 3.0 ", 3.0), ("4", 4.0), ("two", None), ("", None), ("nan", None),
    ("inf", None), ("2.6 3.0", None)])
def test_string_to_stsb(text, value):
    assert string_to_stsb(text) == value


def test_stsb_rejects_non_finite():
    with pytest.raises(ValueError, match="finite"):
        stsb_to_string(float("nan"))


# --- labels -------------------------------------------------------------------------------------

def test_label_maps():
    assert label_to_string("mnli", 0) == "entailment"
    assert label_to_string("mnli", 2) == "contradiction"
    assert label_to_string("cola", 1) == "acceptable"
    assert string_to_label("mnli", " neutral ") == 1
    assert string_to_label("mnli", "maybe") is None
    for task, names in LABEL_NAMES.items():
        for i, name in enumerate(names):
            assert string_to_label(task, label_to_string(task, i)) == i
    with pytest.raises(ValueError, match="out of range"):
        label_to_string("cola", 2)
    with pytest.raises(KeyError, match="no label names"):
        label_to_string("imdb", 0)


# --- synthetic tasks ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(TASKS))
def test_task_is_deterministic(name):
    task = TASKS[name]
    first = task.make_examples(50, np.random.default_rng(7))
    assert first == task.make_examples(50, np.random.default_rng(7))
    assert first != task.make_examples(50, np.random.default_rng(8))
    assert all(isinstance(x, str) and isinstance(y, str) for x, y in first)


@pytest.mark.parametrize("name", sorted(TASKS))
def test_task_inputs_are_short_and_prefixed(name):
    task = TASKS[name]
    for source, target in task.make_examples(300, np.random.default_rng(0)):
        assert source.startswith(task.prefix)
        assert len(source.split()) <= 17 and target


@pytest.mark.parametrize("name", sorted(TASKS))
def test_task_metric_is_perfect_on_targets(name):
    task = TASKS[name]
    targets = [t for _, t in task.make_examples(200, np.random.default_rng(1))]
    scores = task.metric(targets, targets)
    assert scores and all(math.isclose(v, 1.0) for v in scores.values()), scores


def test_task_checks_its_arguments():
    task = TASKS["reverse"]
    with pytest.raises(TypeError, match="default_rng"):
        task.make_examples(3, np.random.RandomState(0))
    with pytest.raises(ValueError, match="n must be"):
        task.make_examples(-1, np.random.default_rng(0))
    assert isinstance(task, Task)


def test_a_task_is_made_from_text_or_drawn_never_both_missing():
    upper = Task("shout", "shout: ", None, METRICS["exact_match"], postprocess=str.strip,
                 make_from_text=lambda text, rng: (f"shout: {text}", text.upper()))
    assert upper.examples(["ab", "c"], np.random.default_rng(0)) == [("shout: ab", "AB"),
                                                                      ("shout: c", "C")]
    with pytest.raises(TypeError, match="examples\\(texts, rng\\)"):
        upper.make_examples(2, np.random.default_rng(0))
    with pytest.raises(TypeError, match="make_examples\\(n, rng\\)"):
        TASKS["reverse"].examples(["a b"], np.random.default_rng(0))
    with pytest.raises(TypeError, match="default_rng"):
        upper.examples(["ab"], np.random.RandomState(0))
    with pytest.raises(ValueError, match="make_example\\(rng\\) or make_from_text"):
        Task("nothing", "", None, METRICS["exact_match"])
    with pytest.raises(ValueError, match="metric is required"):
        Task("no metric", "", TASKS["reverse"].make_example, None)
    with pytest.raises(TypeError, match="choices must be a function"):
        Task("bad", "", TASKS["reverse"].make_example, METRICS["exact_match"], choices=["a"])


def test_score_postprocesses_predictions_not_targets():
    task = Task("words", "", TASKS["reverse"].make_example, METRICS["accuracy"],
                postprocess=str.lower)
    assert task.score(["Red", "BLUE", "green"], ["red", "blue", "Green"]) == \
        {"accuracy": 2 / 3}
    assert TASKS["reverse"].score([" a b "], ["a b"]) == {"exact_match": 1.0}
    assert all(type(v) is float for v in TASKS["polarity"].score(["positive"],
                                                                 ["negative"]).values())


def test_polarity_label_is_the_majority():
    for source, target in TASKS["polarity"].make_examples(300, np.random.default_rng(2)):
        words = source.split()[2:]
        positive = sum(w in POSITIVE for w in words)
        negative = sum(w in NEGATIVE for w in words)
        assert target == ("positive" if positive > negative else "negative")
    scores = TASKS["polarity"].metric(["positive", "negativ", " negative"],
                                      ["positive", "negative", "negative"])
    assert scores["accuracy"] == pytest.approx(2 / 3)   # a misspelt label is wrong


def test_similarity_target_counts_shared_words():
    for source, target in TASKS["similarity"].make_examples(300, np.random.default_rng(3)):
        one, two = source.removeprefix("similarity sentence1: ").split(" sentence2: ")
        one, two = one.split(), two.split()
        shared = len(set(one) & set(two))
        assert target == stsb_to_string(5 * shared / max(len(one), len(two)))


def test_similarity_unparseable_scores_as_minus_one():
    metric = TASKS["similarity"].metric
    targets = ["1.0", "2.0", "3.0", "4.0"]
    scores = metric(["1.0", "2.0", "3.0", "oops"], targets)
    assert scores["parsed"] == 0.75
    assert scores["pearson"] == pytest.approx(pearson([1, 2, 3, UNPARSEABLE_SCORE], [1, 2, 3, 4]))
    with pytest.raises(ValueError, match="not a valid similarity target"):
        metric(["1.0"], ["oops"])


def test_reverse_and_pig_latin():
    for source, target in TASKS["reverse"].make_examples(50, np.random.default_rng(4)):
        assert target.split() == source.split()[1:][::-1]
    for source, target in TASKS["pig_latin"].make_examples(50, np.random.default_rng(4)):
        words = source.removeprefix("translate English to Pig Latin: ").split()
        assert target == " ".join(pig_latin(w) for w in words)


@pytest.mark.parametrize("word, latin", [
    ("apple", "appleway"), ("string", "ingstray"), ("queen", "eenquay"), ("rhythm", "ythmrhay"),
    ("yellow", "ellowyay"), ("psst", "psstay")])
def test_pig_latin_word(word, latin):
    assert pig_latin(word) == latin


def test_lookup_answer_is_a_span_of_the_context():
    for source, target in TASKS["lookup"].make_examples(200, np.random.default_rng(5)):
        question, context = source.removeprefix("question: ").split(" context: ")
        assert f" {target}" in f" {context}"
        if question.startswith("who has the "):
            thing = question.removeprefix("who has the ").rstrip("?")
            assert f"{target} has a {thing}." in context
        else:
            person = question.removeprefix("what does ").removesuffix(" have?")
            assert f"{person} has a {target}." in context


def test_lookup_fact_count():
    task = synthetic_tasks()["lookup"]
    for source, _ in lookup_task(n_facts=4).make_examples(20, np.random.default_rng(0)):
        assert source.count(" has a ") == 4
    assert task.make_examples(1, np.random.default_rng(0))[0][0].count(" has a ") == 2
    with pytest.raises(ValueError, match="n_facts"):
        lookup_task(n_facts=0)


def test_synthetic_tasks_take_a_word_list():
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta"]
    tasks = synthetic_tasks(words)
    for source, _ in tasks["reverse"].make_examples(20, np.random.default_rng(0)):
        assert set(source.split()[1:]) <= set(words)
    with pytest.raises(ValueError, match="at least 6"):
        synthetic_tasks(["a", "b"])


# --- metrics ------------------------------------------------------------------------------------

def test_accuracy_and_exact_match():
    assert accuracy([1, 2, None], [1, 3, 3]) == pytest.approx(1 / 3)
    assert exact_match([" a b ", "a"], ["a b", "b"]) == 0.5
    with pytest.raises(ValueError, match="2 predictions but 1 targets"):
        accuracy([1, 2], [1])
    with pytest.raises(ValueError, match="no examples"):
        exact_match([], [])


def test_token_f1():
    assert token_f1(["red box"], ["red box"]) == 1.0
    assert token_f1(["red"], ["red box"]) == pytest.approx(2 / 3)
    assert token_f1(["blue cup"], ["red box"]) == 0.0
    assert token_f1([""], [""]) == 1.0


def test_average_ranks_share_ties():
    assert average_ranks([10, 20, 20, 30]).tolist() == [1, 2.5, 2.5, 4]
    assert average_ranks([3, 1, 2]).tolist() == [3, 1, 2]
    assert average_ranks([5, 5, 5]).tolist() == [2, 2, 2]


@given(st.lists(st.integers(-5, 5), min_size=3, max_size=30),
       st.lists(st.integers(-5, 5), min_size=3, max_size=30))
def test_correlations_match_the_textbook_formulas(xs, ys):
    n = min(len(xs), len(ys))
    x, y = np.array(xs[:n], float), np.array(ys[:n], float)
    if x.std() == 0 or y.std() == 0:
        assert math.isnan(pearson(x, y))
        return
    assert pearson(x, y) == pytest.approx(np.corrcoef(x, y)[0, 1], abs=1e-12)
    assert spearman(x, y) == pytest.approx(np.corrcoef(average_ranks(x), average_ranks(y))[0, 1],
                                           abs=1e-12)
    assert spearman(x, 2 * x + 1) == pytest.approx(1.0)   # any increasing map: rank order kept


def test_spearman_example_with_ties():
    # ranks x: 1, 2.5, 2.5, 4; y: 1, 2, 3, 4 -> Pearson of those ranks
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(0.9486832980505138)


@pytest.mark.parametrize("metric, package", [(bleu, "sacrebleu"), (rouge, "rouge_score")])
def test_optional_metrics_say_how_to_install(monkeypatch, metric, package):
    import sys
    monkeypatch.setitem(sys.modules, package, None)      # makes `import package` fail
    monkeypatch.setitem(sys.modules, f"{package}.rouge_scorer", None)
    with pytest.raises(ImportError, match=r"pip install -e \.\[metrics\]"):
        metric(["a"], ["a"])
