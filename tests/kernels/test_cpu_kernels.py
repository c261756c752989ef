"""The CPU kernels (the references' calls on cache-sized blocks of rows) equal the references
bit for bit: any shape and dtype, inputs in any memory layout (compared with the reference on
C-ordered copies, whose rounding the kernels reproduce: see minit5/kernels/_cpu.py), with the
real block size and with blocks of one row, so that every boundary between blocks is crossed.
Inputs are left unchanged."""
import contextlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minit5.kernels import _cpu, attention_softmax, cross_entropy, embedding_backward, rms_norm
from tests.strategies import arrays

BLOCK_SIZES = [_cpu.BLOCK_BYTES, 1]      # the real one; 1 byte: every row its own block


def c(*arrays_):
    """C-ordered copies: the layout the reference is compared in."""
    return [np.ascontiguousarray(a) for a in arrays_]


def same(actual, expected, name):
    """Equal bit for bit: the same values, and the same signs of zero and NaNs too."""
    assert actual.dtype == expected.dtype, f"{name}: dtype {actual.dtype} != {expected.dtype}"
    np.testing.assert_array_equal(actual, expected, err_msg=f"{name} differs from the reference")
    assert np.ascontiguousarray(actual).tobytes() == np.ascontiguousarray(expected).tobytes(), \
        f"{name}: equal values but different bits (a signed zero or a NaN payload)"


def unchanged(*arrays_):
    copies = [a.copy() for a in arrays_]

    def check():
        for before, after in zip(copies, arrays_):
            np.testing.assert_array_equal(after, before, err_msg="a kernel changed its input")
    return check


@contextlib.contextmanager
def blocks_of(block_bytes):
    saved, _cpu.BLOCK_BYTES = _cpu.BLOCK_BYTES, block_bytes
    try:
        yield
    finally:
        _cpu.BLOCK_BYTES = saved


by_block_size = pytest.mark.parametrize("block_bytes", BLOCK_SIZES, ids=["cache", "row"])


def test_row_blocks_cover_every_row_once():
    for rows, row_bytes in [(0, 8), (1, 8), (7, 1 << 20), (1000, 100), (5, 0)]:
        blocks = list(_cpu.row_blocks(rows, row_bytes))
        covered = [i for b in blocks for i in range(b.start, b.stop)]
        assert covered == list(range(rows))
        assert all(b.stop > b.start for b in blocks)


def test_leading_blocks_cover_every_element_once():
    for shape in [(8, 4, 512, 512), (32, 4, 64, 64), (3, 2, 5, 7), (4, 8, 1, 33), (5,), (2, 3)]:
        for block_bytes in [_cpu.BLOCK_BYTES, 100, 1]:
            with blocks_of(block_bytes):
                seen = np.zeros(shape, dtype=np.int32)
                for block in _cpu.leading_blocks(shape, 4):
                    seen[block] += 1
            assert (seen == 1).all(), (shape, block_bytes)


@st.composite
def softmax_inputs(draw):
    shape = tuple(draw(st.integers(1, 4)) for _ in range(3)) + (draw(st.integers(1, 9)),)
    bias_shape = tuple(n if draw(st.booleans()) else 1 for n in shape[:3]) + shape[3:]
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    bias = draw(arrays(bias_shape, dtype=dtype))
    if draw(st.booleans()):                  # masked keys, as the model's additive mask
        bias = np.where(bias > 1.0, np.finfo(dtype).min, bias).astype(dtype)
    return draw(arrays(shape, dtype=dtype)), bias, draw(arrays(shape, dtype=dtype))


@by_block_size
@given(inputs=softmax_inputs())
def test_attention_softmax_cpu_kernel_is_the_reference(inputs, block_bytes):
    scores, bias, g = inputs
    check = unchanged(scores, bias, g)
    with blocks_of(block_bytes):
        y = attention_softmax.cpu_forward(scores, bias)
        dx = attention_softmax.cpu_backward(y, g)
    same(y, attention_softmax.reference_forward(*c(scores, bias)), "forward")
    assert y.flags.c_contiguous
    same(dx, attention_softmax.reference_backward(*c(y, g)), "backward")
    check()


@by_block_size
@given(data=st.data())
def test_cross_entropy_cpu_kernel_is_the_reference(data, block_bytes):
    rows, vocab = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 40))
    dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    logits = data.draw(arrays((rows, vocab), dtype=dtype))
    labels = np.asarray(data.draw(st.lists(st.sampled_from([-100, *range(vocab)]),
                                           min_size=rows, max_size=rows)))
    scale = np.asarray(data.draw(st.floats(-3, 3)), dtype=dtype)
    check = unchanged(logits, labels)
    with blocks_of(block_bytes):
        loss, lse = cross_entropy.cpu_forward(logits, labels)
        dz = cross_entropy.cpu_backward(logits, labels, lse, scale)
    ref_loss, ref_lse = cross_entropy.reference_forward(*c(logits), labels)
    same(loss, ref_loss, "loss")
    same(lse, ref_lse, "lse")
    same(dz, cross_entropy.reference_backward(*c(logits), labels, ref_lse, scale), "backward")
    same(cross_entropy.cpu_log_sum_exp(logits), cross_entropy.log_sum_exp(*c(logits), axis=1),
         "log_sum_exp")
    check()


