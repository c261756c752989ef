"""Table 1 in miniature: does pre-training help? (paper §3.1.5, "Baseline" vs "No pre-training").

The paper's baseline pre-trains on C4 and then fine-tunes on each downstream task; the control
row fine-tunes the same architecture from random weights with the same fine-tuning budget. The
gap (GLUE 83.28 vs 66.22, SQuAD 80.88 vs 50.31) is largest where the downstream data are small
and the task needs knowledge of the language: pre-training has read a lot of English, the
fine-tuning set has not. Translation to French (EnFr, a huge training set) shows no gap.

This miniature is designed to create those conditions on a CPU. Two designs have been run;
each was written here before its test-split result was looked at.

Shared by both designs.
Data. The built-in corpus (English docstrings of the Python standard library, cleaned with the
C4 rules) is split by page with a fixed permutation: 85% of the pages are the pre-training
corpus; the sentences of the other 15% feed the fine-tuning tasks, so no task sentence was ever
seen in pre-training (the model knows the language, not the answers). Those sentences (6-20
words, letters and ordinary punctuation only, duplicates removed) are split once into a
training pool (40%), a validation pool (20%) and a test pool (40%).
Model and pre-training. The "tiny" preset (2+2 layers, d_model 128, 4 heads, d_ff 512, ReLU,
dropout 0.1); a 2,000-piece SentencePiece vocabulary (+100 sentinels) trained on the
pre-training pages; span corruption (15%, mean span 3) for 1,000 steps of 32 packed rows of 64
tokens, Adafactor with the inverse square root schedule (peak 0.01, 100 warm-up steps). One
pre-trained model (seed 0) serves every fine-tuning seed.
Fine-tuning, the same for both arms ("pre-trained" starts from the pre-trained weights, "from
scratch" from the HF initialisation of the same architecture): one model on the mixture of the
three tasks' training sets (the paper fine-tunes each task separately; one mixture run per arm
saves two thirds of the CPU time), rows of 16 examples, Adafactor at a constant learning rate.
The validation score (the mean of the three primary metrics) is measured every `eval_every`
steps and the best checkpoint is kept, as the paper keeps the checkpoint with the best
validation score (§3.1.2); that checkpoint alone is scored on the test split. The learning rate
is chosen from {1e-3, 3e-3, 1e-2} by the validation score summed over both arms, at a tuning
seed (100) that is not among the reported seeds (`python -m minit5.experiments.table1 --tune`);
the test split plays no part in any choice.
Seeds 0, 1, 2, ...: a seed sets the training sample, the data order, the dropout masks and the
from-scratch arm's initialisation. The spread therefore covers fine-tuning randomness only (the
paper's ten runs also re-ran pre-training). The reported "average" is, per seed, the mean of the
three primary metrics on the test split, in 0-100.

Design 1 (its results: experiments/results/history/table1_design1*.json). Tasks acceptability
(CoLA-like: the sentence, or a copy with two words swapped -> "acceptable" / "unacceptable"),
cloze (one word replaced by "___" -> that word, exact match) and intruder (one word replaced by
a corpus word -> the intruder, exact match), answered by greedy decoding; 128 training, 64
validation and 128 test examples per task; 400 fine-tuning steps, validation every 50. The
tuning chose the learning rate 1e-2. Its outcome (the files above): both arms stayed near chance
on all three tasks, no clear gap. Yet the pre-trained model's own likelihood preferred most
original validation sentences over their two-words-swapped copies: it knows some English word
order, but generating an open-vocabulary answer after a few hundred examples does not surface
it.

Design 2 (current), chosen with the validation split only. The answer is one of the options
written in the input, and the model's answer is the option it finds likelier as the whole
target (rank classification, `minit5.train.choice`), so neither the output vocabulary nor
copying a long string token by token stands between the model and what it knows:
  acceptability  as in design 1, the answer the likelier of its two labels (chance 50%).
  pair           "which is English: {a} | {b}", the sentence and its two-words-swapped copy in
                 random order -> the sentence as written (chance 50%).
  cloze choice   "fill in: {sentence with ___} options: {x} | {y}", the missing word and a
                 corpus word drawn by its frequency in the pre-training pages, in random order
                 -> the missing word (chance 50%).
All three are scored by accuracy. Lower resource: 32 training examples per task (the paper's
gap is largest on small tasks), 120 validation and 240 test examples per task (nearly all of
the two pools, for a less noisy score), 200 fine-tuning steps (about 33 passes over the 96
training examples), validation every 25 steps. Found on validation at the tuning seed, before
any test score of design 2 existed: a first try with the options answered by a letter ("A" /
"B") or by the word itself, decoded greedily, showed no gap; with ranking, the pre-trained
model, not fine-tuned at all, already ranked most pair options right (a random initialisation
about half), 32 and 64 training examples per task at lr 1e-3 gave a clear validation gap, and
128 examples with 400 steps a smaller one. The tuning run over the learning-rate grid above
then chose 3e-3 (its validation scores: experiments/results/table1_tuning.json). The rule, fixed
in design 1, takes the best sum over both arms, so as not to favour either, even where another
rate gives the larger gap, and it is kept.
"""
from __future__ import annotations

