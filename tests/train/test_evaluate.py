"""The one evaluation of tasks: each task's answers (greedy decoding, or the likeliest of its
answer options) scored by the task's own postprocessing and metric."""
import numpy as np
import pytest

from minit5.data.batching import collate
from minit5.data.corpus import builtin_corpus
from minit5.data.metrics import METRICS
from minit5.data.tasks import Task, reverse_task
from minit5.experiments.language_tasks import pair_task
from minit5.t5 import T5ForConditionalGeneration
from minit5.train import pipeline
from minit5.train.config import TrainConfig
from minit5.train.evaluate import evaluate, predict

SENTENCES = ["The quick brown fox jumps over the lazy dog.",
             "A small garden grows behind the old house.",
             "She reads a long letter to her younger brother.",
             "Every morning the train leaves the quiet station."]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    path = tmp_path_factory.mktemp("tok") / "spiece.model"
    tokenizer = pipeline.make_tokenizer(builtin_corpus()[:200], path, 300)
    cfg = TrainConfig.preset("tiny", d_model=16, d_kv=4, d_ff=32, num_heads=2, num_layers=1)
    config = pipeline.model_config(cfg, tokenizer.vocab_size)
    config.dropout_rate = 0.3
    return T5ForConditionalGeneration(config, seed=0, dtype="float64"), tokenizer


def _log_likelihood(model, tokenizer, source, target):
    """log p(target </s> | source) from the model's own mean loss over the target's tokens."""
    batch = collate([(tokenizer.encode(source), tokenizer.encode(target))])
    loss = float(model(**batch.model_kwargs()).loss.item())
    return -loss * len(tokenizer.encode(target))


def test_a_task_with_options_is_scored_on_the_likeliest_option(setup):
    model, tokenizer = setup
    task = pair_task()
    examples = task.examples(SENTENCES * 2, np.random.default_rng(1))
    model.eval()
    right = []
    for source, target in examples:
        options = task.choices(source)
        scores = [_log_likelihood(model, tokenizer, source, o) for o in options]
        right.append(options[int(np.argmax(scores))] == target)
    first = [task.choices(source)[0] == target for source, target in examples]
    assert np.mean(right) not in (np.mean(first), 1 - np.mean(first))   # not a fixed position
    results = evaluate(model, tokenizer, {"pair": task}, {"pair": examples})
    assert results == {"pair": {"accuracy": pytest.approx(np.mean(right))}}


def _recording_task(seen):
    """reverse, whose metric records what it was given; its postprocessing upper-cases."""
    def metric(predictions, targets):
        seen.append((list(predictions), list(targets)))
        return METRICS["exact_match"](predictions, targets)
    return Task("reverse", "reverse: ", reverse_task().make_example, metric,
                postprocess=str.upper)


def test_a_task_without_options_is_decoded_greedily_and_postprocessed(setup):
    model, tokenizer = setup
    seen = []
    task = _recording_task(seen)
    examples = task.make_examples(5, np.random.default_rng(2))
    sources, targets = [s for s, _ in examples], [t for _, t in examples]
    budget = max(len(tokenizer.encode(t)) for t in targets) + 2      # the default budget
    results = evaluate(model, tokenizer, {"reverse": task}, {"reverse": examples})
    wanted = [p.upper() for p in predict(model, tokenizer, sources, budget)]
    assert seen == [(wanted, targets)]                  # targets are never postprocessed
    assert results == {"reverse": {"exact_match": METRICS["exact_match"](wanted, targets)[
        "exact_match"]}}
    seen.clear()
    evaluate(model, tokenizer, {"reverse": task}, {"reverse": examples}, max_new_tokens=1)
    assert seen[0][0] == [p.upper() for p in predict(model, tokenizer, sources, 1)]


def test_evaluation_runs_without_dropout_and_restores_the_mode(setup):
    model, tokenizer = setup
    task = pair_task()
    examples = task.examples(SENTENCES, np.random.default_rng(3))
    model.eval()
    in_eval_mode = evaluate(model, tokenizer, {"pair": task}, {"pair": examples})
    model.train()
    assert evaluate(model, tokenizer, {"pair": task}, {"pair": examples}) == in_eval_mode
    assert all(m.training for m in model.modules())


def test_evaluation_sets_must_match_tasks(setup):
    model, tokenizer = setup
    with pytest.raises(KeyError, match="no task for the evaluation sets"):
        evaluate(model, tokenizer, {"pair": pair_task()}, {"cloze": [("fill in: a ___", "b")]})
    with pytest.raises(ValueError, match="is empty"):
        evaluate(model, tokenizer, {"pair": pair_task()}, {"pair": []})
