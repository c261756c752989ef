"""The protocol of the paper-table miniatures after Table 1: pre-train one variant per row,
fine-tune it on the benchmark, score it.

The paper's Tables 2-9 each change one thing about pre-training (the architecture, the
objective, its corruption rate or span length, the corpus, the corpus size) and keep the rest
of the §3.1 baseline fixed, then fine-tune every pre-trained model the same way and report the
downstream scores. This module is that procedure at CPU scale, written once; each table's
module (`table2` ... `table9`) only lists its rows as `variant(...)`s. The protocol below was
fixed before any of their results existed.

Benchmark and fine-tuning: those of the Table 1 miniature (`minit5.experiments.table1`, design
2): the built-in corpus split by page (85% pre-training pages, the rest held out), the tasks
acceptability, pair and cloze choice built from held-out sentences (32 training, 120 validation,
240 test examples per task), rank classification, the checkpoint with the best validation score
scored on the test split. The fine-tuning settings are Table 1's (200 steps of 16 rows, constant
learning rate 3e-3, chosen there on validation data), except that validation runs every 50
steps instead of 25 (it is most of a fine-tuning run's time on a CPU). Seeds 0, 1, 2, ... set
the fine-tuning sample, order, dropout and (for no row here) the initialisation; the score of a
seed is the mean test accuracy of the three tasks, in 0-100 (chance 50).

Pre-training, the same budget for every row: the tiny shape (2+2 layers, d_model 128, 4 heads,
d_ff 512, ReLU, dropout 0.1), one 2,000-piece SentencePiece vocabulary (+100 sentinels) trained
on the cleaned pre-training pages and shared by every row (the paper too keeps one vocabulary),
400 steps of 32 rows, Adafactor, inverse square root schedule with peak 0.01 and 100 warm-up
steps, one run (seed 0) per row. Documents are cut into pieces of 63 tokens (the paper cuts
C4 into 512-token spans); each row of a batch is one piece drawn uniformly with replacement,
turned into (inputs, targets) by the row's objective, so every row of every table reads the
same amount of text per step (400 x 32 x 63 = 806,400 tokens in all), whatever its objective
makes of it. 5% of the pages (the first ones) are held out for a validation loss.

The baseline (the row marked ★ in each of the paper's tables): the encoder-decoder with the
§3.1.4 objective, i.i.d. denoising of 15% of the tokens, each run of corrupted tokens replaced
by one sentinel (`minit5.data.objectives.iid_denoising`). It is not the Table 1 miniature's
pre-trained arm, which used span corruption for 1,000 steps (Table 1 has a budget of its own).

What a row may change (`variant`):
  architecture  one of `minit5.t5.architectures.ARCHITECTURES` (Table 2)
  objective     a function of `minit5.data.objectives` (Tables 2, 4-7), with its parameters
  corpus        "cleaned" (the built-in corpus's pre-training pages), "unfiltered" (the same
                standard-library docstrings before the C4 rules), or "other domain" (numpy's and
                matplotlib's docstrings, cleaned) (Table 8)
  repeats       train on a subset so small that the budget passes over it this many times
                (Table 9); None: all pieces
A page of the unfiltered or the other corpus that shares a line with a held-out page is left
out. That does not catch a held-out sentence whose copy sits on another page among other lines
(a docstring copied between modules, which the C4 deduplication removed from the cleaned
corpus): 2 of the 631 task sentences of the recorded runs occur in the unfiltered pages
(chapter 11 counts them).

The spread over seeds covers fine-tuning only (one pre-training run per row; the paper also
reports one run per row, and gives the baseline's spread over 10 runs, GLUE 0.235).

Caching: a pre-trained model and a fine-tuning result are stored under their exact settings
(runs/experiments/part2/ by default, beside each table's own folder), so a row that two tables
share (e.g. the baseline) is trained once when `minit5 experiment all` runs them in turn. The
results are the same either way: a run is a function of its settings and seed.
"""
from __future__ import annotations

import hashlib
import json
import math
import pathlib
import shutil

import numpy as np

