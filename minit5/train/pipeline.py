"""The pieces of a run, shared by `minit5 train`, `minit5 eval` and `make demo`:
corpus -> tokenizer -> model -> pre-training (span corruption, or the §3.1.4 i.i.d. baseline)
-> fine-tuning (the synthetic task mixture, or your own task file).
"""
from __future__ import annotations

import itertools
import pathlib

import numpy as np

from minit5.data.corpus import builtin_corpus, read_corpus
from minit5.data.mixing import mixing_rates
from minit5.data.task_files import (
    MAX_TASK_TOKENS,
    file_task,
    holdout_split,
    read_task_file,
    without_inputs,
)
from minit5.data.tasks import synthetic_tasks
from minit5.data.tokenizer import Tokenizer, train_tokenizer
from minit5.optim import Adafactor, AdamW
from minit5.t5 import T5Config, T5ForConditionalGeneration
from minit5.train.evaluate import evaluate, validation_loss
from minit5.train.streams import SpanCorruptionStream, TaskMixtureStream, eval_sets
from minit5.train.trainer import Trainer

# A new tokenizer learns its pieces from at most this many pages (SentencePiece samples
# sentences anyway); the model still trains on every page.
TOKENIZER_PAGES = 100_000


class StreamedCorpus:
    """The documents of a corpus file or folder (`read_corpus`), read afresh, one at a time,
    each time it is iterated, so it can be read twice (tokenizer, then training) without
    being held in memory."""

    def __init__(self, path):
        self.path = pathlib.Path(path)
        next(iter(self))                  # fail now on a missing, unreadable or empty corpus

    def __iter__(self):
        return read_corpus(self.path)


def load_corpus(path=None):
    """The built-in standard-library corpus (a list), or a `StreamedCorpus` of a .txt / .jsonl /
    .json.gz file or a folder of them (C4's released shards included)."""
    if path is None:
        return builtin_corpus()
    return StreamedCorpus(path)


def make_tokenizer(pages, path, vocab_size, seed=0, tasks=None):
    """Train a SentencePiece model on the corpus (its first TOKENIZER_PAGES pages) plus some
    task text (so task words are pieces too, as C4 covers the words of GLUE), with T5's
    special ids and 100 sentinels."""
    texts = list(itertools.islice(pages, TOKENIZER_PAGES))
    rng = np.random.default_rng([seed, 99])
    for task in (tasks or {}).values():
        texts += [f"{s} {t}" for s, t in task.make_examples(200, rng)]
    train_tokenizer(texts, vocab_size, path)
    return Tokenizer(path)


def model_config(cfg, vocab_size) -> T5Config:
    """The T5Config of a training configuration's model, for a tokenizer of `vocab_size`."""
    return T5Config(vocab_size=vocab_size, d_model=cfg.d_model, d_kv=cfg.d_kv, d_ff=cfg.d_ff,
                    num_heads=cfg.num_heads, num_layers=cfg.num_layers,
                    feed_forward_proj=cfg.feed_forward_proj, dropout_rate=cfg.dropout_rate,
                    tie_word_embeddings=cfg.tie_word_embeddings)


def build_model(cfg, vocab_size, seed=None):
    model = T5ForConditionalGeneration(model_config(cfg, vocab_size),
                                       seed=cfg.seed if seed is None else seed, dtype=cfg.dtype)
    return model.to(cfg.device)


def build_optimizer(cfg, model):
    """Adafactor as T5 uses it (factored second moments, update clipping, parameter scale);
    the learning rate itself comes from the schedule each step."""
    if cfg.optimizer == "adafactor":
        return Adafactor(model.parameters(), lr=cfg.lr, relative_step=False,
                         scale_parameter=True, warmup_init=False)
    return AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.0)


