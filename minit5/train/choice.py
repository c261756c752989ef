"""Scoring a task whose answer is one of a few options: rank classification.

A task with `choices` (`minit5.data.tasks.Task`) writes its options in the input (two sentences,
two words). The model's answer is the option it is likelier to write as the whole target,
end-of-sequence included: argmax over options of log p(option </s> | input), the sum of the token
log-probabilities under teacher forcing. Greedy decoding (§3.1.2's evaluation) would also have to
reproduce a long option token for token, so exact match would measure copying; ranking measures
which option the model prefers. `minit5.train.evaluate.evaluate` ranks a task's options when it
has them and decodes greedily otherwise.
"""
from __future__ import annotations

import numpy as np

from minit5.autograd import no_grad
from minit5.data.model_batches import collate_examples
from minit5.kernels import cross_entropy
from minit5.labels import IGNORE_INDEX
from minit5.nn.module import eval_mode

BATCH = 64          # (input, option) pairs per forward pass


def option_log_likelihoods(model, tokenizer, pairs) -> np.ndarray:
    """log p(target </s> | input) for each (input, target) text pair, as float64 (N,).

    Any architecture of `minit5.t5.architectures`: its logits line up with its batch's labels
    (a decoder-only model reads input and target as one sequence and scores the target part),
    or a `minit5.t5.ensemble.T5Ensemble`, whose logits are its averaged log-probabilities."""
    encoded = [(tokenizer.encode(s), tokenizer.encode(t)) for s, t in pairs]
    out = []
    with no_grad(), eval_mode(model):
        for start in range(0, len(encoded), BATCH):
            batch = collate_examples(model, encoded[start:start + BATCH])
            logits = model(**batch.model_kwargs()).logits.numpy()                     # (B, T, V)
            out.append(sequence_log_likelihoods(logits, batch.labels))
    return np.concatenate(out)


def sequence_log_likelihoods(logits, labels) -> np.ndarray:
    """Each row's log p(labels): the sum over its scored positions (labels != -100) of
    log_softmax(logits) at the label, in float64 (B,).

    logits: float (B, T, V), e.g. a model's, or an ensemble's averaged log-probabilities (the
    log_softmax leaves those unchanged); labels: int (B, T), a class id in [0, V) or -100 where
    nothing is scored. Each position's -log p is the cross entropy's per-row loss
    (`minit5.kernels.cross_entropy.forward`: log-sum-exp minus the label's logit, 0 where
    ignored), computed in float64 a block of rows at a time.
    """
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels)
    if logits.ndim != 3 or labels.shape != logits.shape[:2]:
        raise ValueError(f"sequence_log_likelihoods: logits must be (B, T, V) and labels (B, T); "
                         f"got logits {logits.shape} and labels {labels.shape}")
    if labels.dtype.kind not in "iu":
        raise TypeError(f"sequence_log_likelihoods: labels must be integer class ids, got dtype "
                        f"{labels.dtype}")
    rows, length, vocab = logits.shape
    flat = labels.reshape(-1)                                                        # (B*T,)
    cross_entropy.check_labels(flat, vocab, IGNORE_INDEX)
    loss, _ = cross_entropy.forward(logits.reshape(rows * length, vocab), flat)      # (B*T,)
    return -loss.reshape(rows, length).sum(axis=1)                                   # (B,)


def choose(model, tokenizer, task, sources) -> list[str]:
    """The option of `task.choices(source)` that the model finds likeliest, for each source."""
    options = [task.choices(s) for s in sources]
    pairs = [(s, o) for s, opts in zip(sources, options) for o in opts]
    scores = option_log_likelihoods(model, tokenizer, pairs)
    best = best_options(scores, [len(opts) for opts in options])
    return [opts[int(i)] for opts, i in zip(options, best)]


def best_options(log_likelihoods, counts, lengths=None) -> np.ndarray:
    """For each example, the position (0-based, within its own options) of its best option.

    log_likelihoods: float (N,), each option's summed log p(option </s> | input), the options
    of example 0 first, then those of example 1, ... (as `choose` scores them); counts: int
    (E,), how many options each example has (summing to N). Without `lengths` the best option
    has the largest sum. With `lengths`, int (N,), each option's token count (</s> included),
    it has the largest mean log-probability per token, sum / length: the sum favours short
    options, since every token adds a negative term. The first option wins a tie. Returns int64
    (E,).
    """
    scores = np.asarray(log_likelihoods, dtype=np.float64)
    counts = np.asarray(counts)
    if scores.ndim != 1 or counts.ndim != 1 or (counts < 1).any() or counts.sum() != len(scores):
        raise ValueError(f"best_options: counts must give every example at least one option and "
                         f"sum to the number of scores ({len(np.ravel(scores))}); got counts "
                         f"{counts.tolist()}")
    if lengths is not None:
        lengths = np.asarray(lengths)
        if lengths.shape != scores.shape or (lengths < 1).any():
            raise ValueError(f"best_options: lengths must give each of the {len(scores)} "
                             f"options a token count of at least 1 (</s> included); got "
                             f"{lengths.tolist()}")
        scores = scores / lengths
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])                # (E,)
    return np.array([int(np.argmax(scores[s:s + c])) for s, c in zip(starts, counts)],
                    dtype=np.int64)