from minit5.data import objectives
from minit5.data.corpus import builtin_corpus, stdlib_pages
from minit5.data.tokenizer import Tokenizer
from minit5.experiments import table1
from minit5.experiments.benchmark import Benchmark
from minit5.experiments.core import Experiment, parallel_map, scaled_steps
from minit5.experiments.finetune import finetune_and_test
from minit5.experiments.language_tasks import split_pages
from minit5.t5.architectures import ARCHITECTURES, build_architecture, collate_examples
from minit5.t5.atomic_save import atomic_directory
from minit5.train import pipeline
from minit5.train.config import TrainConfig
from minit5.train.evaluate import validation_loss
from minit5.train.streams import ObjectiveStream, document_pieces
from minit5.train.trainer import Trainer

PIECE_LENGTH = 63
METRIC = "mean test accuracy of the 3 tasks (0-100, chance 50); paper: GLUE average"
PRETRAIN = {"steps": 400, "batch_size": 32, "schedule": "inverse_sqrt", "lr": 0.01,
            "warmup_steps": 100, "eval_every": 100}
FINETUNE = {**table1.FINETUNE, "eval_every": 50}
CORPORA = ("cleaned", "unfiltered", "other domain")
OTHER_DOMAIN_PACKAGES = ("numpy", "matplotlib")
# Objectives whose sentinels or mask token need the vocabulary size, and those that take none
# of (vocab_size, rng): the rest are objective(tokens, rng, **params).
_WITH_VOCAB = {"iid_denoising", "span_corruption", "bert_style", "mass_style"}
_NO_RNG = {"lm"}
OBJECTIVES = ("iid_denoising", "span_corruption", "bert_style", "mass_style", "drop_tokens",
              "deshuffle", "prefix_lm", "lm")


def variant(architecture="encoder-decoder", objective="iid_denoising", corpus="cleaned",
            repeats=None, **params) -> dict:
    """One row's settings: what it changes about the baseline (see the module docstring)."""
    if architecture not in ARCHITECTURES:
        raise ValueError(f"architecture {architecture!r}: choose one of {ARCHITECTURES}")
    if objective not in OBJECTIVES:
        raise ValueError(f"objective {objective!r}: choose one of {OBJECTIVES}")
    if corpus not in CORPORA:
        raise ValueError(f"corpus {corpus!r}: choose one of {CORPORA}")
    if repeats is not None and not (isinstance(repeats, int) and repeats >= 1):
        raise ValueError(f"repeats must be a whole number >= 1 or None, got {repeats!r}")
    return {"architecture": architecture, "objective": objective, "params": dict(params),
            "corpus": corpus, "repeats": repeats}


BASELINE = variant()


def config(variants: dict, scale: float) -> dict:
    """A table's settings at `scale` (which multiplies the step counts; data sizes stay)."""
    base = table1.config(1.0)
    return {"benchmark": base["benchmark"], "vocab_pieces": base["vocab_pieces"],
            "model": base["model"], "piece_length": PIECE_LENGTH, "pretrain_seed": 0,
            "pretrain": scaled_steps(PRETRAIN, scale), "finetune": scaled_steps(FINETUNE, scale),
            "variants": {row: dict(v) for row, v in variants.items()}}


def make_objective(v: dict, vocab_size: int):
    """The row's objective as `objective(piece, rng) -> (inputs, targets)`."""
    function, params, name = getattr(objectives, v["objective"]), v["params"], v["objective"]
    if name in _WITH_VOCAB:
        return lambda tokens, rng: function(tokens, vocab_size, rng, **params)
    if name in _NO_RNG:
        return lambda tokens, rng: function(tokens, **params)
    return lambda tokens, rng: function(tokens, rng, **params)


def _key(settings) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def _fresh(path: pathlib.Path) -> pathlib.Path:
    shutil.rmtree(path, ignore_errors=True)      # a training run's own folder, made below
    return path


