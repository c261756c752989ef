"""The downstream benchmark every paper-table miniature fine-tunes on: the corpus split into
pre-training pages and held-out task sentences, the language tasks, and their fixed
validation and test sets (`minit5.experiments.language_tasks` describes the tasks).

    bench = Benchmark.build(pages, settings)        # settings: the experiment's "benchmark" dict
    bench.pretraining_pages                         # what pre-training may read
    bench.training_set(seed)                        # {task: [(input, target), ...]}, per seed
    bench.validation, bench.test                    # {task: [(input, target), ...]}, fixed

No sentence of a task split occurs in the pre-training pages, so pre-training can teach the
language but never the answers; the three pools (train, validation, test) are disjoint.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minit5.data.tasks import Task
from minit5.experiments.language_tasks import (
    corpus_sentences,
    language_tasks,
    split_pages,
    split_sentences,
    usable,
)

VALIDATION, TEST, TRAIN = 1, 2, 3       # stream ids inside a split's random seed


@dataclass
class Benchmark:
    pretraining_pages: list
    tasks: dict                          # name -> minit5.data.tasks.Task
    pools: dict                          # "train" | "validation" | "test" -> sentences
    settings: dict
    validation: dict                     # task -> examples
    test: dict                           # task -> examples

    @classmethod
    def build(cls, pages, settings: dict) -> "Benchmark":
        """settings: tasks (names, see `language_tasks.TASKS`), held_out_pages, split_seed,
        pool_fractions (train, validation, test), validation_examples, test_examples,
        train_examples (per task)."""
        pretraining, held_out = split_pages(pages, settings["held_out_pages"],
                                            settings["split_seed"])
        seen = set(corpus_sentences(pretraining))
        sentences = [s for s in corpus_sentences(held_out) if s not in seen and usable(s)]
        train, validation, test = split_sentences(sentences, settings["pool_fractions"])
        pools = {"train": train, "validation": validation, "test": test}
        needs = {"train": settings["train_examples"], "validation": settings["validation_examples"],
                 "test": settings["test_examples"]}
        for name, pool in pools.items():
            if len(pool) < needs[name]:
                raise ValueError(f"the {name} pool has {len(pool)} sentences but "
                                 f"{name}_examples={needs[name]}: hold out more pages "
                                 f"(held_out_pages) or ask for fewer examples")
        tasks = language_tasks(pretraining, settings["tasks"])
        bench = cls(pretraining, tasks, pools, settings, {}, {})
        bench.validation = bench._fixed("validation", settings["validation_examples"], VALIDATION)
        bench.test = bench._fixed("test", settings["test_examples"], TEST)
        return bench

    def _examples(self, task_index: int, task: Task, sentences, stream: int, seed: int):
        rng = np.random.default_rng([seed, task_index, stream])
        return task.examples(sentences, rng)

    def _fixed(self, pool: str, n: int, stream: int) -> dict:
        sentences = self.pools[pool][:n]
        return {name: self._examples(i, task, sentences, stream, self.settings["split_seed"])
                for i, (name, task) in enumerate(self.tasks.items())}

    def training_set(self, seed: int) -> dict:
        """The seed's low-resource training set: for each task, `train_examples` sentences drawn
        without replacement from the training pool, turned into examples."""
        n = self.settings["train_examples"]
        out = {}
        for i, (name, task) in enumerate(self.tasks.items()):
            rng = np.random.default_rng([seed, i, TRAIN])
            chosen = rng.choice(len(self.pools["train"]), size=n, replace=False)
            out[name] = task.examples([self.pools["train"][int(k)] for k in chosen], rng)
        return out

    def score(self, results: dict) -> float:
        """The mean of each task's primary metric, in 0-100 (results: {task: {metric: v}})."""
        return float(100 * np.mean([results[name][task.primary]
                                    for name, task in self.tasks.items()]))
