"""Multi-task pre-training and training under the miniatures' protocol (paper §3.5.2-§3.5.3).

The paper mixes its unsupervised task (C4 with the denoising objective) and its supervised
tasks, each example's task drawn at the task's mixing rate (`minit5.data.mixing`), either for the
whole run ("multi-task training", Table 11) or for pre-training only, followed by fine-tuning on
the tasks alone (Table 12: multi-task pre-training, leave-one-out, supervised multi-task
pre-training). A row of `minit5.experiments.pretraining` says so with `mixture=mixture(...)`
(a `Mixture`):

  strategy, K, temperature  how the rates are set (`minit5.data.mixing.mixing_rates`)
  unsupervised              whether the unsupervised task joins (False: the tasks alone)
  leave_out                 None, a task's name (that task stays out of pre-training), or
                            "each": one run per task, each leaving that task out and scored on it
                            alone; the seed's score is the mean over the tasks (`parts`)
  finetune                  "tasks": fine-tune on the tasks alone (the protocol's fine-tuning);
                            "mixture": the fine-tuning phase draws from the same mixture
                            (multi-task training)

Sizes, as the paper sets them: the unsupervised task's size e is the number of pre-training
pieces the row may draw (thousands for the cleaned corpus: `details.data` of a results file
records them), each supervised task's the size of
its training set (32). A row of a mixed batch is drawn from the task the mixer names for it
(`minit5.train.streams.MixtureStream`): an unsupervised row is the row's objective applied to a
piece drawn uniformly at random, a supervised row a training example drawn uniformly at random
(input and target encoded as in fine-tuning).

What each seed may read: the supervised examples of seed s are `bench.training_set(s)` and
nothing else, so a pre-training that reads them is run once per seed (its initialisation and
data order still come from the row's pre-training seed); the cache key holds the seed.

The cache key of a run is its effective settings: the rates (rounded to 12 digits, so that, e.g.,
temperature 1 and examples-proportional mixing with the same K share a run), not the row's name.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from minit5.data.mixing import STRATEGIES, mixing_rates
from minit5.train.streams import MixtureStream

UNSUPERVISED = "unsupervised"          # the name of the unsupervised task among the rates
FINETUNE_SOURCES = ("tasks", "mixture")
EACH = "each"


@dataclass(frozen=True)
class Mixture:
    """A row's multi-task setting (see the module docstring); checked when made."""
    strategy: str = "proportional"
    K: int | None = None
    temperature: float = 1.0
    unsupervised: bool = True
    leave_out: str | None = None
    finetune: str = "tasks"

    def __post_init__(self):
        if self.strategy not in STRATEGIES:
            raise ValueError(f"mixture: strategy {self.strategy!r}: choose one of {STRATEGIES}")
        if self.K is not None and not (isinstance(self.K, int) and self.K > 0):
            raise ValueError(f"mixture: K must be a whole number > 0 or None, got {self.K!r}")
        if not self.temperature > 0:
            raise ValueError(f"mixture: temperature must be > 0, got {self.temperature!r}")
        if self.finetune not in FINETUNE_SOURCES:
            raise ValueError(f"mixture: finetune={self.finetune!r}: choose one of "
                             f"{FINETUNE_SOURCES}")
        if self.leave_out is not None and self.finetune == "mixture":
            raise ValueError("mixture: a left-out task never joins the mixture, so fine-tuning "
                             "on the mixture would never train on it; use finetune='tasks'")

    def to_config(self) -> dict:
        """The serialised form (a results file's `mixture`)."""
        return dataclasses.asdict(self)


def mixture(strategy="proportional", K=None, temperature=1.0, unsupervised=True,
            leave_out=None, finetune="tasks") -> Mixture:
    """A row's multi-task setting (see the module docstring); the temperature a float."""
    if not isinstance(temperature, (int, float)) or isinstance(temperature, bool):
        raise ValueError(f"mixture: temperature must be a number > 0, got {temperature!r}")
    return Mixture(strategy, K, float(temperature), bool(unsupervised), leave_out, finetune)


