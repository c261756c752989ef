"""Multi-task mixing (paper §3.5.2): how often each task's examples are drawn.

Training on several tasks at once means choosing, at each step, which task the next example comes
from. The paper compares three ways of setting the rate r_m of task m, given its number of
examples e_m:

  * examples-proportional with an artificial limit K:  r_m = min(e_m, K) / sum_n min(e_n, K).
    Without the limit, a huge data set (C4 for the unsupervised task) would swamp the rest;
    K caps how large a data set may look.
  * temperature-scaled: take the K-limited proportional rates, raise each to the power 1/T and
    renormalise. T = 1 is examples-proportional; as T grows the rates approach equal mixing.
    (The paper applies the limit K here too, with a large K.)
  * equal: r_m = 1 / M for M tasks, whatever their sizes.

`TaskMixture` is the mixer: which task each example of a step comes from, a pure function of
(seed, step), so the training streams need no state to resume. `MixtureSampler` reads
(task, example) pairs through it, one after another, and can save and restore its position
so a resumed run sees exactly the data it would have seen.
"""
from __future__ import annotations

import copy
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

STRATEGIES = ("proportional", "temperature", "equal")
MIXING_STREAM = 4      # the mixer's generator is default_rng([seed, step, 4]); the training
                       # streams (minit5.train.streams) use 0-3 for their other draws


