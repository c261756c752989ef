"""The protocol of the paper-table miniatures after Table 1: pre-train one variant per row,
fine-tune it on the benchmark, score it.

The paper's Tables 2-9 each change one thing about pre-training (the architecture, the
objective, its corruption rate or span length, the corpus, the corpus size) and keep the rest
of the §3.1 baseline fixed, then fine-tune every pre-trained model the same way and report the
downstream scores. This module is that procedure at CPU scale, written once; each table's
module (`table2` ... `table9`) only lists its rows, each a `Variant` (`variant(...)`). The
protocol below was fixed before any of their results existed.

Benchmark and fine-tuning: those of the Table 1 miniature (`minit5.experiments.table1`, design
2; the settings themselves in `minit5.experiments.protocol_settings`): the built-in corpus
split by page (85% pre-training pages, the rest held out), the tasks acceptability, pair and
cloze choice built from held-out sentences (32 training, 120 validation, 240 test examples per
task), rank classification, the checkpoint with the best validation score scored on the test
split. The fine-tuning settings are Table 1's (200 steps of 16 rows, constant learning rate
3e-3, chosen there on validation data), except that validation runs every 50 steps instead of
25 (it is most of a fine-tuning run's time on a CPU). Seeds 0, 1, 2, ... set
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

What a row may change (a `minit5.experiments.variant.Variant`, frozen and checked when made):
  architecture  one of `minit5.t5.architectures.ARCHITECTURES` (Table 2)
  objective     a name of `minit5.data.objectives.OBJECTIVES` (Tables 2, 4-7), with its
                parameters (`params`)
  corpus        "cleaned" (the built-in corpus's pre-training pages), "unfiltered" (the same
                standard-library docstrings before the C4 rules), or "other domain" (numpy's and
                matplotlib's docstrings, cleaned) (Table 8)
  repeats       train on a subset so small that the budget passes over it this many times
                (Table 9); None: all pieces
  mixture       multi-task pre-training or training (Tables 11, 12, the §3.7 recipe): a
                `minit5.experiments.multitask.Mixture`; that module says what it reads
  pretrain      overrides of the pre-training phase, {"steps", "batch_size"} (Table 13),
                given at scale 1; the evaluation interval scales with the steps
  model         overrides of the model's shape, e.g. {"num_layers": 4} (Table 13)
  pretrain_seed the pre-training's seed (initialisation, data order), 0 unless set (Table 13)
  finetuning    the fine-tuning method, `minit5.train.finetuning_methods.finetuning_method(...)`
                (adapters, gradual unfreezing: Table 10), applied after the pre-trained weights
                are loaded; every fine-tuning run of such a row uses it
A row sets only what it changes, so the rows above keep the settings they were recorded with.
A table that shares a row with another names that row's object (`table11.MULTITASK_K_2_9`).
Tables 10-13 and the recipe share this protocol; Tables 11-13 pre-train for a quarter of the
budget (`config(..., pretrain_steps=100)`, the warm-up unchanged, as the paper keeps its
10^4 warm-up steps whatever the length), so that Table 13's four-times-longer row is exactly
the 400-step baseline above: the CPU budget allows no more, and the paper's conclusions are
comparisons at a fixed budget.
A page of the unfiltered or the other corpus that shares a line with a held-out page is left
out. That does not catch a held-out sentence whose copy sits on another page among other lines
(a docstring copied between modules, which the C4 deduplication removed from the cleaned
corpus): a few task sentences occur in the unfiltered pages (chapter 11 counts them).

The spread over seeds covers fine-tuning only (one pre-training run per row; the paper also
reports one run per row, and gives the baseline's spread over 10 runs, GLUE 0.235).

Caching (`minit5.experiments.run_cache.RunCache`): a pre-trained model and a fine-tuning result
are stored under their effective settings (`pretrain_settings`, `finetune_settings`: what the
row's fields make of the protocol's, not the row's name; runs/experiments/part2/ by default,
beside each table's own folder), so a row that two tables share (e.g. the baseline), or two rows
equal in effect, are trained once when `minit5 experiment all` runs them in turn. The results
are the same either way: a run is a function of its settings and seed.
"""
from __future__ import annotations

