"""Rank classification: an option's score is the model's own log-likelihood of writing it."""
import numpy as np
import pytest

from minit5.data.batching import collate
from minit5.data.corpus import builtin_corpus
from minit5.experiments.language_tasks import cloze_task, pair_task
from minit5.train import pipeline
from minit5.train.choice import (
    best_options,
    choose,
    option_log_likelihoods,
    sequence_log_likelihoods,
)
from minit5.train.config import TrainConfig
from minit5.train.evaluate import evaluate

PAIRS = [("which is English: a b c. | a c b.", "a b c."),
         ("fill in: the ___ is red. options: sky | apple", "apple"),
         ("short", "a much longer target than the others here")]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    path = tmp_path_factory.mktemp("tok") / "spiece.model"
    tokenizer = pipeline.make_tokenizer(builtin_corpus()[:200], path, 300)
    cfg = TrainConfig.preset("tiny", d_model=16, d_kv=4, d_ff=32, num_heads=2, num_layers=1)
    return pipeline.build_model(cfg, tokenizer.vocab_size), tokenizer


def test_log_likelihood_is_the_summed_token_loss_of_each_pair_alone(setup):
    model, tokenizer = setup
    scores = option_log_likelihoods(model, tokenizer, PAIRS)       # one padded batch
    for (source, target), score in zip(PAIRS, scores):
        batch = collate([(tokenizer.encode(source), tokenizer.encode(target))])
        loss = float(model.eval()(**batch.model_kwargs()).loss.item())   # mean over tokens
        assert score == pytest.approx(-loss * len(tokenizer.encode(target)), rel=1e-4)
    assert np.all(scores < 0)


def test_choose_picks_the_likeliest_option(setup):
    model, tokenizer = setup
    task = pair_task()
    source = "which is English: a b c. | a c b."
    options = task.choices(source)
    scores = option_log_likelihoods(model, tokenizer, [(source, o) for o in options])
    assert choose(model, tokenizer, task, [source]) == [options[int(np.argmax(scores))]]


def test_evaluate_decodes_a_task_without_choices(setup):
    model, tokenizer = setup
    tasks = {"cloze": cloze_task(), "pair": pair_task()}
    sets = {"cloze": [("fill in: the ___ is red.", "apple")],
            "pair": [("which is English: a b c. | a c b.", "a b c.")]}
    results = evaluate(model, tokenizer, tasks, sets)
    assert set(results) == {"cloze", "pair"}
    assert 0.0 <= results["cloze"]["exact_match"] <= 1.0
    assert results["pair"]["accuracy"] in (0.0, 1.0)


def test_best_options_by_sum_and_by_mean_per_token():
    # Example 0: options -4 (4 tokens) and -3 (2 tokens); example 1: -9, -2, -2 (3, 1, 1 tokens).
    scores, counts, lengths = [-4.0, -3.0, -9.0, -2.0, -2.0], [2, 3], [4, 2, 3, 1, 1]
    assert best_options(scores, counts).tolist() == [1, 1]            # tie: the first
    assert best_options(scores, counts, lengths).tolist() == [0, 1]   # -1.0 beats -1.5
    with pytest.raises(ValueError, match="sum to the number of scores"):
        best_options(scores, [2, 2])
    with pytest.raises(ValueError, match="token count"):
        best_options(scores, counts, [4, 2, 0, 1, 1])


def test_sequence_log_likelihoods_sum_the_scored_labels_log_softmax():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(3, 4, 5)).astype(np.float32)
    labels = np.array([[1, 4, -100, -100], [0, 0, 2, 3], [-100, -100, -100, -100]])
    expected = []
    for row in range(3):
        total = 0.0
        for t, label in enumerate(labels[row]):
            if label != -100:
                z = logits[row, t].astype(np.float64)
                total += z[label] - np.log(np.exp(z).sum())
        expected.append(total)
    got = sequence_log_likelihoods(logits, labels)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    # log-probabilities come back unchanged through the log_softmax
    log_probs = logits - np.log(np.exp(logits.astype(np.float64)).sum(-1, keepdims=True))
    np.testing.assert_allclose(sequence_log_likelihoods(log_probs, labels), expected, rtol=1e-9)
    with pytest.raises(ValueError, match=r"\(B, T, V\)"):
        sequence_log_likelihoods(logits[0], labels)
    with pytest.raises(ValueError, match="outside"):          # -1 is no label and not -100
        sequence_log_likelihoods(logits, np.where(labels == -100, -1, labels))
    with pytest.raises(TypeError, match="integer"):
        sequence_log_likelihoods(logits, labels.astype(np.float64))
