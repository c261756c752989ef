"""The CUDA kernels, run on the CPU by tests/kernels/cuda_emulator.py, equal their references.

These execute the real kernel sources and the real entry points (argument preparation,
broadcast strides, partial sums, grid sizes) with every CUDA thread a host thread, so an
indexing slip, a missing barrier or a wrong launch shape fails here, on a machine with no GPU.
They need g++ (C++20) and skip without it. Shapes are small but cover rows shorter than a warp,
rows longer than a block (threads loop), broadcast biases, ignored labels and several rows per
block. Tolerances: float32 within a few ulps (relative 1e-5), float64 1e-12.
"""
import numpy as np
import pytest

from minit5 import kernels
from minit5.kernels import adafactor_update, attention_softmax, cross_entropy, gated_gelu, rms_norm
from tests.kernels import cuda_emulator

TOLERANCE = {np.float32: 1e-5, np.float64: 1e-12}
DTYPES = [np.float32, np.float64]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    reason = cuda_emulator.available()
    if reason:
        pytest.skip(f"CUDA emulator unavailable: {reason}")
    sources = [module.CUDA for module in kernels.KERNELS.values()]
    return cuda_emulator.Emulator(tmp_path_factory.mktemp("cuda_emulator"), sources)


@pytest.fixture
def emulator(monkeypatch, compiled):
    """The kernels emulated, with small block caps so that few rows already make each block
    loop over several rows (rms_norm, adafactor) and grid-stride loops go round."""
    monkeypatch.setattr(rms_norm, "PARTIAL_BLOCKS", 3)
    monkeypatch.setattr(adafactor_update, "PARTIAL_BLOCKS", 3)
    monkeypatch.setattr(adafactor_update, "MAX_BLOCKS", 2)
    monkeypatch.setattr(gated_gelu, "MAX_BLOCKS", 2)
    return cuda_emulator.install(monkeypatch, compiled)


def close(actual, expected, dtype, name, bound=None):
    """max |actual - expected| / max |expected| <= bound (the dtype's TOLERANCE by default)."""
    assert actual.shape == expected.shape, f"{name}: shape {actual.shape} vs {expected.shape}"
    a, e = actual.astype(np.float64), expected.astype(np.float64)
    error = float(np.abs(a - e).max() / max(np.abs(e).max(), 1e-30))
    bound = TOLERANCE[dtype] if bound is None else bound
    assert error <= bound, f"{name} ({np.dtype(dtype)}): relative error {error:.2e} > {bound:g}"


def draw(dtype, seed=0):
    rng = np.random.default_rng(seed)
    return lambda *shape, scale=1.0: np.asarray(rng.standard_normal(shape) * scale, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, bias_shape", [
    ((2, 3, 4, 5), (1, 3, 4, 5)), ((2, 1, 3, 300), (2, 1, 1, 300)),
    ((1, 1, 2, 33), (1, 1, 2, 1)), ((2, 4, 1, 7), (4, 1, 7)), ((5, 17), (17,))])
def test_attention_softmax(emulator, shape, bias_shape, dtype):
    rand = draw(dtype)
    scores, bias, g = rand(*shape, scale=3.0), rand(*bias_shape), rand(*shape)
    bias.reshape(-1)[::3] = np.finfo(dtype).min                              # masked keys
    y = attention_softmax.forward(scores, bias)
    close(y, attention_softmax.reference_forward(scores, bias), dtype, "forward")
    close(attention_softmax.backward(y, g), attention_softmax.reference_backward(y, g), dtype,
          "backward")
    transposed = rand(*shape[:-2], shape[-1], shape[-2]).swapaxes(-1, -2)    # not contiguous
    if transposed.shape == scores.shape:
        close(attention_softmax.forward(transposed, bias),
              attention_softmax.reference_forward(transposed, bias), dtype, "transposed")
    assert {k for k, _, _ in emulator.launches} == {"attention_softmax_forward",
                                                    "attention_softmax_backward"}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 7), (3, 2, 300), (20, 8), (3, 1)])
def test_rms_norm(emulator, shape, dtype):
    rand = draw(dtype)
    x, w, g = rand(*shape), rand(shape[-1]), rand(*shape)
    y, rstd = rms_norm.forward(x, w)
    ref_y, ref_rstd = rms_norm.reference_forward(x, w)
    close(y, ref_y, dtype, "y")
    close(rstd, ref_rstd, dtype, "rstd")
    for got, ref, name in zip(rms_norm.backward(g, x, w, rstd),
                              rms_norm.reference_backward(g, x, w, ref_rstd), ("dx", "dweight")):
        close(got, ref, dtype, name)
    assert len(emulator.launches) == 2


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rows, vocab", [(5, 7), (4, 600), (3, 32)])
def test_cross_entropy(emulator, rows, vocab, dtype):
    z = draw(dtype)(rows, vocab, scale=4.0)
    labels = np.random.default_rng(1).integers(0, vocab, rows)
    labels[::3] = -100
    loss, lse = cross_entropy.forward(z, labels)
    ref_loss, ref_lse = cross_entropy.reference_forward(z, labels)
    close(loss, ref_loss, dtype, "loss")
    close(lse, ref_lse, dtype, "lse")
    for scale in (np.asarray(0.37, dtype=dtype), 0.5):
        close(cross_entropy.backward(z, labels, lse, scale),
              cross_entropy.reference_backward(z, labels, ref_lse, scale), dtype, "dlogits")
    assert len(emulator.launches) == 3


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 4), (2, 5, 130), (1,), ()])   # 1300 > 2 blocks x 256
def test_gated_gelu(emulator, shape, dtype):
    rand = draw(dtype)
    a, b, g = rand(*shape, scale=3.0), rand(*shape), rand(*shape)
    close(gated_gelu.forward(a, b), gated_gelu.reference_forward(a, b), dtype, "h")
    for got, ref, name in zip(gated_gelu.backward(g, a, b),
                              gated_gelu.reference_backward(g, a, b), ("da", "db")):
        close(got, ref, dtype, name)
    assert len(emulator.launches) == 2


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, weight_decay, lr", [((5, 7), 0.0, 1e-2), ((30, 40), 0.1, 3e-3),
                                                     ((60, 3), 0.0, "device"), ((1, 3), 0.0, 1e-3)])
def test_adafactor_update(emulator, shape, weight_decay, lr, dtype):
    rand = draw(dtype)
    param, grad = rand(*shape), rand(*shape, scale=5.0)
    row, col = np.abs(rand(shape[0])), np.abs(rand(shape[1]))
    lr = np.asarray(0.02, dtype=dtype) if lr == "device" else lr
    ours, ref = [param.copy(), row.copy(), col.copy()], [param.copy(), row.copy(), col.copy()]
    adafactor_update.update(ours[0], grad, ours[1], ours[2], lr, 0.3, 1e-30, 1.0, weight_decay)
    adafactor_update.reference_update(ref[0], grad, ref[1], ref[2], lr, 0.3, 1e-30, 1.0,
                                      weight_decay)
    # the step is ~1e-2 of the weight: float32 rounding of the weight is ~1e-5 of the step
    close(ours[0] - param, ref[0] - param, dtype, "step", 1e-4 if dtype == np.float32 else None)
    close(ours[1], ref[1], dtype, "row state")
    close(ours[2], ref[2], dtype, "column state")
    assert [k for k, _, _ in emulator.launches] == ["adafactor_factored_stats",
                                                    "adafactor_update_sumsq", "adafactor_apply"]
