"""Gradual unfreezing (§3.5.1): equal episodes, the top n blocks of both stacks in episode n,
and a run resumed mid-way equal to the one never stopped."""
import threading

import numpy as np
import pytest

from minit5 import T5Config, T5ForConditionalGeneration
from minit5.nn import trainable_parameters
from minit5.train import TrainConfig, Trainer
from minit5.train import checkpoint as ckpt
from minit5.train.pipeline import build_model, build_optimizer
from minit5.train.streams import SpanCorruptionStream
from minit5.train.unfreezing import (
    apply_unfreezing,
    gradual_unfreezing,
    unfreezing_episode,
    unfreezing_episodes,
)

VOCAB = 64


def test_episodes_are_equal_and_cover_every_step_once():
    assert unfreezing_episodes(2, 200) == [(1, 100), (101, 200)]
    assert unfreezing_episodes(3, 10) == [(1, 3), (4, 6), (7, 10)]
    paper = unfreezing_episodes(12, 2 ** 18)             # the paper's 12 episodes
    assert {last - first + 1 for first, last in paper} == {21845, 21846}
    for layers, total in [(1, 1), (2, 5), (4, 4), (5, 17), (12, 100)]:
        episodes = unfreezing_episodes(layers, total)
        steps = [s for first, last in episodes for s in range(first, last + 1)]
        assert steps == list(range(1, total + 1))
        for step in steps:
            assert unfreezing_episode(step, layers, total) == -(-step * layers // total)


def test_bad_episode_arguments_are_refused():
    with pytest.raises(ValueError, match="at least one step per layer"):
        unfreezing_episodes(4, 3)
    with pytest.raises(ValueError, match="outside the run's steps"):
        unfreezing_episode(11, 2, 10)
    with pytest.raises(ValueError, match="whole number"):
        unfreezing_episodes(0, 10)


def _names(model, episode, layers=3, total=30):
    apply_unfreezing(model, (episode - 1) * total // layers + 1, total)
    return set(trainable_parameters(model))


def test_episode_n_trains_the_top_n_blocks_of_both_stacks():
    model = T5ForConditionalGeneration(T5Config(vocab_size=40, d_model=16, d_kv=4, d_ff=24,
                                                num_heads=2, num_layers=3), seed=0)
    all_names = [n for n, _ in model.named_parameters()]

    def expected(top):
        blocks = {f"{stack}.block.{i}." for stack in ("encoder", "decoder")
                  for i in range(3 - top, 3)}
        return {n for n in all_names if n in ("shared.weight", "encoder.final_layer_norm.weight",
                                              "decoder.final_layer_norm.weight")
                or any(n.startswith(b) for b in blocks)}

    for episode in (1, 2, 3):
        assert _names(model, episode) == expected(episode)
    bias = "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"
    assert bias not in _names(model, 2) and bias in _names(model, 3)
    assert _names(model, 3) == set(all_names)
    assert _names(model, 1) == expected(1)               # a pure function of the step


def test_stacks_of_different_depth_unfreeze_in_proportion_and_lm_head_trains():
    model = T5ForConditionalGeneration(T5Config(vocab_size=40, d_model=16, d_kv=4, d_ff=24,
                                                num_heads=2, num_layers=4, num_decoder_layers=2,
                                                tie_word_embeddings=False), seed=0)
    apply_unfreezing(model, 1, 40)                       # episode 1 of 4
    names = trainable_parameters(model)
    assert {n.split(".layer.")[0] for n in names if ".block." in n} == {"encoder.block.3",
                                                                        "decoder.block.1"}
    assert "lm_head.weight" in names


def test_a_model_without_stacks_is_refused():
    from minit5.nn import Linear
    with pytest.raises(TypeError, match="encoder and/or decoder"):
        apply_unfreezing(Linear(2, 2, rng=0), 1, 10)
    with pytest.raises(ValueError, match="at least one step per layer"):
        gradual_unfreezing(T5ForConditionalGeneration(T5Config(vocab_size=40, d_model=16,
                                                               d_kv=4, d_ff=24, num_heads=2,
                                                               num_layers=3)), 2)


# ---- in the trainer ------------------------------------------------------------------------
def _config(**overrides):
    base = dict(d_model=16, d_kv=4, d_ff=32, num_heads=2, num_layers=2, inputs_length=24,
                batch_size=4, steps=6, warmup_steps=2, checkpoint_every=3, keep_last=5,
                log_every=1, dtype="float64", dropout_rate=0.1, optimizer="adafactor",
                lr=0.01)
    return TrainConfig(**{**base, **overrides})


class StopAt:
    """Wraps a stream; asks the trainer to stop (as Ctrl-C does) during one step."""

    def __init__(self, inner, step, event):
        self.inner, self.step, self.event = inner, step, event

    def batch(self, step):
        if step == self.step:
            self.event.set()
        return self.inner.batch(step)


def _trainer(cfg, run_dir, stop=None, stop_at=None):
    rng = np.random.default_rng(0)
    docs = [rng.integers(2, VOCAB - 10, size=int(n)) for n in rng.integers(10, 60, size=20)]
    data = SpanCorruptionStream(docs, VOCAB, cfg.inputs_length, cfg.batch_size, cfg.seed)
    if stop_at is not None:
        data = StopAt(data, stop_at, stop)
    model = build_model(cfg, VOCAB)
    return Trainer(model, build_optimizer(cfg, model), data, cfg, run_dir, progress=False,
                   stop=stop, before_step=gradual_unfreezing(model, cfg.steps))


def test_the_lower_block_stays_frozen_in_the_first_episode(tmp_path):
    cfg = _config()
    t = _trainer(cfg, tmp_path / "run")
    initial = t.model.state_dict()
    t.train()
    episode_one = ckpt.read_checkpoint(ckpt.checkpoint_dir(tmp_path / "run", 3)).weights
    done = t.model.state_dict()
    for name, before in initial.items():
        lower = ".block.0." in name
        assert np.array_equal(episode_one[name], before) == lower, name
        assert not np.array_equal(done[name], before), name


def test_interrupted_and_resumed_equals_uninterrupted(tmp_path):
    cfg = _config()
    straight = _trainer(cfg, tmp_path / "straight")
    straight.train()
    stop = threading.Event()
    first = _trainer(cfg, tmp_path / "split", stop=stop, stop_at=2)   # stops in episode 1
    assert first.train() == "interrupted" and first.step == 2
    resumed = _trainer(cfg, tmp_path / "split")
    assert resumed.train(resume=True) == "done"
    a, b = straight.model.state_dict(), resumed.model.state_dict()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    assert [r["loss"] for r in straight.history] == [r["loss"] for r in resumed.history]
