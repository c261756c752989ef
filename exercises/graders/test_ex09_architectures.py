"""Graders for chapter 9 (architectures): each compares the student's function with the
library's (`minit5.data.packing_lm.pack_decoder_only`, `minit5.t5.attention`'s masks,
`minit5.t5.counting`)."""
import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exercises.graders.implementations import exercise, reference
from exercises.graders.report import check_dtype, check_equal, check_pair, fail
from minit5 import T5Config
from minit5.data.packing_lm import pack_decoder_only
from minit5.t5.architectures import ARCHITECTURES

decoder_only_example = exercise("9.1")
packed_prefix_lm_mask = exercise("9.2")
architecture_parameters = exercise("9.3")
forward_flops = exercise("9.4")

seeds = st.integers(0, 2**32 - 1)


def _ids(rng, size):
    return rng.integers(3, 50, size=int(size)).astype(np.int64)


# ---- 9.1 one example as a decoder-only row ----------------------------------------------------

@st.composite
def example_case(draw):
    rng = np.random.default_rng(draw(seeds))
    length = draw(st.integers(2, 12))
    inputs = _ids(rng, draw(st.integers(0, length - 1)))
    targets = _ids(rng, draw(st.integers(1, 8)))             # some rows cut, some padded
    return inputs, targets, length


def example_mistakes(inputs, targets, length):
    n = len(inputs)
    sequence = np.concatenate([inputs, targets])[:length]
    right = reference("9.1")(inputs, targets, length)

    def with_part(i, value):
        return tuple(value if k == i else part for k, part in enumerate(right))
    unshifted = np.zeros(length, dtype=np.int64)
    unshifted[:len(sequence)] = sequence
    every_label = np.full(length, -100, dtype=np.int64)
    every_label[:len(sequence)] = sequence
    short_prefix = np.zeros(length, dtype=np.int64)
    short_prefix[:min(n, len(sequence))] = 1
    return [("reading the sequence unshifted (no start id in front)",
             lambda: with_part(0, unshifted)),
            ("putting the loss on the input positions too", lambda: with_part(1, every_label)),
            ("a prefix of len(inputs) positions, leaving out the one that reads the last "
             "input", lambda: with_part(2, short_prefix)),
            ("labelling padding 0 instead of -100",
             lambda: with_part(1, np.where(right[1] == -100, np.where(
                 np.arange(length) < len(sequence), -100, 0), right[1])))]


EXAMPLE_HINT = ("work the docstring's rules through by hand on the call shown, one array at a "
                "time: what position 0 reads, which positions carry a label, and which "
                "position reads the last input token")


@pytest.mark.ex9_1
@given(example_case())
def test_decoder_only_example_matches_library(case):
    inputs, targets, length = case
    expected = reference("9.1")(inputs, targets, length)
    got = decoder_only_example(inputs, targets, length)
    check_pair("decoder_only_example", got,
               expected, ("input_ids", "labels", "prefix_mask"), EXAMPLE_HINT,
               inputs={"inputs": inputs, "targets": targets, "length": length},
               mistakes=example_mistakes(inputs, targets, length), rtol=0, atol=0)
    for part, array, wanted in zip(("input_ids", "labels", "prefix_mask"), got, expected):
        check_dtype("decoder_only_example", array, wanted.dtype, "each of the three arrays "
                    "is int64, as the docstring says", what=part)


@pytest.mark.ex9_1
@pytest.mark.parametrize("inputs, targets, length", [
    ([5, 6, 7], [8, 9], 8), ([], [5, 6, 7], 5), ([5, 6], [7, 8, 9, 10], 4), ([5], [6], 2)])
def test_decoder_only_example_worked_cases(inputs, targets, length):
    inputs, targets = np.array(inputs, dtype=np.int64), np.array(targets, dtype=np.int64)
    expected = reference("9.1")(inputs, targets, length)
    check_pair("decoder_only_example", decoder_only_example(inputs, targets, length),
               expected, ("input_ids", "labels", "prefix_mask"), EXAMPLE_HINT,
               inputs={"inputs": inputs, "targets": targets, "length": length},
               mistakes=example_mistakes(inputs, targets, length), rtol=0, atol=0)


# ---- 9.2 the prefix-LM mask of a packed row ---------------------------------------------------

