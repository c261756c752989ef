"""Adafactor: the factoring rule, the state it keeps, the update by hand, options, checkpoints."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minit5.backend import gpu_available
from minit5.nn import Parameter
from minit5.optim import Adafactor, factored_axes
from tests import strategies as ts


def param(values, dtype=np.float64):
    return Parameter(np.array(values, dtype=dtype))


def run(opt, grads_per_step):
    """Set each parameter's grad from the list for that step, then step."""
    for grads in grads_per_step:
        for p, g in zip(opt.params, grads):
            p.grad = None if g is None else np.array(g, dtype=p.data.dtype)
        opt.step()


# ---- which tensors are factored ----------------------------------------------------------
@pytest.mark.parametrize("shape, min_dim, expected", [
    ((7,), 128, None),                 # a vector never is (Algorithm 5)
    ((7,), 0, None),
    ((512, 64), 128, None),            # second largest 64 < 128: full second moment
    ((512, 64), 0, (0, 1)),            # transformers' rule: every matrix
    ((256, 512), 128, (0, 1)),
    ((128, 128), 128, (0, 1)),         # ">= 128", not "> 128"
    ((32, 8), 128, None),              # T5's relative_attention_bias
    ((32128, 512), 128, (0, 1)),       # the shared embedding
    ((130, 3), 128, None),
    ((2, 3, 4), 0, (1, 2)),            # transformers: the last two axes, whatever their size
    ((200, 3, 300), 128, (0, 2)),      # T5/mesh: the two largest, wherever they are
    ((200, 3, 300), 0, (1, 2)),
    ((4, 4, 4), 1, (1, 2)),            # ties go to the later axes
    ((300, 200, 3), 128, (0, 1)),
])
def test_factoring_rule(shape, min_dim, expected):
    assert factored_axes(shape, min_dim) == expected


def test_factored_state_is_rows_plus_columns():
    p = Parameter(np.ones((256, 512), dtype=np.float32))
    opt = Adafactor([p])
    run(opt, [[np.full((256, 512), 0.1)]])
    state = opt.state[0]
    assert set(state) == {"step", "exp_avg_sq_row", "exp_avg_sq_col"}
    assert state["exp_avg_sq_row"].shape == (256,)        # one per row: n
    assert state["exp_avg_sq_col"].shape == (512,)        # one per column: m
    assert state["exp_avg_sq_row"].dtype == np.float32
    assert state["exp_avg_sq_row"].size + state["exp_avg_sq_col"].size == 256 + 512


def test_small_matrix_keeps_full_second_moment_unless_min_dim_is_zero():
    for min_dim, names in [(128, {"step", "exp_avg_sq"}),
                           (0, {"step", "exp_avg_sq_row", "exp_avg_sq_col"})]:
        p = Parameter(np.ones((512, 64)))
        opt = Adafactor([p], min_dim_size_to_factor=min_dim)
        run(opt, [[np.full((512, 64), 0.1)]])
        assert set(opt.state[0]) == names
    assert opt.state[0]["exp_avg_sq_row"].shape == (512,)
    assert opt.state[0]["exp_avg_sq_col"].shape == (64,)


def test_three_dim_tensor_factors_its_two_largest_axes():
    """(130, 3, 128): T5's rule factors axes 0 and 2; axis 1 is a batch axis in both states."""
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((130, 3, 128))
    grads = [rng.standard_normal((130, 3, 128)) for _ in range(4)]
    p = Parameter(x0.copy())
    opt = Adafactor([p])
    run(opt, [[g] for g in grads])
    assert opt.state[0]["exp_avg_sq_row"].shape == (130, 3)     # mean over axis 2
    assert opt.state[0]["exp_avg_sq_col"].shape == (3, 128)     # mean over axis 0

    # The same thing as transformers' last-two-axes math on the tensor with axis 1 moved first.
    q = Parameter(np.moveaxis(x0, 1, 0).copy())                  # (3, 130, 128)
    opt_hf = Adafactor([q], min_dim_size_to_factor=0)
    run(opt_hf, [[np.moveaxis(g, 1, 0)] for g in grads])
    np.testing.assert_allclose(np.moveaxis(q.data, 0, 1), p.data, rtol=1e-13, atol=0)


