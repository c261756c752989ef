"""The §3.1 baseline preset pre-trains with i.i.d. denoising (§3.1.4); span corruption (§3.3.4)
is the final models' objective and the small presets'."""
import numpy as np
import pytest

from minit5.train.config import TrainConfig, apply_overrides
from minit5.train.streams import SpanCorruptionStream

VOCAB = 1100


def test_presets_name_their_objective():
    assert TrainConfig.preset("base").objective == "iid_denoising"
    final = TrainConfig.preset("final")
    assert final.objective == "span_corruption"
    assert (final.d_model, final.num_layers, final.steps) == (768, 12, 2 ** 19)
    assert TrainConfig.preset("tiny").objective == "span_corruption"
    with pytest.raises(ValueError, match="objective"):
        apply_overrides(TrainConfig.preset("tiny"), ["--objective=bert"])


def test_iid_stream_writes_one_sentinel_per_run():
    docs = [np.random.default_rng(i).integers(3, 1000, size=300) for i in range(4)]
    stream = SpanCorruptionStream(docs, VOCAB, 64, 4, seed=0, objective="iid_denoising",
                                  pack_rows=False)
    assert (stream.tokens_length, stream.targets_length) == (63, 64)
    batch = stream.batch(0)
    for inputs, labels in zip(batch.input_ids, batch.labels):
        inputs, labels = inputs[inputs > 0], labels[labels >= 0]
        sentinels = inputs[inputs >= 1000]
        assert sentinels.tolist() == list(range(VOCAB - 1, VOCAB - 1 - len(sentinels), -1))
        # the targets mark the kept runs (as t5's nonnoise_span_to_unique_sentinel does), and
        # an i.i.d. mask may start with noise or end with a kept run: counts differ by <= 1
        target_sentinels = labels[labels >= 1000]
        assert abs(len(target_sentinels) - len(sentinels)) <= 1
        # i.i.d. runs are mostly single tokens; span corruption's have mean length 3
        assert (len(labels) - 1 - len(sentinels)) / max(len(sentinels), 1) < 2
    spans = SpanCorruptionStream(docs, VOCAB, 64, 4, seed=0, pack_rows=False)
    assert (spans.tokens_length, spans.targets_length) == random_spans_lengths()
    with pytest.raises(ValueError, match="unknown objective 'bert'; choose one of"):
        SpanCorruptionStream(docs, VOCAB, 64, 4, seed=0, objective="bert")


def random_spans_lengths():
    from minit5.data.objectives import random_spans_helper
    return random_spans_helper(64)