import json
import pathlib
import shutil

from minit5.data.corpus import builtin_corpus
from minit5.data.tokenizer import Tokenizer
from minit5.experiments.benchmark import Benchmark
from minit5.experiments.core import Experiment, parallel_map, scaled_steps
from minit5.experiments.finetune import finetune_and_test
from minit5.experiments.protocol_settings import (
    BENCHMARK,
    FINETUNE,
    METRIC,
    MODEL,
    VOCAB_PIECES,
    pages_key,
)
from minit5.experiments.run_cache import RunCache
from minit5.io.atomic_file import write_json
from minit5.t5 import T5ForConditionalGeneration
from minit5.t5.checkpoint import write_model_files
from minit5.train import pipeline
from minit5.train.config import TrainConfig

ROWS = ("pre-trained", "from scratch")
# BENCHMARK, VOCAB_PIECES, MODEL and FINETUNE (the design's) live in protocol_settings, which
# the later tables' protocol shares; this table alone pre-trains with span corruption.
PRETRAIN = {"steps": 1000, "batch_size": 32, "inputs_length": 64, "schedule": "inverse_sqrt",
            "lr": 0.01, "warmup_steps": 100, "eval_every": 250}
TUNING_SEED = 100
LEARNING_RATES = (1e-3, 3e-3, 1e-2)


def config(scale: float) -> dict:
    """The settings at `scale` (which multiplies the step counts; data sizes stay small)."""
    return {"benchmark": dict(BENCHMARK), "vocab_pieces": VOCAB_PIECES, "pretrain_seed": 0,
            "model": dict(MODEL), "pretrain": scaled_steps(PRETRAIN, scale),
            "finetune": scaled_steps(FINETUNE, scale)}


def _fresh(path: pathlib.Path) -> pathlib.Path:
    shutil.rmtree(path, ignore_errors=True)      # a training run's own folder, made below
    return path


def pretraining_settings(config: dict) -> dict:
    """What the pre-trained model depends on, its cache key: pre-training reads only the
    pre-training pages, so the tasks and their sizes are not part of it."""
    return {"pages": pages_key(config["benchmark"]),
            **{k: config[k] for k in ("vocab_pieces", "pretrain_seed", "model", "pretrain")}}


def prepare(config: dict, work_dir, device="default", progress=False):
    """Benchmark, tokenizer, the pre-trained model and its curves ({"validation_loss",
    "train_loss"}). A pre-trained model that `work_dir`'s run cache (WORK/pretrained/KEY/)
    already holds for exactly these settings is loaded instead of trained again (the tuning run
    and the seeds share one)."""
    work_dir = pathlib.Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    bench = Benchmark.build(builtin_corpus(), config["benchmark"])
    cfg = TrainConfig.preset("tiny", **config["model"], **config["pretrain"],
                             seed=config["pretrain_seed"], device=device)
    cache, key = RunCache(work_dir), pretraining_settings(config)
    found = cache.find("pretrained", key,
                       needs=("config.json", "model.safetensors", "spiece.model"))
    folder = cache.folder("pretrained", key)
    if found is not None:
        return (bench, Tokenizer(folder / "spiece.model"),
                T5ForConditionalGeneration.from_pretrained(folder, device=cfg.device),
                found["curves"])
    tokenizer = pipeline.make_tokenizer(bench.pretraining_pages, work_dir / "spiece.model",
                                        config["vocab_pieces"])
    model, trainer = pipeline.pretrain(cfg, _fresh(work_dir / "pretrain"), tokenizer,
                                       bench.pretraining_pages, progress=progress)
    curves = {"validation_loss": trainer.evals,
              "train_loss": [[r["step"], r["loss"]] for r in trainer.history]}
    with cache.store("pretrained", key, {"curves": curves}) as staging:
        write_model_files(model, staging)
        shutil.copyfile(work_dir / "spiece.model", staging / "spiece.model")
    return bench, tokenizer, model, curves


