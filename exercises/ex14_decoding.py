"""Chapter 14 exercises: the parts of beam search the chapter borrows from the library.

The chapter builds greedy search, the key/value cache and one example's beam search, and takes
two pieces from minit5 ready-made. These exercises write those pieces, the step that lets beam
search keep a cache, and a constraint on the next token. Grade with `make grade EX=14.1` or
`minit5 grade 14`. Inputs are NumPy arrays; leave them as they were passed.
"""
from minit5.t5.kv_cache import KVCache


def reorder_kv_cache(cache, beam_rows):
    """Exercise 14.1: move the cached keys and values along with their beams.

    Beam search keeps N = B * k decoder rows, row b * k + j being beam j of example b. After a
    step, new row i continues old row beam_rows[i], always a beam of the same example (a row
    may be continued twice, another not at all).

    The cache is a `KVCache` (minit5.t5.kv_cache) of NumPy arrays; for decoder block i:
        cache.self_keys[i], cache.self_values[i]     (N, H, t, d_kv)  the decoded positions
        cache.cross_keys[i], cache.cross_values[i]   (N, H, L, d_kv)  the encoder output
    What to do with each:
      - self-attention: a row's keys and values come from its own output so far, so new row i
        must get old row beam_rows[i]'s. Take every self-attention array's rows (the first
        axis) in the order beam_rows gives.
      - cross-attention: every beam of an example reads the same encoder output, so these rows
        are equal within an example and a beam never leaves its example: keep these arrays as
        they are. (Taking their rows in beam_rows' order as well gives the same arrays; both
        are accepted.)

    Graded: every array of the returned cache (exactly), for random caches and beam rows
    (permutations and rows continued twice), and that `cache` is unchanged.

    Args:
        cache: a KVCache whose entries are all arrays (no None).
        beam_rows: int array (N,), for each new row the old row it continues.

    Returns:
        A new KVCache: `KVCache(cache.num_blocks)`, its four lists filled as above.
    """
    # TODO: Exercise 14.1
    raise NotImplementedError("Exercise 14.1")


def top_beam_candidates(log_probs, beam_scores, num_candidates):
    """Exercise 14.2: each example's best continuations, over all its beams at once.

    Row b * k + j of log_probs is beam j of example b. A candidate is (beam j, token v), scored
    beam_scores[b, j] + log_probs[b * k + j, v]. For each example, rank its k * V candidates
    from best to worst; equal scores are ordered by the lower flat index j * V + v.

    Graded: indices exactly, scores to rounding, on random inputs with many ties.

    Args:
        log_probs: float (B * k, V), the next-token log-probabilities of every beam.
        beam_scores: float (B, k), the running score of every beam.
        num_candidates: how many to keep per example (at most k * V).

    Returns:
        (beams, tokens, scores), each (B, num_candidates), best first: beams and tokens int64
        (the beam j within its example, 0..k-1, and the token v), scores float.
    """
    # TODO: Exercise 14.2
    raise NotImplementedError("Exercise 14.2")


def add_finished_hypothesis(finished, sum_log_probs, tokens, length, num_beams,
                            length_penalty):
    """Exercise 14.3: keep an example's best finished hypotheses (transformers' rules).

    A hypothesis that has generated `length` tokens (EOS included) with log-probabilities
    summing to sum_log_probs is scored sum_log_probs / length ** length_penalty. The example
    keeps its num_beams best, best first; among equal scores, the one that arrived first
    stays ahead.

    Graded: the returned list (scores to rounding, tokens exactly), that a new hypothesis
    lands behind an equal score, and that `finished` is unchanged.

    Args:
        finished: list of (score, tokens) pairs, best first, at most num_beams of them.
        sum_log_probs: the new hypothesis' summed log-probability (a float, <= 0).
        tokens: int array, the new hypothesis' ids.
        length: the number of tokens it generated, EOS included (>= 1).
        num_beams: how many hypotheses the example keeps.
        length_penalty: the exponent alpha (0: no penalty; > 0 favours longer outputs).

    Returns:
        A new list of (score, tokens) pairs, best first, at most num_beams long.
    """
    # TODO: Exercise 14.3
    raise NotImplementedError("Exercise 14.3")


def no_repeat_ngram_logits(logits, sequences, ngram_size):
    """Exercise 14.4: forbid repeating an n-gram (transformers' `no_repeat_ngram_size`).

    For each row, find the n-grams (runs of ngram_size consecutive tokens) the row already
    holds. A token that, appended, would make the row's last ngram_size tokens one of them gets
    a logit of -inf; other logits are kept. While a row is too short for any n-gram to be
    completed (t + 1 < ngram_size) nothing is forbidden.

    Graded: every logit (-inf where banned, the input elsewhere), for random rows with many
    repeats and n from 1 to 4, and that the inputs are unchanged.

    Args:
        logits: float (N, V), the next-token logits.
        sequences: int (N, t), each row's tokens so far, decoder start token included.
        ngram_size: n >= 1.

    Returns:
        A new float array (N, V).
    """
    # TODO: Exercise 14.4
    raise NotImplementedError("Exercise 14.4")
