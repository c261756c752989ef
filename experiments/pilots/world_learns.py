"""Pilot: can fine-tuning from scratch fit the world tasks' training sets, and at what rate?

The third gated design's learns gate failed on agreement from scratch: after 3,000 steps at
5e-4 or 1e-3 the arm from scratch scored 50-67 on its own training items, while every
pre-trained arm fitted them. This pilot reads training data only (no validation or test item
is made): the third design's world and tokenizer (its gates' work directory), a randomly
initialised model of the design's shape, each task's training examples, fine-tuned as the
gates do (Adafactor, constant rate, no parameter scaling, batch 16) at several rates, with the
training-set score (the first `train_check` training examples, greedy) every 1,000 steps.

    python experiments/pilots/world_learns.py --work-dir runs/world_gates_v3 \\
        --out experiments/pilots/results/world_learns.json
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from minit5.data.batching import collate
from minit5.data.world_tasks import item_scores, task_examples
from minit5.experiments.core import provenance
from minit5.experiments.world_gates import (
    DESIGN_V3,
    EXAMPLE_SEEDS,
    TASK_IDS,
    Setup,
    _answers,
    _encoded,
    arm_model,
)
from minit5.io.atomic_file import write_json
from minit5.optim import Adafactor


def run(setup: Setup, task: str, lr: float, steps: int, every: int, seed: int = 0) -> dict:
    f = setup.design["finetune"]
    train_examples = task_examples(task, setup.world, setup.pools["train"], f["train_examples"],
                                   np.random.default_rng([EXAMPLE_SEEDS["train"],
                                                          TASK_IDS[task]]))
    check = train_examples[:f["train_check"]]
    train = _encoded(setup, train_examples)
    model = arm_model(setup, "scratch", seed)
    optimizer = Adafactor(model.parameters(), lr=lr, relative_step=False, scale_parameter=False)
    rng = np.random.default_rng([seed, 4, TASK_IDS[task]])
    curve, started = [], time.time()
    for step in range(1, steps + 1):
        batch = collate([train[i] for i in rng.integers(len(train), size=f["batch"])])
        loss = model(**batch.model_kwargs()).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % every == 0:
            score = float(item_scores(task, _answers(model, setup, check),
                                      [t for _, t in check]).mean())
            curve.append([step, round(score, 2), round(float(loss.numpy()), 4)])
            print(task, lr, curve[-1], flush=True)
    return {"task": task, "lr": lr, "seed": seed, "train_curve": curve,
            "seconds": round(time.time() - started, 1)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work-dir", default="runs/world_gates_v3")
    ap.add_argument("--out", default="experiments/pilots/results/world_learns.json")
    ap.add_argument("--tasks", nargs="+", default=["agreement", "inflection"])
    ap.add_argument("--lrs", nargs="+", type=float, default=[1e-3, 3e-3])
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--every", type=int, default=1000)
    args = ap.parse_args(argv)
    started = time.time()
    setup = Setup(args.work_dir, DESIGN_V3)
    runs = []
    for task in args.tasks:
        for lr in args.lrs:
            runs.append(run(setup, task, lr, args.steps, args.every))
            write_json(args.out, {"design": DESIGN_V3, "arm": "scratch", "runs": runs,
                                  "command": " ".join(["python", *sys.argv]),
                                  "provenance": provenance(time.time() - started, "cpu", 1)})


if __name__ == "__main__":
    main()