def finetune_arm(row, seed, config, bench, tokenizer, weights, work_dir, device="default",
                 progress=False, test=True, lr=None):
    """Fine-tune one arm for one seed: the pre-trained `weights`, or a fresh initialisation."""
    settings = {**config["finetune"], **({} if lr is None else {"lr": lr})}
    cfg = TrainConfig.preset("tiny", **config["model"], **settings, seed=seed, device=device)
    model = pipeline.build_model(cfg, tokenizer.vocab_size)
    if row == "pre-trained":
        model.load_state_dict(weights)
    name = f"finetune-{row.replace(' ', '-')}-seed{seed}" + ("" if lr is None else f"-lr{lr:g}")
    folder = pathlib.Path(work_dir) / name
    return finetune_and_test(model, tokenizer, bench, bench.training_set(seed), cfg,
                             _fresh(folder), progress=progress, name=f"{row}, seed {seed}",
                             test=test)


def run(config: dict, seeds, work_dir, device="default", progress=False, jobs=1) -> dict:
    bench, tokenizer, pretrained, curves = prepare(config, work_dir, device, progress)
    weights = pretrained.state_dict()
    runs = [(row, seed) for seed in seeds for row in ROWS]
    results = parallel_map(
        lambda run: finetune_arm(*run, config, bench, tokenizer, weights, work_dir, device,
                                 progress and jobs == 1), runs, jobs)
    rows = {row: [] for row in ROWS}
    for (row, seed), result in zip(runs, results):
        rows[row].append({"seed": seed, **result})
    return {"rows": rows, "average": {row: [r["score"] for r in rows[row]] for row in ROWS},
            "details": {"pretraining": curves,
                        "primary": {name: t.primary for name, t in bench.tasks.items()},
                        "sentences": {k: len(v) for k, v in bench.pools.items()},
                        "pretraining_pages": len(bench.pretraining_pages)}}


def tune(config: dict, work_dir, device="default", progress=False, jobs=1,
         learning_rates=LEARNING_RATES, seed=TUNING_SEED) -> dict:
    """The learning-rate choice: both arms at each rate, one tuning seed, validation only
    (the test split is not even scored). Returns {lr: {row: validation score}}."""
    bench, tokenizer, pretrained, _ = prepare(config, work_dir, device, progress)
    weights = pretrained.state_dict()
    runs = [(lr, row) for lr in learning_rates for row in ROWS]
    scores = parallel_map(
        lambda run: finetune_arm(run[1], seed, config, bench, tokenizer, weights, work_dir,
                                 device, progress and jobs == 1, test=False,
                                 lr=run[0])["validation_score"], runs, jobs)
    out = {lr: {} for lr in learning_rates}
    for (lr, row), score in zip(runs, scores):
        out[lr][row] = score
    return out


EXPERIMENT = Experiment(
    name="table1", table="Table 1", section="§3.1.5",
    title="pre-training vs no pre-training, on low-resource English tasks", rows=ROWS,
    paper={"pre-trained": 83.28, "from scratch": 66.22}, metric=METRIC,
    # 7.5 min measured for the recorded run (pre-training 4.5 min, then the six fine-tuning
    # runs two at a time), with nice 10 on a 2-core machine whose load average from other
    # jobs was about 2 to 4.
    cpu_minutes=7.5, default_seeds=3, config=config, run=run)


def main(argv=None):
    """`python -m minit5.experiments.table1 --tune`: re-run the learning-rate choice and write
    experiments/results/table1_tuning.json."""
    import argparse
    import time

    from minit5.experiments.core import RESULTS_DIR, default_jobs, provenance
    parser = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    parser.add_argument("--tune", action="store_true", required=True)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--work", default="runs/experiments/table1")
    parser.add_argument("--jobs", type=int, default=default_jobs())
    args = parser.parse_args(argv)
    started = time.perf_counter()
    settings = config(args.scale)
    scores = tune(settings, args.work, progress=True, jobs=args.jobs)
    chosen = max(scores, key=lambda lr: sum(scores[lr].values()))
    out = {"experiment": "table1", "scale": args.scale, "seed": TUNING_SEED,
           "validation_score": {f"{lr:g}": v for lr, v in scores.items()},
           "chosen_lr": chosen, "config": settings,
           "provenance": provenance(time.perf_counter() - started, "default", args.jobs)}
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = write_json(RESULTS_DIR / ("table1_tuning.json" if args.scale == 1
                                     else f"table1_tuning_scale{args.scale:g}.json"), out)
    print(json.dumps(out["validation_score"], indent=1), f"\nchosen lr {chosen:g} -> {path}")


if __name__ == "__main__":
    main()
