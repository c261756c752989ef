"""The paper's beam-search length penalty (§3.7, after Wu et al. 2016, GNMT), for comparison.

The paper decodes its final models with beam search, beam 4 and length penalty alpha = 0.6, and
cites GNMT, whose penalty divides a finished hypothesis' log-probability by

    lp(Y) = ((5 + |Y|) / 6) ** alpha.

`minit5.t5.generation` (like Hugging Face `transformers`, which it matches token for token)
divides by |Y| ** alpha instead, |Y| counting the generated tokens with EOS. Both grow with the
length; they rank hypotheses of different lengths differently. This module gives the GNMT
ranking of finished hypotheses, so the two can be compared on the same candidates.
"""
from __future__ import annotations

import numpy as np


def gnmt_ranking(sum_log_probs, lengths, alpha: float = 0.6) -> np.ndarray:
    """Indices of the finished hypotheses, best first, by sum_log_probs / lp(length) with the
    GNMT penalty lp above; equal scores keep their input order (a stable sort).

    sum_log_probs: (N,) floats, each hypothesis' summed token log-probabilities (<= 0);
    lengths: (N,) ints >= 1; alpha: >= 0. Returns int64 (N,).
    """
    scores = np.asarray(sum_log_probs, dtype=np.float64)
    lengths = np.asarray(lengths)
    if scores.ndim != 1 or lengths.shape != scores.shape:
        raise ValueError(f"gnmt_ranking: sum_log_probs and lengths must be 1-D and of the same "
                         f"length, one entry per hypothesis; got shapes {scores.shape} and "
                         f"{lengths.shape}")
    if lengths.size and (not np.issubdtype(lengths.dtype, np.integer) or lengths.min() < 1):
        raise ValueError("gnmt_ranking: lengths must be whole numbers >= 1 (the generated "
                         "tokens, EOS included)")
    if not (isinstance(alpha, (int, float)) and np.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"gnmt_ranking: alpha must be a finite number >= 0, got {alpha!r}")
    penalty = ((5.0 + lengths) / 6.0) ** alpha                            # (N,)
    return np.argsort(-(scores / penalty), kind="stable").astype(np.int64)
