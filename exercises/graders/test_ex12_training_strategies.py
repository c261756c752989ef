"""Graders for chapter 12 (training strategies): each compares the student's function with the
library's (`minit5.data.mixing.temperature_for_rate`; `add_adapters` and
`optimizer_state_bytes` for the state of fine-tuning with adapters; `apply_unfreezing` for the
parameters that train at a step of gradual unfreezing)."""
import dataclasses
import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exercises.graders.implementations import exercise, reference
from exercises.graders.report import check, check_equal, check_raises, fail, mistake_hint
from minit5.data.mixing import mixing_rates
from minit5.reference.state_bytes import optimizer_state_bytes
from minit5.t5.config import T5Config
from minit5.t5.model import T5ForConditionalGeneration

temperature_for_rate = exercise("12.1")
adapter_state_bytes = exercise("12.2")
unfrozen_parameters = exercise("12.3")


# ---- 12.1 the temperature for a share ---------------------------------------------------------
# The answer is graded by what it must do: at the student's T the library's temperature-scaled
# rates give the largest task `rate` (one T does, the rate being strictly monotone in T).

def _largest_rate(sizes, K, T):
    rates = mixing_rates(sizes, "temperature", K=K, temperature=T)
    capped = {m: v if K is None else min(v, K) for m, v in sizes.items()}
    return rates[max(capped, key=capped.get)]


def temperature_mistakes(sizes, K, rate):
    expected = reference("12.1")(sizes, K, rate)
    return [("1 / T (the exponent) instead of T", lambda: 1 / expected),
            ("the sizes without the limit K",
             lambda: mixing_temperature(sizes, rate) if K is not None else None)]


def mixing_temperature(sizes, rate):
    return reference("12.1")(sizes, None, rate)


TEMPERATURE_HINT = ("check which task is the largest once the sizes are capped at K, that the "
                    "answer is T and not 1 / T, and how precisely your T gives `rate` (the "
                    "share must match to 1e-9)")


def grade_temperature(sizes, K, rate):
    __tracebackhide__ = True
    got = temperature_for_rate(sizes, K, rate)
    expected = reference("12.1")(sizes, K, rate)
    hint = TEMPERATURE_HINT
    if not isinstance(got, (int, float, np.floating)) or isinstance(got, bool) \
            or not np.isfinite(got) or got <= 0:
        fail(f"temperature_for_rate returned {got!r}, not a temperature (a float > 0)", hint,
             expected=repr(expected), got=repr(got))
    share = _largest_rate(sizes, K, float(got))
    if not np.isclose(share, rate, rtol=1e-9, atol=0):
        hint = mistake_hint(got, temperature_mistakes(sizes, K, rate), hint,
                            lambda a, b: b is not None and np.isclose(a, b, rtol=1e-6))
    check(np.isclose(share, rate, rtol=1e-9, atol=0),
          f"temperature_for_rate: at T = {float(got)!r} the largest task gets {share!r} of the "
          f"mixture, not {rate!r} (the library's T is {expected!r})", hint,
          expected=f"T = {expected:.9g} (share {rate!r})",
          got=f"T = {float(got):.9g} (share {share!r})")


@st.composite
def temperature_case(draw):
    n = draw(st.integers(2, 8))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    sizes = {f"task{i}": int(v) for i, v in enumerate(
        np.exp(rng.uniform(0, np.log(10**9), size=n)).astype(np.int64))}
    if draw(st.booleans()):
        sizes["task0"] = 0                                  # a task with no examples
    K = draw(st.one_of(st.none(), st.integers(1, 10**9)))
    capped = np.array([v if K is None else min(v, K) for v in sizes.values()])
    capped = capped[capped > 0]
    if len(capped) < 2 or (capped == capped.max()).sum() == len(capped):
        K = None
        sizes = {**sizes, "big": 10**9, "small": 1}
        capped = np.array([v for v in sizes.values() if v > 0])
    low, high = 1 / len(capped), 1 / int((capped == capped.max()).sum())
    where = draw(st.floats(1e-6, 1 - 1e-6))
    return sizes, K, float(low + where * (high - low))


@pytest.mark.ex12_1
@given(temperature_case())
def test_temperature_for_rate_gives_the_rate(case):
    grade_temperature(*case)


MINIATURE = {"unsupervised": 3476, "acceptability": 32, "pair": 32, "cloze choice": 32}


