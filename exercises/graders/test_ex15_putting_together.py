"""Graders for chapter 15 (putting it all together): each compares the student's function with
the library's (`minit5.reference.parameter_groups`, `minit5.reference.gnmt_penalty.gnmt_ranking`,
`minit5.reference.untie.tie_word_embeddings`)."""
import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exercises.graders.implementations import exercise, reference
from exercises.graders.report import (
    check,
    check_array,
    check_dtype,
    check_equal,
    check_raises,
    fail,
)
from minit5 import T5Config, T5ForConditionalGeneration
from minit5.t5.config import PRESETS

parameter_groups = exercise("15.1")
gnmt_ranking = exercise("15.2")
tie_word_embeddings = exercise("15.3")

seeds = st.integers(0, 2**32 - 1)


# ---- 15.1 where the parameters are ------------------------------------------------------------

@st.composite
def config_case(draw):
    layers = draw(st.integers(1, 6))
    return T5Config(vocab_size=draw(st.integers(8, 3000)), d_model=draw(st.integers(1, 96)),
                    d_kv=draw(st.integers(1, 40)), d_ff=draw(st.integers(1, 200)),
                    num_heads=draw(st.integers(1, 12)), num_layers=layers,
                    num_decoder_layers=draw(st.sampled_from([layers, 1, layers + 2])),
                    relative_attention_num_buckets=draw(st.sampled_from([8, 32])),
                    relative_attention_max_distance=draw(st.sampled_from([17, 128])),
                    feed_forward_proj=draw(st.sampled_from(["relu", "gated-gelu",
                                                            "gated-silu", "gelu", "silu"])),
                    tie_word_embeddings=draw(st.booleans()))


def groups_mistakes(config):
    right = reference("15.1")(config)
    d, ff, layers = config.d_model, config.d_ff, config.num_layers + config.num_decoder_layers
    square = 4 * d * d * (layers + config.num_decoder_layers)
    yield "q, k, v and o as d_model x d_model (inner = num_heads * d_kv need not be d_model)", \
        {**right, "self-attention": 4 * d * d * layers,
         "cross-attention": 4 * d * d * config.num_decoder_layers} \
        if square != right["self-attention"] + right["cross-attention"] else None
    ffn = 3 if config.is_gated_act else 2
    yield "the feed-forward counted with two matrices when the activation is gated", \
        {**right, "feed-forward": 2 * d * ff * layers} if ffn == 3 else None
    yield "an lm_head counted for a tied model (tied: the head is shared.weight)", \
        {**right, "lm_head": config.vocab_size * d} if config.tie_word_embeddings else None
    yield "one relative position table per block (only block 0 of each stack has one)", \
        {**right, "relative position": config.relative_attention_num_buckets
         * config.num_heads * layers} if layers > 2 else None
    yield "the layer norms without the two final ones", \
        {**right, "layer norms": right["layer norms"] - 2 * d}
    yield "the decoder as deep as the encoder (num_decoder_layers may differ)", \
        reference("15.1")(dataclasses.replace(config, num_decoder_layers=config.num_layers)) \
        if config.num_decoder_layers != config.num_layers else None


GROUPS_HINT = ("walk the blocks as the checkpoint names them: each encoder block has "
               "self-attention, a feed-forward and two layer norms; each decoder block adds "
               "cross-attention and a third layer norm; then the embeddings, the final norms "
               "and the two position tables")


def grade_groups(config):
    __tracebackhide__ = True
    expected = reference("15.1")(config)
    got = parameter_groups(config)
    check(isinstance(got, dict), f"parameter_groups must return a dict, got {type(got).__name__}",
          GROUPS_HINT)
    check(list(got) == list(expected), f"parameter_groups returned the keys {list(got)}; "
          f"expected {list(expected)}, in that order", "use the docstring's keys, each once")
    if got != expected:
        hint = GROUPS_HINT
        for text, wrong in groups_mistakes(config):
            if wrong is not None and wrong == got:
                hint = f"your answer is what {text} gives; {GROUPS_HINT}"
                break
        wrong_parts = {k: (expected[k], got[k]) for k in expected if got[k] != expected[k]}
        fail(f"parameter_groups({config.feed_forward_proj}, tied="
             f"{config.tie_word_embeddings}): wrong counts for {list(wrong_parts)}", hint,
             "\n".join(f"  {k}: expected {e}, got {g}" for k, (e, g) in wrong_parts.items()),
             expected=str(expected), got=str(got))


