"""Each CUDA kernel equals its NumPy reference on the GPU (marker `gpu`: skipped without one):
float32 to ~1e-5 and float64 to ~1e-12 relative to the largest value, on the kernel path (each
test asserts the entry point really takes it), at small, ragged and T5-sized shapes.
"""
import dataclasses

import numpy as np
import pytest

from minit5 import backend
from minit5 import functional as F
from minit5.autograd import Tensor
from minit5.backend import to_numpy
from minit5.kernels import adafactor_update, attention_softmax, cross_entropy, gated_gelu, rms_norm

GPU_TOLERANCE = {np.float32: 1e-5, np.float64: 1e-12}


def close_on_gpu(actual, expected, dtype, name):
    """max |actual - expected| / max |expected| within the dtype's bound."""
    a, e = to_numpy(actual).astype(np.float64), to_numpy(expected).astype(np.float64)
    assert a.shape == e.shape, f"{name}: shape {a.shape} vs {e.shape}"
    error = float(np.abs(a - e).max() / max(np.abs(e).max(), 1e-30))
    assert error <= GPU_TOLERANCE[dtype], f"{name} ({np.dtype(dtype)}): relative error {error:.2e}"


def on_gpu(dtype, seed=0):
    """A function making random CuPy arrays of `dtype`: draw(shape, scale=1.0)."""
    import cupy
    rng = np.random.default_rng(seed)
    return lambda shape, scale=1.0: cupy.asarray(rng.standard_normal(shape) * scale, dtype=dtype)


DTYPES = [np.float32, np.float64]


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, bias_shape", [
    ((2, 8, 64, 64), (1, 8, 64, 64)),          # self-attention, bias shared by the batch
    ((2, 6, 37, 300), (2, 1, 1, 300)),         # cross-attention mask; row longer than a block
    ((3, 4, 1, 17), (1, 4, 1, 17)),            # one decoding step with a cache
])
def test_attention_softmax_kernel(shape, bias_shape, dtype):
    draw = on_gpu(dtype)
    scores, bias = draw(shape, 3.0), draw(bias_shape)
    bias[..., ::5] = np.finfo(dtype).min                                     # masked keys
    assert attention_softmax.forward.kernel_applies(scores, bias)
    y = attention_softmax.forward(scores, bias)
    close_on_gpu(y, attention_softmax.reference_forward(scores, bias), dtype, "forward")
    g = draw(shape)
    close_on_gpu(attention_softmax.backward(y, g), attention_softmax.reference_backward(y, g),
                 dtype, "backward")


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 37, 512), (3, 768), (1000, 64), (2, 5)])
def test_rms_norm_kernel(shape, dtype):
    draw = on_gpu(dtype)
    x, w, g = draw(shape), draw(shape[-1:]), draw(shape)
    assert rms_norm.forward.kernel_applies(x, w)
    y, rstd = rms_norm.forward(x, w, 1e-6)
    ref_y, ref_rstd = rms_norm.reference_forward(x, w, 1e-6)
    close_on_gpu(y, ref_y, dtype, "y")
    close_on_gpu(rstd, ref_rstd, dtype, "rstd")
    for got, ref, name in zip(rms_norm.backward(g, x, w, rstd),
                              rms_norm.reference_backward(g, x, w, rstd), ("dx", "dweight")):
        close_on_gpu(got, ref, dtype, name)


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rows, vocab", [(64, 32128), (7, 100), (300, 1000)])
def test_cross_entropy_kernel(rows, vocab, dtype):
    import cupy
    draw = on_gpu(dtype)
    z = draw((rows, vocab), 4.0)
    labels = cupy.asarray(np.random.default_rng(1).integers(0, vocab, rows))
    labels[::4] = -100
    assert cross_entropy.forward.kernel_applies(z, labels)
    loss, lse = cross_entropy.forward(z, labels)
    ref_loss, ref_lse = cross_entropy.reference_forward(z, labels)
    close_on_gpu(loss, ref_loss, dtype, "loss")
    close_on_gpu(lse, ref_lse, dtype, "lse")
    scale = cupy.asarray(0.25, dtype=dtype)
    close_on_gpu(cross_entropy.backward(z, labels, lse, scale),
                 cross_entropy.reference_backward(z, labels, lse, scale), dtype, "dlogits")


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 37, 1024), (3, 5), (70001,)])
def test_gated_gelu_kernel(shape, dtype):
    draw = on_gpu(dtype)
    a, b, g = draw(shape, 3.0), draw(shape), draw(shape)
    assert gated_gelu.forward.kernel_applies(a, b)
    close_on_gpu(gated_gelu.forward(a, b), gated_gelu.reference_forward(a, b), dtype, "h")
    for got, ref, name in zip(gated_gelu.backward(g, a, b),
                              gated_gelu.reference_backward(g, a, b), ("da", "db")):
        close_on_gpu(got, ref, dtype, name)


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, weight_decay", [((512, 2048), 0.0), ((300, 130), 0.1),
                                                 ((1, 3), 0.0)])
def test_adafactor_update_kernel(shape, weight_decay, dtype):
    import cupy
    draw = on_gpu(dtype)
    param, grad = draw(shape), draw(shape, 5.0)
    row, col = cupy.abs(draw(shape[:1])), cupy.abs(draw(shape[1:]))
    lr = cupy.asarray(0.02, dtype=dtype)
    ours = [param.copy(), row.copy(), col.copy()]
    ref = [param.copy(), row.copy(), col.copy()]
    assert adafactor_update.update.kernel_applies(ours[0], grad, ours[1], ours[2])
    adafactor_update.update(*ours[:1], grad, *ours[1:], lr, 0.3, 1e-30, 1.0, weight_decay)
    adafactor_update.reference_update(*ref[:1], grad, *ref[1:], lr, 0.3, 1e-30, 1.0,
                                      weight_decay)
    close_on_gpu(ours[0] - param, ref[0] - param, dtype, "step")
    close_on_gpu(ours[1], ref[1], dtype, "row state")
    close_on_gpu(ours[2], ref[2], dtype, "column state")


@pytest.mark.gpu
def test_minit5_kernels_0_switches_the_kernels_off(monkeypatch):
    """The same Function either way; only whether its entry point launches a kernel changes."""
    import cupy
    x = Tensor(cupy.ones((2, 3), dtype=np.float32), requires_grad=True)
    w = Tensor(cupy.ones(3, dtype=np.float32), requires_grad=True)
    launches = []
    launch = rms_norm.CUDA.launch
    monkeypatch.setattr(rms_norm.CUDA, "launch",
                        lambda kernel, *args: launches.append(kernel) or launch(kernel, *args))
    assert isinstance(F.rms_norm(x, w).creator, F.RMSNorm) and launches == ["rms_norm_forward"]
    monkeypatch.setattr(backend, "SWITCHES", dataclasses.replace(backend.SWITCHES, kernels=False))
    assert isinstance(F.rms_norm(x, w).creator, F.RMSNorm) and len(launches) == 1