@pytest.mark.ex12_1
@pytest.mark.parametrize("sizes, K, rate", [
    (MINIATURE, None, 0.5), (MINIATURE, None, 0.9), (MINIATURE, 2**9, 0.5),
    (MINIATURE, 2**7, 0.3),
    ({"a": 100, "b": 300, "c": 600}, None, 0.5),             # T < 1 and T > 1 around 0.6
    ({"a": 100, "b": 300, "c": 600}, None, 0.8),
    ({"a": 1, "b": 10**9}, None, 0.9999999),                 # T -> 0
    ({"a": 5, "b": 6}, None, 0.5000001),                     # T -> infinity
    ({"a": 1, "b": 10**9, "c": 10**9}, None, 0.49),          # two tied for the most
    ({"a": 0, "b": 7, "c": 700}, None, 0.75),                # a task of no examples
    ({"a": 10**9, "b": 10**6, "c": 10}, 10**5, 0.4),         # the cap ties a and b ...
    ({"a": 10**9, "b": 10**6, "c": 10}, 10**7, 0.7)])        # ... or not
def test_temperature_for_rate_worked_cases(sizes, K, rate):
    grade_temperature(sizes, K, rate)


@pytest.mark.ex12_1
@pytest.mark.parametrize("sizes, K, rate, problem", [
    ({"a": 10, "b": 5}, None, 0.5, "the rate of T -> infinity (1 / M), which no T reaches"),
    ({"a": 10, "b": 5}, None, 0.3, "a rate below 1 / M"),
    ({"a": 10, "b": 5}, None, 1.0, "a rate of 1 with a single largest task"),
    ({"a": 10, "b": 10, "c": 1}, None, 0.6, "a rate above 1 / k for k tasks tied largest"),
    ({"a": 10, "b": 10}, None, 0.5, "two tasks of the same size (every T gives 1 / 2)"),
    ({"a": 10**6, "b": 10**7}, 100, 0.6, "sizes that the cap K makes equal"),
    ({"a": 10, "b": 0}, None, 0.7, "one task with examples and one without"),
    ({"a": 10, "b": 5}, 0, 0.8, "K = 0"),
    ({"a": 0, "b": 0}, None, 0.8, "sizes that are all 0"),
    ({"a": 10, "b": -5}, None, 0.8, "a negative size")])
def test_temperature_for_rate_refuses_unreachable_rates(sizes, K, rate, problem):
    check_raises(ValueError, lambda: temperature_for_rate(sizes, K, rate),
                 f"temperature_for_rate with {problem}",
                 "a rate no temperature gives (the limits T -> 0 and T -> infinity are not "
                 "reached), and sizes or K the rates refuse, raise ValueError saying why")


# ---- 12.2 the optimizer state of fine-tuning with adapters ----------------------------------

@st.composite
def adapter_case(draw):
    d_model = draw(st.sampled_from([8, 16, 64, 128, 160, 200]))
    heads = draw(st.sampled_from([1, 2, 4]))
    config = T5Config(vocab_size=draw(st.integers(16, 64)), d_model=d_model,
                      d_kv=draw(st.sampled_from([4, 8, 32])), num_heads=heads,
                      d_ff=draw(st.sampled_from([16, 64, 200])),
                      num_layers=draw(st.integers(1, 2)),
                      num_decoder_layers=draw(st.integers(1, 3)),
                      feed_forward_proj=draw(st.sampled_from(["relu", "gated-gelu"])),
                      tie_word_embeddings=draw(st.booleans()))
    return config, draw(st.integers(1, 300))


