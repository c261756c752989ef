"""Graders for chapter 9 (architectures): each compares the student's function with the
library's (`minit5.data.packing_lm.pack_decoder_only`, `minit5.t5.attention`'s masks)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exercises.graders.implementations import exercise, reference
from exercises.graders.report import check_equal, check_pair, fail
from minit5.data.packing_lm import pack_decoder_only

decoder_only_example = exercise("9.1")
packed_prefix_lm_mask = exercise("9.2")

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
    check_pair("decoder_only_example", decoder_only_example(inputs, targets, length),
               expected, ("input_ids", "labels", "prefix_mask"), EXAMPLE_HINT,
               inputs={"inputs": inputs, "targets": targets, "length": length},
               mistakes=example_mistakes(inputs, targets, length), rtol=0, atol=0)


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
