"""The CUDA kernels at the edges of what they cover (marker `gpu`: skipped without one).

Each case runs an entry point on CuPy arrays, asserts it takes the kernel path, and compares
every output on its own (dx apart from dweight, loss apart from lse) with the NumPy reference
run in float64 on the host from the same inputs: float32 within 1e-5 and float64 within 1e-12
of the reference's largest value. The cases are the ones the plain GPU tests leave out:
non-contiguous and 1-3-D inputs, a row of one key (L = 1), a vocabulary of one (V = 1), fully
masked rows, gated GELU past 65536 blocks (> 16.7M elements: the grid-stride loop) and Adafactor
with several rows per block and grid-stride updates.
"""
import numpy as np
import pytest

from minit5.backend import to_numpy
from minit5.kernels import adafactor_update, attention_softmax, cross_entropy, gated_gelu, rms_norm

pytestmark = pytest.mark.gpu
TOLERANCE = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}
DTYPES = [np.float32, np.float64]


def host64(array):
    return to_numpy(array).astype(np.float64)


def close(name, got, expected, dtype, scale=None):
    got, expected = host64(got), np.asarray(expected, dtype=np.float64)
    assert got.shape == expected.shape, f"{name}: shape {got.shape} vs {expected.shape}"
    assert (np.isnan(got) == np.isnan(expected)).all(), f"{name}: NaN in different places"
    diff = np.where(np.isnan(expected), 0.0, np.abs(got - expected))
    scale = max(float(np.nanmax(np.abs(expected))) if scale is None else scale, 1e-30)
    error = float(diff.max() / scale) if diff.size else 0.0
    assert error <= TOLERANCE[np.dtype(dtype)], f"{name} ({np.dtype(dtype)}): {error:.2e}"


def device(array, dtype):
    import cupy
    return cupy.asarray(np.array(array, dtype=dtype))           # a copy, never a view


RNG = np.random.default_rng(0)


def _noncontiguous(s, b):
    return s.swapaxes(-1, -2), b.swapaxes(-1, -2)


def _masked_rows(dtype):
    bias = np.zeros((1, 2, 3, 50))
    bias[0, 1, 2, :] = np.finfo(dtype).min                       # a fully masked row
    bias[0, 0, :, ::3] = np.finfo(dtype).min
    return bias


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", ["L=1", "1-D", "2-D with 1-D bias", "3-D", "non-contiguous",
                                  "negative-stride bias", "fully masked row", "long row"])
def test_attention_softmax_edges(case, dtype):
    shapes = {"L=1": ((3, 5, 7, 1), (1, 5, 7, 1)), "1-D": ((9,), (9,)),
              "2-D with 1-D bias": ((37, 129), (129,)), "3-D": ((4, 6, 33), (1, 6, 33)),
              "non-contiguous": ((2, 3, 33, 40), (3, 33, 40)),
              "negative-stride bias": ((2, 3, 8, 40), (1, 3, 8, 40)),
              "fully masked row": ((2, 2, 3, 50), None),
              "long row": ((2, 3, 4, 1025), (2, 1, 1, 1025))}
    shape, bias_shape = shapes[case]
    bias = _masked_rows(dtype) if bias_shape is None else RNG.standard_normal(bias_shape)
    s, b = device(3 * RNG.standard_normal(shape), dtype), device(bias, dtype)
    if case == "non-contiguous":
        s, b = _noncontiguous(s, b)
    if case == "negative-stride bias":
        b = b[..., ::-1]
    assert attention_softmax.forward.kernel_applies(s, b)
    y = attention_softmax.forward(s, b)
    close("forward", y, attention_softmax.reference_forward(host64(s), host64(b)), dtype)
    g = device(RNG.standard_normal(y.shape), dtype)
    assert attention_softmax.backward.kernel_applies(y, g)
    close("backward", attention_softmax.backward(y, g),
          attention_softmax.reference_backward(host64(y), host64(g)), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, view", [((5, 1), None), ((7,), None), ((3, 4097), None),
                                         ((1025, 64), None), ((2, 3, 33), None),
                                         ((64, 96), "every other column")])