def state_mistakes(config, d):
    shapes = dataclasses.replace(config, adapter_dim=d).parameter_shapes()
    adapters = {n: s for n, s in shapes.items() if ".adapter." in n}
    norms = {n: s for n, s in shapes.items() if "layer_norm" in n}
    block_norms = {n: s for n, s in norms.items() if "final_layer_norm" not in n}
    bytes_of = lambda part, **kw: optimizer_state_bytes(part, "adafactor", **kw)  # noqa: E731
    return [("the state of every parameter (fine-tuning all of them, adapters included)",
             bytes_of(shapes)),
            ("the adapters alone, without the layer norms", bytes_of(adapters)),
            ("leaving out the two final layer norms", bytes_of({**adapters, **block_norms})),
            ("factoring every matrix, however small (transformers' rule, not T5's)",
             bytes_of({**adapters, **norms}, min_dim_size_to_factor=0)),
            ("one number per weight for every matrix (never factoring)",
             4 * sum(int(np.prod(s)) for s in {**adapters, **norms}.values())),
            ("Adam's two numbers per weight", optimizer_state_bytes({**adapters, **norms},
                                                                    "adam")),
            ("counting numbers instead of bytes", bytes_of({**adapters, **norms}) // 4)]


STATE_HINT = ("list what add_adapters leaves trainable (every adapter, and every layer norm, "
              "the final ones included), then apply Adafactor's factoring rule to each shape: "
              "T5's rule factors a matrix only when its smaller dimension is at least 128")


def grade_state(config, d):
    __tracebackhide__ = True
    expected = reference("12.2")(config, d)
    got = adapter_state_bytes(config, d)
    if isinstance(got, (float, np.floating)) and float(got).is_integer():
        got = int(got)
    check_equal("adapter_state_bytes", got, expected, STATE_HINT,
                {"config": config, "adapter_dim": d}, mistakes=state_mistakes(config, d))


@pytest.mark.ex12_2
@given(adapter_case())
def test_adapter_state_bytes_match_library(case):
    grade_state(*case)


@pytest.mark.ex12_2
@pytest.mark.parametrize("d", [32, 128, 512, 2048])
def test_adapter_state_bytes_of_table10s_sizes(d):
    # One block per stack, 256 wide (the vocabulary is small: frozen, it keeps no state).
    config = T5Config(vocab_size=64, d_model=256, d_kv=32, num_heads=4, d_ff=1024,
                      num_layers=1)
    grade_state(config, d)


@pytest.mark.ex12_2
@pytest.mark.parametrize("d", [0, -4])
def test_adapter_state_bytes_refuse_bad_sizes(d):
    config = T5Config(vocab_size=32, d_model=16, d_kv=4, num_heads=2, d_ff=32, num_layers=1)
    check_raises(ValueError, lambda: adapter_state_bytes(config, d),
                 f"adapter_state_bytes(config, {d})",
                 "an adapter needs an inner size of at least 1: raise ValueError naming "
                 "adapter_dim")


# ---- 12.3 what trains at a step of gradual unfreezing ---------------------------------------

def _names(config):
    return [name for name, _ in T5ForConditionalGeneration(config, seed=0).named_parameters()]


def _trainable(names, config, tops, final=True, shared=True, bias_always=False, bottom=False):
    """The names a rule would train: `tops` = (encoder blocks, decoder blocks) from the top
    (from the bottom with `bottom`)."""
    depths = {"encoder": config.num_layers, "decoder": config.num_decoder_layers}
    out = set()
    for name in names:
        block = re.match(r"(encoder|decoder)\.block\.(\d+)\.", name)
        if block:
            stack, i = block.group(1), int(block.group(2))
            top = tops[0] if stack == "encoder" else tops[1]
            trains = i < top if bottom else i >= depths[stack] - top
            if trains or (bias_always and "relative_attention_bias" in name):
                out.add(name)
        elif "final_layer_norm" in name:
            if final:
                out.add(name)
        elif shared:
            out.add(name)                              # shared.weight, lm_head.weight
    return out


def unfreezing_mistakes(config, step, total):
    names = _names(config)
    depth = max(config.num_layers, config.num_decoder_layers)
    n = math.ceil(step * depth / total)
    tops = tuple(math.ceil(n * L / depth) for L in (config.num_layers,
                                                    config.num_decoder_layers))
    same = tuple(min(n, L) for L in (config.num_layers, config.num_decoder_layers))
    later = tuple(min(L, t + 1) for L, t in zip((config.num_layers, config.num_decoder_layers),
                                                tops))
    earlier = tuple(max(0, t - 1) for t in tops)
    return [("unfreezing from the bottom of each stack instead of the top",
             _trainable(names, config, tops, bottom=True)),
            ("leaving the final layer norms frozen", _trainable(names, config, tops, final=False)),
            ("freezing the shared embedding (it trains in every episode)",
             _trainable(names, config, tops, shared=False)),
            ("training the relative attention bias from the start (it belongs to block 0)",
             _trainable(names, config, tops, bias_always=True)),
            ("unfreezing n blocks of each stack in episode n whatever its depth (a shallower "
             "stack unfreezes in proportion)", _trainable(names, config, same)),
            ("counting the episode one too far (is the step's episode ceil(k N / S)?)",
             _trainable(names, config, later)),
            ("counting the episode one too short (is the step's episode ceil(k N / S)?)",
             _trainable(names, config, earlier))]


UNFREEZE_HINT = ("find the step's episode n first, then how many blocks of each stack are open "
                 "(the top ones, in proportion to the stack's depth), and add what trains "
                 "in every episode; a block's weights all follow the block")


def _as_set(got):
    if isinstance(got, (list, tuple, set, frozenset)) and all(isinstance(g, str) for g in got):
        return set(got)
    return got


def grade_unfrozen(config, step, total):
    __tracebackhide__ = True
    expected = set(reference("12.3")(config, step, total))
    got = unfrozen_parameters(config, step, total)
    check(isinstance(got, (list, tuple, set, frozenset)),
          f"unfrozen_parameters must return the names (a list or a set of strings), got "
          f"{type(got).__name__}", UNFREEZE_HINT)
    got = _as_set(got)
    if got == expected:
        return
    hint = UNFREEZE_HINT
    for description, wrong in unfreezing_mistakes(config, step, total):
        if got == wrong and wrong != expected:
            hint = f"your answer is what {description} gives; {UNFREEZE_HINT}"
            break
    missing = sorted(expected - got) if isinstance(got, set) else []
    extra = sorted(got - expected) if isinstance(got, set) else []
    fail(f"unfrozen_parameters(step={step}, total_steps={total}): {len(missing)} trainable "
         f"names missing, {len(extra)} frozen ones included", hint,
         f"  config: {config.num_layers} encoder / {config.num_decoder_layers} decoder blocks,"
         f" tie_word_embeddings={config.tie_word_embeddings}\n"
         f"  missing: {missing[:6]}\n  should be frozen: {extra[:6]}",
         expected=f"{len(expected)} names", got=f"{len(got)} names")


@st.composite
def unfreezing_case(draw):
    config = T5Config(vocab_size=draw(st.integers(8, 40)), d_model=8, d_kv=4, num_heads=2,
                      d_ff=16, num_layers=draw(st.integers(1, 5)),
                      num_decoder_layers=draw(st.integers(1, 5)),
                      tie_word_embeddings=draw(st.booleans()),
                      feed_forward_proj=draw(st.sampled_from(["relu", "gated-gelu"])),
                      adapter_dim=draw(st.one_of(st.none(), st.just(4))))
    depth = max(config.num_layers, config.num_decoder_layers)
    total = draw(st.integers(depth, 60))
    bounds = [b for k in range(depth + 1) for b in (k * total // depth, k * total // depth + 1)]
    step = draw(st.one_of(st.integers(1, total),
                          st.sampled_from([b for b in bounds if 1 <= b <= total])))
    return config, step, total


@pytest.mark.ex12_3
@given(unfreezing_case())
def test_unfrozen_parameters_match_library(case):
    grade_unfrozen(*case)


@pytest.mark.ex12_3
@pytest.mark.parametrize("step", [1, 100, 101, 200])
def test_unfrozen_parameters_of_the_miniature(step):
    # The Table 10 miniature's run: 2 + 2 blocks, 200 fine-tuning steps, two episodes.
    config = T5Config(vocab_size=32, d_model=16, d_kv=4, num_heads=4, d_ff=64, num_layers=2)
    grade_unfrozen(config, step, 200)


@pytest.mark.ex12_3
@pytest.mark.parametrize("step", [1, 6, 7, 13, 24])
def test_unfrozen_parameters_of_unequal_stacks(step):
    # A 3-block encoder beside a 6-block decoder over 24 steps: 6 episodes of 4 steps.
    config = T5Config(vocab_size=32, d_model=8, d_kv=4, num_heads=2, d_ff=16, num_layers=3,
                      num_decoder_layers=6, tie_word_embeddings=False)
    grade_unfrozen(config, step, 24)


@pytest.mark.ex12_3
@pytest.mark.parametrize("step, total, problem", [(0, 10, "step 0"), (11, 10, "a step past the "
                                                  "end"), (1, 1, "fewer steps than layers")])
def test_unfrozen_parameters_refuse_bad_steps(step, total, problem):
    config = T5Config(vocab_size=32, d_model=8, d_kv=4, num_heads=2, d_ff=16, num_layers=2)
    check_raises(ValueError, lambda: unfrozen_parameters(config, step, total),
                 f"unfrozen_parameters with {problem}",
                 "steps run from 1 to total_steps, and every layer needs an episode of at least "
                 "one step: raise ValueError naming the argument and what it must be")
