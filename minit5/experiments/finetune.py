"""Fine-tuning on a small, fixed training set, keeping the checkpoint with the best validation
score (paper §3.1.2: a checkpoint every 5,000 steps, results from the one with the highest
validation performance), then scoring that checkpoint once on the test split.

The training set is finite (low resource), so batches are passes over it in shuffled order:
pass k is `permutation(rng([seed, k]))`, and the rows of step s are a pure function of
(seed, s), as the trainer's resumable streams require.
"""
from __future__ import annotations

import numpy as np

from minit5.data.batching import collate
from minit5.data.model_batches import collate_examples
from minit5.train.evaluate import answers, evaluate
from minit5.train.pipeline import build_optimizer
from minit5.train.streams import FINETUNE
from minit5.train.trainer import Trainer


class ExampleStream:
    """Rows of `batch_size` (input, target) pairs taken in order from successive shuffled
    passes over `examples` (all tasks' training examples together: a mixture in proportion to
    their sizes, §3.5.2), batched by `collate` (an encoder-decoder's by default; any model's
    with `minit5.data.model_batches.collate_examples`)."""

    def __init__(self, examples, tokenizer, batch_size: int, seed: int, collate=collate):
        if not examples:
            raise ValueError("ExampleStream: no training examples; pass at least one "
                             "(input, target) pair")
        self.encoded = [(tokenizer.encode(s), tokenizer.encode(t)) for s, t in examples]
        self.batch_size, self.seed, self.collate = batch_size, seed, collate

    def _index(self, position: int) -> int:
        n = len(self.encoded)
        order = np.random.default_rng([self.seed, position // n, FINETUNE]).permutation(n)
        return int(order[position % n])

    def batch(self, step: int):
        first = (step - 1) * self.batch_size          # steps count from 1
        return self.collate([self.encoded[self._index(first + r)]
                             for r in range(self.batch_size)])


def finetune_and_test(model, tokenizer, bench, train_set: dict, cfg, run_dir,
                      progress=False, name="fine-tune", test=True, stream=None,
                      before_step=None) -> dict:
    """Fine-tune `model` in place on `train_set` ({task: examples}), or on the rows of
    `stream` when given (anything with `batch(step)`, e.g. a multi-task mixture); every
    `cfg.eval_every` steps score the validation sets and remember the parameters if the
    validation score (`bench.score`) is the best so far (the earliest such step on ties).
    Returns the test results of the best checkpoint: {"best_step", "validation",
    "validation_score", "test", "score", "validation_curve", "train_loss", "examples"}; with
    `test=False` (tuning) the test split is never scored and "test", "score" and "examples"
    are absent. `before_step` goes to the Trainer (a fine-tuning method that changes what
    trains during the run, minit5.train.finetuning_methods)."""
    if stream is None:
        examples = [pair for task in bench.tasks for pair in train_set[task]]
        stream = ExampleStream(examples, tokenizer, cfg.batch_size, cfg.seed,
                               lambda rows: collate_examples(model, rows))
    best = {"score": -1.0}

    def validate(m):
        results = evaluate(m, tokenizer, bench.tasks, bench.validation)
        score = bench.score(results)
        if score > best["score"]:
            best.update(score=score, results=results, state=m.state_dict())
        return {**results, "score": score}

    trainer = Trainer(model, build_optimizer(cfg, model), stream, cfg, run_dir,
                      evaluate=validate, progress=progress, name=name,
                      before_step=before_step)
    trainer.train()
    best_step = next(e["step"] for e in trainer.evals if e["score"] == best["score"])
    out = {"best_step": best_step, "validation": best["results"],
           "validation_score": best["score"],
           "validation_curve": [[e["step"], e["score"]] for e in trainer.evals],
           "train_loss": [[r["step"], r["loss"]] for r in trainer.history]}
    if not test:
        return out
    model.load_state_dict(best["state"])
    scores = evaluate(model, tokenizer, bench.tasks, bench.test)
    return {**out, "test": scores, "score": bench.score(scores),
            "examples": examples_with_predictions(model, tokenizer, bench, EXAMPLES)}


EXAMPLES = 2      # test examples per task shown with the model's answer


def examples_with_predictions(model, tokenizer, bench, n: int) -> dict:
    """{task: [[input, target, answer], ...]} for the first `n` test examples of each task."""
    out = {}
    for task, pairs in bench.test.items():
        sources, targets = [s for s, _ in pairs[:n]], [t for _, t in pairs[:n]]
        got = answers(model, tokenizer, bench.tasks[task], sources, targets)
        out[task] = [[s, t, a] for s, t, a in zip(sources, targets, got)]
    return out