# ---- the update, by hand -----------------------------------------------------------------
def test_first_two_steps_by_hand_follow_algorithm_4():
    """Shazeer & Stern Alg. 4 written with sums, as in the paper; minit5 uses means."""
    rng = np.random.default_rng(1)
    x0 = rng.standard_normal((4, 3))
    g1, g2 = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    lr, eps1 = 0.05, 1e-30
    p = Parameter(x0.copy())
    opt = Adafactor([p], lr=lr, relative_step=False, scale_parameter=False,
                    min_dim_size_to_factor=0)

    def expected_step(x, g, r, c, t):
        beta2 = 1.0 - t ** -0.8                                   # 0 at t = 1
        r = beta2 * r + (1 - beta2) * (g ** 2 + eps1).sum(axis=1)  # (4,) row sums
        c = beta2 * c + (1 - beta2) * (g ** 2 + eps1).sum(axis=0)  # (3,) column sums
        v = np.outer(r, c) / r.sum()                               # (4, 3) rank one
        u = g / np.sqrt(v)
        u = u / max(1.0, np.sqrt(np.mean(u ** 2)))
        return x - lr * u, r, c

    x1, r, c = expected_step(x0, g1, np.zeros(4), np.zeros(3), 1)
    run(opt, [[g1]])
    np.testing.assert_allclose(p.data, x1, rtol=1e-14)
    x2, r, c = expected_step(x1, g2, r, c, 2)
    run(opt, [[g2]])
    np.testing.assert_allclose(p.data, x2, rtol=1e-14)
    # the stored states are the means: sums / (number of columns), / (number of rows)
    np.testing.assert_allclose(opt.state[0]["exp_avg_sq_row"], r / 3, rtol=1e-14)
    np.testing.assert_allclose(opt.state[0]["exp_avg_sq_col"], c / 4, rtol=1e-14)


def test_rank_one_gradient_gives_a_sign_update():
    """If G^2 is rank one the factored V is exact at t = 1 (beta2_1 = 0): U = sign(G)."""
    a, b = np.array([1.0, -2.0, 0.5]), np.array([3.0, 0.25, -1.0, 2.0])
    g = np.outer(a, b)
    p = Parameter(np.zeros((3, 4)))
    opt = Adafactor([p], lr=0.1, relative_step=False, scale_parameter=False,
                    min_dim_size_to_factor=0)
    run(opt, [[g]])
    np.testing.assert_allclose(p.data, -0.1 * np.sign(g), rtol=1e-14)


@pytest.mark.parametrize("warmup_init, scale_parameter, x0, expected_size", [
    (False, False, 5.0, 1e-2),            # rho_1 = min(1e-2, 1/sqrt(1))
    (True, False, 5.0, 1e-6),             # rho_1 = min(1e-6 * 1, 1)
    (False, True, 5.0, 5.0 * 1e-2),       # alpha = RMS(X) * rho
    (False, True, 0.0, 1e-3 * 1e-2),      # RMS(X) = 0 is floored at eps2 = 1e-3
])
def test_relative_step_size_and_parameter_scale(warmup_init, scale_parameter, x0,
                                                expected_size):
    p = Parameter(np.full(6, x0))
    opt = Adafactor([p], warmup_init=warmup_init, scale_parameter=scale_parameter)
    g = np.array([1.0, -2.0, 3.0, -0.5, 0.1, 4.0])
    run(opt, [[g]])                       # t = 1: V = G^2 + eps1, so U = sign(G)
    # x0 - X_1 loses the low bits of x0 = 5: compare to within a few units in its last place
    np.testing.assert_allclose(x0 - p.data, expected_size * np.sign(g), rtol=1e-13,
                               atol=4 * np.spacing(x0))


def test_relative_step_decays_as_inverse_sqrt_after_ten_thousand_steps():
    opt = Adafactor([param([1.0])])
    assert opt._relative_step_size(1) == 1e-2
    assert opt._relative_step_size(10_000) == 1e-2
    assert opt._relative_step_size(40_000) == pytest.approx(1 / 200)
    warm = Adafactor([param([1.0])], warmup_init=True)
    assert warm._relative_step_size(100) == pytest.approx(1e-4)


