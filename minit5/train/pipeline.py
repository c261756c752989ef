"""The pieces of a run, shared by `minit5 train`, `minit5 eval` and `make demo`:
corpus -> tokenizer -> model -> pre-training (span corruption) -> fine-tuning (task mixture).
"""
from __future__ import annotations

import pathlib

import numpy as np

from minit5.data.corpus import builtin_corpus, read_jsonl, read_txt
from minit5.data.mixing import mixing_rates
from minit5.data.tasks import synthetic_tasks
from minit5.data.tokenizer import Tokenizer, train_tokenizer
from minit5.optim import Adafactor, AdamW
from minit5.t5 import T5Config, T5ForConditionalGeneration
from minit5.train.evaluate import evaluate_tasks, validation_loss
from minit5.train.streams import SpanCorruptionStream, TaskMixtureStream, eval_sets
from minit5.train.trainer import Trainer


def load_corpus(path=None):
    """Pages from a .txt / .jsonl file, or the built-in standard-library corpus."""
    if path is None:
        return builtin_corpus()
    path = pathlib.Path(path)
    if not path.exists():
        raise FileNotFoundError(f"corpus file {path} does not exist")
    reader = read_jsonl if path.suffix == ".jsonl" else read_txt
    return list(reader(path))


def make_tokenizer(pages, path, vocab_size, seed=0, tasks=None):
    """Train a SentencePiece model on the corpus plus some task text (so task words are pieces
    too, as C4 covers the words of GLUE), with T5's special ids and 100 sentinels."""
    texts = list(pages)
    rng = np.random.default_rng([seed, 99])
    for task in (tasks or {}).values():
        texts += [f"{s} {t}" for s, t in task.make_examples(200, rng)]
    train_tokenizer(texts, vocab_size, path)
    return Tokenizer(path)


def build_model(cfg, vocab_size, seed=None):
    config = T5Config(vocab_size=vocab_size, d_model=cfg.d_model, d_kv=cfg.d_kv, d_ff=cfg.d_ff,
                      num_heads=cfg.num_heads, num_layers=cfg.num_layers,
                      feed_forward_proj=cfg.feed_forward_proj, dropout_rate=cfg.dropout_rate,
                      tie_word_embeddings=cfg.tie_word_embeddings)
    model = T5ForConditionalGeneration(config, seed=cfg.seed if seed is None else seed,
                                       dtype=cfg.dtype)
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
    """Span-corruption pre-training (§3.1.4). Returns (model, trainer)."""
    docs = [tokenizer.encode(page, add_eos=False) for page in pages]
    held_out = max(1, len(docs) // 20)                  # 5% of pages for validation loss
    stream = SpanCorruptionStream(docs[held_out:], tokenizer.vocab_size, cfg.inputs_length,
                                  cfg.batch_size, cfg.seed, cfg.noise_density,
                                  cfg.mean_noise_span_length, pack_rows=cfg.pack)
    valid = SpanCorruptionStream(docs[:held_out], tokenizer.vocab_size, cfg.inputs_length,
                                 cfg.batch_size, cfg.seed + 1, cfg.noise_density,
                                 cfg.mean_noise_span_length, pack_rows=cfg.pack)
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


def finetune(cfg, run_dir, tokenizer, model=None, resume=False, progress=True, tasks=None,
             name="fine-tune", stop=None):
    """Fine-tune on the synthetic task mixture (§3.5.2), evaluating each task's metric.
    `model=None` trains the same architecture from random weights (the "no pre-training"
    baseline of Table 1). Returns (model, trainer)."""
    tasks, rates = tasks or default_tasks()
    evaluation = eval_sets(tasks, cfg.eval_examples, cfg.seed)
    held_out = frozenset(s for examples in evaluation.values() for s, _ in examples)
    stream = TaskMixtureStream(tasks, rates, tokenizer, cfg.batch_size, cfg.seed, held_out)
    model = model or build_model(cfg, tokenizer.vocab_size)
    trainer = Trainer(model, build_optimizer(cfg, model), stream, cfg, run_dir,
                      evaluate=lambda m: evaluate_tasks(m, tokenizer, tasks, evaluation),
                      progress=progress, name=name, stop=stop)
    trainer.train(resume=resume)
    return model, trainer
