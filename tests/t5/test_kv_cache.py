"""KVCache: append grows the self-attention entries, the cross entries are kept once, reorder
moves self-attention rows with their beams and leaves the old cache alone; a model's cached
decoding steps give the logits of the full decoder pass."""
import numpy as np
import pytest

from minit5.autograd.tensor import Tensor, no_grad
from minit5.t5.config import T5Config
from minit5.t5.kv_cache import KVCache
from minit5.t5.model import T5ForConditionalGeneration


def keys(rows, length, fill):
    return Tensor(np.full((rows, 2, length, 3), fill, dtype=np.float64))     # (N, H, t, dk)


def test_append_concatenates_after_the_cached_positions_and_counts_them():
    cache = KVCache(2)
    assert cache.length == 0 and cache.num_blocks == 2
    k, v = cache.append(0, keys(4, 1, 1.0), keys(4, 1, -1.0))
    assert k.shape == (4, 2, 1, 3) and cache.length == 1
    k, v = cache.append(0, keys(4, 2, 2.0), keys(4, 2, -2.0))
    assert k.shape == (4, 2, 3, 3) and cache.length == 3
    np.testing.assert_array_equal(k.data[:, :, :, 0], [[[1.0, 2.0, 2.0]] * 2] * 4)
    np.testing.assert_array_equal(cache.self_values[0][:, 0, :, 0], [[-1.0, -2.0, -2.0]] * 4)
    assert cache.self_keys[1] is None


def test_cross_entries_are_kept_once_and_read_back():
    cache = KVCache(1)
    assert cache.cross(0) is None
    cache.keep_cross(0, keys(2, 5, 7.0), keys(2, 5, 8.0))
    k, v = cache.cross(0)
    assert k.shape == (2, 2, 5, 3) and float(v.data.max()) == 8.0


def test_reorder_moves_self_attention_rows_shares_cross_and_keeps_the_old_cache():
    cache = KVCache(2)
    for block in range(2):
        rows = Tensor(np.arange(4.0)[:, None, None, None] * np.ones((4, 2, 3, 3)))
        cache.append(block, rows, rows * 10)
        cache.keep_cross(block, keys(4, 5, block), keys(4, 5, -block))
    moved = cache.reorder(np.array([1, 1, 3, 2]))
    for block in range(2):
        assert moved.self_keys[block][:, 0, 0, 0].tolist() == [1.0, 1.0, 3.0, 2.0]
        assert moved.self_values[block][:, 0, 0, 0].tolist() == [10.0, 10.0, 30.0, 20.0]
        assert moved.cross_keys[block] is cache.cross_keys[block]
        assert cache.self_keys[block][:, 0, 0, 0].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert moved.length == cache.length == 3


@pytest.mark.parametrize("bad", [0, -1, 2.0, True, None])
def test_a_cache_needs_a_number_of_blocks(bad):
    with pytest.raises(ValueError, match="number of decoder blocks"):
        KVCache(bad)


def test_cached_steps_give_the_full_passes_logits():
    config = T5Config(vocab_size=40, d_model=16, d_kv=4, d_ff=32, num_heads=2, num_layers=2,
                      dropout_rate=0.0)
    model = T5ForConditionalGeneration(config, seed=3, dtype="float64").eval()
    ids = np.array([[5, 6, 7, 1], [8, 9, 1, 0]])
    mask = (ids != 0).astype(np.int64)
    rows = np.array([[0, 4, 9, 12, 3], [0, 7, 7, 2, 30]])
    with no_grad():
        encoded = model.encoder(ids, mask)
        full = model.decode(rows, encoded, attention_mask=mask).data        # (B, T, V)
        cache = KVCache(len(model.decoder.block))
        for t in range(rows.shape[1]):
            step = model.decode(rows[:, t:t + 1], encoded, attention_mask=mask, cache=cache)
            np.testing.assert_allclose(step.data[:, 0], full[:, t], rtol=1e-12, atol=1e-12)
            assert cache.length == t + 1
