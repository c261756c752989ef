"""Multi-task mixing (paper §3.5.2): rate formulas and the reproducible sampler."""
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minit5.data.mixing import MixtureSampler, empirical_rates, mixing_rates
from minit5.data.tasks import synthetic_tasks

SIZES = {"big": 1_000_000, "mid": 10_000, "small": 100}


# --- rates --------------------------------------------------------------------------------------

def test_proportional_without_limit():
    rates = mixing_rates(SIZES, "proportional")
    total = sum(SIZES.values())
    assert rates == pytest.approx({name: size / total for name, size in SIZES.items()})


def test_proportional_with_limit_k():
    rates = mixing_rates(SIZES, "proportional", K=2**10)
    # min(e, K): 1024, 1024, 100
    assert rates == pytest.approx({"big": 1024 / 2148, "mid": 1024 / 2148, "small": 100 / 2148})


def test_temperature_scales_the_k_limited_rates():
    limited = np.array([1024, 1024, 100]) / 2148
    scaled = limited ** (1 / 4)
    rates = mixing_rates(SIZES, "temperature", K=2**10, temperature=4)
    assert list(rates.values()) == pytest.approx(list(scaled / scaled.sum()))
    assert mixing_rates(SIZES, "temperature", K=2**10, temperature=1) == \
        pytest.approx(mixing_rates(SIZES, "proportional", K=2**10))


def test_high_temperature_approaches_equal():
    rates = mixing_rates(SIZES, "temperature", temperature=1e6)
    assert list(rates.values()) == pytest.approx([1 / 3] * 3, abs=1e-4)


def test_equal():
    assert mixing_rates(SIZES, "equal") == pytest.approx(dict.fromkeys(SIZES, 1 / 3))


@given(st.dictionaries(st.text("abc", min_size=1, max_size=3), st.integers(1, 10**7),
                       min_size=1, max_size=6),
       st.sampled_from(["proportional", "temperature", "equal"]),
       st.one_of(st.none(), st.integers(1, 10**6)),
       st.floats(0.5, 8))
def test_rates_are_a_distribution_in_size_order(sizes, strategy, K, temperature):
    rates = mixing_rates(sizes, strategy, K=K, temperature=temperature)
    assert list(rates) == list(sizes)
    assert sum(rates.values()) == pytest.approx(1.0)
    assert all(r > 0 for r in rates.values())
    if strategy != "equal":
        # a bigger data set never gets a smaller rate
        by_size = sorted(sizes, key=sizes.get)
        assert all(rates[a] <= rates[b] + 1e-12 for a, b in zip(by_size, by_size[1:]))


@pytest.mark.parametrize("kwargs, message", [
    (dict(sizes={}, strategy="equal"), "sizes is empty"),
    (dict(sizes=SIZES, strategy="uniform"), "unknown strategy"),
    (dict(sizes={"a": -1}, strategy="proportional"), "whole number"),
    (dict(sizes={"a": 1.5}, strategy="proportional"), "whole number"),
    (dict(sizes={"a": 0}, strategy="proportional"), "every task has 0"),
    (dict(sizes=SIZES, strategy="proportional", K=0), "K must be positive"),
    (dict(sizes=SIZES, strategy="temperature", temperature=0), "temperature must be > 0"),
])
def test_rate_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mixing_rates(**kwargs)


# --- the sampler --------------------------------------------------------------------------------

def make_sampler(seed=0):
    tasks = synthetic_tasks()
    mixture = {"reverse": tasks["reverse"], "lookup": tasks["lookup"],
               "fixed": [("in 0", "out 0"), ("in 1", "out 1"), ("in 2", "out 2")]}
    rates = mixing_rates({"reverse": 500, "lookup": 300, "fixed": 200}, "proportional")
    return MixtureSampler(mixture, rates, np.random.default_rng(seed))


def test_sampler_is_deterministic():
    assert make_sampler(0).take(200) == make_sampler(0).take(200)
    assert make_sampler(0).take(200) != make_sampler(1).take(200)


