"""The fused kernels (minit5/kernels) on the CPU, checked before anything times them.

Each kernel file's NumPy reference equals an independent composition of autograd ops (or
Adafactor's step), forward and backward, in float64 on hypothesis shapes; the fused Functions
(the ones the model runs on every device) pass grad_check with the references behind them;
every CUDA source compiles with NVRTC (skipped where NVRTC cannot be loaded). The kernels
themselves are checked against the references in test_kernels_gpu.py and, emulated on the CPU,
in test_kernels_emulated.py.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minit5 import functional as F
from minit5 import kernels
from minit5.autograd import Tensor
from minit5.autograd.ops import unbroadcast
from minit5.kernels import (
    adafactor_update,
    attention_softmax,
    cross_entropy,
    gated_gelu,
    rms_norm,
)
from minit5.nn import Parameter
from minit5.optim import Adafactor
from minit5.testing import assert_close, grad_check
from tests.strategies import arrays

TIGHT = {"rtol": 1e-12, "atol": 1e-15}


def leaf(x):
    return Tensor(x, requires_grad=True)


@st.composite
def attention_inputs(draw):
    """scores (B, H, Q, L), a bias that broadcasts to them (axes of 1), an output gradient."""
    shape = tuple(draw(st.integers(1, 4)) for _ in range(3)) + (draw(st.integers(1, 6)),)
    bias_shape = tuple(n if draw(st.booleans()) else 1 for n in shape[:3]) + shape[3:]
    bias = draw(arrays(bias_shape, layout=False))
    if draw(st.booleans()):   # mask some keys with the dtype's most negative value
        bias = np.where(draw(arrays(bias_shape, layout=False)) > 1.5, np.finfo(bias.dtype).min,
                        bias)
    return draw(arrays(shape)), bias, draw(arrays(shape))


# ---- CPU: references == composed autograd ops ------------------------------------------------
def composed_rms_norm(x, w, eps=1e-6):
    return w * (x * ((x * x).mean(axis=-1, keepdims=True) + eps).rsqrt())


def composed_cross_entropy(z, labels):
    """Mean over counted rows of lse - z[label], from elementary ops."""
    counted = labels != -100
    rows = np.arange(z.shape[0])[counted]
    m = Tensor(z.data.max(axis=1, keepdims=True))
    lse = m + (z - m).exp().sum(axis=1, keepdims=True).log()              # (N, 1)
    return (lse[rows, 0] - z[rows, labels[counted]]).sum() / max(int(counted.sum()), 1)


@given(attention_inputs())
def test_attention_softmax_reference_matches_functional(inputs):
    s, b, g = inputs
    scores, bias = leaf(s), leaf(b)
    y = F.softmax(scores + bias, axis=-1)
    y.backward(g)
    ref = attention_softmax.reference_forward(s, b)
    dx = attention_softmax.reference_backward(ref, g)
    assert_close(ref, y, **TIGHT, name="forward")
    assert_close(dx, scores.grad, **TIGHT, name="d scores")
    assert_close(unbroadcast(dx, b.shape), bias.grad, **TIGHT, name="d bias")


@given(st.data())
def test_rms_norm_reference_matches_functional(data):
    x = data.draw(arrays(st.tuples(st.integers(1, 4), st.integers(1, 6))))
    w, g = data.draw(arrays((x.shape[-1],))), data.draw(arrays(x.shape))
    xt, wt = leaf(x), leaf(w)
    y = composed_rms_norm(xt, wt)
    y.backward(g)
    ref, rstd = rms_norm.reference_forward(x, w, 1e-6)
    gx, gw = rms_norm.reference_backward(g, x, w, rstd)
    assert rstd.shape == x.shape[:-1]
    assert_close(ref, y, **TIGHT, name="forward")
    # dx is a difference of two terms of the size of g * w / rms, which can cancel: an absolute
    # floor of 1e-12 of that size, as two orders of summation differ by a few ulps of it
    scale = float(np.abs(g).max() * np.abs(w).max() * rstd.max()) + 1.0
    assert_close(gx, xt.grad, rtol=1e-12, atol=1e-12 * scale, name="dx")
    assert_close(gw, wt.grad, **TIGHT, name="dweight")


@given(st.data())
def test_cross_entropy_reference_matches_functional(data):
    n, v = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 7))
    z = data.draw(arrays((n, v)))
    labels = np.array(data.draw(st.lists(st.integers(-1, v - 1), min_size=n, max_size=n)))
    labels[labels == -1] = -100
    counted = int((labels != -100).sum())
    zt = leaf(z)
    loss = composed_cross_entropy(zt, labels)
    rows, lse = cross_entropy.reference_forward(z, labels)
    if counted:
        loss.backward()
        assert_close(rows.sum() / counted, loss, **TIGHT, name="loss")
        grad = cross_entropy.reference_backward(z, labels, lse, 1.0 / counted)
        assert_close(grad, zt.grad, **TIGHT, name="dlogits")
    else:
        assert np.isnan(F.cross_entropy(zt, labels).item()) and not rows.any()


@given(st.data())
def test_gated_gelu_reference_matches_functional(data):
    a = data.draw(arrays(st.tuples(st.integers(1, 4), st.integers(1, 6))))
    b, g = data.draw(arrays(a.shape)), data.draw(arrays(a.shape))
    at, bt = leaf(a), leaf(b)
    h = F.gelu_new(at) * bt
    h.backward(g)
    da, db = gated_gelu.reference_backward(g, a, b)
    assert_close(gated_gelu.reference_forward(a, b), h, **TIGHT, name="forward")
    assert_close(da, at.grad, **TIGHT, name="da")
    assert_close(db, bt.grad, **TIGHT, name="db")


@pytest.mark.parametrize("options", [
    {},                                                       # T5: relative step, scaled
    {"lr": 1e-3, "relative_step": False, "scale_parameter": False},
    {"lr": 1e-2, "relative_step": False, "weight_decay": 0.1, "clip_threshold": 0.5},
])
def test_adafactor_reference_matches_the_optimizer(options):
    """The optimizer steps a factored 2-D weight exactly as reference_update applied by hand
    with Algorithm 4's step size and decay: same arguments in the same order, same maths."""
    rng = np.random.default_rng(0)
    start = rng.standard_normal((6, 5))
    grads = [rng.standard_normal((6, 5)) * s for s in (1.0, 3.0, 0.1)]

    p = Parameter(start.copy())
    opt = Adafactor([p], min_dim_size_to_factor=0, **options)
    for g in grads:
        p.grad = g.copy()
        opt.step()

    weight, row, col = start.copy(), np.zeros(6), np.zeros(5)
    for t, g in enumerate(grads, start=1):
        rho = options.get("lr") or min(1e-2, 1.0 / np.sqrt(t))
        if options.get("scale_parameter", True):
            rho = max(1e-3, np.sqrt(np.mean(weight * weight))) * rho
        adafactor_update.reference_update(weight, g, row, col, rho, 1.0 - t ** -0.8, 1e-30,
                                          options.get("clip_threshold", 1.0),
                                          options.get("weight_decay", 0.0))
    assert_close(p.data, weight, **TIGHT, name="weight")
    for name, by_hand in (("exp_avg_sq_row", row), ("exp_avg_sq_col", col)):
        assert_close(opt.state[0][name], by_hand, **TIGHT, name=name)