@pytest.mark.ex15_1
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_parameter_groups_of_the_presets(name):
    grade_groups(T5Config.preset(name))


@pytest.mark.ex15_1
@given(config_case())
def test_parameter_groups_of_random_configs(config):
    grade_groups(config)


# ---- 15.2 the paper's length penalty ----------------------------------------------------------

@st.composite
def hypotheses_case(draw):
    rng = np.random.default_rng(draw(seeds))
    n = draw(st.integers(1, 12))
    lengths = rng.integers(1, 60, size=n)
    scores = -rng.gamma(2.0, 1.0, size=n) * lengths
    if draw(st.booleans()) and n > 2:               # some exact ties
        scores[1], lengths[1] = scores[0], lengths[0]
    return scores, lengths, draw(st.sampled_from([0.0, 0.2, 0.6, 1.0, 2.0]))


def ranking_mistakes(scores, lengths, alpha):
    return [("the length penalty of transformers, length ** alpha",
             np.argsort(-(scores / lengths.astype(float) ** alpha), kind="stable")),
            ("no length penalty at all", np.argsort(-scores, kind="stable")),
            ("the worst hypothesis first",
             np.argsort(scores / ((5.0 + lengths) / 6.0) ** alpha, kind="stable")),
            ("multiplying by the penalty instead of dividing",
             np.argsort(-(scores * ((5.0 + lengths) / 6.0) ** alpha), kind="stable")),
            ("an unstable sort, which reorders equal scores",
             np.argsort(-(scores / ((5.0 + lengths) / 6.0) ** alpha), kind="quicksort"))]


RANKING_HINT = ("score each hypothesis by its log-probability divided by the docstring's "
                "penalty of its length; the best score is the largest (log-probabilities are "
                "negative); equal scores stay in input order")


def grade_ranking(scores, lengths, alpha):
    __tracebackhide__ = True
    expected = reference("15.2")(scores, lengths, alpha)
    got = gnmt_ranking(scores, lengths, alpha)
    check_equal("gnmt_ranking", None if got is None else np.asarray(got), expected,
                RANKING_HINT, {"sum_log_probs": scores, "lengths": lengths, "alpha": alpha},
                mistakes=ranking_mistakes(scores, lengths, alpha))
    check_dtype("gnmt_ranking", got, np.int64, "return the indices as an int64 array, as the "
                "docstring says (np.argsort gives one)")


@pytest.mark.ex15_2
@given(hypotheses_case())
def test_gnmt_ranking_matches_library(case):
    grade_ranking(*case)


@pytest.mark.ex15_2
def test_gnmt_ranking_differs_from_the_hf_penalty():
    # Two tokens at -2.0 against five at -3.3 (alpha 0.6): the paper's penalty keeps the short
    # one first, transformers' length ** alpha would put the long one first.
    grade_ranking(np.array([-2.0, -3.3]), np.array([2, 5]), 0.6)
    grade_ranking(np.array([-1.0, -1.0, -0.5]), np.array([3, 3, 9]), 0.0)


@pytest.mark.ex15_2
@pytest.mark.parametrize("scores, lengths, alpha", [
    ([-1.0, -2.0], [0, 3], 0.6), ([-1.0, -2.0], [2], 0.6), ([-1.0], [2], -0.5)])
def test_gnmt_ranking_refuses_bad_arguments(scores, lengths, alpha):
    check_raises(ValueError, lambda: gnmt_ranking(np.array(scores), np.array(lengths), alpha),
                 f"gnmt_ranking({scores}, {lengths}, {alpha})",
                 "a length counts generated tokens (at least EOS), there is one length per "
                 "hypothesis, and a negative alpha would reward short outputs: raise ValueError "
                 "naming the argument")


