"""Graders for chapter 4 (the model): each compares the student's function with the library's."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from exercises.graders.implementations import exercise, reference
from exercises.graders.report import check, check_array, check_equal, fail
from tests.strategies import arrays, shapes

rms_norm = exercise("4.1")
relative_position_bucket = exercise("4.2")
attention_weights = exercise("4.3")
shift_right = exercise("4.4")
lm_head_logits = exercise("4.5")
gated_gelu_ffn = exercise("4.6")



sides = st.integers(1, 4)

# ---- 4.1 RMS norm ---------------------------------------------------------------------------

@st.composite
def rms_case(draw, dtype=np.float64):
    x = draw(arrays(shapes(min_dims=1), dtype=dtype))
    weight = draw(arrays((x.shape[-1],), dtype=dtype))
    eps = draw(st.sampled_from([1e-6, 1e-3, 0.5]))
    return x, weight, eps


@pytest.mark.ex4_1
@given(rms_case())
def test_rms_norm_matches_library(case):
    x, weight, eps = case
    check_array("rms_norm", rms_norm(x, weight, eps=eps), reference("4.1")(x, weight, eps=eps),
                "y = weight * x / sqrt(mean(x ** 2, axis=-1, keepdims=True) + eps): no mean is "
                "subtracted, eps goes inside the square root, and weight scales the last axis",
                inputs={"x": x, "weight": weight, "eps": eps}, rtol=1e-9, atol=1e-12)


@pytest.mark.ex4_1
@given(rms_case(dtype=np.float32))
def test_rms_norm_keeps_float32(case):
    x, weight, eps = case
    check_array("rms_norm", rms_norm(x, weight, eps=eps), reference("4.1")(x, weight, eps=eps),
                "float32 in, float32 out: a float64 constant or np.float64 scalar in the formula "
                "upcasts the result; cast back with .astype(x.dtype) if needed",
                inputs={"x": x, "weight": weight, "eps": eps}, rtol=1e-5, atol=1e-6,
                check_dtype=True)


# ---- 4.2 relative position buckets ----------------------------------------------------------

def check_buckets(rp, hint, **config):
    got = relative_position_bucket(rp, **config)
    expected = reference("4.2")(rp, **config)
    options = ", ".join(f"{k}={v}" for k, v in config.items())
    check(got is not None and np.shape(got) == rp.shape,
          f"relative_position_bucket({options}) returned shape "
          f"{np.shape(got) if got is not None else None} for input shape {rp.shape}",
          "return one bucket per relative position, in an array shaped like the input")
    got = np.asarray(got)
    check(got.dtype.kind in "iu",
          f"relative_position_bucket({options}) returned dtype {got.dtype}, expected integers",
          "buckets are indices into the bias table: convert with .astype(np.int64)")
    wrong = np.flatnonzero(got.reshape(-1) != expected.reshape(-1))
    if wrong.size:
        flat_rp, flat_got, flat_exp = rp.reshape(-1), got.reshape(-1), expected.reshape(-1)
        examples = "; ".join(f"rp={flat_rp[i]}: expected {flat_exp[i]}, got {flat_got[i]}"
                             for i in wrong[:6])
        fail(f"relative_position_bucket({options}): wrong bucket for {wrong.size} of "
             f"{rp.size} relative positions", hint, f"  {examples}")


@pytest.mark.ex4_2
def test_buckets_bidirectional_default():
    check_buckets(np.arange(-300, 301), "bidirectional: nb = 16 and max_exact = 8; keys after "
                  "the query (rp > 0) add 16; n = |rp|; bucket 16 itself is never used",
                  bidirectional=True)


@pytest.mark.ex4_2
def test_buckets_causal_default():
    check_buckets(np.arange(-300, 301), "causal: n = max(-rp, 0), so every rp >= 0 is bucket "
                  "0; nb = 32, max_exact = 16; rp = -1..-15 are buckets 1..15 and rp <= -113 "
                  "is bucket 31", bidirectional=False)


@st.composite
def bucket_case(draw):
    num_buckets = draw(st.sampled_from([8, 16, 32, 64]))
    max_distance = draw(st.sampled_from([num_buckets, 2 * num_buckets, 128, 500]))
    shape = draw(shapes(min_dims=1, max_dims=2, max_side=6))
    rp = draw(hnp.arrays(np.int64, shape, elements=st.integers(-2 * max_distance,
                                                                2 * max_distance)))
    return rp, dict(bidirectional=draw(st.booleans()), num_buckets=num_buckets,
                    max_distance=max_distance)


@pytest.mark.ex4_2
@given(bucket_case())
def test_buckets_any_configuration(case):
    rp, config = case
    check_buckets(rp, "use num_buckets and max_distance from the arguments, not 32 and 128; "
                  "the large-distance branch is max_exact + int(log(n / max_exact) / "
                  "log(max_distance / max_exact) * (nb - max_exact)), capped at nb - 1",
                  **config)


# ---- 4.3 attention weights ------------------------------------------------------------------

@st.composite
def attention_case(draw, masked=True):
    b, h, lq, lk, dk = (draw(sides) for _ in range(5))
    q = draw(arrays((b, h, lq, dk)))
    k = draw(arrays((b, h, lk, dk)))
    bias = draw(arrays((draw(st.sampled_from([1, b])), h, lq, lk)))
    mask = draw(hnp.arrays(np.bool_, (b, lk))) if masked else np.ones((b, lk), dtype=bool)
    return q, k, bias, mask


def check_attention(case, hint):
    q, k, bias, mask = case
    check_array("attention_weights", attention_weights(q, k, bias, mask),
                reference("4.3")(q, k, bias, mask), hint,
                inputs={"q": q, "k": k, "position_bias": bias, "mask": mask},
                rtol=1e-9, atol=1e-12)


@pytest.mark.ex4_3
@given(attention_case(masked=False))
def test_attention_weights_without_padding(case):
    check_attention(case, "softmax over the last axis of q @ k.swapaxes(-1, -2) + "
                          "position_bias, with NO division by sqrt(dk) (T5 folds it into "
                          "q's initialisation)")


@pytest.mark.ex4_3
@given(attention_case())
def test_attention_weights_with_padding(case):
    check_attention(case, "add np.finfo(dtype).min (not -inf) where mask is False, "
                          "broadcast as mask[:, None, None, :] over heads and queries; a query "
                          "whose keys are all masked then gets equal weights, not nan")


# ---- 4.4 shift_right ------------------------------------------------------------------------

@st.composite
def labels_case(draw):
    shape = (draw(sides), draw(st.integers(1, 6)))
    labels = draw(hnp.arrays(np.int64, shape,
                             elements=st.one_of(st.integers(0, 50), st.just(-100))))
    return labels, draw(st.integers(0, 5)), draw(st.integers(0, 5))


@pytest.mark.ex4_4
@given(labels_case())
def test_shift_right_matches_library(case):
    labels, start, pad = case
    original = labels.copy()
    got = shift_right(labels, decoder_start_token_id=start, pad_token_id=pad)
    check_equal("shift_right", got, reference("4.4")(labels, decoder_start_token_id=start,
                                                      pad_token_id=pad),
                "out[:, 1:] = labels[:, :-1]; out[:, 0] = decoder_start_token_id; then "
                "out[out == -100] = pad_token_id (in a new array)",
                inputs={"labels": labels, "decoder_start_token_id": start,
                        "pad_token_id": pad})
    check(np.array_equal(labels, original), "shift_right changed its input `labels`",
          "work on a new array (np.empty_like(labels) or labels.copy()), not in place")


# ---- 4.5 the output head --------------------------------------------------------------------

@st.composite
def head_case(draw, tied):
    b, length, d, vocab = draw(sides), draw(sides), draw(sides), draw(st.integers(2, 6))
    hidden = draw(arrays((b, length, d)))
    shared = draw(arrays((vocab, d)))
    lm_head = None if tied else draw(arrays((vocab, d)))
    return hidden, shared, lm_head


def check_head(case, hint):
    hidden, shared, lm_head = case
    check_array("lm_head_logits", lm_head_logits(hidden, shared, lm_head),
                reference("4.5")(hidden, shared, lm_head), hint,
                inputs={"hidden": hidden, "shared_weight": shared, "lm_head_weight": lm_head},
                rtol=1e-9, atol=1e-12)


@pytest.mark.ex4_5
@given(head_case(tied=True))
def test_tied_head_rescales(case):
    check_head(case, "tied (lm_head_weight is None): (hidden * d_model ** -0.5) @ "
                     "shared_weight.T, with d_model = hidden.shape[-1]")


@pytest.mark.ex4_5
@given(head_case(tied=False))
def test_untied_head_does_not_rescale(case):
    check_head(case, "untied: hidden @ lm_head_weight.T with no rescaling, and the shared "
                     "embedding is not used")


# ---- 4.6 gated-GELU FFN ---------------------------------------------------------------------

@st.composite
def ffn_case(draw):
    d, d_ff = draw(sides), draw(sides)
    x = draw(arrays(shapes(min_dims=1, max_dims=3).map(lambda s: s[:-1] + (d,))))
    return x, draw(arrays((d_ff, d))), draw(arrays((d_ff, d))), draw(arrays((d, d_ff)))


@pytest.mark.ex4_6
@given(ffn_case())
def test_gated_gelu_ffn_matches_library(case):
    x, wi_0, wi_1, wo = case
    check_array("gated_gelu_ffn", gated_gelu_ffn(x, wi_0, wi_1, wo),
                reference("4.6")(x, wi_0, wi_1, wo),
                "the gate is gelu_new(x @ wi_0.T) (the tanh form, with 0.044715 z ** 3), the "
                "value x @ wi_1.T without activation; multiply them, then @ wo.T",
                inputs={"x": x, "wi_0": wi_0, "wi_1": wi_1, "wo": wo},
                rtol=1e-9, atol=1e-12)
