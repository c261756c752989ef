"""Fine-tuning with best-validation checkpoint selection, on a tiny model (seconds)."""
import pytest

from minit5.data.corpus import builtin_corpus
from minit5.experiments.benchmark import Benchmark
from minit5.experiments.core import parallel_map
from minit5.experiments.finetune import ExampleStream, finetune_and_test
from minit5.train import pipeline
from minit5.train.config import TrainConfig

SETTINGS = {"tasks": ["acceptability", "pair", "cloze"], "held_out_pages": 0.15, "split_seed": 0,
            "pool_fractions": [0.4, 0.2, 0.4], "train_examples": 8,
            "validation_examples": 4, "test_examples": 4}
TINY = dict(d_model=16, d_kv=4, d_ff=32, num_heads=2, num_layers=1, batch_size=4, steps=4,
            eval_every=2, checkpoint_every=4, keep_last=1, log_every=1, schedule="constant",
            lr=1e-3, warmup_steps=1)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    bench = Benchmark.build(builtin_corpus(), SETTINGS)
    path = tmp_path_factory.mktemp("tok") / "spiece.model"
    tokenizer = pipeline.make_tokenizer(bench.pretraining_pages[:200], path, 300)
    return bench, tokenizer


def test_example_stream_makes_passes_over_the_training_set(setup):
    bench, tokenizer = setup
    examples = [pair for task in bench.tasks for pair in bench.training_set(0)[task]]
    stream = ExampleStream(examples, tokenizer, 4, seed=0)
    seen = [stream._index(i) for i in range(2 * len(examples))]
    assert sorted(seen[:len(examples)]) == list(range(len(examples)))      # one full pass
    assert seen[:len(examples)] != seen[len(examples):]                   # reshuffled
    assert (stream.batch(3).input_ids == stream.batch(3).input_ids).all()  # a function of step
    with pytest.raises(ValueError, match="no training examples"):
        ExampleStream([], tokenizer, 4, 0)


def test_best_validation_checkpoint_is_the_one_tested(setup, tmp_path):
    bench, tokenizer = setup
    cfg = TrainConfig.preset("tiny", **TINY)
    model = pipeline.build_model(cfg, tokenizer.vocab_size)
    out = finetune_and_test(model, tokenizer, bench, bench.training_set(0), cfg, tmp_path / "a")
    curve = dict((step, score) for step, score in out["validation_curve"])
    assert sorted(curve) == [2, 4]
    assert out["validation_score"] == max(curve.values())
    assert curve[out["best_step"]] == out["validation_score"]
    assert min(s for s, v in curve.items() if v == out["validation_score"]) == out["best_step"]
    assert set(out["test"]) == set(bench.tasks) and 0 <= out["score"] <= 100
    assert set(out["examples"]) == set(bench.tasks)

    tuning = finetune_and_test(pipeline.build_model(cfg, tokenizer.vocab_size), tokenizer,
                               bench, bench.training_set(0), cfg, tmp_path / "b", test=False)
    assert "test" not in tuning and "score" not in tuning       # tuning never sees the test split
    assert tuning["validation_curve"] == out["validation_curve"]  # same seed, same run


def test_parallel_map_gives_the_sequential_answer():
    assert parallel_map(lambda x: x * x, range(5), 2) == [0, 1, 4, 9, 16]
    assert parallel_map(lambda x: x + 1, [1], 4) == [2]