# ---- 15.3 tying the head back ---------------------------------------------------------------

def untied_case_of(config, seed, dtype, tied_scaled, untied_scaled, moved=0.0):
    """(tied model, state and config of an untied model with its logits, moved by `moved`)."""
    tied_config = dataclasses.replace(config, tie_word_embeddings=True,
                                      scale_decoder_outputs=None if tied_scaled else False)
    tied = T5ForConditionalGeneration(tied_config, seed=seed % 1000, dtype=dtype)
    state = {k: np.array(v) for k, v in tied.state_dict().items()}
    shared = state["shared.weight"]
    scale = config.d_model ** -0.5
    factor = (scale if tied_scaled else 1.0) / (scale if untied_scaled else 1.0)
    head = shared.astype(np.float64) * factor
    if moved:
        head = head + moved * np.abs(head).max() * np.random.default_rng(seed).normal(
            size=head.shape)
    state["lm_head.weight"] = head.astype(shared.dtype)
    untied_config = dataclasses.replace(config, tie_word_embeddings=False,
                                        scale_decoder_outputs=True if untied_scaled else None)
    return tied, state, untied_config


@st.composite
def untied_case(draw):
    config = T5Config(vocab_size=draw(st.integers(8, 60)), d_model=draw(st.integers(2, 24)),
                      d_kv=draw(st.integers(1, 8)), d_ff=draw(st.integers(2, 32)),
                      num_heads=draw(st.integers(1, 3)), num_layers=draw(st.integers(1, 2)),
                      feed_forward_proj=draw(st.sampled_from(["relu", "gated-gelu"])),
                      dropout_rate=0.0)
    return (config, draw(seeds), draw(st.sampled_from(["float64", "float32"])),
            draw(st.booleans()), draw(st.booleans()))


TIE_HINT = ("check the untied config's own scaling of the decoder output, both scalings a "
            "tied model may use, which one the new config says, and a head that is neither")


def grade_tie(tied, state, config, rtol=1e-6, logits_rtol=None):
    __tracebackhide__ = True
    original = dataclasses.replace(config, extra=dict(config.extra))
    got = tie_word_embeddings(state, config, rtol)
    check(isinstance(got, tuple) and len(got) == 2, "tie_word_embeddings must return a pair "
          f"(state_dict, config), got {type(got).__name__}", TIE_HINT)
    new_state, new_config = got
    check(config == original, "tie_word_embeddings changed the config it was given",
          "build a new config (dataclasses.replace) instead of setting fields on the old one")
    check(isinstance(new_config, T5Config), f"the second part must be a T5Config, got "
          f"{type(new_config).__name__}", TIE_HINT)
    expected_state, expected_config = reference("15.3")(state, config, rtol)
    check(new_config == expected_config, "tie_word_embeddings: the new config is not the "
          "expected one (tie_word_embeddings and scale_decoder_outputs)", TIE_HINT,
          expected=f"tie_word_embeddings={expected_config.tie_word_embeddings}, "
                   f"scale_decoder_outputs={expected_config.scale_decoder_outputs}",
          got=f"tie_word_embeddings={getattr(new_config, 'tie_word_embeddings', None)}, "
              f"scale_decoder_outputs={getattr(new_config, 'scale_decoder_outputs', None)}")
    check(isinstance(new_state, dict) and set(new_state) == set(expected_state),
          "the new state dict must hold every original name but 'lm_head.weight'", TIE_HINT,
          expected=str(sorted(expected_state)),
          got=str(sorted(new_state)) if isinstance(new_state, dict) else str(new_state))
    for name, value in expected_state.items():
        check(np.asarray(new_state[name]).dtype == value.dtype,
              f"tie_word_embeddings: {name} has dtype {np.asarray(new_state[name]).dtype}, "
              f"the model's is {value.dtype}", "keep every array's dtype",
              expected=str(value.dtype), got=str(np.asarray(new_state[name]).dtype))
    model = T5ForConditionalGeneration(new_config, seed=0, dtype=str(state["shared.weight"]
                                                                     .dtype))
    model.load_state_dict(new_state)
    rng = np.random.default_rng(0)
    ids = rng.integers(2, config.vocab_size, size=(2, 4))
    labels = rng.integers(2, config.vocab_size, size=(2, 3))
    untied = T5ForConditionalGeneration(config, seed=0, dtype=str(state["shared.weight"].dtype))
    untied.load_state_dict(state)
    float32 = state["shared.weight"].dtype == np.float32
    check_array("tie_word_embeddings", model(input_ids=ids, labels=labels).logits.numpy(),
                untied(input_ids=ids, labels=labels).logits.numpy(), TIE_HINT,
                what="the tied model's logits",
                rtol=logits_rtol or (1e-4 if float32 else 1e-9),
                atol=1e-5 if float32 else 1e-12)


