"""Evaluation: each task's answers on its held-out set, scored by the task's own metric, and
validation loss for pre-training.

An answer is the greedy decoding of the input (paper §3.1.3: greedy decoding), or, for a task
with answer options (`Task.choices`), the option the model finds likeliest (rank classification,
`minit5.train.choice`). `evaluate` is the one evaluation of tasks: the trainer's periodic
evaluation (`pipeline.finetune`), `minit5 eval` and the experiments' fine-tuning call it.

Every function here runs the model in evaluation mode (no dropout) and leaves it in the
train/eval mode it found."""
from __future__ import annotations

import numpy as np

from minit5.autograd import no_grad
from minit5.nn.module import eval_mode
from minit5.train.choice import choose


def predict(model, tokenizer, texts, max_new_tokens, batch_size=64):
    """Greedy predictions (strings) for input texts."""
    out = []
    with no_grad(), eval_mode(model):
        for start in range(0, len(texts), batch_size):
            ids, mask = tokenizer.batch_encode(texts[start:start + batch_size])
            generated = model.generate(ids, attention_mask=mask, max_new_tokens=max_new_tokens)
            out += [tokenizer.decode(row[1:]) for row in generated]
    return out


def answers(model, tokenizer, task, sources, targets, max_new_tokens=None) -> list[str]:
    """The model's answers to `sources`: the likeliest of `task.choices(source)` for a task
    with options, else greedy decoding of at most `max_new_tokens` tokens (default: the
    longest target's token count + 2)."""
    if task.choices is not None:
        return choose(model, tokenizer, task, sources)
    budget = max_new_tokens or max(len(tokenizer.encode(t)) for t in targets) + 2
    return predict(model, tokenizer, sources, budget)


def evaluate(model, tokenizer, tasks: dict, eval_sets: dict, max_new_tokens=None) -> dict:
    """{task: {metric: value}}: for each task of `eval_sets` ({name: [(input, target), ...]}),
    the model's `answers` scored by `tasks[name].score` (postprocessing, then the metric)."""
    missing = [name for name in eval_sets if name not in tasks]
    if missing:
        raise KeyError(f"evaluate: no task for the evaluation sets {missing}; tasks has "
                       f"{sorted(tasks)} (pass a Task for every evaluation set)")
    results = {}
    for name, examples in eval_sets.items():
        if not examples:
            raise ValueError(f"evaluate: the evaluation set of {name!r} is empty; pass at least "
                             f"one (input, target) pair")
        sources, targets = [s for s, _ in examples], [t for _, t in examples]
        task = tasks[name]
        results[name] = task.score(answers(model, tokenizer, task, sources, targets,
                                           max_new_tokens), targets)
    return results


def validation_loss(model, batches):
    """Mean loss over fixed batches (in eval mode: no dropout)."""
    with no_grad(), eval_mode(model):
        losses = [float(model(**b.model_kwargs()).loss.item()) for b in batches]
    return {"validation_loss": float(np.mean(losses))}
