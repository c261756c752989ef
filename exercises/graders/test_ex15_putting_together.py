"""Graders for chapter 15 (putting it all together): each compares the student's function with
the library's (`minit5.t5.parameter_groups`, `minit5.t5.gnmt_penalty.gnmt_ranking`,
`minit5.t5.untie.untie_word_embeddings`)."""
import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exercises.graders.implementations import exercise, reference
from exercises.graders.report import check, check_array, check_equal, check_raises, fail
from minit5 import T5Config, T5ForConditionalGeneration
from minit5.t5.config import PRESETS

parameter_groups = exercise("15.1")
gnmt_ranking = exercise("15.2")
untie_word_embeddings = exercise("15.3")

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
                    feed_forward_proj=draw(st.sampled_from(["relu", "gated-gelu"])),
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


# ---- 15.3 untying the head --------------------------------------------------------------------

@st.composite
def tied_case(draw):
    config = T5Config(vocab_size=draw(st.integers(8, 60)), d_model=draw(st.integers(2, 24)),
                      d_kv=draw(st.integers(1, 8)), d_ff=draw(st.integers(2, 32)),
                      num_heads=draw(st.integers(1, 3)), num_layers=draw(st.integers(1, 2)),
                      feed_forward_proj=draw(st.sampled_from(["relu", "gated-gelu"])),
                      dropout_rate=0.0)
    return config, draw(seeds)


UNTIE_HINT = ("a tied model scales the decoder output by d_model ** -0.5 and projects it with "
              "shared.weight; an untied model without that scaling must do the same with its "
              "own lm_head.weight")


def grade_untie(config, seed):
    __tracebackhide__ = True
    model = T5ForConditionalGeneration(config, seed=seed % 1000, dtype="float64")
    state = dict(model.state_dict())
    original = dataclasses.replace(config, extra=dict(config.extra))
    got = untie_word_embeddings(state, config)
    check(isinstance(got, tuple) and len(got) == 2, "untie_word_embeddings must return a pair "
          f"(state_dict, config), got {type(got).__name__}", UNTIE_HINT)
    new_state, new_config = got
    check(config == original, "untie_word_embeddings changed the config it was given",
          "build a new config (dataclasses.replace) instead of setting fields on the old one")
    check(isinstance(new_config, T5Config), f"the second part must be a T5Config, got "
          f"{type(new_config).__name__}", UNTIE_HINT)
    expected_state, expected_config = reference("15.3")(state, config)
    check(new_config == expected_config, "the new config is not the original with "
          "tie_word_embeddings=False and scale_decoder_outputs=None",
          "change those two fields and nothing else", expected=str(expected_config),
          got=str(new_config))
    check(isinstance(new_state, dict) and set(new_state) == set(expected_state),
          "the new state dict must hold every original name plus 'lm_head.weight'",
          UNTIE_HINT, expected=str(sorted(expected_state)),
          got=str(sorted(new_state)) if isinstance(new_state, dict) else str(new_state))
    wrong_heads = [("lm_head.weight = shared.weight, unscaled",
                    expected_state["shared.weight"]),
                   ("multiplying by d_model ** 0.5 instead of d_model ** -0.5",
                    expected_state["shared.weight"] * config.d_model ** 0.5),
                   ("the transposed embedding", expected_state["shared.weight"].T)]
    check_array("untie_word_embeddings", new_state["lm_head.weight"],
                expected_state["lm_head.weight"], UNTIE_HINT, {"d_model": config.d_model},
                what="lm_head.weight", mistakes=wrong_heads, rtol=1e-12, atol=1e-12)
    untied = T5ForConditionalGeneration(new_config, seed=0, dtype="float64")
    untied.load_state_dict(new_state)
    rng = np.random.default_rng(seed)
    ids = rng.integers(2, config.vocab_size, size=(2, 4))
    labels = rng.integers(2, config.vocab_size, size=(2, 3))
    check_array("untie_word_embeddings", untied(input_ids=ids, labels=labels).logits.numpy(),
                model(input_ids=ids, labels=labels).logits.numpy(), UNTIE_HINT,
                what="the untied model's logits", rtol=1e-9, atol=1e-12)


@pytest.mark.ex15_3
@given(tied_case())
def test_untied_model_gives_the_same_logits(case):
    grade_untie(*case)


@pytest.mark.ex15_3
def test_untie_refuses_an_untied_config_and_a_broken_state():
    config = T5Config(vocab_size=20, d_model=8, d_kv=2, d_ff=8, num_heads=2, num_layers=1)
    state = dict(T5ForConditionalGeneration(config, seed=0).state_dict())
    cases = [("an untied config", state, dataclasses.replace(config, tie_word_embeddings=False),
              ValueError),
             ("a state dict with an lm_head.weight already",
              {**state, "lm_head.weight": state["shared.weight"]}, config, ValueError),
             ("a state dict without shared.weight",
              {k: v for k, v in state.items() if k != "shared.weight"}, config, KeyError)]
    for what, given_state, given_config, error in cases:
        try:
            untie_word_embeddings(given_state, given_config)
        except error:
            continue
        except Exception as err:
            fail(f"untie_word_embeddings raised {type(err).__name__} for {what}; expected "
                 f"{error.__name__}", "check the inputs first, before building anything")
        fail(f"untie_word_embeddings accepted {what}; expected {error.__name__}",
             "an already untied model has nothing to untie, and a tied state dict has one "
             "embedding, shared.weight, and no head: say which case it is")