def mixing_rates(sizes: Mapping[str, int], strategy: str = "proportional",
                 K: int | None = None, temperature: float = 1.0) -> dict[str, float]:
    """Mixing rates r_m for tasks with `sizes` = {name: number of examples} (§3.5.2).

    strategy: "proportional" (examples-proportional, limited by K when K is given),
              "temperature" (K-limited proportional rates ** (1 / temperature), renormalised),
              or "equal" (1 / number of tasks; sizes are ignored).
    Returns {name: rate}, the rates summing to 1, in the order of `sizes`.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"mixing_rates: unknown strategy {strategy!r}; choose one of {STRATEGIES}")
    if not sizes:
        raise ValueError("mixing_rates: sizes is empty; pass {task_name: number_of_examples}")
    for name, size in sizes.items():
        if not isinstance(size, (int, np.integer)) or size < 0:
            raise ValueError(f"mixing_rates: size of {name!r} must be a whole number >= 0, "
                             f"got {size!r}")
    if K is not None and K <= 0:
        raise ValueError(f"mixing_rates: K must be positive (or None for no limit), got {K}")
    if not temperature > 0:
        raise ValueError(f"mixing_rates: temperature must be > 0, got {temperature}")
    names = list(sizes)
    if strategy == "equal":
        return {name: 1.0 / len(names) for name in names}
    limited = np.array([sizes[n] if K is None else min(sizes[n], K) for n in names],
                       dtype=np.float64)
    if limited.sum() == 0:
        raise ValueError("mixing_rates: every task has 0 examples; nothing to mix")
    rates = limited / limited.sum()
    if strategy == "temperature":
        rates = rates ** (1.0 / temperature)
        rates = rates / rates.sum()
    return {name: float(rate) for name, rate in zip(names, rates)}


def temperature_for_rate(sizes: Mapping[str, int], rate: float, K: int | None = None) -> float:
    """The temperature T at which the largest task gets `rate` of the mixture (§3.5.2).

    "Largest" is after the limit K: the task (or tasks) with the most examples once each size
    is capped at K. With M tasks of at least one example, k of them tied for the most, the
    largest task's temperature-scaled rate falls from 1 / k (T -> 0) through the
    examples-proportional rate (T = 1) towards 1 / M (T -> infinity), strictly, so every rate
    in (1 / M, 1 / k) has exactly one T; other rates are a ValueError. With u = 1 / T and
    d_m = log(e_max / e_m), the rate is 1 / sum_m exp(-u d_m), solved for u by bisection
    (every step halves the bracket; 200 of them reach float precision).
    Example: sizes {"a": 100, "b": 300, "c": 600}, rate 0.5 -> T = 1.664 (rates 0.170, 0.330, 0.5).
    """
    mixing_rates(sizes, "proportional", K=K)                # the same checks as the rates
    limited = np.array([v if K is None else min(v, K) for v in sizes.values()],
                       dtype=np.float64)
    limited = limited[limited > 0]                          # a task of 0 examples: rate 0
    gaps = np.log(limited.max() / limited)                  # d_m >= 0, (M,)
    tied = int((gaps == 0).sum())
    low_rate, high_rate = 1 / len(limited), 1 / tied
    if not low_rate < rate < high_rate:
        raise ValueError(f"temperature_for_rate: the largest task's rate can only lie strictly "
                         f"between {low_rate:.6g} (T -> infinity) and {high_rate:.6g} (T -> 0) "
                         f"for these sizes and K; got {rate!r}")

    def total(u):                                           # sum_m exp(-u d_m), decreasing
        return float(np.exp(-u * gaps).sum())

    target, low, high = 1 / rate, 0.0, 1.0
    while total(high) > target:
        low, high = high, 2 * high
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if total(middle) > target else (low, middle)
    return float(1 / ((low + high) / 2))


class TaskMixture:
    """The mixer (§3.5.2): the task of every example, drawn at fixed rates from (seed, step).

    rates: {name: rate}, e.g. from `mixing_rates`; normalised here.
    `tasks(seed, step, n)` names the tasks of the n examples of step `step`, drawn i.i.d.
    with P(task m) = r_m from numpy.random.default_rng([seed, step, MIXING_STREAM]) and from
    nothing else: the same arguments always give the same tasks.
    """

    def __init__(self, rates: Mapping[str, float]):
        if not rates:
            raise ValueError("TaskMixture: no tasks given; pass {task_name: rate}")
        self.names = list(rates)
        probs = np.array([rates[n] for n in self.names], dtype=np.float64)
        if np.any(probs < 0) or not np.isfinite(probs).all() or probs.sum() <= 0:
            raise ValueError(f"TaskMixture: rates must be finite, >= 0 and not all 0; got "
                             f"{dict(rates)}")
        self.rates = probs / probs.sum()                                  # (M,)

    def tasks(self, seed: int, step: int, n: int) -> list[str]:
        rng = np.random.default_rng([seed, step, MIXING_STREAM])
        return [self.names[int(i)] for i in rng.choice(len(self.names), size=n, p=self.rates)]


class _Source:
    """Where one task's examples come from, and how far along it is."""

    def __init__(self, name: str, task: Any, seed: int, index: int):
        self.name = name
        self.task = task
        self.seed, self.index = seed, index
        self.generates = hasattr(task, "make_examples")
        if self.generates:
            # Each generated task has its own stream, so one task's examples do not depend on
            # how often the others were drawn.
            self.rng = np.random.default_rng([seed, index])
        else:
            if len(task) == 0:
                raise ValueError(f"MixtureSampler: task {name!r} has no examples")
            self.epoch, self.position = 0, 0
            self.order = self._order()

    def _order(self) -> np.ndarray:
        # A fresh shuffle per epoch, fixed by (seed, task index, epoch): nothing to save but ints.
        rng = np.random.default_rng([self.seed, self.index, self.epoch])
        return rng.permutation(len(self.task))

    def next(self):
        if self.generates:
            return self.task.make_examples(1, self.rng)[0]
        if self.position == len(self.order):
            self.epoch, self.position = self.epoch + 1, 0
            self.order = self._order()
        example = self.task[int(self.order[self.position])]
        self.position += 1
        return example

    def state(self) -> dict:
        if self.generates:
            return {"rng": copy.deepcopy(self.rng.bit_generator.state)}
        return {"epoch": self.epoch, "position": self.position}

    def load(self, state: dict) -> None:
        # The caller sets self.seed first: a sequence's shuffles depend on it.
        if self.generates:
            self.rng.bit_generator.state = copy.deepcopy(state["rng"])
        else:
            self.epoch, self.position = int(state["epoch"]), int(state["position"])
            self.order = self._order()


