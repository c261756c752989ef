"""`make demo`: the paper's Table 1 question, "does pre-training help?", answered on a CPU.

1. Build the built-in corpus (the standard library's docstrings, cleaned with the C4 rules) and
   set 15% of its pages aside: their sentences become three small English tasks whose answer
   is one of two options (acceptability, which of two sentences is English, cloze with two
   options).
2. Train a SentencePiece tokenizer on the rest and pre-train a tiny T5 on it with span
   corruption (§3.1.4).
3. For each of 3 seeds, fine-tune the pre-trained model and the same architecture from random
   weights, with the same budget and hyper-parameters, on 32 training examples per task;
   keep each run's best checkpoint on validation and score it on the test split (accuracy,
   chance 50%).
4. Print the comparison (a miniature of Table 1's baseline vs "no pre-training" rows) with
   per-seed scores and a few answers; write runs/demo/results.json (with
   results["average"] = {"pre-trained": [...], "from scratch": [...]}), plots and the
   pre-trained model (runs/demo/table1/pretrained/).

The design, and why it is what it is, is in `minit5.experiments.table1`. It is the same run as
`minit5 experiment table1` (whose committed results are experiments/results/table1.json).
"""
from __future__ import annotations

import argparse
import pathlib
import shutil
import sys

import numpy as np

from minit5.experiments import table1
from minit5.experiments.core import default_jobs, run_experiment
from minit5.train.plot import plot_loss

METRIC_NAMES = {"accuracy": "accuracy", "exact_match": "exact match"}
# The demo's budget, as the book quotes it (defined once, in the Table 1 experiment).
VOCAB, PRETRAIN, FINETUNE = table1.VOCAB_PIECES, table1.PRETRAIN, table1.FINETUNE


def _cell(values) -> str:
    values = np.asarray(values, dtype=np.float64)
    spread = values.std(ddof=1) if len(values) > 1 else 0.0
    return f"{values.mean():6.1f} ± {spread:4.1f}"


def comparison_table(results: dict) -> str:
    """Per task and on average: mean ± standard deviation over seeds, test split, 0-100."""
    rows, primary = results["rows"], results["details"]["primary"]
    arms = list(rows)
    lines = [f"{'task':<14} {'metric':<12} " + " ".join(f"{arm:>15}" for arm in arms)]
    for task in rows[arms[0]][0]["test"]:
        metric = primary[task]
        cells = [_cell([100 * r["test"][task][metric] for r in rows[arm]]) for arm in arms]
        lines.append(f"{task:<14} {METRIC_NAMES[metric]:<12} "
                     + " ".join(f"{c:>15}" for c in cells))
    cells = [_cell(results["average"][arm]) for arm in arms]
    lines.append(f"{'average':<14} {'':<12} " + " ".join(f"{c:>15}" for c in cells))
    for arm in arms:
        lines.append(f"  {arm}, per seed: "
                     + ", ".join(f"{v:.1f}" for v in results["average"][arm]))
    return "\n".join(lines)


def verdict(results: dict) -> str:
    """The gap between the arms' mean averages against twice the larger seed spread."""
    pre = results["summary"]["pre-trained"]
    scratch = results["summary"]["from scratch"]
    gap = pre["mean"] - scratch["mean"]
    bar = 2 * max(pre["std"], scratch["std"])
    if gap > bar:
        return (f"Pre-training helps: +{gap:.1f} points on average, more than twice the seed "
                f"spread ({bar:.1f}).")
    return (f"No clear effect: the gap is {gap:+.1f} points, not more than twice the seed "
            f"spread ({bar:.1f}).")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default="runs/demo", help="output directory (emptied first)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply every step budget (e.g. 0.1 for a smoke run)")
    parser.add_argument("--seeds", type=int, default=table1.EXPERIMENT.default_seeds)
    parser.add_argument("--jobs", type=int, default=default_jobs(),
                        help="fine-tuning runs at a time (default: one per core, at most 2)")
    args = parser.parse_args(argv)
    run = pathlib.Path(args.run)
    if run.exists():
        shutil.rmtree(run)       # the demo always starts fresh, pre-training included
    run.mkdir(parents=True)

    print("Pre-training a tiny T5 on the corpus, then fine-tuning it and a randomly initialised "
          f"copy on three small English tasks, {args.seeds} seeds each (about "
          f"{table1.EXPERIMENT.cpu_minutes * args.scale:.1f} minutes on 2 quiet CPU cores)...")
    results = run_experiment(table1.EXPERIMENT, args.scale, args.seeds,
                             work_dir=run / "table1", out=run / "results.json", progress=True,
                             jobs=args.jobs)
    print("\nTest scores after fine-tuning, mean ± std over seeds "
          "(cf. Table 1: baseline vs no pre-training):\n" + comparison_table(results))
    print(verdict(results))

    print("\nExamples (seed 0, test split): input -> pre-trained | from scratch (expected)")
    pre, scratch = (results["rows"][arm][0]["examples"] for arm in table1.ROWS)
    for task in pre:
        for (source, target, a), (_, _, b) in zip(pre[task], scratch[task]):
            print(f"  {source}\n    -> {a!r} | {b!r}  ({target!r})")

    curves = results["details"]["pretraining"]["train_loss"]
    histories = {"pre-training": [{"step": s, "loss": v} for s, v in curves]}
    for arm in table1.ROWS:
        histories[f"fine-tune, {arm} (seed 0)"] = [
            {"step": s, "loss": v} for s, v in results["rows"][arm][0]["train_loss"]]
    plot_loss(histories, run / "loss.png", title="minit5 demo: pre-training, then fine-tuning")
    minutes = results["provenance"]["wall_seconds"] / 60
    print(f"\nSaved {run / 'results.json'}, {run / 'results.png'}, {run / 'loss.png'} and the "
          f"pre-trained model in {run / 'table1' / 'pretrained'}; {minutes:.1f} minutes.")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        print("\nminit5 demo: interrupted. The demo starts afresh each time (its folder is "
              "emptied first), so there is nothing to resume: run it again", file=sys.stderr)
        sys.exit(130)
