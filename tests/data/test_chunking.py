"""select_random_chunk, split_tokens and full_lm, as the t5 library's pre-training pipelines."""
import numpy as np
import pytest

from minit5.data.chunking import full_lm, select_random_chunk, split_tokens


def test_select_random_chunk_picks_one_aligned_chunk():
    tokens = np.arange(10)
    seen = set()
    for seed in range(200):
        chunk = select_random_chunk(tokens, np.random.default_rng(seed), max_length=4)
        seen.add(tuple(chunk.tolist()))
    # ceil(10 / 4) = 3 chunks at offsets 0, 4, 8: every one is drawn, nothing else
    assert seen == {(0, 1, 2, 3), (4, 5, 6, 7), (8, 9)}


def test_select_random_chunk_short_document_comes_back_whole():
    # t5's test_select_random_chunk: [0 1 2 3] with max_length 4
    assert select_random_chunk([0, 1, 2, 3], np.random.default_rng(0), 4).tolist() == [0, 1, 2, 3]


def test_select_random_chunk_uniform_start_covers_every_token():
    tokens = np.arange(10)
    starts, counts = set(), np.zeros(10)
    for seed in range(2000):
        chunk = select_random_chunk(tokens, np.random.default_rng(seed), 4,
                                    uniform_random_start=True)
        assert 1 <= len(chunk) <= 4 and np.all(np.diff(chunk) == 1)
        starts.add(int(chunk[0]))
        counts[chunk] += 1
    assert starts == set(range(10))            # any start, not only multiples of 4
    assert counts.min() / counts.max() > 0.8   # each token about equally likely


def test_select_random_chunk_min_length():
    lengths = {len(select_random_chunk(np.arange(100), np.random.default_rng(s), 6,
                                       min_length=3)) for s in range(300)}
    assert lengths <= {1, 2, 3, 4, 5} and {3, 4, 5} <= lengths   # [3, 6): 6 is never drawn


def test_select_random_chunk_errors():
    with pytest.raises(ValueError, match="empty"):
        select_random_chunk([], np.random.default_rng(0))
    with pytest.raises(TypeError, match="Generator"):
        select_random_chunk([1, 2], 0)
    with pytest.raises(ValueError, match="min_length"):
        select_random_chunk([1, 2], np.random.default_rng(0), 4, min_length=4)


def test_split_tokens():
    assert [p.tolist() for p in split_tokens(np.arange(7), 3)] == [[0, 1, 2], [3, 4, 5], [6]]
    with pytest.raises(ValueError, match="max_tokens_per_segment"):
        split_tokens(np.arange(7), 0)


def test_full_lm_concatenates_with_eos_at_document_ends():
    pieces = list(full_lm([[5, 6, 7], [], [8, 9]], 4, np.random.default_rng(0)))
    assert [p.tolist() for p in pieces] == [[5, 6, 7, 1], [8, 9, 1]]
    pieces = list(full_lm([[5, 6, 7], [8, 9]], 3, np.random.default_rng(0)))
    assert [p.tolist() for p in pieces] == [[5, 6, 7], [1, 8, 9], [1]]