@by_block_size
@given(data=st.data())
def test_rms_norm_cpu_kernel_is_the_reference(data, block_bytes):
    shape = tuple(data.draw(st.integers(1, 5)) for _ in range(data.draw(st.integers(0, 2))))
    shape += (data.draw(st.integers(2, 6)),)      # d = 1 is left to the reference
    dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    x, g = (data.draw(arrays(shape, dtype=dtype)) for _ in range(2))
    w = data.draw(arrays(shape[-1:], dtype=dtype))
    check = unchanged(x, g, w)
    y, rstd = rms_norm.cpu_forward(x, w)
    ref_y, ref_rstd = rms_norm.reference_forward(*c(x, w))
    same(y, ref_y, "forward")
    same(rstd, ref_rstd, "rstd")
    with blocks_of(block_bytes):
        gx, gw = rms_norm.cpu_backward(g, x, w, rstd)
    ref_gx, ref_gw = rms_norm.reference_backward(*c(g, x, w), rstd)
    same(gx, ref_gx, "dx")
    same(gw, ref_gw, "dweight")   # the column sum's order of additions is kept across blocks
    check()


@given(data=st.data())
def test_embedding_backward_cpu_kernel_is_np_add_at(data):
    vocab, d = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 5))
    n = data.draw(st.integers(0, 30))             # many repeats of few ids
    ids = np.asarray(data.draw(st.lists(st.integers(0, vocab - 1), min_size=n, max_size=n)),
                     dtype=np.int64)
    dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    rows = data.draw(arrays((n, d), dtype=dtype))
    check = unchanged(ids, rows)
    expected = embedding_backward.reference_backward((vocab, d), ids, rows)
    same(embedding_backward.cpu_backward((vocab, d), ids, rows), expected, "embedding gradient")
    distinct, sums = embedding_backward.cpu_row_sums(ids, rows)
    np.testing.assert_array_equal(distinct, np.unique(ids))
    same(sums, expected[distinct], "row sums")
    check()


# The entry points with a CPU kernel (kernels/_dispatch.Op), in the order the tests call them.
CPU_KERNELS = [attention_softmax.forward, attention_softmax.backward, cross_entropy.forward,
               cross_entropy.backward, rms_norm.forward, rms_norm.backward]


def test_the_entry_points_run_the_cpu_kernels_on_numpy_arrays(monkeypatch):
    """The entry points functional's Functions call reach every CPU kernel for NumPy arrays."""
    called = []
    for op in CPU_KERNELS:
        original = op.cpu
        monkeypatch.setattr(op, "cpu", lambda *a, _f=original, _n=op.name, **k:
                            called.append(_n) or _f(*a, **k))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
    y = attention_softmax.forward(x, x[:1])
    attention_softmax.backward(y, x)
    _, lse = cross_entropy.forward(x.reshape(-1, 4), np.arange(24) % 4)
    cross_entropy.backward(x.reshape(-1, 4), np.arange(24) % 4, lse, 0.5)
    _, rstd = rms_norm.forward(x, x[0, 0, 0])
    rms_norm.backward(x, x, x[0, 0, 0], rstd)
    assert called == [op.name for op in CPU_KERNELS]
    np.testing.assert_array_equal(cross_entropy.normaliser(x.reshape(-1, 4)),
                                  cross_entropy.cpu_log_sum_exp(x.reshape(-1, 4)))


def test_an_array_subclass_gets_the_reference_not_a_cpu_kernel(monkeypatch):
    """The CPU kernels build plain arrays (np.empty, np.ascontiguousarray), which would drop a
    subclass's __array_ufunc__ (chapter 3 meters NumPy's traffic with one); a subclass must
    reach the references."""
    class Sub(np.ndarray):
        pass

    for op in CPU_KERNELS:
        monkeypatch.setattr(op, "cpu", lambda *a, _n=op.name, **k: pytest.fail(f"{_n} ran"))
    monkeypatch.setattr(cross_entropy, "cpu_log_sum_exp",
                        lambda *a: pytest.fail("cpu_log_sum_exp ran"))
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 4)).view(Sub)
    y = attention_softmax.forward(x, x[:1])
    attention_softmax.backward(y, x)
    z = x.reshape(-1, 4)
    _, lse = cross_entropy.forward(z, np.arange(24) % 4)
    cross_entropy.backward(z, np.arange(24) % 4, lse, 0.5)
    cross_entropy.normaliser(z)
    _, rstd = rms_norm.forward(x, x[0, 0, 0])
    rms_norm.backward(x, x, x[0, 0, 0], rstd)
