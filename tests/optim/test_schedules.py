"""Learning-rate schedules: T5's inverse square root, constant, and linear warm-up + decay."""
import math

import pytest

from minit5.nn import Parameter
from minit5.optim import (
    Adafactor,
    Constant,
    InverseSqrt,
    LinearWarmupDecay,
    constant,
    inverse_sqrt,
    linear_warmup_decay,
)


def test_inverse_sqrt_is_flat_during_warmup_then_decays():
    assert inverse_sqrt(0) == 0.01                     # 1 / sqrt(10^4)
    assert inverse_sqrt(9_999) == 0.01
    assert inverse_sqrt(10_000) == 0.01
    assert inverse_sqrt(40_000) == pytest.approx(0.005)
    assert inverse_sqrt(2 ** 19) == pytest.approx(1 / math.sqrt(2 ** 19))  # T5's last step
    values = [inverse_sqrt(s, warmup=100) for s in range(0, 1000, 7)]
    assert all(a >= b for a, b in zip(values, values[1:]))


def test_inverse_sqrt_is_adafactors_relative_step_size():
    """Adafactor's rho_t = min(1e-2, 1/sqrt(t)) is this schedule with 10^4 warm-up steps."""
    opt = Adafactor([Parameter([1.0])])
    for t in (1, 10, 9_999, 10_000, 10_001, 123_456):
        assert opt._relative_step_size(t) == pytest.approx(inverse_sqrt(t), rel=1e-15)


def test_classes_are_the_functions():
    assert InverseSqrt(100)(50) == inverse_sqrt(50, 100)
    assert LinearWarmupDecay(1e-3, 10, 110)(60) == linear_warmup_decay(60, 1e-3, 10, 110)
    assert constant(1e-3)(123) == Constant(1e-3)(0) == 1e-3
    assert "InverseSqrt(warmup=100)" == repr(InverseSqrt(100))


def test_linear_warmup_decay_shape():
    peak, warmup, total = 1e-3, 10, 110
    assert linear_warmup_decay(0, peak, warmup, total) == 0.0
    assert linear_warmup_decay(5, peak, warmup, total) == pytest.approx(peak / 2)
    assert linear_warmup_decay(10, peak, warmup, total) == pytest.approx(peak)
    assert linear_warmup_decay(60, peak, warmup, total) == pytest.approx(peak / 2)
    assert linear_warmup_decay(110, peak, warmup, total) == 0.0
    assert linear_warmup_decay(500, peak, warmup, total) == 0.0
    assert linear_warmup_decay(3, peak, 0, 10) == pytest.approx(peak * 0.7)   # no warm-up


@pytest.mark.parametrize("call, match", [
    (lambda: inverse_sqrt(5, warmup=0), "warmup"),
    (lambda: inverse_sqrt(-1), "step"),
    (lambda: InverseSqrt(0), "warmup"),
    (lambda: LinearWarmupDecay(1e-3, 100, 10), "warmup <= total"),
    (lambda: Constant(-1.0), "lr"),
    (lambda: constant(1e-3)(-2), "step"),
])
def test_bad_arguments_raise_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
