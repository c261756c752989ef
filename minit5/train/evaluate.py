"""Evaluation: greedy decoding on each task's held-out set, scored by the task's own metric
(paper §3.1.3: greedy decoding), and validation loss for pre-training.

Every function here runs the model in evaluation mode (no dropout) and leaves it in the
train/eval mode it found."""
from __future__ import annotations

import numpy as np

from minit5.autograd import no_grad
from minit5.t5.generation import eval_mode


def predict(model, tokenizer, texts, max_new_tokens, batch_size=64):
    """Greedy predictions (strings) for input texts."""
    out = []
    with no_grad(), eval_mode(model):
        for start in range(0, len(texts), batch_size):
            ids, mask = tokenizer.batch_encode(texts[start:start + batch_size])
            generated = model.generate(ids, attention_mask=mask, max_new_tokens=max_new_tokens)
            out += [tokenizer.decode(row[1:]) for row in generated]
    return out


def evaluate_tasks(model, tokenizer, tasks: dict, eval_sets: dict, max_new_tokens=None):
    """{task: {metric: value}} over each task's evaluation examples."""
    results = {}
    for name, examples in eval_sets.items():
        sources = [s for s, _ in examples]
        targets = [t for _, t in examples]
        budget = max_new_tokens or max(len(tokenizer.encode(t)) for t in targets) + 2
        predictions = predict(model, tokenizer, sources, budget)
        results[name] = {k: float(v) for k, v in tasks[name].metric(predictions, targets).items()}
    return results


def validation_loss(model, batches):
    """Mean loss over fixed batches (in eval mode: no dropout)."""
    with no_grad(), eval_mode(model):
        losses = [float(model(**b.model_kwargs()).loss.item()) for b in batches]
    return {"validation_loss": float(np.mean(losses))}
