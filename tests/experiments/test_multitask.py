"""Multi-task pre-training and training (minit5.experiments.multitask, MixtureStream): the
rates, what each seed reads, resuming, the effective-settings cache keys, leave-one-out, and
the §3.7 recipe end to end at a tiny shape."""
import math
import threading

import numpy as np
import pytest

from minit5.data.mixing import mixing_rates
from minit5.data.model_batches import collate_examples
from minit5.experiments import get, multitask, pretraining
from minit5.experiments.multitask import EACH, UNSUPERVISED, mixture
from minit5.experiments.run_cache import settings_key
from minit5.train import TrainConfig, Trainer
from minit5.train.pipeline import build_model, build_optimizer
from minit5.train.streams import MixtureStream
from tests.experiments.test_pretraining import TINY_BENCH, TINY_MODEL

TASKS = ["acceptability", "pair", "cloze choice"]


def tiny_config(variants, pretrain_steps=pretraining.PRETRAIN["steps"]):
    config = pretraining.config(variants, 0.01, pretrain_steps)
    config.update(model=TINY_MODEL, benchmark=TINY_BENCH, vocab_pieces=300)
    return config


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    config = tiny_config({"base": pretraining.BASELINE})
    return pretraining.Setup(config, tmp_path_factory.mktemp("cache"))


def test_mixture_refuses_what_cannot_be_run():
    with pytest.raises(ValueError, match="strategy 'mixed'"):
        mixture(strategy="mixed")
    with pytest.raises(ValueError, match="K must be"):
        mixture(K=0)
    with pytest.raises(ValueError, match="finetune='tasks'"):
        mixture(leave_out="pair", finetune="mixture")
    with pytest.raises(ValueError, match="encoder-decoder"):
        pretraining.variant("decoder-only LM", mixture=mixture())
    with pytest.raises(ValueError, match="not a task"):
        multitask.parts("row", pretraining.variant(mixture=mixture(leave_out="qa")), TASKS)
    with pytest.raises(ValueError, match="may change only"):
        pretraining.variant(pretrain={"lr": 1.0})


def test_rates_follow_mixing_rates_and_leave_out_what_they_should():
    sizes = {t: 32 for t in TASKS}
    got = multitask.rates(mixture(K=2**9), 3476, sizes)
    want = mixing_rates({UNSUPERVISED: 3476, **sizes}, "proportional", 2**9)
    assert got == pytest.approx(want, abs=1e-12) and got[UNSUPERVISED] == pytest.approx(
        512 / (512 + 96))
    assert set(multitask.rates(mixture(leave_out="pair"), 3476, sizes)) == \
        {UNSUPERVISED, "acceptability", "cloze choice"}
    supervised = multitask.rates(mixture(unsupervised=False), 3476, sizes)
    assert supervised == pytest.approx({t: 1 / 3 for t in TASKS})
    assert multitask.rates(mixture(strategy="equal"), 3476, sizes) == \
        pytest.approx({UNSUPERVISED: 0.25, **{t: 0.25 for t in TASKS}})


def test_the_mixed_stream_draws_each_task_at_its_rate():
    rates = multitask.rates(mixture(K=2**7), 3476, {t: 32 for t in TASKS})
    sources = {name: (lambda rng, n=name: (n, int(rng.integers(10)))) for name in rates}
    stream = MixtureStream(sources, rates, list, batch_size=32, seed=0)
    names = [name for step in range(1, 301) for name, _ in stream.rows(step)]
    n = len(names)
    for task, rate in rates.items():
        share = names.count(task) / n
        assert abs(share - rate) < 4 * math.sqrt(rate * (1 - rate) / n), (task, share, rate)
    assert [r for r in stream.rows(7)] == [r for r in stream.rows(7)]    # a function of step
    with pytest.raises(ValueError, match="same tasks"):
        MixtureStream(sources, {"pair": 1.0}, list, 4, 0)


def test_a_seed_reads_its_own_training_set_and_nothing_else(setup):
    bench, config = setup.bench, setup.config
    v = pretraining.variant(mixture=mixture(unsupervised=False))
    rates = pretraining.mixture_rates(v, config, setup)
    assert all(len(bench.training_set(s)[t]) == TINY_BENCH["train_examples"]
               for s in (0, 1) for t in TASKS)
    own = multitask.encode(setup.tokenizer, bench.training_set(1))
    other = multitask.encode(setup.tokenizer, bench.training_set(0))
    as_key = lambda pair: (tuple(pair[0]), tuple(pair[1]))                # noqa: E731
    allowed = {t: {as_key(p) for p in own[t]} for t in TASKS}
    assert any(as_key(p) not in allowed[t] for t in TASKS for p in other[t])  # seeds differ
    stream = multitask.stream(rates, setup.pieces(v)[0], None, setup, 1, list, 16, 0, 0)
    seen = {t: set() for t in TASKS}
    for step in range(1, 51):
        for task, pair in stream.rows(step):
            assert as_key(pair) in allowed[task], f"step {step} read a {task} example " \
                                                  "outside training_set(1)"
            seen[task].add(as_key(pair))
    assert all(seen[t] == allowed[t] for t in TASKS)          # and it does read all of it


