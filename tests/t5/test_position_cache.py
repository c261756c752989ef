"""position_buckets: the bucket table of a (Lq, Lk) is computed once and shared, and equals
relative_position_bucket of relative_positions."""
import numpy as np
import pytest

from minit5.t5.position import (
    position_buckets,
    relative_position_bucket,
    relative_positions,
)


@pytest.mark.parametrize("lq, lk, offset, bidirectional", [
    (7, 7, 0, True), (1, 9, 8, False), (5, 300, 0, True), (300, 5, 0, False)])
def test_cached_buckets_equal_the_computed_ones(lq, lk, offset, bidirectional):
    expected = relative_position_bucket(relative_positions(lq, lk, offset),
                                        bidirectional=bidirectional, num_buckets=32,
                                        max_distance=128)
    got = position_buckets(lq, lk, offset, bidirectional, 32, 128)
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == np.int64 and got.shape == (lq, lk)


def test_the_same_arguments_return_the_same_read_only_array():
    a = position_buckets(11, 13, 0, True, 32, 128)
    assert position_buckets(11, 13, 0, True, 32, 128) is a
    assert position_buckets(11, 13, 0, False, 32, 128) is not a
    with pytest.raises(ValueError, match="read-only"):
        a[0, 0] = 1


@pytest.mark.gpu
def test_the_gpu_copy_is_made_once():
    import cupy
    a = position_buckets(17, 19, 0, True, 32, 128, xp=cupy)
    assert isinstance(a, cupy.ndarray) and position_buckets(17, 19, 0, True, 32, 128,
                                                            xp=cupy) is a
    np.testing.assert_array_equal(a.get(), position_buckets(17, 19, 0, True, 32, 128))
