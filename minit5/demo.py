"""`make demo`: the main job, end to end on a CPU in a few minutes.

1. Build the built-in corpus (the standard library's docstrings, cleaned with the C4 rules).
2. Train a SentencePiece tokenizer on it (T5's special ids, 100 sentinels).
3. Pre-train a tiny T5 with span corruption (§3.1.4).
4. Fine-tune it on the synthetic task mixture (§3.5.2) ...
5. ... and fine-tune the same architecture from random weights with the same budget.
6. Print a miniature of the paper's Table 1 "no pre-training" comparison and a few generated
   examples; save the fine-tuned model, the tokenizer, logs and a plot under runs/demo/.

The numbers are whatever this run gives; they are not tuned to flatter pre-training.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import shutil
import time

from minit5.data.corpus import corpus_stats
from minit5.train import pipeline
from minit5.train.config import TrainConfig
from minit5.train.evaluate import predict
from minit5.train.plot import plot_loss
from minit5.train.streams import eval_sets

# The demo's budget (CPU, 2 cores): pre-training steps, then fine-tuning steps for each arm.
PRETRAIN = dict(steps=1000, batch_size=32, inputs_length=64, lr=0.01, warmup_steps=100,
                eval_every=250, checkpoint_every=250, log_every=10)
FINETUNE = dict(steps=800, batch_size=32, schedule="constant", lr=0.003, warmup_steps=1,
                eval_every=400, checkpoint_every=400, log_every=10, eval_examples=64)
VOCAB = 2000
PRIMARY = {"polarity": "accuracy", "similarity": "pearson", "reverse": "exact_match",
           "pig_latin": "exact_match", "lookup": "exact_match"}


def comparison_table(pretrained: dict, scratch: dict) -> str:
    lines = [f"{'task':<12} {'metric':<12} {'pre-trained':>12} {'from scratch':>13}"]
    for task in pretrained:
        metric = PRIMARY.get(task, next(iter(pretrained[task])))
        lines.append(f"{task:<12} {metric:<12} {pretrained[task][metric]:>12.3f} "
                     f"{scratch[task][metric]:>13.3f}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default="runs/demo", help="output directory")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply every step budget (e.g. 0.1 for a smoke run)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    run = pathlib.Path(args.run)
    if run.exists():
        shutil.rmtree(run)       # the demo always starts fresh
    run.mkdir(parents=True)

    def budget(settings):
        return {**settings, "steps": max(2, int(settings["steps"] * args.scale))}

    pages = pipeline.load_corpus()
    print(f"[1/5] corpus: {corpus_stats(pages)}")
    tasks, rates = pipeline.default_tasks()
    tokenizer = pipeline.make_tokenizer(pages, run / "spiece.model", VOCAB, 0, tasks)
    print(f"[2/5] tokenizer: {tokenizer.vocab_size} ids ({VOCAB} pieces + 100 sentinels)")

    pre_cfg = TrainConfig.preset("tiny", **budget(PRETRAIN))
    print(f"[3/5] pre-training {pre_cfg.steps} steps with span corruption")
    model, pre = pipeline.pretrain(pre_cfg, run / "pretrain", tokenizer, pages)

    ft_cfg = TrainConfig.preset("tiny", **budget(FINETUNE))
    print(f"[4/5] fine-tuning the pre-trained model, {ft_cfg.steps} steps")
    tuned, ft = pipeline.finetune(ft_cfg, run / "finetune-pretrained", tokenizer, model,
                                  name="pre-trained")
    print(f"[5/5] fine-tuning from random weights, {ft_cfg.steps} steps")
    _, scratch = pipeline.finetune(ft_cfg, run / "finetune-scratch", tokenizer, None,
                                   name="from scratch")

    table = comparison_table({k: v for k, v in ft.evals[-1].items() if k != "step"},
                             {k: v for k, v in scratch.evals[-1].items() if k != "step"})
    print("\nHeld-out scores after fine-tuning (cf. Table 1, 'no pre-training'):\n" + table)
    if "nan" in table:
        print("(nan: the model gave the same answer to every input, so the correlation is "
              "undefined)")

    print("\nExamples (pre-trained model, held-out inputs):")
    examples = eval_sets(tasks, 2, ft_cfg.seed)
    for name, pairs in examples.items():
        outputs = predict(tuned, tokenizer, [s for s, _ in pairs], 24)
        for (source, target), output in zip(pairs, outputs):
            print(f"  {source}\n    -> {output!r}  (expected {target!r})")

    tuned.save_pretrained(run / "model")
    shutil.copyfile(run / "spiece.model", run / "model" / "spiece.model")
    plot_loss({"pre-training": pre.history, "fine-tune (pre-trained)": ft.history,
               "fine-tune (from scratch)": scratch.history}, run / "loss.png",
              title="minit5 demo: span-corruption pre-training, then fine-tuning")
    minutes = (time.perf_counter() - started) / 60
    results = {"pretrained": ft.evals[-1], "scratch": scratch.evals[-1],
               "pretrain_validation": pre.evals, "minutes": minutes,
               "pretrain": pre_cfg.to_dict(), "finetune": ft_cfg.to_dict()}
    (run / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nSaved {run / 'model'} (with spiece.model), {run / 'loss.png'}, "
          f"{run / 'results.json'}; {minutes:.1f} minutes.")


if __name__ == "__main__":
    main()
