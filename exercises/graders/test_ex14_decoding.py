"""Graders for chapter 14 (decoding): each compares the student's function with the library's
(`minit5.t5.kv_cache.KVCache.reorder`; `minit5.t5.generation`: top_candidates,
FinishedHypotheses; `minit5.reference.ngram_ban.ban_repeated_ngrams`)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exercises.graders.implementations import exercise, reference
from exercises.graders.report import check_array, check_equal, fail, mistake_hint
from minit5.t5.kv_cache import KVCache

reorder_kv_cache = exercise("14.1")
top_beam_candidates = exercise("14.2")
add_finished_hypothesis = exercise("14.3")
no_repeat_ngram_logits = exercise("14.4")

seeds = st.integers(0, 2**32 - 1)


# ---- 14.1 reordering the cache ----------------------------------------------------------------
CACHE_LISTS = ("self_keys", "self_values", "cross_keys", "cross_values")


def make_cache(self_arrays, cross_arrays):
    """A KVCache from per-block (keys, values) pairs of self- and cross-attention arrays."""
    cache = KVCache(len(self_arrays))
    for i, ((sk, sv), (ck, cv)) in enumerate(zip(self_arrays, cross_arrays)):
        cache.self_keys[i], cache.self_values[i] = sk, sv
        cache.cross_keys[i], cache.cross_values[i] = ck, cv
    return cache


@st.composite
def cache_case(draw):
    """A cache as beam search holds it: B examples of k beams, each beam's self-attention rows
    its own, the cross-attention rows equal within an example; beam rows that stay inside
    their example (a permutation of its beams, or some beams continued twice)."""
    rng = np.random.default_rng(draw(seeds))
    n_blocks, batch, k = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 4))
    n_heads, past, source, d_kv = (draw(st.integers(1, 3)), draw(st.integers(1, 4)),
                                   draw(st.integers(1, 5)), draw(st.integers(1, 3)))
    rows = batch * k

    def per_beam():
        return rng.normal(size=(rows, n_heads, past, d_kv))            # (N, H, t, d_kv)

    def per_example():                                                 # (N, H, L, d_kv)
        return np.repeat(rng.normal(size=(batch, n_heads, source, d_kv)), k, axis=0)
    cache = make_cache([(per_beam(), per_beam()) for _ in range(n_blocks)],
                       [(per_example(), per_example()) for _ in range(n_blocks)])
    permute = draw(st.booleans())
    beam_rows = np.concatenate([b * k + (rng.permutation(k) if permute
                                         else rng.integers(0, k, size=k))
                                for b in range(batch)])
    return cache, beam_rows


def _gather(cache, rows_of, lists=CACHE_LISTS):
    out = KVCache(cache.num_blocks)
    for name in CACHE_LISTS:
        getattr(out, name)[:] = [a[rows_of] if name in lists else a
                                 for a in getattr(cache, name)]
    return out


def _cache_arrays(cache):
    """{list name: [arrays]} of a KVCache-like object, or None if it is not one."""
    try:
        return {name: [np.asarray(a) for a in getattr(cache, name)] for name in CACHE_LISTS}
    except (AttributeError, TypeError, ValueError):
        return None


def _same_cache(a, b):
    a, b = _cache_arrays(a), _cache_arrays(b)
    return a is not None and b is not None and all(
        len(a[name]) == len(b[name]) and all(
            x.shape == y.shape and np.array_equal(x, y) for x, y in zip(a[name], b[name]))
        for name in CACHE_LISTS)


REORDER_HINT = ("new row i continues old row beam_rows[i]: every self-attention array, of every "
                "block, keys and values, takes its rows (the first axis) in that order; the "
                "cross-attention arrays may stay as they are")


def grade_reorder(cache, beam_rows):
    __tracebackhide__ = True
    before = _cache_arrays(cache)
    before = {name: [a.copy() for a in arrays] for name, arrays in before.items()}
    expected = reference("14.1")(cache, beam_rows)
    got = reorder_kv_cache(cache, beam_rows)
    after = _cache_arrays(cache)
    if not all(len(before[name]) == len(after[name]) and all(
            x.shape == y.shape and np.array_equal(x, y)
            for x, y in zip(before[name], after[name])) for name in CACHE_LISTS):
        fail("reorder_kv_cache changed its input `cache` in place",
             "build a new KVCache (KVCache(cache.num_blocks)) and fill its lists with new "
             "arrays; leave the old cache's lists and arrays as they were")
    hint = REORDER_HINT
    if not _same_cache(got, expected):
        permutation = len(set(beam_rows.tolist())) == len(beam_rows)
        hint = mistake_hint(got, [
            ("the inverse order (old row beam_rows[i] sent to new row i)",
             lambda: _gather(cache, np.argsort(beam_rows)) if permutation else None),
            ("moving the keys but not the values",
             lambda: _gather(cache, beam_rows, ("self_keys",))),
            ("leaving the self-attention entries as they were (moving only the "
             "cross-attention ones changes nothing: their rows are equal within an example)",
             lambda: cache)], hint, _same_cache)
    arrays = _cache_arrays(got)
    if arrays is None:
        fail(f"reorder_kv_cache must return a KVCache, got {type(got).__name__}", hint)
    inputs = {"beam_rows": beam_rows}
    for name in CACHE_LISTS:
        wanted = getattr(expected, name)
        if len(arrays[name]) != len(wanted):
            fail(f"reorder_kv_cache: the cache's {name} has {len(arrays[name])} entries, "
                 f"expected one per block ({len(wanted)})", hint)
        for i, (value, want) in enumerate(zip(arrays[name], wanted)):
            check_array("reorder_kv_cache", value, want, hint, inputs, rtol=0, atol=0,
                        what=f"block {i}'s {name}")


@pytest.mark.ex14_1
@given(cache_case())
def test_reorder_kv_cache_matches_library(case):
    grade_reorder(*case)


@pytest.mark.ex14_1
def test_reorder_kv_cache_worked_case():
    """One example of 3 beams: beam 1 continued twice, beam 2 dropped (rows 0, 1, 1); the
    second example's beams swapped (rows 4, 3, 5)."""
    self_keys = np.arange(6.0)[:, None, None, None] * np.ones((6, 2, 3, 2))    # row r holds r
    cross = np.repeat(np.arange(2.0)[:, None, None, None] * np.ones((2, 2, 4, 2)), 3, axis=0)
    cache = make_cache([(self_keys, -self_keys)], [(cross, cross + 10)])
    grade_reorder(cache, np.array([0, 1, 1, 4, 3, 5]))


