"""mT5's language sampling (Xue et al. 2021, §2): how often each language's data is drawn.

mT5 pre-trains on 101 languages whose data sizes differ by orders of magnitude. It draws each
example from language L with probability p(L) proportional to |L| ** alpha (|L| its number of
examples), alpha = 0.3: a boost for the small languages, at the price of passing over their data
many times. That is the paper's temperature-scaled mixing (§3.5.2, `minit5.data.mixing`) with
temperature T = 1 / alpha and no limit K, so this module only names the parameters and counts
the passes.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from minit5.data.mixing import mixing_rates

MT5_ALPHA = 0.3


def _check_alpha(alpha):
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not alpha > 0:
        raise ValueError(f"alpha must be a number > 0 (mT5 uses {MT5_ALPHA}; 1 samples in "
                         f"proportion to the sizes), got {alpha!r}")


def language_sampling_rates(sizes: Mapping[str, int], alpha: float = MT5_ALPHA) -> dict:
    """{language: p(L)}, p(L) = |L| ** alpha / sum over languages, in the order of `sizes`."""
    _check_alpha(alpha)
    return mixing_rates(sizes, "temperature", K=None, temperature=1.0 / alpha)


def language_epochs(sizes: Mapping[str, int], total_examples, alpha: float = MT5_ALPHA) -> dict:
    """{language: passes over its data} of a run drawing `total_examples` examples:
    p(L) * total_examples / |L| (expected). Every size must be >= 1."""
    _check_alpha(alpha)
    if isinstance(total_examples, bool) or not isinstance(total_examples, (int, float)) \
            or not total_examples >= 0:
        raise ValueError(f"total_examples is the number of examples the run draws, a number "
                         f">= 0; got {total_examples!r}")
    for language, size in sizes.items():
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) \
                or size < 1:
            raise ValueError(f"{language!r} has {size!r} examples; a language needs at least "
                             f"one example to be passed over")
    rates = language_sampling_rates(sizes, alpha)
    return {language: rate * total_examples / sizes[language] for language, rate in rates.items()}


def alpha_for_max_epochs(sizes: Mapping[str, int], total_examples, max_epochs: float) -> float:
    """The smallest alpha in [0, 1] at which no language is passed over more than `max_epochs`
    times in a run of `total_examples` draws: the largest boost for the small languages that
    keeps their repeats in bounds.

    The smallest language is the most repeated, (total / |min|) / sum_L (|L| / |min|) ** alpha
    passes, which falls strictly as alpha grows unless every size is equal. alpha = 0 samples
    the languages equally; alpha = 1 in proportion to their sizes, the fewest repeats any
    alpha in [0, 1] gives (total / sum |L| passes each). Returns 0.0 when equal sampling already
    stays within `max_epochs`; a ValueError when even alpha = 1 does not (the run is too long for
    the data). Solved by bisection on alpha (200 halvings).
    Example: sizes {"en": 10**6, "sw": 10**3}, 2 * 10**6 draws, max_epochs 100 -> 0.4263.
    """
    if isinstance(max_epochs, bool) or not isinstance(max_epochs, (int, float)) \
            or not max_epochs > 0:
        raise ValueError(f"max_epochs is the most passes over a language's data allowed, a "
                         f"number > 0; got {max_epochs!r}")
    language_epochs(sizes, total_examples, 1.0)                 # the checks of the passes
    values = np.array(list(sizes.values()), dtype=np.float64)
    ratios = np.log(values / values.min())                     # log(|L| / |min|) >= 0

    def most_passes(alpha):
        return total_examples / values.min() / float(np.exp(alpha * ratios).sum())

    if most_passes(1.0) > max_epochs * (1 + 1e-12):          # beyond rounding
        raise ValueError(f"even alpha = 1 passes over every language {most_passes(1.0):.6g} "
                         f"times, more than max_epochs = {max_epochs!r}: draw fewer examples "
                         f"or allow more passes")
    if most_passes(0.0) <= max_epochs:
        return 0.0
    low, high = 0.0, 1.0                        # most_passes(low) > max_epochs >= at high
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if most_passes(middle) > max_epochs else (low, middle)
    return float(high)