import json
import math
import pathlib
import shutil

import numpy as np

from minit5.data.corpus import builtin_corpus, stdlib_pages
from minit5.data.model_batches import collate_examples
from minit5.data.tokenizer import Tokenizer
from minit5.experiments import multitask
from minit5.experiments.benchmark import Benchmark
from minit5.experiments.core import Experiment, parallel_map, scaled_steps
from minit5.experiments.finetune import finetune_and_test
from minit5.experiments.language_tasks import split_pages
from minit5.experiments.protocol_settings import (
    BENCHMARK,
    METRIC,
    MODEL,
    VOCAB_PIECES,
    pages_key,
)
from minit5.experiments.protocol_settings import FINETUNE as TABLE1_FINETUNE
from minit5.experiments.run_cache import RunCache, settings_key
from minit5.experiments.variant import (  # noqa: F401  (the protocol's names for its rows)
    BASELINE,
    CORPORA,
    PHASE_OVERRIDES,
    Variant,
    variant,
)
from minit5.t5.architectures import build_architecture
from minit5.t5.checkpoint import read_weights, write_model_files
from minit5.train import finetuning_methods, pipeline
from minit5.train.config import TrainConfig
from minit5.train.evaluate import validation_loss
from minit5.train.streams import FINETUNE as FINETUNE_STREAM
from minit5.train.streams import PRETRAIN as PRETRAIN_STREAM
from minit5.train.streams import ObjectiveStream, document_pieces
from minit5.train.trainer import Trainer

PIECE_LENGTH = 63
PRETRAIN = {"steps": 400, "batch_size": 32, "schedule": "inverse_sqrt", "lr": 0.01,
            "warmup_steps": 100, "eval_every": 100}
QUARTER_PRETRAIN_STEPS = 100          # the quarter budget of Tables 11-13
FINETUNE = {**TABLE1_FINETUNE, "eval_every": 50}
OTHER_DOMAIN_PACKAGES = ("numpy", "matplotlib")


def pretraining_phase(steps: int, scale: float, **overrides) -> dict:
    """The pre-training settings for `steps` steps at scale 1 (the evaluation interval in
    proportion), then scaled: `pretraining_phase(400, s)` is `scaled_steps(PRETRAIN, s)`."""
    return scaled_steps({**PRETRAIN, **overrides}, scale * steps / PRETRAIN["steps"])


def resolved(v: Variant, scale: float, pretrain_steps: int) -> Variant:
    """Row `v` as a table of `pretrain_steps` runs it at `scale`: its `pretrain` overrides
    (steps, batch size at scale 1) become the whole phase at that scale."""
    if v.pretrain is None:
        return v
    over = {"steps": pretrain_steps, **v.pretrain}
    return v.replace(pretrain=pretraining_phase(over.pop("steps"), scale, **over))


def config(variants: dict, scale: float, pretrain_steps: int = PRETRAIN["steps"]) -> dict:
    """A table's settings at `scale` (which multiplies the step counts; data sizes stay),
    its rows ({row: Variant}) in their serialised form."""
    rows = {row: resolved(v, scale, pretrain_steps).to_config() for row, v in variants.items()}
    return {"benchmark": dict(BENCHMARK), "vocab_pieces": VOCAB_PIECES, "model": dict(MODEL),
            "piece_length": PIECE_LENGTH, "pretrain_seed": 0,
            "pretrain": pretraining_phase(pretrain_steps, scale),
            "finetune": scaled_steps(FINETUNE, scale), "variants": rows}


def variants(config: dict) -> dict:
    """{row: Variant} of a table's settings."""
    return {row: Variant.from_config(v) for row, v in config["variants"].items()}