def test_weight_decay_is_applied_before_the_update_and_momentum_averages_it():
    x0, g = np.array([2.0, -1.0, 0.5]), np.array([0.3, -0.2, 0.4])
    lr, wd, beta1 = 0.1, 0.01, 0.9
    p = Parameter(x0.copy())
    opt = Adafactor([p], lr=lr, relative_step=False, scale_parameter=False, beta1=beta1,
                    weight_decay=wd)
    run(opt, [[g]])
    m1 = (1 - beta1) * lr * np.sign(g)                 # momentum of the lr-scaled update
    x1 = x0 - wd * lr * x0 - m1
    np.testing.assert_allclose(p.data, x1, rtol=1e-13)
    np.testing.assert_allclose(opt.state[0]["exp_avg"], m1, rtol=1e-13)


@given(shape=ts.shapes(min_dims=1, max_dims=3), scale=st.floats(1e-3, 1e3),
       clip=st.sampled_from([0.5, 1.0, 2.0]), data=st.data())
def test_update_rms_is_at_most_lr_times_clip_threshold(shape, scale, clip, data):
    """Update clipping: RMS(X_t - X_{t-1}) <= alpha_t * d, for any gradient and memory layout."""
    g1 = data.draw(ts.arrays(shape))
    g2 = data.draw(ts.arrays(shape)) * scale           # a sudden change of scale
    p = Parameter(np.ones(shape))
    opt = Adafactor([p], lr=0.1, relative_step=False, scale_parameter=False,
                    clip_threshold=clip, min_dim_size_to_factor=0)
    p.grad = g1
    opt.step()
    before = p.data.copy()
    p.grad = g2
    opt.step()
    assert np.sqrt(np.mean((p.data - before) ** 2)) <= 0.1 * clip * (1 + 1e-12)


# ---- bookkeeping ------------------------------------------------------------------------
def test_parameters_without_grad_are_skipped_and_keep_their_own_step_count():
    a, b = param([1.0, 2.0]), param([3.0, 4.0])
    opt = Adafactor([a, b])
    run(opt, [[[0.1, 0.2], None], [[0.1, 0.2], [0.5, 0.5]]])
    assert opt.state[0]["step"] == 2 and opt.state[1]["step"] == 1
    run(opt, [[None, None]])
    assert opt.state[0]["step"] == 2


def test_zero_grad_clears_grads():
    p = param([1.0])
    p.grad = np.array([1.0])
    opt = Adafactor([p])
    opt.zero_grad()
    assert p.grad is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_state_and_parameters_keep_their_dtype(dtype):
    p = Parameter(np.ones((3, 4), dtype=dtype))
    q = Parameter(np.ones(5, dtype=dtype))
    opt = Adafactor([p, q], beta1=0.9, min_dim_size_to_factor=0)
    run(opt, [[np.full((3, 4), 0.5), np.full(5, 0.5)]] * 2)
    assert p.data.dtype == dtype and q.data.dtype == dtype
    for state in opt.state:
        assert all(v.dtype == dtype for k, v in state.items() if k != "step")


def test_float32_run_tracks_float64_run():
    rng = np.random.default_rng(2)
    x0 = rng.standard_normal((6, 5))
    grads = [rng.standard_normal((6, 5)) for _ in range(10)]
    results = []
    for dtype in (np.float32, np.float64):
        p = Parameter(x0.astype(dtype))
        run(Adafactor([p], min_dim_size_to_factor=0), [[g] for g in grads])
        results.append(p.data.astype(np.float64))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5, atol=1e-6)


def test_lr_follows_a_schedule_set_between_steps():
    p = param([0.0, 0.0])
    opt = Adafactor([p], lr=1.0, relative_step=False, scale_parameter=False)
    for lr in (0.1, 0.2, 0.3):
        opt.lr = lr
        run(opt, [[[1.0, -1.0]]])        # every step moves by lr * sign(g)
    np.testing.assert_allclose(p.data, [-0.6, 0.6], rtol=1e-12)


# ---- checkpoints ------------------------------------------------------------------------
def _model_and_grads(seed, steps):
    rng = np.random.default_rng(seed)
    shapes = [(256, 130), (130, 3), (7,), (2, 3, 4)]
    params = [Parameter(rng.standard_normal(s).astype(np.float32)) for s in shapes]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(steps)]
    return params, grads