@st.composite
def packed_case(draw):
    rng = np.random.default_rng(draw(seeds))
    length = draw(st.integers(2, 10))
    examples = []
    for _ in range(draw(st.integers(1, 6))):
        n = int(rng.integers(0, length))
        examples.append((_ids(rng, n), _ids(rng, rng.integers(1, 5))))
    batch = pack_decoder_only(examples, length)
    return batch.prefix_mask, batch.segment_ids


def packed_mistakes(prefix_mask, segment_ids):
    length = prefix_mask.shape[1]
    causal = np.tril(np.ones((length, length), dtype=bool))[None, None]        # (1, 1, L, L)
    same = segment_ids[:, None, :, None] == segment_ids[:, None, None, :]     # (B, 1, L, L)
    real_key = (segment_ids != 0)[:, None, None, :]
    key_prefix = (prefix_mask != 0)[:, None, None, :]
    query_prefix = (prefix_mask != 0)[:, None, :, None]
    return [("ignoring the segments (one example's prefix seen by the others)",
             lambda: causal | key_prefix),
            ("a causal mask without the prefix", lambda: (causal & same & real_key)),
            ("letting padding keys be seen (a segment id 0 matches 0)",
             lambda: (causal | key_prefix) & same),
            ("letting prefix queries see every key, instead of every query the prefix keys",
             lambda: (causal | query_prefix) & same & real_key)]


@pytest.mark.ex9_2
@given(packed_case())
def test_packed_prefix_lm_mask_matches_library(case):
    prefix_mask, segment_ids = case
    expected = reference("9.2")(prefix_mask, segment_ids)
    got = packed_prefix_lm_mask(prefix_mask, segment_ids)
    if got is None or np.asarray(got).dtype != bool:
        fail(f"packed_prefix_lm_mask must return a bool array, got "
             f"{'None' if got is None else np.asarray(got).dtype}",
             "keep is True where a query may attend; build it from comparisons")
    check_equal("packed_prefix_lm_mask", np.asarray(got), expected,
                "take one query of a row with two examples and list the keys it may see: "
                "which example each key belongs to matters, and so does padding",
                inputs={"prefix_mask": prefix_mask, "segment_ids": segment_ids},
                mistakes=packed_mistakes(prefix_mask, segment_ids))


# ---- 9.3 and 9.4: counting parameters and FLOPs -----------------------------------------------

DECODER_ONLY = ("language model", "prefix LM")


@st.composite
def config_case(draw, adapters=False):
    name = draw(st.sampled_from(ARCHITECTURES))
    num_layers = draw(st.integers(1, 6))
    config = T5Config(
        vocab_size=draw(st.integers(8, 300)), d_model=draw(st.integers(1, 48)),
        d_kv=draw(st.integers(1, 16)), num_heads=draw(st.integers(1, 6)),
        d_ff=draw(st.integers(1, 96)), num_layers=num_layers,
        num_decoder_layers=(draw(st.integers(1, 6)) if name == "encoder-decoder"
                            else num_layers),
        relative_attention_num_buckets=draw(st.sampled_from([4, 8, 32])),
        relative_attention_max_distance=draw(st.sampled_from([17, 128])),
        feed_forward_proj=draw(st.sampled_from(["relu", "gated-gelu", "gated-silu", "gelu",
                                                "silu"])),
        tie_word_embeddings=draw(st.booleans()),
        adapter_dim=draw(st.one_of(st.none(), st.integers(1, 16))) if adapters else None)
    return name, config


def _stacks(name):
    return 1 if name in DECODER_ONLY or name == "shared encoder-decoder" else 2


