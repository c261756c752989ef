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