class Setup:
    """What every row of every table shares: the benchmark, the tokenizer, the corpora."""

    def __init__(self, config: dict, cache: pathlib.Path):
        self.config, self.cache = config, cache
        pages = builtin_corpus()
        self.bench = Benchmark.build(pages, config["benchmark"])
        _, held_out = split_pages(pages, config["benchmark"]["held_out_pages"],
                                  config["benchmark"]["split_seed"])
        self.held_out_lines = {line.strip() for page in held_out for line in page.split("\n")
                               if line.strip()}
        self.tokenizer = self._tokenizer()
        self._corpora = {}

    def _tokenizer(self) -> Tokenizer:
        settings = {"pages": {k: self.config["benchmark"][k]
                              for k in ("held_out_pages", "split_seed")},
                    "vocab_pieces": self.config["vocab_pieces"]}
        folder = self.cache / "tokenizer" / _key(settings)
        if not (folder / "spiece.model").exists():
            with atomic_directory(folder) as staging:
                pipeline.make_tokenizer(self.bench.pretraining_pages, staging / "spiece.model",
                                        self.config["vocab_pieces"])
        return Tokenizer(folder / "spiece.model")

    def pages(self, corpus: str) -> list:
        """The pre-training pages of `corpus`, none sharing a line with a held-out page."""
        if corpus not in self._corpora:
            if corpus == "cleaned":
                found = self.bench.pretraining_pages
            else:
                from minit5.data.corpus import package_corpus
                raw = stdlib_pages() if corpus == "unfiltered" else \
                    package_corpus(OTHER_DOMAIN_PACKAGES)
                found = [p for p in raw if not any(line.strip() in self.held_out_lines
                                                   for line in p.split("\n"))]
            self._corpora[corpus] = list(found)
        return self._corpora[corpus]


def model_config(config: dict, vocab_size: int):
    return pipeline.model_config(TrainConfig.preset("tiny", **config["model"]), vocab_size)


def _pieces(setup: Setup, v: dict, config: dict) -> tuple[list, list, dict]:
    """(training pieces, validation pieces, facts) for a row."""
    docs = [setup.tokenizer.encode(p, add_eos=False) for p in setup.pages(v["corpus"])]
    held = max(1, len(docs) // 20)
    train = document_pieces(docs[held:], config["piece_length"])
    valid = document_pieces(docs[:held], config["piece_length"])
    tokens = int(sum(len(p) for p in train))
    budget = config["pretrain"]["steps"] * config["pretrain"]["batch_size"] * \
        config["piece_length"]
    facts = {"pages": len(docs), "pieces": len(train), "tokens": tokens}
    if v["repeats"] is not None:
        keep = max(1, math.ceil(budget / v["repeats"] / config["piece_length"]))
        order = np.random.default_rng([config["benchmark"]["split_seed"], 9]).permutation(
            len(train))
        train = [train[int(i)] for i in order[:keep]]
        facts.update(pieces=len(train), tokens=int(sum(len(p) for p in train)))
    facts["repeats"] = budget / facts["tokens"]        # expected passes over the data
    return train, valid, facts


def pretrain_row(row: str, v: dict, config: dict, setup: Setup, device="default",
                 progress=False) -> pathlib.Path:
    """Pre-train one row (or find it already done); returns the folder with its weights
    (model.safetensors), settings and curves (settings.json)."""
    settings = {k: config[k] for k in ("vocab_pieces", "model", "piece_length", "pretrain_seed",
                                       "pretrain")}
    settings.update(pages={k: config["benchmark"][k] for k in ("held_out_pages", "split_seed")},
                    variant=v)
    folder = setup.cache / "pretrained" / _key(settings)
    if (folder / "settings.json").exists():
        return folder
    train, valid, facts = _pieces(setup, v, config)
    vocab = setup.tokenizer.vocab_size
    cfg = TrainConfig.preset("tiny", **config["model"], **config["pretrain"],
                             seed=config["pretrain_seed"], device=device)
    model = build_architecture(v["architecture"], model_config(config, vocab),
                               seed=cfg.seed).to(cfg.device)
    objective = make_objective(v, vocab)
    collate = lambda examples: collate_examples(model, examples)           # noqa: E731
    stream = ObjectiveStream(train, objective, collate, cfg.batch_size, cfg.seed)
    held_out = ObjectiveStream(valid, objective, collate, cfg.batch_size, cfg.seed + 1)
    batches = [held_out.batch(step) for step in (1, 2)]
    run_dir = _fresh(setup.cache / "runs" / _key(settings))
    trainer = Trainer(model, pipeline.build_optimizer(cfg, model), stream, cfg, run_dir,
                      evaluate=lambda m: validation_loss(m, batches), progress=progress,
                      name=f"pre-train {row}")
    trainer.train()
    curves = {"train_loss": [[r["step"], r["loss"]] for r in trainer.history],
              "validation_loss": [[e["step"], e["validation_loss"]] for e in trainer.evals]}
    from safetensors.numpy import save_file
    with atomic_directory(folder) as staging:
        save_file({k: np.ascontiguousarray(a) for k, a in model.state_dict().items()},
                  str(staging / "model.safetensors"))
        (staging / "settings.json").write_text(json.dumps(
            {"settings": settings, "curves": curves, "data": facts}) + "\n")
    shutil.rmtree(run_dir, ignore_errors=True)
    return folder


def finetune_row(row: str, v: dict, seed: int, config: dict, setup: Setup, pretrained,
                 device="default", progress=False) -> dict:
    """Fine-tune a row's pre-trained model for one seed and score it on the test split (or
    read the stored result of exactly this run)."""
    settings = {"pretrained": pretrained.name, "finetune": config["finetune"],
                "benchmark": config["benchmark"], "seed": seed}
    stored = setup.cache / "finetuned" / f"{_key(settings)}.json"
    if stored.exists():
        return json.loads(stored.read_text())["result"]
    from safetensors.numpy import load_file
    cfg = TrainConfig.preset("tiny", **config["model"], **config["finetune"], seed=seed,
                             device=device)
    model = build_architecture(v["architecture"],
                               model_config(config, setup.tokenizer.vocab_size),
                               seed=seed).to(cfg.device)
    model.load_state_dict(load_file(str(pretrained / "model.safetensors")))
    run_dir = _fresh(setup.cache / "runs" / _key(settings))
    result = finetune_and_test(model, setup.tokenizer, setup.bench,
                               setup.bench.training_set(seed), cfg, run_dir, progress=progress,
                               name=f"{row}, seed {seed}")
    shutil.rmtree(run_dir, ignore_errors=True)
    stored.parent.mkdir(parents=True, exist_ok=True)
    tmp = stored.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"settings": settings, "result": result}) + "\n")
    tmp.replace(stored)
    return result