def test_rms_norm_edges_check_each_output(shape, view, dtype):
    x = device(RNG.standard_normal(shape), dtype)
    if view:
        x = x[:, ::2]
    w, g = device(RNG.standard_normal(x.shape[-1:]), dtype), device(RNG.standard_normal(x.shape),
                                                                     dtype)
    assert rms_norm.forward.kernel_applies(x, w) and rms_norm.backward.kernel_applies(g, x, w, 0)
    y, rstd = rms_norm.forward(x, w, 1e-6)
    ref_y, ref_r = rms_norm.reference_forward(host64(x), host64(w), 1e-6)
    close("y", y, ref_y, dtype)
    close("rstd", rstd, ref_r, dtype)
    dx, dw = rms_norm.backward(g, x, w, rstd)
    ref_dx, ref_dw = rms_norm.reference_backward(host64(g), host64(x), host64(w), host64(rstd))
    # d = 1: dx is 0 up to rounding (the output is +-w whatever x): measure it against its terms
    terms = float((np.abs(host64(rstd))[..., None] * np.abs(host64(g) * host64(w))).max())
    close("dx", dx, ref_dx, dtype, scale=terms if x.shape[-1] == 1 else None)
    close("dweight", dw, ref_dw, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rows, vocab, labels", [
    (4, 1, [0, -100, 0, 0]),                           # V = 1
    (5, 300, [-100] * 5),                              # every row ignored
    (6, 1000, [0, 999, -100, 999, 0, 5]),              # the first and the last class
    (9, 31, None)])
def test_cross_entropy_edges_check_each_output(rows, vocab, labels, dtype):
    import cupy
    z_h = 4 * RNG.standard_normal((rows, vocab))
    labels = RNG.integers(0, vocab, rows) if labels is None else np.asarray(labels)
    z, y = device(z_h, dtype), cupy.asarray(labels, dtype=cupy.int64)
    assert cross_entropy.forward.kernel_applies(z, y)
    loss, lse = cross_entropy.forward(z, y)
    ref_loss, ref_lse = cross_entropy.reference_forward(host64(z), labels)
    close("lse", lse, ref_lse, dtype)
    close("loss", loss, ref_loss, dtype, scale=float(np.abs(ref_lse).max()))
    dz = cross_entropy.backward(z, y, lse, cupy.asarray(0.37, dtype=dtype))
    close("dlogits", dz, cross_entropy.reference_backward(host64(z), labels, host64(lse), 0.37),
          dtype, scale=0.37)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(33,), (4001,), (2, 3, 5), (4097, 4096)])
def test_gated_gelu_edges_check_each_output(shape, dtype):
    """(4097, 4096) is 16,781,312 elements: more than 65536 blocks of 256 threads, so each
    thread loops (grid stride)."""
    a_h = np.linspace(-30, 30, int(np.prod(shape))).reshape(shape) if len(shape) == 1 \
        else RNG.standard_normal(shape)
    a, b = device(a_h, dtype), device(RNG.standard_normal(shape), dtype)
    g = device(RNG.standard_normal(shape), dtype)
    assert gated_gelu.forward.kernel_applies(a, b) and gated_gelu.backward.kernel_applies(g, a, b)
    if a.size > gated_gelu.MAX_BLOCKS * gated_gelu.THREADS:
        assert gated_gelu._grid(a.size) == gated_gelu.MAX_BLOCKS
    close("h", gated_gelu.forward(a, b), gated_gelu.reference_forward(host64(a), host64(b)),
          dtype)
    da, db = gated_gelu.backward(g, a, b)
    ref_da, ref_db = gated_gelu.reference_backward(host64(g), host64(a), host64(b))
    close("da", da, ref_da, dtype)
    close("db", db, ref_db, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n, m", [(1500, 64), (700, 1000), (3, 5)])
def test_adafactor_several_rows_per_block_check_each_state(n, m, dtype):
    """n > PARTIAL_BLOCKS: blocks loop over rows; n * m > MAX_BLOCKS * THREADS: the update
    kernels loop too."""
    import cupy
    param_h, grad_h = RNG.standard_normal((n, m)), RNG.standard_normal((n, m))
    row_h, col_h = RNG.random(n) + 0.5, RNG.random(m) + 0.5
    param, grad = device(param_h, dtype), device(grad_h, dtype)
    row, col = device(row_h, dtype), device(col_h, dtype)
    # The reference in the kernel's dtype, on the host: X - decay X - U rounds like the kernel,
    # so the step taken can be compared with the step's own size, not the weight's.
    start = to_numpy(param).copy()
    ref = [to_numpy(a).copy() for a in (param, row, col)]
    args = (0.01, 0.9, 1e-30, 1.0, 0.1)                 # lr, beta2t, eps1, clip, weight decay
    assert adafactor_update.update.kernel_applies(param, grad, row, col, *args)
    adafactor_update.update(param, grad, row, col, *args)
    cupy.cuda.Device().synchronize()
    adafactor_update.reference_update(ref[0], to_numpy(grad), ref[1], ref[2], *args)
    close("row state", row, ref[1], dtype)
    close("column state", col, ref[2], dtype)
    close("weight step", host64(param) - start, ref[0].astype(np.float64) - start, dtype)
