"""Global-norm gradient clipping, like torch.nn.utils.clip_grad_norm_."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minit5.nn import Parameter
from minit5.optim import clip_grad_norm
from tests import strategies as ts


def with_grads(*grads):
    params = []
    for g in grads:
        p = Parameter(np.zeros(np.shape(g)) if g is not None else np.zeros(2))
        p.grad = None if g is None else np.array(g, dtype=np.float64)
        params.append(p)
    return params


def test_small_gradients_are_left_alone():
    params = with_grads([0.3, 0.4], None)
    assert clip_grad_norm(params, 1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(params[0].grad, [0.3, 0.4])
    assert params[1].grad is None


def test_large_gradients_are_scaled_to_max_norm_as_one_vector():
    params = with_grads([3.0, 0.0], [[0.0], [4.0]])     # global norm 5 across two tensors
    total = clip_grad_norm(params, 1.0)
    assert total == pytest.approx(5.0)                   # the norm before clipping
    np.testing.assert_allclose(params[0].grad, [3 / (5 + 1e-6), 0.0])
    np.testing.assert_allclose(params[1].grad, [[0.0], [4 / (5 + 1e-6)]])


def test_no_gradients_gives_zero():
    assert clip_grad_norm(with_grads(None), 1.0) == 0.0


def test_non_finite_norm_is_returned_and_gradients_are_untouched():
    params = with_grads([np.inf, 1.0])
    assert clip_grad_norm(params, 1.0) == np.inf
    np.testing.assert_array_equal(params[0].grad, [np.inf, 1.0])


def test_max_norm_must_be_positive():
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm(with_grads([1.0]), 0.0)


@given(shape=ts.shapes(min_dims=1), max_norm=st.floats(0.01, 10.0), data=st.data())
def test_after_clipping_the_norm_is_at_most_max_norm(shape, max_norm, data):
    g = data.draw(ts.arrays(shape)) * 10.0
    params = with_grads(g, -2.0 * g)
    total = clip_grad_norm(params, max_norm)
    np.testing.assert_allclose(total, np.sqrt(5.0) * np.linalg.norm(g), rtol=1e-12, atol=1e-300)
    after = np.sqrt(sum(np.sum(p.grad ** 2) for p in params))
    assert after <= max_norm * (1 + 1e-12)
    np.testing.assert_allclose(params[1].grad, -2.0 * params[0].grad, rtol=1e-15)   # direction


@pytest.mark.golden_live
def test_matches_torch_live():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(s) for s in [(5, 3), (7,), (2, 2, 2)]]
    ours = with_grads(*grads)
    theirs = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads]
    for q, g in zip(theirs, grads):
        q.grad = torch.tensor(g)
    total = clip_grad_norm(ours, 1.5)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, 1.5)
    assert total == pytest.approx(float(ttotal), rel=1e-14)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-14)