def test_state_dict_round_trip_resumes_bit_exactly(tmp_path):
    options = dict(lr=1e-2, relative_step=False, beta1=0.9, weight_decay=0.01)
    straight, grads = _model_and_grads(3, 8)
    run(Adafactor(straight, **options), grads)

    params, _ = _model_and_grads(3, 0)
    first = Adafactor(params, **options)
    run(first, grads[:4])
    state = first.state_dict()
    assert all(isinstance(v, int) if k.endswith(".step") else isinstance(v, np.ndarray)
               for k, v in state.items())
    np.savez(tmp_path / "opt.npz", **state)

    resumed_params = [Parameter(p.data.copy()) for p in params]   # as a model checkpoint would
    resumed = Adafactor(resumed_params, **options)
    with np.load(tmp_path / "opt.npz") as saved:
        resumed.load_state_dict(saved)
    run(resumed, grads[4:])
    for p, q in zip(straight, resumed_params):
        assert np.array_equal(p.data, q.data), "resumed run differs from the straight run"


def test_load_state_dict_rejects_a_mismatched_checkpoint():
    params, grads = _model_and_grads(4, 1)
    opt = Adafactor(params)
    run(opt, grads)
    state = opt.state_dict()
    with pytest.raises(KeyError, match="options"):                 # saved factored, now not
        Adafactor(params, min_dim_size_to_factor=1000).load_state_dict(state)
    with pytest.raises(KeyError, match="exp_avg"):
        Adafactor(params, beta1=0.9).load_state_dict(state)
    with pytest.raises(KeyError, match="parameter 9"):
        Adafactor(params).load_state_dict({**state, "state.9.step": 1})
    with pytest.raises(KeyError, match="unexpected key"):
        Adafactor(params).load_state_dict({"lr": 1.0})
    bad = dict(state, **{"state.0.exp_avg_sq_row": np.zeros(3, dtype=np.float32)})
    with pytest.raises(ValueError, match="shape"):
        Adafactor(params).load_state_dict(bad)


# ---- errors a user can make ---------------------------------------------------------------
@pytest.mark.parametrize("kwargs, match", [
    ({"lr": 1e-3}, "relative_step=True"),
    ({"warmup_init": True, "relative_step": False, "lr": 1e-3}, "requires relative_step"),
    ({"relative_step": False}, "pass lr"),
    ({"eps": (1e-30,)}, "eps"),
    ({"clip_threshold": 0.0}, "clip_threshold"),
    ({"decay_rate": 0.8}, "decay_rate"),
    ({"beta1": 1.0}, "beta1"),
    ({"weight_decay": -1.0}, "weight_decay"),
    ({"min_dim_size_to_factor": -1}, "min_dim_size_to_factor"),
    ({"relative_step": False, "lr": -1.0}, "lr"),
])
def test_bad_options_raise_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Adafactor([param([1.0])], **kwargs)


def test_lr_cannot_be_set_with_relative_step():
    opt = Adafactor([param([1.0])])
    with pytest.raises(ValueError, match="relative_step=True"):
        opt.lr = 1e-3


def test_bad_parameters_raise_clear_errors():
    with pytest.raises(ValueError, match="empty parameter list"):
        Adafactor([])
    p = param([1.0, 2.0])
    with pytest.raises(ValueError, match="same object"):
        Adafactor([p, p])
    with pytest.raises(TypeError, match="not a Tensor"):
        Adafactor([np.ones(2)])
    p.grad = np.ones(3)
    with pytest.raises(ValueError, match="grad has shape"):
        Adafactor([p]).step()


@pytest.mark.gpu
def test_cupy_matches_numpy():
    import cupy
    assert gpu_available()
    rng = np.random.default_rng(5)
    x0 = [rng.standard_normal(s) for s in [(256, 130), (7,), (130, 3)]]
    grads = [[rng.standard_normal(x.shape) for x in x0] for _ in range(5)]
    cpu = [Parameter(x.copy()) for x in x0]
    gpu = [Parameter(cupy.asarray(x)) for x in x0]
    run(Adafactor(cpu, beta1=0.9), grads)
    opt = Adafactor(gpu, beta1=0.9)
    for step in grads:
        for p, g in zip(gpu, step):
            p.grad = cupy.asarray(g)
        opt.step()
    for p, q in zip(cpu, gpu):
        np.testing.assert_allclose(cupy.asnumpy(q.data), p.data, rtol=1e-12, atol=1e-15)
    assert isinstance(opt.state_dict()["state.0.exp_avg_sq_row"], np.ndarray)
    assert math.isfinite(float(opt.state[0]["exp_avg_sq_row"].sum()))