def _fresh(path: pathlib.Path) -> pathlib.Path:
    shutil.rmtree(path, ignore_errors=True)      # a training run's own folder, made below
    return path


def phase(v: Variant, config: dict) -> dict:
    """The pre-training phase row `v` runs (the table's, unless the row overrides it)."""
    return {**config["pretrain"], **(v.pretrain or {})}


def shape(v: Variant, config: dict) -> dict:
    """The model shape row `v` trains (the table's, with the row's overrides)."""
    return {**config["model"], **(v.model or {})}


class Setup:
    """What every row of every table shares: the benchmark, the tokenizer, the corpora, the
    run cache."""

    def __init__(self, config: dict, cache: pathlib.Path):
        self.config, self.cache = config, cache
        self.runs = RunCache(cache)
        pages = builtin_corpus()
        self.bench = Benchmark.build(pages, config["benchmark"])
        _, held_out = split_pages(pages, config["benchmark"]["held_out_pages"],
                                  config["benchmark"]["split_seed"])
        self.held_out_lines = {line.strip() for page in held_out for line in page.split("\n")
                               if line.strip()}
        self.tokenizer = self._tokenizer()
        self._corpora, self._pieces = {}, {}

    def _tokenizer(self) -> Tokenizer:
        settings = {"pages": pages_key(self.config["benchmark"]),
                    "vocab_pieces": self.config["vocab_pieces"]}
        folder = self.runs.folder("tokenizer", settings)
        if not (folder / "spiece.model").exists():
            with self.runs.store("tokenizer", settings, {}) as staging:
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

    def pieces(self, v: Variant) -> tuple[list, list, dict]:
        """(training pieces, validation pieces, facts) for row `v`, built once."""
        run = phase(v, self.config)
        key = (v.corpus, v.repeats, run["steps"] * run["batch_size"])
        if key not in self._pieces:
            self._pieces[key] = _pieces(self, v, self.config)
        return self._pieces[key]


def model_config(config: dict, vocab_size: int):
    """The T5Config of the shape `config["model"]` for `vocab_size` ids."""
    return pipeline.model_config(TrainConfig.preset("tiny", **config["model"]), vocab_size)


