"""One schedule implementation: the trainer's make_schedule builds minit5.optim.schedules."""
import math

import pytest

from minit5.optim import schedules
from minit5.train import make_schedule


def test_the_papers_form_and_the_peak_form():
    # Paper §3.1.2: lr = 1/sqrt(max(n, k)). With k = 100 that is 0.05 at step 400; the
    # peak-rate form with peak 0.01 is the same curve scaled down: 0.005.
    assert schedules.inverse_sqrt(400, warmup=100) == pytest.approx(0.05, rel=1e-15)
    assert schedules.inverse_sqrt(400, warmup=100, peak=0.01) == pytest.approx(0.005, rel=1e-15)
    # The two agree exactly when the peak is 1/sqrt(k): the paper's 0.01 with k = 10^4.
    for n in (0, 1, 5_000, 10_000, 40_000, 2 ** 19):
        assert math.isclose(schedules.inverse_sqrt(n, 10_000, peak=0.01),
                            schedules.inverse_sqrt(n, 10_000), rel_tol=1e-12)


@pytest.mark.parametrize("name, expected", [
    ("inverse_sqrt", lambda s: schedules.inverse_sqrt(s, 100, peak=0.02)),
    ("constant", lambda s: 0.02),
    ("linear", lambda s: schedules.linear_warmup_decay(s, 0.02, 100, 1000)),
])
def test_make_schedule_is_the_optim_schedule(name, expected):
    schedule = make_schedule(name, peak=0.02, warmup=100, total=1000)
    assert type(schedule).__module__ == "minit5.optim.schedules"
    assert [schedule(s) for s in (1, 50, 100, 400, 999)] == \
        [expected(s) for s in (1, 50, 100, 400, 999)]


def test_unknown_schedule_and_bad_peak_are_refused():
    with pytest.raises(ValueError, match="inverse_sqrt, constant or linear"):
        make_schedule("cosine", 0.01, 10, 100)
    with pytest.raises(ValueError, match="peak must be > 0"):
        schedules.InverseSqrt(100, peak=0.0)