@pytest.mark.ex15_3
@given(untied_case())
def test_tied_model_gives_the_same_logits(case):
    config, seed, dtype, tied_scaled, untied_scaled = case
    tied, state, untied_config = untied_case_of(config, seed, dtype, tied_scaled,
                                                untied_scaled)
    grade_tie(tied, state, untied_config)


SMALL = T5Config(vocab_size=20, d_model=8, d_kv=2, d_ff=8, num_heads=2, num_layers=1,
                 dropout_rate=0.0)


@pytest.mark.ex15_3
@pytest.mark.parametrize("tied_scaled, untied_scaled", [(True, False), (False, False),
                                                        (True, True), (False, True)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_tie_each_scaling(tied_scaled, untied_scaled, dtype):
    grade_tie(*untied_case_of(SMALL, 3, dtype, tied_scaled, untied_scaled))


def _refuses(state, config, rtol, what, error=ValueError):
    __tracebackhide__ = True
    try:
        tie_word_embeddings(state, config, rtol)
    except error:
        return
    except Exception as err:
        fail(f"tie_word_embeddings raised {type(err).__name__} for {what}; expected "
             f"{error.__name__}", "check the inputs first, before building anything")
    fail(f"tie_word_embeddings accepted {what}; expected {error.__name__}",
         "a head that is neither the embedding nor d_model ** -0.5 times it (after the untied "
         "config's own scale) gives other logits when tied; an already tied config has "
         "nothing to tie; a state dict lacking a weight is a KeyError")


@pytest.mark.ex15_3
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_tie_refuses_a_moved_head_and_honours_rtol(dtype):
    _, state, config = untied_case_of(SMALL, 5, dtype, True, False, moved=1e-3)
    _refuses(state, config, 1e-6, "a head moved by fine-tuning (1e-3 of its largest entry)")
    _refuses(state, config, 1e-6 * 1e3 / 10, "a head moved 1e-3 with rtol 1e-4")
    tied, state, config = untied_case_of(SMALL, 5, dtype, True, False, moved=1e-7)
    grade_tie(tied, state, config, rtol=1e-1, logits_rtol=1e-4)   # a loose rtol: accepted
    _, state, config = untied_case_of(SMALL, 6, dtype, True, True)
    state["lm_head.weight"] = state["lm_head.weight"] * 2
    _refuses(state, config, 1e-6, "a head twice the scaled embedding")


@pytest.mark.ex15_3
def test_tie_refuses_a_tied_config_and_a_broken_state():
    _, state, config = untied_case_of(SMALL, 7, "float64", True, False)
    _refuses(state, dataclasses.replace(config, tie_word_embeddings=True), 1e-6,
             "a config that is already tied")
    _refuses({k: v for k, v in state.items() if k != "lm_head.weight"}, config, 1e-6,
             "a state dict without lm_head.weight", KeyError)
    _refuses({k: v for k, v in state.items() if k != "shared.weight"}, config, 1e-6,
             "a state dict without shared.weight", KeyError)