def _pieces(setup: Setup, v: Variant, config: dict) -> tuple[list, list, dict]:
    """(training pieces, validation pieces, facts) for a row."""
    docs = [setup.tokenizer.encode(p, add_eos=False) for p in setup.pages(v.corpus)]
    held = max(1, len(docs) // 20)
    train = document_pieces(docs[held:], config["piece_length"])
    valid = document_pieces(docs[:held], config["piece_length"])
    tokens = int(sum(len(p) for p in train))
    run = phase(v, config)
    budget = run["steps"] * run["batch_size"] * config["piece_length"]
    facts = {"pages": len(docs), "pieces": len(train), "tokens": tokens}
    if v.repeats is not None:
        keep = max(1, math.ceil(budget / v.repeats / config["piece_length"]))
        order = np.random.default_rng([config["benchmark"]["split_seed"], 9]).permutation(
            len(train))
        train = [train[int(i)] for i in order[:keep]]
        facts.update(pieces=len(train), tokens=int(sum(len(p) for p in train)))
    facts["repeats"] = budget / facts["tokens"]        # expected passes over the data
    return train, valid, facts


def mixture_rates(v: Variant, config: dict, setup: Setup) -> dict:
    """A mixture row's rates: the unsupervised task sized by the row's pre-training pieces,
    each task by its training set (`train_examples`, the same for every seed)."""
    sizes = {t: config["benchmark"]["train_examples"] for t in setup.bench.tasks}
    return multitask.rates(v.mixture, len(setup.pieces(v)[0]), sizes)


def per_seed(v: Variant, config: dict, setup: Setup) -> bool:
    """Whether the row's pre-training reads the seed's training examples (then it is run once
    per seed)."""
    return v.mixture is not None and multitask.reads_supervised(mixture_rates(v, config, setup))


def pretrain_settings(v: Variant, config: dict, setup: Setup, seed=None) -> dict:
    """A row's effective pre-training settings, its cache key: what it pre-trains (its
    architecture, objective and data), the shape, phase and seed it pre-trains with, and for a
    mixture row the rates; `seed` (the training set read) counts only where `per_seed`.
    The fine-tuning method is not part of it (it changes nothing before fine-tuning)."""
    settings = {"vocab_pieces": config["vocab_pieces"], "model": shape(v, config),
                "piece_length": config["piece_length"],
                "pretrain_seed": config["pretrain_seed"] if v.pretrain_seed is None
                else v.pretrain_seed,
                "pretrain": phase(v, config), "pages": pages_key(config["benchmark"]),
                "variant": {"architecture": v.architecture, "objective": v.objective,
                            "params": dict(v.params), "corpus": v.corpus,
                            "repeats": v.repeats}}
    if v.mixture is not None:
        settings["mixture"] = {"rates": mixture_rates(v, config, setup)}
        if per_seed(v, config, setup):
            if seed is None:
                raise ValueError("this row's pre-training reads a seed's training examples: "
                                 "pass the seed (it is pre-trained once per seed)")
            settings["mixture"]["training_seed"] = seed
            settings["benchmark"] = config["benchmark"]
    return settings


def build_row_model(v: Variant, cfg: TrainConfig, vocab_size: int):
    """Row `v`'s architecture at the shape of `cfg`, initialised from `cfg.seed`, on
    `cfg.device`."""
    return build_architecture(v.architecture, pipeline.model_config(cfg, vocab_size),
                              seed=cfg.seed).to(cfg.device)


def load_weights(model, folder) -> None:
    """Load the weights stored in `folder` (model.safetensors) into `model`."""
    model.load_state_dict(read_weights(pathlib.Path(folder)))


def pretrain_row(row: str, v: Variant, config: dict, setup: Setup, seed=None, device="default",
                 progress=False) -> pathlib.Path:
    """Pre-train one row (for training seed `seed` where `per_seed`), or find it already done;
    returns the folder with its weights (config.json, model.safetensors), settings and curves
    (settings.json)."""
    settings = pretrain_settings(v, config, setup, seed)
    if setup.runs.find("pretrained", settings, needs=("model.safetensors",)) is None:
        model, record = _pretrain(row, v, settings, setup, seed, device, progress)
        with setup.runs.store("pretrained", settings, record) as staging:
            write_model_files(model, staging)
    return setup.runs.folder("pretrained", settings)


def _pretrain(row, v: Variant, settings: dict, setup: Setup, seed, device, progress):
    """Train row `v`'s pre-training run; returns (model, {"curves", "data"})."""
    train, valid, facts = setup.pieces(v)
    cfg = TrainConfig.preset("tiny", **settings["model"], **settings["pretrain"],
                             seed=settings["pretrain_seed"], device=device)
    model = build_row_model(v, cfg, setup.tokenizer.vocab_size)
    objective = v.make_objective(setup.tokenizer.vocab_size)
    collate = lambda examples: collate_examples(model, examples)           # noqa: E731
    if "mixture" in settings:
        rates = settings["mixture"]["rates"]
        stream = multitask.stream(rates, train, objective, setup, seed, collate,
                                  cfg.batch_size, cfg.seed, PRETRAIN_STREAM)
        facts = {**facts, "rates": rates}
    else:
        stream = ObjectiveStream(train, objective, collate, cfg.batch_size, cfg.seed)
    held_out = ObjectiveStream(valid, objective, collate, cfg.batch_size, cfg.seed + 1)
    batches = [held_out.batch(step) for step in (1, 2)]
    run_dir = _fresh(setup.cache / "runs" / settings_key(settings))
    trainer = Trainer(model, pipeline.build_optimizer(cfg, model), stream, cfg, run_dir,
                      evaluate=lambda m: validation_loss(m, batches), progress=progress,
                      name=f"pre-train {row}" + ("" if seed is None else f", seed {seed}"))
    trainer.train()
    shutil.rmtree(run_dir, ignore_errors=True)
    curves = {"train_loss": [[r["step"], r["loss"]] for r in trainer.history],
              "validation_loss": [[e["step"], e["validation_loss"]] for e in trainer.evals]}
    return model, {"curves": curves, "data": facts}


def finetune_settings(v: Variant, seed: int, config: dict, setup: Setup,
                      pretrained: pathlib.Path, sample: int) -> dict:
    """A fine-tuning run's effective settings, its cache key: the pre-trained entry it starts
    from, the protocol's fine-tuning and benchmark, its seed, and where they differ from the
    protocol's, the training sample's seed, the row's fine-tuning method and its mixture."""
    settings = {"pretrained": pretrained.name, "finetune": config["finetune"],
                "benchmark": config["benchmark"], "seed": seed}
    if sample != seed:
        settings["sample_seed"] = sample
    if v.finetuning is not None:
        settings["finetuning"] = dict(v.finetuning)
    if v.mixture is not None and v.mixture.finetune == "mixture":
        settings["mixture"] = {"rates": mixture_rates(v, config, setup)}
    return settings


def _finetuning_stream(v: Variant, settings: dict, setup: Setup, model, cfg, sample: int):
    """The rows a mixture row fine-tunes on (its mixture, the training set of seed `sample`),
    or None: the protocol's fine-tuning on the tasks alone."""
    if "mixture" not in settings:
        return None
    return multitask.stream(settings["mixture"]["rates"], setup.pieces(v)[0],
                            v.make_objective(setup.tokenizer.vocab_size), setup, sample,
                            lambda rows: collate_examples(model, rows), cfg.batch_size,
                            cfg.seed, FINETUNE_STREAM)


def _finetune(row, v: Variant, seed: int, sample: int, settings: dict, config: dict,
              setup: Setup, pretrained: pathlib.Path, device, progress):
    """Train and score one fine-tuning run; returns (the model at its best checkpoint, the
    result)."""
    cfg = TrainConfig.preset("tiny", **shape(v, config), **config["finetune"], seed=seed,
                             device=device)
    model = build_row_model(v, cfg, setup.tokenizer.vocab_size)
    load_weights(model, pretrained)
    before_step = finetuning_methods.prepare(
        model, dict(v.finetuning or finetuning_methods.ALL_PARAMETERS), cfg.steps, seed)
    run_dir = _fresh(setup.cache / "runs" / settings_key(settings))
    result = finetune_and_test(model, setup.tokenizer, setup.bench,
                               setup.bench.training_set(sample), cfg, run_dir, progress=progress,
                               name=f"{row}, seed {seed}",
                               stream=_finetuning_stream(v, settings, setup, model, cfg, sample),
                               before_step=before_step)
    shutil.rmtree(run_dir, ignore_errors=True)
    return model, result


def finetune_row(row: str, v: Variant, seed: int, config: dict, setup: Setup, pretrained,
                 device="default", progress=False, sample_seed=None,
                 keep_weights=False) -> dict:
    """Fine-tune a row's pre-trained model for one seed and score it on the test split (or
    read the stored result of exactly this run). A mixture row with finetune="mixture"
    (multi-task training) draws its fine-tuning rows from the mixture too.

    `sample_seed` (default: `seed`) chooses the training set, `training_set(sample_seed)`,
    and `seed` the rest (order, dropout): Table 13's ensemble fine-tuned four times trains
    every member on its ensemble seed's sample. With `keep_weights` the best checkpoint's
    weights are stored with the result and the result names their folder under "weights"."""
    sample = seed if sample_seed is None else sample_seed
    settings = finetune_settings(v, seed, config, setup, pretrained, sample)
    needs = ("model.safetensors",) if keep_weights else ()
    found = setup.runs.find("finetuned", settings, needs=needs)
    if found is None:
        model, result = _finetune(row, v, seed, sample, settings, config, setup, pretrained,
                                  device, progress)
        with setup.runs.store("finetuned", settings, {"result": result}) as staging:
            if keep_weights:                   # the model holds its best checkpoint now
                write_model_files(model, staging)
        found = {"result": result}
    named = {"weights": str(setup.runs.folder("finetuned", settings))} if keep_weights else {}
    return {**found["result"], **named}


def cache_dir(work_dir) -> pathlib.Path:
    """runs/experiments/part2 for work_dir runs/experiments/NAME: shared by the tables."""
    return pathlib.Path(work_dir).parent / "part2"


def run(config: dict, seeds, work_dir, device="default", progress=False, jobs=1) -> dict:
    """Every row of a table: pre-train (two at a time with jobs=2; once per seed where a row
    reads the seed's training set; runs equal in effect once), fine-tune each for every seed,
    collect the scores. The `run` of an `Experiment`."""
    cache = cache_dir(work_dir)
    cache.mkdir(parents=True, exist_ok=True)
    setup = Setup(config, cache)
    tasks = list(setup.bench.tasks)
    parts = {row: multitask.parts(row, v, tasks) for row, v in variants(config).items()}
    flat = {name: pv for row in parts for name, pv in parts[row].items()}
    for v, _ in flat.values():
        setup.pieces(v)                       # built once, before the workers fork

    def pre_seed(name, s):                    # the training set a part's pre-training reads
        return s if per_seed(flat[name][0], config, setup) else None

    def key(name, s):
        return settings_key(pretrain_settings(flat[name][0], config, setup, pre_seed(name, s)))

    jobs_by_key = {}
    for name in flat:
        for s in seeds:
            jobs_by_key.setdefault(key(name, s), (name, pre_seed(name, s)))
    show = progress and jobs == 1
    done = dict(zip(jobs_by_key, parallel_map(
        lambda job: pretrain_row(job[0], flat[job[0]][0], config, setup, job[1], device, show),
        list(jobs_by_key.values()), jobs)))
    runs = [(name, s) for name in flat for s in seeds]
    results = dict(zip(runs, parallel_map(
        lambda r: finetune_row(r[0], flat[r[0]][0], r[1], config, setup, done[key(*r)], device,
                               show), runs, jobs)))
    rows = {row: [multitask.combine(s, {name: (results[(name, s)], parts[row][name][1])
                                        for name in parts[row]}, setup.bench) for s in seeds]
            for row in parts}
    details = {"pretraining": {}, "data": {}}
    for name in flat:
        found = {s: json.loads((done[key(name, s)] / "settings.json").read_text())
                 for s in seeds}
        for part, field in (("pretraining", "curves"), ("data", "data")):
            details[part][name] = found[seeds[0]][field] if pre_seed(name, seeds[0]) is None \
                else {str(s): f[field] for s, f in found.items()}
    details["tokens_per_step"] = config["pretrain"]["batch_size"] * config["piece_length"]
    return {"rows": rows, "average": {row: [r["score"] for r in rows[row]] for row in rows},
            "details": details}


def experiment(name: str, table: str, section: str, title: str, variants: dict, paper: dict,
               cpu_minutes: float, pretrain_steps: int = PRETRAIN["steps"]) -> Experiment:
    """A table of rows ({row: Variant}) run under this protocol: 3 seeds, the benchmark's
    metric; its rows pre-train for `pretrain_steps` unless they say otherwise."""
    return Experiment(name=name, table=table, section=section, title=title,
                      rows=tuple(variants), paper=paper, metric=METRIC,
                      cpu_minutes=cpu_minutes, default_seeds=3,
                      config=lambda scale: config(variants, scale, pretrain_steps), run=run)
