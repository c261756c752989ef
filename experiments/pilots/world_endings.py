"""Pilot: the "endings" world, where a form's letters and pieces hide its number.

In the first three gated designs' worlds the tokenizer shows each form's number (a stem is one
piece, its plural two; `minit5.experiments.world_spelling`), so their agreement results read a
rule about pieces. This pilot pre-trains on a world with the "endings" morphology (`World`:
"daxo" -> "daxi", every vowel alike in each role; seed 3, the third design otherwise) and asks,
before any design is written on it:

  1. the premise probe (`world_probe.probe`) at 1/8 .. 1 of the row budget, on the training
     pool's nouns (no test noun is read);
  2. fine-tuning, validation items only, from scratch and from the full budget, at 1e-3: number
     and agreement (classification), plural (question), plurals (rewrite), the training items
     drawn alike over the training nouns, the training-set score after the last step.

The pre-training is the gates' own (`world_gates.pretrain`), so a design on this world and
budget reuses its checkpoints. Fine-tuning runs are cached one file each in `pilot/`.

    python experiments/pilots/world_endings.py
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time

from minit5.experiments.core import parallel_map, provenance
from minit5.experiments.world_gates import (
    DESIGN_V3,
    Setup,
    arm_model,
    checkpoint_dir,
    finetune,
    pretrain,
)
from minit5.experiments.world_probe import probe
from minit5.io.atomic_file import write_json
from minit5.t5 import T5ForConditionalGeneration

KEEP = ("arm", "seed", "task", "lr", "validation_curve", "step", "validation", "train",
        "train_end", "examples", "seconds")


def pilot_design(tasks) -> dict:
    design = json.loads(json.dumps(DESIGN_V3))
    design["name"] = "endings pilot"
    design["world"].update(seed=3, corpus_seed=3, pool_seed=3, morphology="endings")
    design["tasks"] = list(tasks)
    design["uniform_train"] = True
    design["finetune"]["learns_at"] = "end"
    return design


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work-dir", default="runs/world_endings")
    ap.add_argument("--out", default="experiments/pilots/results/world_endings.json")
    ap.add_argument("--tasks", nargs="+", default=["number", "agreement", "plural", "plurals"])
    ap.add_argument("--arms", nargs="+", default=["scratch", "1"])
    ap.add_argument("--lrs", nargs="+", type=float, default=[1e-3])
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    started = time.time()
    design = pilot_design(args.tasks)
    setup = Setup(args.work_dir, design)
    record = {"design": design, "note": "probe on training-pool nouns; fine-tuning scored on "
                                        "validation items only; no test item was read",
              "command": " ".join(["python", *sys.argv])}
    record["pretraining"] = pretrain(setup, "full")
    p = design["pretrain"]
    nouns = [setup.world.nouns[i] for i in setup.pools["train"]]
    record["probe"] = []
    for arm, step in [("scratch", 0)] + sorted(p["checkpoints"].items(), key=lambda x: x[1]):
        model = arm_model(setup, "scratch", p["seed"]) if arm == "scratch" else \
            T5ForConditionalGeneration.from_pretrained(checkpoint_dir(args.work_dir, "full",
                                                                      step))
        row = {"arm": arm, "tokens": step * p["batch"] * p["piece_tokens"],
               **{k: v for k, v in probe(model, setup.tokenizer, nouns).items()
                  if not k.endswith("_right")}}
        record["probe"].append(row)
        print(json.dumps(row), flush=True)
    write_json(args.out, record)
    setup.examples["test"] = setup.examples["validation"]     # validation items only
    cache = pathlib.Path(args.work_dir) / "pilot"

    def one(job):
        arm, task, lr = job
        path = cache / f"{arm}-{task}-lr{lr:g}.json"
        if path.exists():
            return json.loads(path.read_text())
        result = {k: v for k, v in finetune(setup, arm, 0, task, lr).items() if k in KEEP}
        cache.mkdir(parents=True, exist_ok=True)
        write_json(path, result)
        print(json.dumps({k: result[k] for k in ("arm", "task", "lr", "validation",
                                                 "train", "train_end")}), flush=True)
        return result

    jobs = [(arm, task, lr) for task in args.tasks for arm in args.arms for lr in args.lrs]
    record["runs"] = parallel_map(one, jobs, args.jobs)
    record["provenance"] = provenance(time.time() - started, "cpu", args.jobs)
    write_json(args.out, record)


if __name__ == "__main__":
    main()