def parts(row: str, v, tasks) -> dict:
    """{part name: (variant, the tasks its score counts, or None for all)}: one part for a
    plain row; for leave_out="each", one per task t, named "ROW: without t", leaving t out of
    pre-training and scored on t alone."""
    m = v.mixture
    if m is None or m.leave_out != EACH:
        if m is not None and m.leave_out is not None and m.leave_out not in tasks:
            raise ValueError(f"row {row!r}: leave_out={m.leave_out!r} is not a task of the "
                             f"benchmark {list(tasks)}")
        return {row: (v, None)}
    return {f"{row}: without {t}": (v.replace(mixture=dataclasses.replace(m, leave_out=t)), [t])
            for t in tasks}


def rates(m: Mixture, unsupervised_size: int, task_sizes: dict) -> dict:
    """The mixing rates of a row's mixture {task: rate}, rounded to 12 digits: the unsupervised
    task (of `unsupervised_size` pieces) unless left out, then the tasks but a left-out one."""
    sizes = {UNSUPERVISED: int(unsupervised_size)} if m.unsupervised else {}
    sizes.update({t: int(n) for t, n in task_sizes.items() if t != m.leave_out})
    found = mixing_rates(sizes, m.strategy, m.K, m.temperature)
    return {t: round(r, 12) for t, r in found.items()}


def reads_supervised(rates_: dict) -> bool:
    return any(t != UNSUPERVISED for t in rates_)


def sources(rates_: dict, pieces, objective, encoded: dict) -> dict:
    """{task: draw(rng) -> (inputs, targets)} for the tasks of `rates_`: the unsupervised one
    applies `objective` to a random piece, a supervised one returns a random example of
    `encoded` ({task: [(input ids, target ids), ...]}, the seed's training set)."""
    out = {}
    for task in rates_:
        if task == UNSUPERVISED:
            out[task] = lambda rng: objective(pieces[int(rng.integers(len(pieces)))], rng)
        else:
            examples = encoded[task]
            out[task] = lambda rng, e=examples: e[int(rng.integers(len(e)))]
    return out


def encode(tokenizer, training_set: dict) -> dict:
    """{task: [(input ids, target ids), ...]}, encoded as fine-tuning encodes them."""
    return {task: [(tokenizer.encode(s), tokenizer.encode(t)) for s, t in pairs]
            for task, pairs in training_set.items()}


def stream(rates_: dict, pieces, objective, setup, seed, collate, batch_size: int,
           stream_seed: int, stream_id: int) -> MixtureStream:
    """The mixed rows of a run: the tasks of `rates_`, the supervised ones from seed `seed`'s
    training set (`setup.bench.training_set(seed)`) and nothing else, in the order of
    `stream_seed`."""
    encoded = encode(setup.tokenizer, setup.bench.training_set(seed)) \
        if reads_supervised(rates_) else {}
    return MixtureStream(sources(rates_, pieces, objective, encoded), rates_, collate,
                         batch_size, stream_seed, stream_id)


def combine(seed: int, results: dict, bench) -> dict:
    """One seed's entry of a row from its parts' results ({part: (result, score tasks)}): a
    plain row's result as it is; for a composite row (leave-one-out) each part scored on its
    own tasks only ("score_on_them"), the seed's score their mean."""
    if len(results) == 1 and next(iter(results.values()))[1] is None:
        return {"seed": seed, **next(iter(results.values()))[0]}
    found = {}
    for name, (result, tasks) in results.items():
        own = float(100 * np.mean([result["test"][t][bench.tasks[t].primary] for t in tasks]))
        found[name] = {"score_tasks": tasks, "score_on_them": own, **result}
    return {"seed": seed, "score": float(np.mean([p["score_on_them"] for p in found.values()])),
            "parts": found}
