"""mT5's language sampling: |L| ** alpha, and the passes over each language it implies."""
import numpy as np
import pytest

from minit5.reference.language_sampling import language_epochs, language_sampling_rates


def test_rates_are_sizes_to_the_alpha_normalised():
    sizes = {"en": 10**8, "de": 10**7, "yo": 10**5}
    p = np.array([10**2.4, 10**2.1, 10**1.5])
    got = language_sampling_rates(sizes, 0.3)
    assert list(got) == list(sizes)
    np.testing.assert_allclose(list(got.values()), p / p.sum(), rtol=1e-12)
    assert language_sampling_rates(sizes, 1.0) == pytest.approx(
        {k: v / sum(sizes.values()) for k, v in sizes.items()})


def test_epochs_worked_example():
    # p(en) = 251.19 / 282.81 = 0.888, p(yo) = 0.112: 10^9 draws pass ~8.9 times over English
    # and ~1,118 times over Yoruba.
    got = language_epochs({"en": 10**8, "yo": 10**5}, 10**9, 0.3)
    assert got["en"] == pytest.approx(8.882, rel=1e-3)
    assert got["yo"] == pytest.approx(1118.2, rel=1e-3)
    # alpha = 1: every language is passed over equally often.
    equal = language_epochs({"a": 10, "b": 1000}, 2020, 1.0)
    assert equal["a"] == pytest.approx(2.0) and equal["b"] == pytest.approx(2.0)


@pytest.mark.parametrize("sizes, total, alpha, match", [
    ({"en": 10}, 100, 0.0, "alpha must be"), ({"en": 10}, 100, -1, "alpha must be"),
    ({"en": 10, "de": 0}, 100, 0.3, "at least"), ({"en": 10}, -5, 0.3, "total_examples"),
    ({}, 100, 0.3, "sizes is empty")])
def test_bad_arguments_are_named(sizes, total, alpha, match):
    with pytest.raises(ValueError, match=match):
        language_epochs(sizes, total, alpha)
