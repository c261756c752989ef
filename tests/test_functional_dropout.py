"""Dropout's explicit randomness (functional.DropoutMasks): on a CPU the masks are the numpy
Generator's own draws, bit for bit; a rank's masks are its rows of the batch's; the mask kept for
backward is bool."""
import numpy as np
import pytest

from minit5 import functional as F
from minit5.autograd import Tensor


def test_cpu_masks_are_the_generators_draws():
    keep = F.DropoutMasks(np.random.default_rng(3)).keep((4, 5, 6), 0.25, np)
    assert keep.dtype == bool
    np.testing.assert_array_equal(keep, np.random.default_rng(3).random((4, 5, 6)) >= 0.25)


def test_dropout_output_and_gradient_are_the_formula_on_the_generators_mask():
    x = Tensor(np.random.default_rng(0).standard_normal((3, 7)).astype(np.float32),
               requires_grad=True)
    y = F.dropout(x, 0.5, np.random.default_rng(9))
    keep = np.random.default_rng(9).random((3, 7)) >= 0.5
    scale = keep.astype(np.float32) * np.float32(2.0)
    np.testing.assert_array_equal(y.data, x.data * scale)
    assert y.creator.saved[0].dtype == bool                       # one byte per element
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, scale)


def test_a_generator_and_its_dropout_masks_give_the_same_output():
    x = np.ones((2, 3, 4), dtype=np.float64)
    a = F.dropout(Tensor(x), 0.3, np.random.default_rng(1)).data
    b = F.dropout(Tensor(x), 0.3, F.DropoutMasks(np.random.default_rng(1))).data
    np.testing.assert_array_equal(a, b)


def test_a_ranks_share_keeps_its_rows_of_the_whole_batch():
    whole = F.DropoutMasks(np.random.default_rng(5)).keep((6, 2, 3), 0.5, np)
    for rows in (slice(0, 2), slice(2, 4), slice(4, 6), slice(0, 3)):
        part = F.DropoutMasks(np.random.default_rng(5), global_rows=6, rows=rows)
        np.testing.assert_array_equal(part.keep((rows.stop - rows.start, 2, 3), 0.5, np),
                                      whole[rows])


def test_a_mask_that_is_not_batch_first_for_a_share_is_refused():
    part = F.DropoutMasks(np.random.default_rng(5), global_rows=6, rows=slice(2, 4))
    with pytest.raises(ValueError, match="first axis must be this rank's rows"):
        part.keep((3, 2), 0.5, np)


def test_dropout_masks_need_a_numpy_generator_and_rows_with_their_batch():
    with pytest.raises(TypeError, match="numpy Generator"):
        F.DropoutMasks(np.random.RandomState(0))
    with pytest.raises(ValueError, match="together"):
        F.DropoutMasks(np.random.default_rng(0), global_rows=6)
    with pytest.raises(ValueError, match="explicit numpy Generator .* or a DropoutMasks"):
        F.dropout(Tensor(np.ones(3)), 0.5, rng=0)


@pytest.mark.gpu
def test_gpu_masks_are_drawn_on_the_device_and_repeat_with_the_seed():
    """On a GPU: no host draw of the mask (one 64-bit seed), same seed -> same device mask,
    and the kept fraction is 1 - p."""
    import cupy
    masks = F.DropoutMasks(np.random.default_rng(11))
    keep = masks.keep((64, 128, 64), 0.1, cupy)
    assert isinstance(keep, cupy.ndarray) and keep.dtype == bool
    again = F.DropoutMasks(np.random.default_rng(11)).keep((64, 128, 64), 0.1, cupy)
    assert bool((keep == again).all())
    assert abs(float(keep.mean()) - 0.9) < 0.005