# ---- 14.2 each example's best candidates -------------------------------------------------------

@st.composite
def candidates_case(draw):
    rng = np.random.default_rng(draw(seeds))
    batch, k, vocab = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 6))
    if draw(st.booleans()):                                    # many exact ties
        log_probs = -rng.integers(0, 3, size=(batch * k, vocab)).astype(np.float64)
        beam_scores = -rng.integers(0, 3, size=(batch, k)).astype(np.float64)
    else:
        log_probs = rng.normal(size=(batch * k, vocab)) - 2.0
        beam_scores = -rng.exponential(size=(batch, k))
    if draw(st.booleans()):                                    # the first step's scores
        beam_scores[:, 1:] = -1e9
    n = draw(st.integers(1, k * vocab))
    return log_probs, beam_scores, n


def candidates_mistakes(log_probs, beam_scores, n):
    batch, k = beam_scores.shape
    vocab = log_probs.shape[1]
    scores = (log_probs.reshape(batch, k, vocab) + beam_scores[:, :, None]).reshape(batch, -1)

    def ranked(values, order_of):
        flat = order_of(values)[:, :n]
        return flat // vocab, flat % vocab, np.take_along_axis(scores, flat, axis=1)
    reversed_ties = lambda v: (v.shape[1] - 1 - np.argsort(-v[:, ::-1], axis=1,  # noqa: E731
                                                           kind="stable"))
    stable = lambda v: np.argsort(-v, axis=1, kind="stable")                   # noqa: E731
    plain = log_probs.reshape(batch, -1)
    flat = stable(scores)[:, :n]
    return [("ties broken by the higher index", lambda: ranked(scores, reversed_ties)),
            ("leaving out the beams' running scores",
             lambda: (stable(plain)[:, :n] // vocab, stable(plain)[:, :n] % vocab,
                      np.take_along_axis(plain, stable(plain)[:, :n], axis=1))),
            ("splitting the flat index by k instead of by V",
             lambda: (flat % k, flat // k, np.take_along_axis(scores, flat, axis=1))),
            ("worst first", lambda: ranked(-scores, stable))]


def _same_triple(a, b):
    return isinstance(a, (tuple, list)) and len(a) == 3 and all(
        np.shape(x) == np.shape(y) and np.allclose(np.asarray(x, dtype=float),
                                                   np.asarray(y, dtype=float))
        for x, y in zip(a, b))


CANDIDATES_HINT = ("rank all k * V candidates of an example together, each scored by its "
                   "beam's running score plus the token's log-probability; equal scores go by "
                   "the flat index beam * V + token")


@pytest.mark.ex14_2
@given(candidates_case())
def test_top_beam_candidates_matches_library(case):
    log_probs, beam_scores, n = case
    expected = reference("14.2")(log_probs, beam_scores, n)
    got = top_beam_candidates(log_probs, beam_scores, n)
    hint = CANDIDATES_HINT
    if not _same_triple(got, expected):
        hint = mistake_hint(got, candidates_mistakes(log_probs, beam_scores, n), hint,
                            _same_triple)
    inputs = {"log_probs": log_probs, "beam_scores": beam_scores, "num_candidates": n}
    if not (isinstance(got, (tuple, list)) and len(got) == 3):
        fail("top_beam_candidates must return three arrays (beams, tokens, scores)", hint)
    for part, got_part, expected_part in zip(("beams", "tokens"), got, expected):
        check_equal("top_beam_candidates", np.asarray(got_part), expected_part, hint, inputs,
                    what=part)
    check_array("top_beam_candidates", got[2], expected[2], hint, inputs, rtol=1e-12,
                atol=1e-12, what="scores")


# ---- 14.3 finished hypotheses -----------------------------------------------------------------

@st.composite
def hypotheses_case(draw):
    rng = np.random.default_rng(draw(seeds))
    num_beams = draw(st.integers(1, 4))
    count = draw(st.integers(0, num_beams))
    scores = sorted((-float(rng.integers(1, 5)) for _ in range(count)), reverse=True)
    finished = [(score, rng.integers(0, 50, size=int(rng.integers(2, 6))))
                for score in scores]
    sum_log_probs = -float(rng.integers(1, 9))
    length = draw(st.integers(1, 6))
    penalty = draw(st.sampled_from([-1.0, 0.0, 0.6, 1.0, 2.0]))
    tokens = rng.integers(0, 50, size=length + 1)
    return finished, sum_log_probs, tokens, length, num_beams, penalty


def _insert(finished, score, tokens, num_beams, ahead_of_equals=False, keep_all=False,
            worst_first=False):
    items = list(finished) + [(score, tokens)]
    if ahead_of_equals:
        items = [(score, tokens)] + list(finished)
    items.sort(key=lambda item: item[0] if worst_first else -item[0])
    return items if keep_all else items[:num_beams]


def hypotheses_mistakes(finished, s, tokens, length, num_beams, penalty):
    return [("dividing by (length + 1) ** length_penalty (counting the start token)",
             lambda: _insert(finished, s / (length + 1) ** penalty, tokens, num_beams)),
            ("GNMT's ((5 + length) / 6) ** length_penalty",
             lambda: _insert(finished, s / ((5 + length) / 6) ** penalty, tokens, num_beams)),
            ("no length penalty at all",
             lambda: _insert(finished, s, tokens, num_beams)),
            ("multiplying by length ** length_penalty",
             lambda: _insert(finished, s * length ** penalty, tokens, num_beams)),
            ("putting a new hypothesis ahead of an equal score",
             lambda: _insert(finished, s / length ** penalty, tokens, num_beams,
                             ahead_of_equals=True)),
            ("keeping more than num_beams",
             lambda: _insert(finished, s / length ** penalty, tokens, num_beams,
                             keep_all=True)),
            ("worst first", lambda: _insert(finished, s / length ** penalty, tokens, num_beams,
                                            worst_first=True))]


def _same_hypotheses(a, b):
    try:
        return len(a) == len(b) and all(
            len(x) == 2 and np.isclose(float(x[0]), float(y[0]), rtol=1e-12, atol=1e-12)
            and np.array_equal(np.asarray(x[1]), np.asarray(y[1])) for x, y in zip(a, b))
    except (TypeError, ValueError):
        return False


HYPOTHESES_HINT = ("score = summed log-probability / length ** length_penalty, with length the "
                   "generated tokens; keep the best num_beams, best first, and an earlier "
                   "arrival stays ahead of an equal score")


def grade_hypotheses(finished, sum_log_probs, tokens, length, num_beams, penalty):
    __tracebackhide__ = True
    expected = reference("14.3")(finished, sum_log_probs, tokens, length, num_beams, penalty)
    got = add_finished_hypothesis(finished, sum_log_probs, tokens, length, num_beams, penalty)
    if _same_hypotheses(got, expected):
        if not isinstance(got, list):
            fail(f"add_finished_hypothesis must return a list, got {type(got).__name__}",
                 "build a new list of (score, tokens) pairs")
        return
    hint = mistake_hint(got, hypotheses_mistakes(finished, sum_log_probs, tokens, length,
                                                 num_beams, penalty),
                        HYPOTHESES_HINT, _same_hypotheses)
    described = [(round(float(s), 6), t.tolist()) for s, t in expected]
    fail("add_finished_hypothesis: wrong hypotheses", hint,
         f"  call:     add_finished_hypothesis(finished={[(s, t.tolist()) for s, t in finished]}"
         f", sum_log_probs={sum_log_probs}, tokens={tokens.tolist()}, length={length}, "
         f"num_beams={num_beams}, length_penalty={penalty})\n"
         f"  expected: {described}\n  got:      {got!r}",
         expected=str(described)[:100], got=repr(got)[:100])


@pytest.mark.ex14_3
@given(hypotheses_case())
def test_add_finished_hypothesis_matches_library(case):
    grade_hypotheses(*case)


@pytest.mark.ex14_3
@pytest.mark.parametrize("num_beams", [2, 3])
def test_a_new_hypothesis_goes_behind_an_equal_score(num_beams):
    finished = [(-1.0, np.array([0, 5, 1])), (-2.0, np.array([0, 6, 1]))]
    grade_hypotheses(finished, -1.0, np.array([0, 1]), 1, num_beams, 0.6)


# ---- 14.4 no repeated n-grams -----------------------------------------------------------------

@st.composite
def ngram_case(draw):
    rng = np.random.default_rng(draw(seeds))
    rows, length, vocab = draw(st.integers(1, 4)), draw(st.integers(1, 9)), \
        draw(st.integers(3, 7))
    alphabet = draw(st.integers(2, vocab))                     # few symbols: many repeats
    sequences = rng.integers(0, alphabet, size=(rows, length))
    sequences[:, 0] = 0                                        # the decoder start token
    return rng.normal(size=(rows, vocab)), sequences, draw(st.integers(1, 4))


def _ban(logits, sequences, banned_of):
    out = logits.copy()
    for row, tokens in enumerate(sequences.tolist()):
        for token in banned_of(tokens):
            if 0 <= token < out.shape[1]:
                out[row, token] = -np.inf
    return out


def ngram_mistakes(logits, sequences, n):
    def following(tokens, prefix_length):
        t = len(tokens)
        prefix = tuple(tokens[t - prefix_length:]) if prefix_length else ()
        return {tokens[i + prefix_length] for i in range(t - prefix_length)
                if tuple(tokens[i:i + prefix_length]) == prefix}
    return [("matching the last n tokens instead of the last n - 1",
             lambda: _ban(logits, sequences, lambda s: following(s, n) if len(s) >= n
                          else set())),
            ("banning every token the row holds", lambda: _ban(logits, sequences, set)),
            ("leaving out the decoder start token",
             lambda: reference("14.4")(logits, sequences[:, 1:], n)
             if sequences.shape[1] > 1 else None),
            ("setting banned logits to a large negative number instead of -inf",
             lambda: np.where(np.isneginf(reference("14.4")(logits, sequences, n)), -1e9,
                              logits))]


NGRAM_HINT = ("an n-gram is completed by the row's last n - 1 tokens plus the new one; forbid "
              "(with -inf) each token that would complete one the row already holds, and "
              "leave every other logit as it was")


@pytest.mark.ex14_4
@given(ngram_case())
def test_no_repeat_ngram_logits_matches_library(case):
    logits, sequences, n = case
    expected = reference("14.4")(logits, sequences, n)
    check_array("no_repeat_ngram_logits", no_repeat_ngram_logits(logits, sequences, n),
                expected, NGRAM_HINT, {"logits": logits, "sequences": sequences,
                                       "ngram_size": n},
                rtol=0, atol=0, mistakes=ngram_mistakes(logits, sequences, n))


@pytest.mark.ex14_4
@pytest.mark.parametrize("sequence, n", [([0, 5, 7, 5], 2), ([0, 2, 3, 9, 2, 3, 4, 2, 3], 3),
                                         ([0, 4, 4, 6], 1), ([0, 4], 4), ([0, 0, 0], 2)])
def test_no_repeat_ngram_logits_worked_cases(sequence, n):
    logits = np.arange(10, dtype=np.float64)[None, :]
    sequences = np.array([sequence])
    expected = reference("14.4")(logits, sequences, n)
    check_array("no_repeat_ngram_logits", no_repeat_ngram_logits(logits, sequences, n),
                expected, NGRAM_HINT, {"logits": logits, "sequences": sequences,
                                       "ngram_size": n},
                rtol=0, atol=0, mistakes=ngram_mistakes(logits, sequences, n))