def pretrain(cfg, run_dir, tokenizer, pages, resume=False, progress=True, model=None,
             stop=None):
    """Pre-training with `cfg.objective`: span corruption (§3.3.4) or the §3.1.4 baseline's
    i.i.d. denoising. Pages are read one at a time (their token ids are kept). Returns
    (model, trainer)."""
    docs = [tokenizer.encode(page, add_eos=False) for page in pages]
    held_out = max(1, len(docs) // 20)                  # 5% of pages for validation loss
    noise = dict(noise_density=cfg.noise_density,
                 mean_noise_span_length=cfg.mean_noise_span_length, pack_rows=cfg.pack,
                 objective=cfg.objective)
    stream = SpanCorruptionStream(docs[held_out:], tokenizer.vocab_size, cfg.inputs_length,
                                  cfg.batch_size, cfg.seed, **noise)
    valid = SpanCorruptionStream(docs[:held_out], tokenizer.vocab_size, cfg.inputs_length,
                                 cfg.batch_size, cfg.seed + 1, **noise)
    valid_batches = [valid.batch(i) for i in range(2)]
    model = model or build_model(cfg, tokenizer.vocab_size)
    trainer = Trainer(model, build_optimizer(cfg, model), stream, cfg, run_dir,
                      evaluate=lambda m: validation_loss(m, valid_batches), progress=progress,
                      name="pre-train", stop=stop)
    trainer.train(resume=resume)
    return model, trainer


def default_tasks():
    tasks = synthetic_tasks()
    return tasks, mixing_rates({n: 10_000 for n in tasks}, "equal")


def read_task_examples(path, tokenizer=None, max_tokens=MAX_TASK_TOKENS):
    """The examples of a task file; with a tokenizer, one whose input or target is longer than
    `max_tokens` tokens (EOS included) is refused, naming the file, the example and both
    lengths. Refused rather than cut: a cut training target teaches the wrong answer."""
    examples = read_task_file(path)
    if tokenizer is None:
        return examples
    for number, pair in enumerate(examples, start=1):
        for column, text in zip(("input", "target"), pair):
            length = len(tokenizer.encode(text))
            if length > max_tokens:
                raise ValueError(
                    f"{path}: example {number}'s {column} ({text[:30]!r}...) is {length:,} "
                    f"tokens long, more than the {max_tokens} this model is trained and "
                    f"evaluated on; shorten or split it, or raise the limit with "
                    f"--max-tokens (memory grows with its square)")
    return examples


def file_tasks(task_file, eval_file=None, metric="exact_match", valid_fraction=0.1, seed=0,
               tokenizer=None, max_tokens=MAX_TASK_TOKENS):
    """Your own task: ((tasks, rates), evaluation) for `finetune` from a TSV / JSONL file.

    With `eval_file` that file is the validation set (training examples with one of its inputs
    are left out); without, a `valid_fraction` of the task file is held out. The task is named
    after the file. With a `tokenizer`, examples longer than `max_tokens` are refused
    (`read_task_examples`)."""
    examples = read_task_examples(task_file, tokenizer, max_tokens)
    if eval_file is not None:
        validation = read_task_examples(eval_file, tokenizer, max_tokens)
        train = without_inputs(examples, validation)
    else:
        train, validation = holdout_split(examples, valid_fraction, seed)
    name = _task_name(task_file)
    return ({name: file_task(name, train, metric)}, {name: 1.0}), {name: validation}


def _task_name(task_file):
    return pathlib.Path(task_file).name.split(".")[0] or "task"


def file_evaluation(task_file, metric="exact_match", tokenizer=None,
                    max_tokens=MAX_TASK_TOKENS):
    """(tasks, evaluation) that score every example of a task file with `metric` (with a
    `tokenizer`, examples longer than `max_tokens` are refused: `read_task_examples`)."""
    examples = read_task_examples(task_file, tokenizer, max_tokens)
    name = _task_name(task_file)
    return {name: file_task(name, examples, metric)}, {name: examples}


def finetune(cfg, run_dir, tokenizer, model=None, resume=False, progress=True, tasks=None,
             name="fine-tune", evaluation=None, stop=None):
    """Fine-tune on the synthetic task mixture (§3.5.2), or on `tasks` = (tasks, rates),
    evaluating each task's metric on `evaluation` ({task: [(input, target), ...]}; default a
    fixed draw of `cfg.eval_examples` per task). `model=None` trains the same architecture
    from random weights (the "no pre-training" baseline of Table 1). Returns (model, trainer)."""
    tasks, rates = tasks or default_tasks()
    if evaluation is None:
        evaluation = eval_sets(tasks, cfg.eval_examples, cfg.seed)
    held_out = frozenset(s for examples in evaluation.values() for s, _ in examples)
    stream = TaskMixtureStream(tasks, rates, tokenizer, cfg.batch_size, cfg.seed, held_out)
    model = model or build_model(cfg, tokenizer.vocab_size)
    trainer = Trainer(model, build_optimizer(cfg, model), stream, cfg, run_dir,
                      evaluate=lambda m: evaluate(m, tokenizer, tasks, evaluation),
                      progress=progress, name=name, stop=stop)
    trainer.train(resume=resume)
    return model, trainer
