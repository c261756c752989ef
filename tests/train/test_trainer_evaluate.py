"""Evaluation runs without dropout and hands the model back in the mode it found."""
import numpy as np
import pytest

from minit5 import T5Config, T5ForConditionalGeneration
from minit5.data import collate
from minit5.train.evaluate import predict, validation_loss


class Letters:
    """A stand-in tokenizer: one id per character (offset past the special ids)."""

    def encode(self, text):
        return [3 + (ord(c) % 40) for c in text] + [1]

    def batch_encode(self, texts):
        rows = [self.encode(t) for t in texts]
        width = max(map(len, rows))
        ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for i, row in enumerate(rows):
            ids[i, :len(row)], mask[i, :len(row)] = row, 1
        return ids, mask

    def decode(self, ids):
        return " ".join(str(int(i)) for i in ids)


@pytest.fixture
def model():
    cfg = T5Config(vocab_size=48, d_model=16, d_kv=4, d_ff=32, num_heads=2, num_layers=1,
                   dropout_rate=0.5)
    return T5ForConditionalGeneration(cfg, seed=0, dtype="float64")


@pytest.mark.parametrize("training", [True, False])
def test_evaluation_restores_the_mode_it_found(model, training):
    model.train(training)
    batch = collate([(np.array([5, 6, 1]), np.array([7, 1]))])
    first = validation_loss(model, [batch])["validation_loss"]
    assert validation_loss(model, [batch])["validation_loss"] == first   # no dropout inside
    assert all(m.training == training for m in model.modules())
    predict(model, Letters(), ["ab", "cde"], max_new_tokens=3)
    assert all(m.training == training for m in model.modules())
