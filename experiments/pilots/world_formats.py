"""Pilot: task formats the fine-tuning can learn from scratch and the stored knowledge can answer.

The third gated design's runs showed two obstacles, neither about what pre-training stores:
the arm from scratch does not fit the agreement training set in 3,000 steps (its training score
rises to about 70 by 6,000 steps: `world_learns.py`), and no arm writes the plural of a new
noun, because each writes a fine-tuning noun instead of copying the new stem; the training
items, drawn by frequency from 150 nouns, show few distinct stems to copy (an earlier pilot with
400 fine-tuning nouns, `world_transfer.py`, did copy). This pilot tries, on the third design's
world and checkpoints, with validation items only (no test item is scored):

  number    "number: daxi" -> plural / singular: what agreement asks, without the verb
            (a lookup the arm from scratch can fit);
  plural    and plurals with the training items drawn uniformly over the 150 training nouns
            (`--uniform-train`), so that every stem is shown alike.

Each run is the gates' fine-tuning (`world_gates.finetune`: 3,000 steps, Adafactor, constant
rate, checkpoint chosen on validation), from scratch and from the full-budget checkpoint, with
the training-set score after the last step. Runs are cached one file each in --work-dir's
`formats/` folder.

    python experiments/pilots/world_formats.py --out experiments/pilots/results/world_formats.json
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time

import numpy as np

from minit5.data.world_tasks import task_examples
from minit5.experiments.core import parallel_map, provenance
from minit5.experiments.world_gates import DESIGN_V3, EXAMPLE_SEEDS, TASK_IDS, Setup, finetune
from minit5.io.atomic_file import write_json

KEEP = ("arm", "seed", "task", "lr", "validation_curve", "step", "validation", "train",
        "train_end", "examples", "seconds")


def pilot_design(tasks) -> dict:
    design = json.loads(json.dumps(DESIGN_V3))
    design["tasks"] = list(tasks)
    design["finetune"]["learns_at"] = "end"
    return design


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work-dir", default="runs/world_gates_v3")
    ap.add_argument("--out", default="experiments/pilots/results/world_formats.json")
    ap.add_argument("--tasks", nargs="+", default=["number", "plural", "plurals"])
    ap.add_argument("--uniform-train", nargs="*", default=["plural", "plurals"],
                    help="tasks whose training items are drawn uniformly over the nouns")
    ap.add_argument("--arms", nargs="+", default=["scratch", "1"])
    ap.add_argument("--lrs", nargs="+", type=float, default=[5e-4, 1e-3])
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    started = time.time()
    design = pilot_design(args.tasks)
    setup = Setup(args.work_dir, design)
    f = design["finetune"]
    for task in args.uniform_train:
        setup.examples["train"][task] = task_examples(
            task, setup.world, setup.pools["train"], f["train_examples"],
            np.random.default_rng([EXAMPLE_SEEDS["train"], TASK_IDS[task]]), uniform=True)
    setup.examples["test"] = setup.examples["validation"]     # validation items only
    cache = pathlib.Path(args.work_dir) / "formats"

    def one(job):
        arm, task, lr = job
        path = cache / f"{arm}-{task}{'-uniform' if task in args.uniform_train else ''}" \
            f"-lr{lr:g}.json".replace("/", "_")
        if path.exists():
            return json.loads(path.read_text())
        result = {k: v for k, v in finetune(setup, arm, 0, task, lr).items() if k in KEEP}
        result["uniform_train"] = task in args.uniform_train
        cache.mkdir(parents=True, exist_ok=True)
        write_json(path, result)
        print(json.dumps({k: result[k] for k in ("arm", "task", "lr", "validation",
                                                 "train", "train_end")}), flush=True)
        return result

    jobs = [(arm, task, lr) for task in args.tasks for arm in args.arms for lr in args.lrs]
    runs = parallel_map(one, jobs, args.jobs)
    write_json(args.out, {"design": design, "uniform_train": args.uniform_train, "runs": runs,
                          "note": "validation scores only; no test item was scored",
                          "command": " ".join(["python", *sys.argv]),
                          "provenance": provenance(time.time() - started, "cpu", args.jobs)})


if __name__ == "__main__":
    main()
