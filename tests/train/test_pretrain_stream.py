"""The pre-training stream and `TrainConfig` with every objective of the registry: the batches
of the two objectives it knew before are unchanged, every other one streams, and the settings
an objective does not take are refused."""
import hashlib
from dataclasses import fields

import numpy as np
import pytest

from minit5.data.batching import pack
from minit5.data.objectives import OBJECTIVES
from minit5.train.config import TrainConfig, apply_overrides
from minit5.train.streams import PRETRAIN, PretrainStream, SpanCorruptionStream, step_rng

VOCAB = 1100


def documents():
    g = np.random.default_rng(7)
    return [g.integers(3, VOCAB - 100, size=int(n)) for n in g.integers(5, 400, size=30)]


def digest(batch) -> str:
    h = hashlib.sha256()
    for f in fields(batch):
        array = getattr(batch, f.name)
        h.update(f.name.encode())
        if array is not None:
            array = np.ascontiguousarray(array, dtype=np.int64)
            h.update(str(array.shape).encode())
            h.update(array.tobytes())
    return h.hexdigest()[:16]


# Steps 0, 1 and 17 of SpanCorruptionStream(documents(), 1100, 32, 6, seed=3, ...) as the
# stream made them before the registry (commit 2583c79), when it knew these two objectives by
# name. Resumed and recorded runs depend on them staying the same.
BEFORE = [
    ("span_corruption", {}, True, ["5abc9e1bfdabd066", "9aa12326f13d5e89", "70a0a627cd690c61"]),
    ("span_corruption", {}, False, ["2826c455e343cfa3", "d5a89557504e7bb9", "982db10946c71a56"]),
    ("span_corruption", {"noise_density": 0.4, "mean_noise_span_length": 2.0}, True,
     ["4702c03814b1e9d0", "a9eee9976bcba639", "9a621a87cf3ba20d"]),
    ("iid_denoising", {}, True, ["b2d54a285596b9e2", "580ecda7c16d4d8b", "a9a47014fd71d4a8"]),
    ("iid_denoising", {}, False, ["c637665d83c72ad6", "43ad0be84fc82b7b", "42b98d707f479c63"]),
    # targets longer than inputs: the draw stops on the targets, the batch is the same
    ("iid_denoising", {"noise_density": 0.8}, True,
     ["988ab2df6b92215a", "3ed52b6d0552a057", "c1bf715c3d8aaf00"]),
]


@pytest.mark.parametrize("objective, params, pack_rows, expected", BEFORE)
def test_the_batches_of_before_the_registry_are_unchanged(objective, params, pack_rows,
                                                          expected):
    stream = SpanCorruptionStream(documents(), VOCAB, 32, 6, seed=3, pack_rows=pack_rows,
                                  objective=objective, **params)
    assert [digest(stream.batch(step)) for step in (0, 1, 17)] == expected


def drawn_to_the_input_budget(stream, step):
    """The packed batch as the stream drew it before the registry: examples until the inputs
    hold batch_size rows of tokens, however long the targets grow."""
    rng = step_rng(stream.seed, step, PRETRAIN)
    examples, tokens = [], 0
    while tokens < stream.batch_size * stream.inputs_length:
        examples.append(stream.objective(stream.pieces[int(rng.integers(len(stream.pieces)))],
                                         rng))
        tokens += len(examples[-1][0])
    return pack(examples, stream.inputs_length, stream.targets_length)[:stream.batch_size]


@pytest.mark.parametrize("name", list(OBJECTIVES))
def test_every_objective_streams_packed_and_padded(name):
    for pack_rows in (True, False):
        stream = PretrainStream(documents(), VOCAB, 32, 6, seed=3, pack_rows=pack_rows,
                                objective=name)
        assert stream.objective.name == name
        first, again, later = stream.batch(4), stream.batch(4), stream.batch(5)
        assert len(first) == 6 and first.input_ids.shape[1] == 32
        assert first.labels.shape[1] == stream.targets_length
        assert ((first.labels != -100).sum(axis=1) > 0).all(), "every row has targets"
        assert digest(first) == digest(again), "a batch is a function of (seed, step)"
        assert digest(first) != digest(later)
        if pack_rows:
            assert digest(first) == digest(drawn_to_the_input_budget(stream, 4))


def test_lm_stops_drawing_once_the_targets_are_full(monkeypatch):
    """`lm` writes one input id per example: drawing until the inputs hold a batch would make
    thousands of examples for a few rows."""
    stream = PretrainStream(documents(), VOCAB, 32, 6, seed=3, objective="lm")
    calls = []
    objective = stream.objective
    monkeypatch.setattr(stream, "objective", lambda *a: calls.append(1) or objective(*a))
    stream.batch(0)
    assert len(calls) <= 2 * stream.batch_size, len(calls)


def test_the_stream_passes_only_the_settings_given():
    stream = PretrainStream(documents(), VOCAB, 32, 6, seed=3, objective="prefix_lm")
    assert stream.objective.params == ()            # prefix_lm's own noise_density, 0.5
    with pytest.raises(ValueError, match="'deshuffle' takes no parameter 'noise_density'"):
        PretrainStream(documents(), VOCAB, 32, 6, seed=3, objective="deshuffle",
                       noise_density=0.15)


def test_the_config_takes_every_registry_name():
    for name in OBJECTIVES:
        cfg = apply_overrides(TrainConfig.preset("tiny"), [f"--objective={name}"])
        assert cfg.objective == name and cfg.objective_params() == {}
    with pytest.raises(ValueError, match="--objective='bert': choose one of"):
        TrainConfig(objective="bert")


def test_the_config_sets_only_what_the_objective_takes():
    cfg = apply_overrides(TrainConfig.preset("final"), ["--noise_density=0.25",
                                                        "--mean_noise_span_length=5"])
    assert cfg.objective_params() == {"noise_density": 0.25, "mean_noise_span_length": 5.0}
    assert apply_overrides(cfg, ["--noise_density=none"]).objective_params() == {
        "mean_noise_span_length": 5.0}
    with pytest.raises(ValueError, match="--mean_noise_span_length=3.0 does not apply to "
                                         "--objective=iid_denoising; leave it unset or choose "
                                         "an objective that takes it \\(span_corruption"):
        apply_overrides(TrainConfig.preset("base"), ["--mean_noise_span_length=3"])
    with pytest.raises(ValueError, match="--noise_density=0.15 does not apply to "
                                         "--objective=deshuffle"):
        TrainConfig(objective="deshuffle", noise_density=0.15)
    with pytest.raises(ValueError, match="--noise_density=1.5 is out of range"):
        TrainConfig(noise_density=1.5)


def test_a_value_the_objective_refuses_stops_at_the_config():
    with pytest.raises(ValueError, match="--objective=prefix_lm with --inputs_length=64: "
                                         "random_prefix_noise_mask: noise_density must be in "
                                         "\\(0, 0.5\\], got 0.6"):
        TrainConfig(objective="prefix_lm", noise_density=0.6)
    with pytest.raises(ValueError, match="227 noise spans need 227 sentinels but there are 100"):
        TrainConfig(inputs_length=4096)   # span corruption: 15% of ~4,540 tokens, spans of 3
    TrainConfig(objective="prefix_lm", noise_density=0.5, inputs_length=4096)