class MixtureSampler:
    """An endless, reproducible stream of (task_name, example) pairs drawn at `rates`.

    tasks: {name: source}; a source is either a `Task` (anything with `make_examples(n, rng)`),
        whose examples are generated on the fly, or a sequence of examples, read in a fresh
        shuffled order each epoch.
    rates: {name: rate}, e.g. from `mixing_rates`; normalised here. Same keys as `tasks`.
    rng: a numpy Generator; it draws the seed of the mixer and of every source.

    Draw i takes its task from the `TaskMixture`, in blocks: the tasks of draws
    [BLOCK * b, BLOCK * (b + 1)) are `mixture.tasks(seed, b, BLOCK)`. `state_dict()` captures
    the position; `load_state_dict()` on a sampler built with the same tasks and rates
    continues exactly where the saved one was.
    """

    BLOCK = 256

    def __init__(self, tasks: Mapping[str, Any], rates: Mapping[str, float],
                 rng: np.random.Generator):
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"MixtureSampler: rng must be a numpy.random.Generator, e.g. "
                            f"numpy.random.default_rng(0); got {type(rng).__name__}")
        if set(tasks) != set(rates):
            raise ValueError(f"MixtureSampler: tasks and rates must name the same tasks; "
                             f"tasks has {sorted(tasks)}, rates has {sorted(rates)}")
        if not tasks:
            raise ValueError("MixtureSampler: no tasks given")
        self.mixture = TaskMixture({name: rates[name] for name in tasks})
        self.names, self.rates = self.mixture.names, self.mixture.rates
        self.seed = int(rng.integers(2**63))
        self.sources = {n: _Source(n, tasks[n], self.seed, i) for i, n in enumerate(self.names)}
        self.num_drawn = 0
        self._block = (None, [])                  # (block number, its task names)

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        return self

    def __next__(self) -> tuple[str, Any]:
        block, offset = divmod(self.num_drawn, self.BLOCK)
        if self._block[0] != block:
            self._block = (block, self.mixture.tasks(self.seed, block, self.BLOCK))
        name = self._block[1][offset]
        self.num_drawn += 1
        return name, self.sources[name].next()

    def take(self, n: int) -> list[tuple[str, Any]]:
        """The next `n` draws."""
        return [next(self) for _ in range(n)]

    def state_dict(self) -> dict:
        """The sampler's position: picklable and JSON-friendly (ints, strings, lists)."""
        return {"names": list(self.names),
                "rates": [float(r) for r in self.rates],
                "seed": self.seed,
                "sources": {name: s.state() for name, s in self.sources.items()},
                "num_drawn": self.num_drawn}

    def load_state_dict(self, state: dict) -> None:
        """Move to a position saved by `state_dict` (same tasks and rates required)."""
        if list(state["names"]) != self.names:
            raise ValueError(f"MixtureSampler.load_state_dict: saved tasks {state['names']} differ "
                             f"from this sampler's {self.names}; build it with the same tasks")
        if not np.allclose(state["rates"], self.rates, rtol=0, atol=1e-12):
            raise ValueError("MixtureSampler.load_state_dict: saved rates differ from this "
                             "sampler's; build it with the same rates")
        self.seed = int(state["seed"])
        for name, source in self.sources.items():
            source.seed = self.seed
            source.load(state["sources"][name])
        self.num_drawn = int(state["num_drawn"])
        self._block = (None, [])


def empirical_rates(draws: Sequence[tuple[str, Any]], names: Sequence[str]) -> dict[str, float]:
    """Fraction of `draws` that came from each task in `names` (to compare with the rates)."""
    counts = dict.fromkeys(names, 0)
    for name, _ in draws:
        counts[name] += 1
    return {name: count / max(len(draws), 1) for name, count in counts.items()}