# ---- CPU: the fused Functions (references behind them) pass grad_check ----------------------
@given(attention_inputs())
def test_fused_attention_softmax_function_gradients(inputs):
    s, b, _ = inputs
    grad_check(lambda x, y: F.AttentionSoftmax.apply(x, y), s, np.maximum(b, -1e3))


@given(st.data())
def test_fused_functions_gradients(data):
    x = data.draw(arrays(st.tuples(st.integers(1, 3), st.integers(1, 5))))
    w, b = data.draw(arrays((x.shape[-1],))), data.draw(arrays(x.shape))
    grad_check(lambda x, w: F.RMSNorm.apply(x, w, eps=1e-6), x, w)
    grad_check(lambda a, b: F.GatedGelu.apply(a, b), x, b)
    labels = np.arange(x.shape[0]) % x.shape[1]
    if len(labels) > 1:
        labels[-1] = -100     # an ignored row
    grad_check(lambda z: F.CrossEntropy.apply(z, labels), x)


def test_kernel_entry_points_fall_back_to_the_reference_on_numpy():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4))
    assert not kernels.use_kernels(x) and not kernels.use_kernels(Tensor(x))
    assert np.array_equal(rms_norm.forward(x, x[0])[0], rms_norm.reference_forward(x, x[0])[0])
    assert np.array_equal(gated_gelu.forward(x, x), gated_gelu.reference_forward(x, x))
    with pytest.raises(ValueError, match=r"label 4 at position \(1,\) is outside \[0, 4\)"):
        F.cross_entropy(x, np.array([0, 4, -100]))


def test_cross_entropy_label_check_allows_ignored_rows():
    loss, _ = cross_entropy.forward(np.zeros((2, 3)), np.array([-100, 2]))
    assert loss[0] == 0 and loss[1] == pytest.approx(np.log(3))
