"""Graders for chapter 4 (the model): each compares the student's function with the library's."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from exercises.graders.implementations import exercise, reference
from exercises.graders.report import (
    check,
    check_array,
    check_dtype,
    check_equal,
    check_pair,
    fail,
    mistake_hint,
    short,
)
from minit5.t5.position import relative_position_bucket
from tests.strategies import arrays, shapes

rms_norm_backward = exercise("4.1")
causal_position_bucket = exercise("4.2")
attention_weights = exercise("4.3")
packed_shift_right = exercise("4.4")
tied_head_backward = exercise("4.5")
gated_gelu_ffn_backward = exercise("4.6")

sides = st.integers(1, 4)


# ---- 4.1 RMS norm backward ------------------------------------------------------------------

@st.composite
def rms_case(draw):
    x = draw(arrays(shapes(min_dims=1)))
    if draw(st.booleans()):                      # a row of zeros: r = sqrt(eps)
        x = x.copy()
        x[(0,) * (x.ndim - 1)] = 0.0
    weight = draw(arrays((x.shape[-1],)))
    eps = draw(st.sampled_from([1e-6, 1e-3, 0.5]))
    return draw(arrays(x.shape)), x, weight, eps


def rms_mistakes(grad, x, weight, eps):
    r = np.sqrt((x * x).mean(axis=-1, keepdims=True) + eps)
    lead = tuple(range(x.ndim - 1))
    grad_weight = (grad * x / r).sum(axis=lead)
    return [("treating r as a constant (leaving out the path through the mean square)",
             (grad * weight / r, grad_weight)),
            ("a gradient of weight that is not summed over the rows",
             (None, grad * x / r))]


@pytest.mark.ex4_1
@given(rms_case())
def test_rms_norm_backward_matches_library(case):
    grad, x, weight, eps = case
    expected = reference("4.1")(grad, x, weight, eps=eps)
    check_pair("rms_norm_backward", rms_norm_backward.with_defaults(grad, x, weight, eps=eps),
               expected,
               ("grad_x", "grad_weight"),
               "x_i reaches y both directly and through r, which every element of its row "
               "shares; weight is shared by all rows",
               inputs={"grad": grad, "x": x, "weight": weight, "eps": eps},
               mistakes=rms_mistakes(grad, x, weight, eps), rtol=1e-8, atol=1e-10)


# ---- 4.2 causal relative position buckets ---------------------------------------------------

def bucket_mistakes(rp, num_buckets, max_distance):
    lib = reference("4.2")
    bidirectional = relative_position_bucket(rp, bidirectional=True, num_buckets=num_buckets,
                                             max_distance=max_distance)
    return [("the encoder's bidirectional rule", bidirectional),
            ("n = |rp| (the future counted as the past)",
             lambda: lib(-np.abs(rp), num_buckets, max_distance)),
            ("n = rp instead of -rp (key after query counted as past)",
             lambda: lib(-rp, num_buckets, max_distance))]


def check_buckets(rp, hint, num_buckets=32, max_distance=128):
    expected = reference("4.2")(rp, num_buckets=num_buckets, max_distance=max_distance)
    got = causal_position_bucket.with_defaults(rp, num_buckets=num_buckets,
                                               max_distance=max_distance)
    options = f"num_buckets={num_buckets}, max_distance={max_distance}"
    check(got is not None and np.shape(got) == rp.shape,
          f"causal_position_bucket({options}) returned shape "
          f"{np.shape(got) if got is not None else None} for input shape {rp.shape}",
          "return one bucket per relative position, in an array shaped like the input")
    got = np.asarray(got)
    check(got.dtype.kind in "iu",
          f"causal_position_bucket({options}) returned dtype {got.dtype}, expected integers",
          "buckets are indices into the bias table, so they are integers")
    wrong = np.flatnonzero(got.reshape(-1) != expected.reshape(-1))
    if wrong.size:
        flat_rp, flat_got, flat_exp = rp.reshape(-1), got.reshape(-1), expected.reshape(-1)
        examples = "; ".join(f"rp={flat_rp[i]}: expected {flat_exp[i]}, got {flat_got[i]}"
                             for i in wrong[:6])
        hint = mistake_hint(got, bucket_mistakes(rp, num_buckets, max_distance), hint,
                            lambda a, b: np.array_equal(np.asarray(a), np.asarray(b)))
        off_by_one = np.abs(flat_got[wrong] - flat_exp[wrong]) == 1
        if off_by_one.all():
            hint = ("every wrong bucket is one off, at the edge of a log bucket, where "
                    "rounding decides: compute the log part in float32, as the docstring "
                    "says, and as a ratio, not a difference of logs; " + hint)
        fail(f"causal_position_bucket({options}): wrong bucket for {wrong.size} of "
             f"{rp.size} relative positions", hint, f"  {examples}",
             short(expected), short(got))


@pytest.mark.ex4_2
def test_buckets_causal_default():
    check_buckets(np.arange(-300, 301), "only the past counts (every rp >= 0 is bucket 0), "
                  "all 32 buckets serve it, the first 16 distances exactly")


# (10, 160) and (36, 32) put an edge distance one bucket apart in float32 and float64.
CONFIGS = [(8, 20), (8, 128), (16, 32), (32, 128), (32, 500), (64, 128), (64, 1000),
           (10, 160), (36, 32)]


@pytest.mark.ex4_2
@pytest.mark.parametrize("num_buckets,max_distance", CONFIGS)
def test_buckets_every_distance(num_buckets, max_distance):
    # Every distance up to twice max_distance, so every edge between two log buckets is hit.
    check_buckets(-np.arange(0, 2 * max_distance + 2), "use num_buckets and max_distance from "
                  "the arguments, and cap the log buckets at num_buckets - 1",
                  num_buckets=num_buckets, max_distance=max_distance)


@st.composite
def bucket_case(draw):
    # Any setting: odd and even bucket counts from 2 to 160, max_distance from just past the
    # exact buckets to 4,000 (the defaults 32 and 128 among them), positions as int64 or int32.
    num_buckets = draw(st.one_of(st.sampled_from([8, 16, 32, 64]), st.integers(2, 160)))
    max_distance = draw(st.one_of(
        st.sampled_from([num_buckets, 2 * num_buckets, 128, 500]),
        st.integers(num_buckets // 2 + 1, 4000)))
    shape = draw(shapes(min_dims=1, max_dims=2, max_side=6))
    dtype = draw(st.sampled_from([np.int64, np.int32]))
    rp = draw(hnp.arrays(dtype, shape, elements=st.integers(-2 * max_distance,
                                                             2 * max_distance)))
    return rp, num_buckets, max_distance


@pytest.mark.ex4_2
@given(st.integers(2, 96), st.integers(1, 40))
def test_buckets_every_distance_of_any_setting(num_buckets, extra):
    # Every distance of a setting drawn at random, past its largest bucket edge.
    max_distance = num_buckets // 2 + extra * max(1, num_buckets // 8)
    check_buckets(-np.arange(0, 2 * max_distance + 2), "use num_buckets and max_distance from "
                  "the arguments, and cap the log buckets at num_buckets - 1",
                  num_buckets=num_buckets, max_distance=max_distance)


@pytest.mark.ex4_2
@given(bucket_case())
def test_buckets_any_shape_and_configuration(case):
    rp, num_buckets, max_distance = case
    check_buckets(rp, "the result has rp's shape, and every entry follows the same rule",
                  num_buckets=num_buckets, max_distance=max_distance)


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
    expected = reference("4.3")(q, k, bias, mask)
    check_array("attention_weights", attention_weights(q, k, bias, mask), expected, hint,
                inputs={"q": q, "k": k, "position_bias": bias, "mask": mask},
                rtol=1e-9, atol=1e-12, mistakes=attention_mistakes(q, k, bias, mask))


def _softmax(z):
    z = np.exp(z - z.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def attention_mistakes(q, k, bias, mask):
    scores = q @ k.swapaxes(-1, -2)                                      # (B, H, Lq, Lk)
    keep = mask[:, None, None, :]
    minimum = np.finfo(q.dtype).min
    return [("dividing the scores by sqrt(dk) (T5 does not)",
             lambda: _softmax(np.where(keep, scores / np.sqrt(q.shape[-1]) + bias,
                                       minimum))),
            ("leaving out the position bias", lambda: _softmax(
                scores + np.where(keep, 0.0, minimum))),
            ("leaving out the mask", lambda: _softmax(scores + bias)),
            ("masking with -inf (a fully masked row becomes nan)",
             lambda: _softmax(scores + bias + np.where(keep, 0.0, -np.inf)))]


@pytest.mark.ex4_3
@given(attention_case(masked=False))
def test_attention_weights_without_padding(case):
    check_attention(case, "the scores are q times k transposed over the last two axes plus "
                          "the bias, unscaled, with the softmax over the keys")


@pytest.mark.ex4_3
@given(attention_case())
def test_attention_weights_with_padding(case):
    check_attention(case, "the mask is per key and per batch row: line it up with the (B, H, "
                          "Lq, Lk) scores, and use a finite value so that a query whose keys "
                          "are all masked still gets weights that sum to 1")


# ---- 4.4 shift_right inside packed segments -------------------------------------------------

@st.composite
def packed_labels_case(draw):
    rows, length = draw(sides), draw(st.integers(1, 8))
    labels = np.full((rows, length), -100, dtype=np.int64)
    segment_ids = np.zeros((rows, length), dtype=np.int64)
    for r in range(rows):
        used, k = 0, 0
        fill = draw(st.integers(0, length))                # tokens in segments; the rest pad
        while used < fill:
            n = draw(st.integers(1, fill - used))
            k += 1
            labels[r, used:used + n] = draw(hnp.arrays(np.int64, n,
                                                       elements=st.integers(1, 50)))
            segment_ids[r, used:used + n] = k
            used += n
    return labels, segment_ids


def packed_mistakes(labels, segment_ids):
    shifted = np.zeros_like(labels)
    shifted[:, 1:] = labels[:, :-1]
    whole_row = np.where(shifted == -100, 0, shifted)
    return [("shifting the whole row (each segment must start again from 0)", whole_row),
            ("leaving -100 in the decoder inputs", lambda: np.where(
                segment_ids == 0, -100, reference("4.4")(labels, segment_ids)))]


@pytest.mark.ex4_4
@given(packed_labels_case())
def test_packed_shift_right_matches_library(case):
    labels, segment_ids = case
    expected = reference("4.4")(labels, segment_ids)
    got = packed_shift_right(labels, segment_ids)
    check_equal("packed_shift_right", got, expected,
                "each segment is decoded as if alone: it starts from the decoder start token "
                "and sees only its own labels; padding is the pad id",
                inputs={"labels": labels, "segment_ids": segment_ids},
                mistakes=packed_mistakes(labels, segment_ids))
    check_dtype("packed_shift_right", got, "integer", "decoder input ids are token ids: "
                "return an int array, as the docstring says")


@pytest.mark.ex4_4
def test_packed_shift_right_example():
    labels = np.array([[5, 6, 7, 8, -100], [9, 9, 9, 9, 9], [-100, -100, -100, -100, -100]])
    segment_ids = np.array([[1, 1, 2, 2, 0], [1, 2, 3, 3, 3], [0, 0, 0, 0, 0]])
    check_equal("packed_shift_right", packed_shift_right(labels, segment_ids),
                reference("4.4")(labels, segment_ids),
                "row 0 is the docstring's example; row 1 has no padding; row 2 is all padding",
                inputs={"labels": labels, "segment_ids": segment_ids},
                mistakes=packed_mistakes(labels, segment_ids))


# ---- 4.5 tied head backward -----------------------------------------------------------------

@st.composite
def head_case(draw):
    b, length, d, vocab = draw(sides), draw(sides), draw(sides), draw(st.integers(2, 6))
    return (draw(arrays((b, length, vocab))), draw(arrays((b, length, d))),
            draw(arrays((vocab, d))))


def head_mistakes(grad, hidden, shared):
    d = hidden.shape[-1]
    grad_hidden = grad @ shared
    grad_shared = np.einsum("blv,bld->vd", grad, hidden)
    return [("leaving out the d_model ** -0.5 rescaling", (grad_hidden, grad_shared)),
            ("rescaling by d_model ** 0.5 instead of d_model ** -0.5",
             (grad_hidden * d ** 0.5, grad_shared * d ** 0.5))]


@pytest.mark.ex4_5
@given(head_case())
def test_tied_head_backward_matches_library(case):
    grad, hidden, shared = case
    expected = reference("4.5")(grad, hidden, shared)
    check_pair("tied_head_backward", tied_head_backward(grad, hidden, shared), expected,
               ("grad_hidden", "grad_shared_weight"),
               "the factor d_model ** -0.5 multiplies both gradients, and the matrix's "
               "gradient collects every batch position (B and L)",
               inputs={"grad": grad, "hidden": hidden, "shared_weight": shared},
               mistakes=head_mistakes(grad, hidden, shared), rtol=1e-9, atol=1e-12)


# ---- 4.6 gated-GELU FFN backward ------------------------------------------------------------

@st.composite
def ffn_case(draw):
    d, d_ff = draw(sides), draw(sides)
    x = draw(arrays(shapes(min_dims=1, max_dims=3).map(lambda s: s[:-1] + (d,))))
    return (draw(arrays(x.shape)), x, draw(arrays((d_ff, d))), draw(arrays((d_ff, d))),
            draw(arrays((d, d_ff))))


def ffn_mistakes(grad, x, wi_0, wi_1, wo):
    expected = reference("4.6")(grad, x, wi_0, wi_1, wo)
    a, b = x @ wi_0.T, x @ wi_1.T
    g_h = grad @ wo                                     # (..., d_ff)
    # gelu_new'(a) replaced by the logistic sigmoid of a (the derivative of another GELU)
    approx = g_h * b * (1.0 / (1.0 + np.exp(-1.702 * a)))
    lead = x.reshape(-1, x.shape[-1])
    return [("a wrong derivative of gelu_new (the u' term through the tanh is missing)",
             lambda: (None, np.einsum("nf,nd->fd", (g_h * b * 0.5 * (1 + np.tanh(
                 np.sqrt(2 / np.pi) * (a + 0.044715 * a ** 3)))).reshape(-1, a.shape[-1]),
                 lead), None, None)),
            ("the sigmoid-approximated GELU's derivative", lambda: (None, np.einsum(
                "nf,nd->fd", approx.reshape(-1, a.shape[-1]), lead), None, None)),
            ("a weight gradient with in and out swapped ([in, out] instead of [out, in])",
             lambda: tuple(g.T if i and g.ndim == 2 and g.shape[0] != g.shape[1] else g
                           for i, g in enumerate(expected)))]


@pytest.mark.ex4_6
@given(ffn_case())
def test_gated_gelu_ffn_backward_matches_library(case):
    grad, x, wi_0, wi_1, wo = case
    expected = reference("4.6")(grad, x, wi_0, wi_1, wo)
    check_pair("gated_gelu_ffn_backward", gated_gelu_ffn_backward(grad, x, wi_0, wi_1, wo),
               expected, ("grad_x", "grad_wi_0", "grad_wi_1", "grad_wo"),
               "go back through out = h @ wo^T, then the product h = gelu_new(a) * b (each "
               "factor's gradient is the other times the incoming one), then the two "
               "projections; x receives a gradient through both a and b",
               inputs={"grad": grad, "x": x, "wi_0": wi_0, "wi_1": wi_1, "wo": wo},
               mistakes=ffn_mistakes(grad, x, wi_0, wi_1, wo), rtol=1e-8, atol=1e-10)