def test_a_run_asks_for_no_training_set_but_its_seeds(tmp_path, monkeypatch):
    """A per-seed pre-training and a mixed fine-tuning of seed 1 never look at seed 0's
    (or any other) examples."""
    asked = []
    real = pretraining.Benchmark.training_set
    monkeypatch.setattr(pretraining.Benchmark, "training_set",
                        lambda self, seed: asked.append(seed) or real(self, seed))
    variants = {"supervised": pretraining.variant(mixture=mixture(unsupervised=False)),
                "mixed": pretraining.variant(mixture=mixture(K=2**7, finetune="mixture"))}
    out = pretraining.run(tiny_config(variants), [1], tmp_path / "tableX")
    assert asked and set(asked) == {1}
    assert set(out["details"]["data"]["supervised"]) == {"1"}          # pre-trained per seed
    assert out["details"]["data"]["supervised"]["1"]["rates"] == pytest.approx(
        {t: 1 / 3 for t in TASKS})


def _tiny_trainer(run_dir, stop=None):
    cfg = TrainConfig(d_model=16, d_kv=4, d_ff=32, num_heads=2, num_layers=1, batch_size=4,
                      steps=6, warmup_steps=2, eval_every=100, checkpoint_every=3, keep_last=2,
                      log_every=1, dtype="float64", dropout_rate=0.1)
    model = build_model(cfg, 64)
    rng = np.random.default_rng(0)
    pieces = [rng.integers(3, 50, size=12) for _ in range(20)]
    examples = {"pair": [(rng.integers(3, 50, size=5), rng.integers(3, 50, size=3))
                         for _ in range(6)]}
    objective = lambda piece, r: (piece[r.permutation(len(piece))], piece[:4])   # noqa: E731
    rates = {UNSUPERVISED: 0.6, "pair": 0.4}
    stream = MixtureStream(multitask.sources(rates, pieces, objective, examples), rates,
                           lambda rows: collate_examples(model, rows), 4, seed=0)
    return Trainer(model, build_optimizer(cfg, model), stream, cfg, run_dir, progress=False,
                   stop=stop)


def test_resuming_a_mixed_run_equals_not_interrupting(tmp_path):
    straight = _tiny_trainer(tmp_path / "a")
    assert straight.train() == "done"
    stop = threading.Event()
    first = _tiny_trainer(tmp_path / "b", stop=stop)
    inner = first.stream

    class StopAt:
        def batch(self, step):
            if step == 3:
                stop.set()
            return inner.batch(step)

    first.stream = StopAt()
    assert first.train() == "interrupted" and first.step == 3
    resumed = _tiny_trainer(tmp_path / "b")
    assert resumed.train(resume=True) == "done"
    a, b = straight.model.state_dict(), resumed.model.state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert [r["loss"] for r in straight.history] == [r["loss"] for r in resumed.history]


def _pretrain_key(v, config, setup, seed=None):
    return settings_key(pretraining.pretrain_settings(v, config, setup, seed))


def test_rows_equal_in_effect_share_a_key_and_different_rows_do_not(setup):
    config = setup.config
    t1 = pretraining.variant(mixture=mixture("temperature", K=2**13, temperature=1))
    proportional = pretraining.variant(mixture=mixture(K=2**13))
    unlimited = pretraining.variant(mixture=mixture(K=None))
    pieces = len(setup.pieces(t1)[0])
    assert pieces < 2**13              # so K = 2^13 limits nothing, as the design intends
    assert _pretrain_key(t1, config, setup, 0) == _pretrain_key(proportional, config, setup, 0) \
        == _pretrain_key(unlimited, config, setup, 0)
    keys = {_pretrain_key(pretraining.variant(mixture=mixture(K=k)), config, setup, 0)
            for k in (2**3, 2**5, 2**7)}
    assert len(keys) == 3
    assert _pretrain_key(t1, config, setup, 0) != _pretrain_key(t1, config, setup, 1)
    assert _pretrain_key(pretraining.BASELINE, config, setup) == \
        _pretrain_key(pretraining.BASELINE, config, setup, 5)     # unsupervised: one run
    # multi-task training and multi-task pre-training share the pre-training, not the rest
    training = pretraining.variant(mixture=mixture(K=2**5, finetune="mixture"))
    pre = pretraining.variant(mixture=mixture(K=2**5))
    assert _pretrain_key(training, config, setup, 0) == _pretrain_key(pre, config, setup, 0)
    assert {**pretraining.pretrain_settings(pre, config, setup, 0),
            "mixture": None} != {**pretraining.pretrain_settings(pretraining.BASELINE, config,
                                                                  setup), "mixture": None}