def test_state_round_trip_resumes_identically():
    reference = make_sampler(0).take(300)
    sampler = make_sampler(0)
    assert sampler.take(137) == reference[:137]
    state = json.loads(json.dumps(sampler.state_dict()))    # survives a trip through a file
    resumed = make_sampler(99)                              # even a differently seeded one
    resumed.load_state_dict(state)
    assert resumed.take(163) == reference[137:]
    assert resumed.num_drawn == 300


def test_sequence_tasks_cycle_through_every_example_each_epoch():
    data = [f"example {i}" for i in range(7)]
    sampler = MixtureSampler({"only": data}, {"only": 1.0}, np.random.default_rng(0))
    drawn = [example for _, example in sampler.take(21)]
    for epoch in range(3):
        assert sorted(drawn[7 * epoch: 7 * epoch + 7]) == data
    assert drawn[:7] != drawn[7:14]  # reshuffled each epoch


def test_empirical_frequencies_match_rates():
    sampler = make_sampler(3)
    draws = sampler.take(20_000)
    observed = empirical_rates(draws, sampler.names)
    for name, rate in zip(sampler.names, sampler.rates):
        # binomial standard deviation at n = 20,000 is at most 0.0036; allow ~4 of them
        assert observed[name] == pytest.approx(rate, abs=0.015)


def test_zero_rate_task_is_never_drawn():
    sampler = MixtureSampler({"a": ["x"], "b": ["y"]}, {"a": 1.0, "b": 0.0},
                             np.random.default_rng(0))
    assert {name for name, _ in sampler.take(100)} == {"a"}


def test_sampler_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="same tasks"):
        MixtureSampler({"a": ["x"]}, {"b": 1.0}, rng)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        MixtureSampler({"a": ["x"]}, {"a": 1.0}, 0)
    with pytest.raises(ValueError, match="has no examples"):
        MixtureSampler({"a": []}, {"a": 1.0}, rng)
    with pytest.raises(ValueError, match="rates must be"):
        MixtureSampler({"a": ["x"]}, {"a": -1.0}, rng)
    other = MixtureSampler({"a": ["x"], "b": ["y"]}, {"a": 1.0, "b": 1.0}, rng)
    with pytest.raises(ValueError, match="saved tasks"):
        other.load_state_dict(make_sampler(0).state_dict())


# --- the mixer: one, a pure function of (seed, step) --------------------------------------------

def test_mixer_is_a_pure_function_of_seed_and_step():
    from minit5.data.mixing import TaskMixture
    mixture = TaskMixture({"a": 3.0, "b": 1.0, "never": 0.0})
    assert mixture.rates.tolist() == [0.75, 0.25, 0.0]
    first = mixture.tasks(seed=5, step=17, n=64)
    mixture.tasks(seed=5, step=18, n=64)                     # no hidden state between calls
    assert TaskMixture({"a": 3.0, "b": 1.0, "never": 0.0}).tasks(5, 17, 64) == first
    assert mixture.tasks(5, 18, 64) != first and mixture.tasks(6, 17, 64) != first
    assert "never" not in first and set(first) == {"a", "b"}
    with pytest.raises(ValueError, match="rates must be"):
        TaskMixture({"a": float("nan")})


def test_the_fine_tuning_stream_and_the_sampler_both_use_the_mixer():
    from minit5.data.mixing import TaskMixture
    from minit5.train.streams import TaskMixtureStream
    tasks = synthetic_tasks()
    rates = mixing_rates({name: 100 * (i + 1) for i, name in enumerate(tasks)}, "proportional")
    stream = TaskMixtureStream(tasks, rates, tokenizer=None, batch_size=16, seed=3)
    for step in (1, 2, 50):
        chosen = TaskMixture(rates).tasks(3, step, 16)
        examples = stream.examples(step)
        for name, (source, _) in zip(chosen, examples):
            assert source.startswith(tasks[name].prefix), (name, source)
    sampler = MixtureSampler(tasks, rates, np.random.default_rng(0))
    names = [name for name, _ in sampler.take(MixtureSampler.BLOCK + 5)]
    mixture = TaskMixture(rates)
    assert names == (mixture.tasks(sampler.seed, 0, MixtureSampler.BLOCK)
                     + mixture.tasks(sampler.seed, 1, MixtureSampler.BLOCK)[:5])
