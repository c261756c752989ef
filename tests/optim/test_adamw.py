"""AdamW: PyTorch's decoupled weight decay, checked by hand and (live) against torch."""
import numpy as np
import pytest

from minit5.nn import Parameter
from minit5.optim import AdamW


def adamw_by_hand(x, grads, lr, beta1, beta2, eps, wd):
    """Loshchilov & Hutter's AdamW as PyTorch writes it, one line per equation."""
    m, v = np.zeros_like(x), np.zeros_like(x)
    for t, g in enumerate(grads, start=1):
        x = x * (1 - lr * wd)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat_scale = 1 / (1 - beta1 ** t)
        v_hat_sqrt = np.sqrt(v) / np.sqrt(1 - beta2 ** t)
        x = x - lr * m_hat_scale * m / (v_hat_sqrt + eps)
    return x, m, v


def test_matches_the_hand_computation():
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((4, 3))
    grads = [rng.standard_normal((4, 3)) for _ in range(5)]
    p = Parameter(x0.copy())
    opt = AdamW([p], lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)
    for g in grads:
        p.grad = g
        opt.step()
    x, m, v = adamw_by_hand(x0, grads, 0.01, 0.8, 0.99, 1e-6, 0.1)
    np.testing.assert_allclose(p.data, x, rtol=1e-13)
    np.testing.assert_allclose(opt.state[0]["exp_avg"], m, rtol=1e-13)
    np.testing.assert_allclose(opt.state[0]["exp_avg_sq"], v, rtol=1e-13)
    assert opt.state[0]["step"] == 5


def test_first_step_moves_every_weight_by_about_lr():
    """Bias correction: M_1 / sqrt(V_1) = g / |g|, so the first step is lr * sign(g)."""
    p = Parameter(np.zeros(4))
    p.grad = np.array([1e-3, -5.0, 2.0, -1e2])
    AdamW([p], lr=0.1, eps=0.0).step()
    np.testing.assert_allclose(p.data, -0.1 * np.sign(p.grad), rtol=1e-14)


def test_weight_decay_is_decoupled_from_the_gradient():
    """With a zero gradient only the decay acts: X <- X (1 - lr wd)."""
    p = Parameter(np.array([2.0, -4.0]))
    opt = AdamW([p], lr=0.1, weight_decay=0.5)
    for _ in range(3):
        p.grad = np.zeros(2)
        opt.step()
    np.testing.assert_allclose(p.data, np.array([2.0, -4.0]) * 0.95 ** 3, rtol=1e-14)


def test_state_dict_round_trip_resumes_bit_exactly(tmp_path):
    rng = np.random.default_rng(1)
    x0 = [rng.standard_normal(s).astype(np.float32) for s in [(5, 3), (7,)]]
    grads = [[rng.standard_normal(x.shape).astype(np.float32) for x in x0] for _ in range(6)]

    def steps(opt, params, grads):
        for step in grads:
            for p, g in zip(params, step):
                p.grad = g
            opt.step()

    straight = [Parameter(x.copy()) for x in x0]
    steps(AdamW(straight, weight_decay=0.01), straight, grads)
    first = [Parameter(x.copy()) for x in x0]
    opt = AdamW(first, weight_decay=0.01)
    steps(opt, first, grads[:3])
    np.savez(tmp_path / "adamw.npz", **opt.state_dict())
    resumed = [Parameter(p.data.copy()) for p in first]
    opt2 = AdamW(resumed, weight_decay=0.01)
    with np.load(tmp_path / "adamw.npz") as saved:
        opt2.load_state_dict(saved)
    steps(opt2, resumed, grads[3:])
    for a, b in zip(straight, resumed):
        assert np.array_equal(a.data, b.data)


@pytest.mark.parametrize("kwargs, match", [
    ({"lr": -1.0}, "lr"), ({"betas": (0.9, 1.0)}, "betas"), ({"eps": -1.0}, "eps"),
    ({"weight_decay": -0.1}, "weight_decay"),
])
def test_bad_options_raise_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AdamW([Parameter(np.ones(2))], **kwargs)


@pytest.mark.golden_live
def test_matches_torch_adamw_live():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    shapes = [(6, 5), (3,)]
    x0 = [rng.standard_normal(s) for s in shapes]
    grads = [[rng.standard_normal(s) for s in shapes] for _ in range(20)]
    ours = [Parameter(x.copy()) for x in x0]
    theirs = [torch.nn.Parameter(torch.tensor(x)) for x in x0]
    opt = AdamW(ours, lr=3e-3, betas=(0.9, 0.98), eps=1e-7, weight_decay=0.05)
    topt = torch.optim.AdamW(theirs, lr=3e-3, betas=(0.9, 0.98), eps=1e-7, weight_decay=0.05)
    for step in grads:
        for p, q, g in zip(ours, theirs, step):
            p.grad, q.grad = g, torch.tensor(g)
        opt.step()
        topt.step()
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-12)