def cache_dir(work_dir) -> pathlib.Path:
    """runs/experiments/part2 for work_dir runs/experiments/NAME: shared by the tables."""
    return pathlib.Path(work_dir).parent / "part2"


def run(config: dict, seeds, work_dir, device="default", progress=False, jobs=1) -> dict:
    """Every row of a table: pre-train (two at a time with jobs=2), fine-tune each for every
    seed, collect the scores. The `run` of an `Experiment`."""
    cache = cache_dir(work_dir)
    cache.mkdir(parents=True, exist_ok=True)
    setup = Setup(config, cache)
    variants = config["variants"]
    for corpus in {v["corpus"] for v in variants.values()}:
        setup.pages(corpus)                   # built once, before the workers fork
    show = progress and jobs == 1
    folders = dict(zip(variants, parallel_map(
        lambda row: pretrain_row(row, variants[row], config, setup, device, show),
        list(variants), jobs)))
    runs = [(row, seed) for row in variants for seed in seeds]
    results = parallel_map(
        lambda r: finetune_row(r[0], variants[r[0]], r[1], config, setup, folders[r[0]],
                               device, show), runs, jobs)
    rows = {row: [] for row in variants}
    for (row, seed), result in zip(runs, results):
        rows[row].append({"seed": seed, **result})
    stored = {row: json.loads((folders[row] / "settings.json").read_text())
              for row in variants}
    return {"rows": rows, "average": {row: [r["score"] for r in rows[row]] for row in rows},
            "details": {"pretraining": {row: s["curves"] for row, s in stored.items()},
                        "data": {row: s["data"] for row, s in stored.items()},
                        "tokens_per_step": config["pretrain"]["batch_size"]
                        * config["piece_length"]}}


def experiment(name: str, table: str, section: str, title: str, variants: dict, paper: dict,
               cpu_minutes: float) -> Experiment:
    """A table of rows run under this protocol: 3 seeds, the benchmark's metric."""
    return Experiment(name=name, table=table, section=section, title=title,
                      rows=tuple(variants), paper=paper, metric=METRIC,
                      cpu_minutes=cpu_minutes, default_seeds=3,
                      config=lambda scale: config(variants, scale), run=run)