def test_a_longer_row_on_the_quarter_budget_is_the_full_budget_baseline(setup):
    quarter = pretraining.config({"4x": pretraining.variant(pretrain={"steps": 400}),
                                  "base": pretraining.BASELINE,
                                  "4x batch": pretraining.variant(pretrain={"batch_size": 128})},
                                 1.0, pretrain_steps=100)
    full = pretraining.config({"base": pretraining.BASELINE}, 1.0)
    assert quarter["pretrain"]["steps"] == 100 and quarter["pretrain"]["warmup_steps"] == 100
    assert quarter["variants"]["4x"]["pretrain"] == full["pretrain"]
    assert quarter["variants"]["4x batch"]["pretrain"] == {**quarter["pretrain"],
                                                           "batch_size": 128}
    for config in (quarter, full):
        config.update(model=TINY_MODEL, benchmark=TINY_BENCH, vocab_pieces=300)
    four_times = pretraining.Variant.from_config(quarter["variants"]["4x"])
    assert _pretrain_key(four_times, quarter, setup) == \
        _pretrain_key(pretraining.BASELINE, full, setup)
    assert _pretrain_key(pretraining.BASELINE, quarter, setup) != \
        _pretrain_key(pretraining.BASELINE, full, setup)


def test_part2_rows_keep_the_settings_they_were_recorded_with(setup):
    """A row that sets none of the new keys has exactly the pre-training settings of before
    (the cache of the recorded tables stays valid)."""
    config = setup.config
    settings = pretraining.pretrain_settings(pretraining.BASELINE, config, setup)
    assert settings == {k: config[k] for k in ("vocab_pieces", "model", "piece_length",
                                               "pretrain_seed", "pretrain")} | {
        "pages": {k: config["benchmark"][k] for k in ("held_out_pages", "split_seed")},
        "variant": pretraining.BASELINE.to_config()}


def test_leave_one_out_never_shows_the_left_out_task(setup):
    v = pretraining.variant(mixture=mixture(K=2**7, leave_out=EACH))
    parts = multitask.parts("leave-one-out", v, TASKS)
    assert list(parts) == [f"leave-one-out: without {t}" for t in TASKS]
    for t, (part, score_tasks) in zip(TASKS, parts.values()):
        assert score_tasks == [t]
        rates = pretraining.mixture_rates(part, setup.config, setup)
        assert t not in rates and len(rates) == 3
        stream = multitask.stream(rates, setup.pieces(part)[0],
                                  part.make_objective(setup.tokenizer.vocab_size),
                                  setup, 0, list, 16, 0, 0)
        assert all(name != t for step in range(1, 41) for name, _ in stream.rows(step))


def test_a_composite_row_scores_each_part_on_its_own_task(setup):
    bench = setup.bench

    def result(accuracies):
        return {"score": 0.0, "test": {t: {"accuracy": a} for t, a in zip(TASKS, accuracies)}}

    parts = {"without acceptability": (result([0.9, 0.1, 0.1]), ["acceptability"]),
             "without pair": (result([0.1, 0.6, 0.1]), ["pair"]),
             "without cloze choice": (result([0.1, 0.1, 0.3]), ["cloze choice"])}
    assert all(bench.tasks[t].primary == "accuracy" for t in TASKS)
    combined = multitask.combine(2, parts, bench)
    assert combined["seed"] == 2 and combined["score"] == pytest.approx(100 * (0.9 + 0.6 + 0.3)
                                                                        / 3)
    assert multitask.combine(2, {"row": (result([1, 1, 1]), None)}, bench)["score"] == 0.0


def test_the_recipe_runs_end_to_end_at_a_tiny_scale(tmp_path):
    recipe = get("recipe")
    assert recipe.rows == ("baseline", "recipe")
    variants = pretraining.variants(recipe.config(1.0))
    assert variants["baseline"] == pretraining.BASELINE
    assert variants["recipe"].objective == "span_corruption"
    assert variants["recipe"].mixture == mixture(K=2**9)
    config = tiny_config(variants)
    out = pretraining.run(config, [0, 1], tmp_path / "recipe")
    assert set(out["details"]["data"]["recipe"]) == {"0", "1"}
    for row in ("baseline", "recipe"):
        assert all(0 <= v <= 100 and math.isfinite(v) for v in out["average"][row])