def _layers(name, config):
    return max(1, config.num_layers // 2) if name.startswith("half-depth") else config.num_layers


def parameter_mistakes(name, config):
    right = reference("9.3")
    count = right(name, config)
    d, table = config.d_model, config.relative_attention_num_buckets * config.num_heads
    ffn_layers = _layers(name, config) * _stacks(name)
    mistakes = [("a relative-position table in every block instead of in block 0 of a stack",
                 count + (_layers(name, config) - 1) * table * _stacks(name))]
    if name == "shared encoder-decoder":
        mistakes += [("counting the shared arrays twice, once for each stack",
                      right("encoder-decoder", config)),
                     ("leaving out the decoder's own cross-attentions",
                      right("language model", config))]
    if not config.tie_word_embeddings:
        mistakes.append(("leaving out the untied lm_head", count - config.vocab_size * d))
    if config.is_gated_act:
        mistakes.append(("a feed-forward layer of two matrices where the gated one has three",
                         count - ffn_layers * d * config.d_ff))
    if name.startswith("half-depth"):
        half = _layers(name, config)
        mistakes.append(("halving only the encoder", right("encoder-decoder", dataclasses.replace(
            config, num_layers=half, num_decoder_layers=config.num_layers))))
    if config.adapter_dim:
        mistakes.append(("leaving out the adapters (config.adapter_dim)",
                         count - ffn_layers * 2 * d * config.adapter_dim))
    if name in DECODER_ONLY:
        mistakes.append(("giving the single stack cross-attentions",
                         count + config.num_layers * (4 * d * config.inner_dim + d)))
    return mistakes


PARAMETERS_HINT = ("build the model with build_architecture and compare model.named_parameters() "
                   "with your count, array by array")


def grade_parameters(name, config):
    __tracebackhide__ = True
    expected = reference("9.3")(name, config)
    check_equal("architecture_parameters", architecture_parameters(name, config), expected,
                PARAMETERS_HINT, inputs={"name": name, "config": config},
                mistakes=parameter_mistakes(name, config))


@pytest.mark.ex9_3
@given(config_case(adapters=True))
def test_architecture_parameters_matches_library(case):
    grade_parameters(*case)


@pytest.mark.ex9_3
@pytest.mark.parametrize("name", ARCHITECTURES)
def test_architecture_parameters_of_t5_small(name):
    grade_parameters(name, T5Config.preset("t5-small"))


@pytest.mark.ex9_3
@pytest.mark.parametrize("name", ARCHITECTURES)
def test_architecture_parameters_with_adapters(name):
    # t5-small with Table 10's smallest adapters, and an untied gated v1.1-style variant.
    grade_parameters(name, dataclasses.replace(T5Config.preset("t5-small"), adapter_dim=32))
    grade_parameters(name, dataclasses.replace(T5Config.preset("t5-small"), adapter_dim=512,
                                               feed_forward_proj="gated-gelu",
                                               tie_word_embeddings=False))


def flops_mistakes(name, config, n, m):
    right = reference("9.4")
    count = right(name, config, n, m)
    d, n_a, head = config.d_model, config.inner_dim, 2 * config.d_model * config.vocab_size
    mistakes = [("counting 1 FLOP per multiply-add instead of 2", count // 2)]
    if name in DECODER_ONLY:
        mistakes += [("projecting only the target positions to the vocabulary",
                      count - n * head),
                     ("leaving out the output projection", count - (n + m) * head),
                     ("counting only the unmasked (query, key) pairs of the causal mask",
                      count - config.num_layers * 4 * n_a * ((n + m) ** 2 - (n + m) * (n + m + 1)
                                                             // 2))]
    else:
        layers = _layers(name, config) if not name == "encoder-decoder" \
            else config.num_decoder_layers
        mistakes += [("leaving out the output projection", count - m * head),
                     ("projecting the cross-attention's keys and values from the targets",
                      count + layers * 4 * (m - n) * d * n_a),
                     ("counting only the unmasked (query, key) pairs of the causal mask",
                      count - layers * 4 * n_a * (m * m - m * (m + 1) // 2))]
    return mistakes


FLOPS_HINT = ("count one kind of product at a time (projections, attention products, the "
              "vocabulary projection) and check which positions each is applied to")


@pytest.mark.ex9_4
@given(config_case(), st.integers(0, 40), st.integers(1, 40))
def test_forward_flops_matches_library(case, n, m):
    name, config = case
    if name not in DECODER_ONLY:
        n = max(n, 1)
    expected = reference("9.4")(name, config, n, m)
    check_equal("forward_flops", forward_flops(name, config, n, m), expected, FLOPS_HINT,
                inputs={"name": name, "config": config, "inputs_length": n,
                        "targets_length": m},
                mistakes=flops_mistakes(name, config, n, m))


@pytest.mark.ex9_4
@pytest.mark.parametrize("name", ARCHITECTURES)
def test_forward_flops_of_t5_small_at_the_baseline_lengths(name):
    config, n, m = T5Config.preset("t5-small"), 512, 114
    expected = reference("9.4")(name, config, n, m)
    check_equal("forward_flops", forward_flops(name, config, n, m), expected, FLOPS_HINT,
                inputs={"name": name, "config": "T5Config.preset('t5-small')",
                        "inputs_length": n, "targets_length": m},
                mistakes=flops_mistakes(name, config, n, m))
