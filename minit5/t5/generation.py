"""Decoding: greedy search and beam search, token for token as transformers' `generate()`.

T5 is a text-to-text model, so every task ends the same way: the decoder writes the answer one
token at a time, starting from the decoder start token (0, the pad id) and stopping at EOS (1).

    greedy search   y_t = argmax_v p(v | y_<t, x)
    beam search     keep the num_beams best partial outputs by sum_t log p(y_t | y_<t, x);
                    a finished output is scored  sum_t log p(y_t | ...) / len ** length_penalty

The paper decodes greedily in its experiments; its final models use beam search with 4 beams
and length penalty alpha = 0.6 for translation and summarisation (§3.7). The paper cites the
GNMT penalty ((5 + len) / 6) ** alpha; transformers (and so minit5) divides by len ** alpha, with
`len` the number of generated tokens, EOS included.

Two ways to run the decoder, giving the same ids:
- `use_cache=False` (the reference): every step runs the decoder over the whole output so far
  and reads the logits of the last position. Step t costs O(t) decoder positions.
- `use_cache=True`: each self-attention layer keeps the keys and values of the positions it has
  already seen, and each cross-attention layer computes the encoder's keys and values once, in
  a `minit5.t5.kv_cache.KVCache`; a step feeds only the newest token. Beam search moves the
  cached self-attention rows along with their beams (`KVCache.reorder`).

Decoding asks the model for its decoder as a next-token function, `model.step_decoder(...)`
(`minit5.t5.step_decoder`); a model and an ensemble of models both have one, so nothing here
depends on which it is.
"""
from __future__ import annotations

import numbers

import numpy as np

from minit5 import functional as F
from minit5.autograd.tensor import no_grad
from minit5.backend import get_array_module, to_numpy
from minit5.nn.module import eval_mode
from minit5.t5.validate import check_encoder_inputs

# The score of a beam that must not be chosen, as transformers uses it: beams 1.. start there,
# so that the first step expands beam 0 only instead of picking num_beams copies of one token.
IMPOSSIBLE = -1.0e9


def generate(model, input_ids, attention_mask=None, max_new_tokens=20, num_beams=1,
             length_penalty=1.0, early_stopping=False, eos_token_id=1, pad_token_id=0,
             decoder_start_token_id=0, use_cache=True):
    """Generate output ids for a batch of inputs, like HF `generate(..., do_sample=False)`.

    Args:
        model: anything with `config`, `array_module`, `modules()`, `eval()` and
            `step_decoder(input_ids, attention_mask, num_beams, use_cache)`: an encoder-decoder
            model, or a `minit5.t5.ensemble.T5Ensemble` (its averaged next-token
            log-probabilities take the logits' place).
        input_ids: int (B, L) encoder inputs; attention_mask: 0/1 (B, L), 0 on padding.
        max_new_tokens: most tokens to generate after the start token.
        num_beams: 1 for greedy search, more for beam search.
        length_penalty: exponent alpha in score / len ** alpha (beam search; > 0 favours longer
            outputs, < 0 shorter ones).
        early_stopping: when beam search may stop an example. True: as soon as num_beams
            hypotheses have finished. False (a heuristic): when its best running beam, scored
            at the current length, cannot beat the worst finished hypothesis. "never": the
            same test, but scored at max_new_tokens when length_penalty > 0.
        eos_token_id: the id that ends an output (None: always generate max_new_tokens).
        pad_token_id: what fills a greedy row after its EOS.
        decoder_start_token_id: the first decoder input (T5: 0).
        use_cache: keep attention keys/values between steps (False recomputes every step).

    Returns:
        int64 NumPy array (B, 1 + T): each row starts with the decoder start token. Greedy pads
        rows that ended early with pad_token_id up to the longest row. Beam search returns the
        best finished hypothesis of each example and, like transformers 5, fills the tail with
        pad_token_id unless it is 0, in which case with eos_token_id.

    Decoding is inference: dropout is switched off for the call and the model's train/eval
    modes are restored afterwards.
    """
    vocab_size = model.config.vocab_size
    max_new_tokens = _check_int("max_new_tokens", max_new_tokens, low=1)
    num_beams = _check_int("num_beams", num_beams, low=1)
    pad_token_id = _check_id("pad_token_id", pad_token_id, vocab_size)
    decoder_start_token_id = _check_id("decoder_start_token_id", decoder_start_token_id,
                                       vocab_size)
    if eos_token_id is not None:
        eos_token_id = _check_id("eos_token_id", eos_token_id, vocab_size)
    length_penalty = _check_length_penalty(length_penalty)
    early_stopping = _check_early_stopping(early_stopping)
    if not isinstance(use_cache, (bool, np.bool_)):
        raise TypeError(f"use_cache must be True or False, got {use_cache!r}")

    xp = model.array_module
    ids, mask, _ = check_encoder_inputs(model.config, xp, input_ids, attention_mask)  # (B, L)
    with no_grad(), eval_mode(model):
        decoder = model.step_decoder(ids, mask, num_beams, bool(use_cache))
        if num_beams == 1:
            return greedy_search(decoder, ids.shape[0], max_new_tokens, eos_token_id,
                                 pad_token_id, decoder_start_token_id)
        return beam_search(decoder, ids.shape[0], num_beams, max_new_tokens, length_penalty,
                           early_stopping, eos_token_id, pad_token_id, decoder_start_token_id)


# ---- greedy search ------------------------------------------------------------------------------
def greedy_search(decoder, batch_size, max_new_tokens, eos_token_id, pad_token_id,
                  decoder_start_token_id):
    """Pick the most likely token at every step. Returns int64 (B, 1 + steps run).

    A row that has produced EOS is finished: it keeps being fed (the batch stays rectangular)
    but its new tokens are replaced by pad. The loop stops when every row has finished.
    """
    sequences = np.full((batch_size, 1), decoder_start_token_id, dtype=np.int64)   # (B, 1)
    finished = np.zeros(batch_size, dtype=bool)
    for _ in range(max_new_tokens):
        logits = decoder.next_token_logits(sequences)                              # (B, V)
        next_tokens = to_numpy(logits.data.argmax(axis=-1)).astype(np.int64)      # (B,)
        next_tokens[finished] = pad_token_id
        sequences = np.concatenate([sequences, next_tokens[:, None]], axis=1)     # (B, t + 1)
        if eos_token_id is not None:
            finished |= next_tokens == eos_token_id
        if finished.all():
            break
    return sequences


# ---- beam search --------------------------------------------------------------------------------
class FinishedHypotheses:
    """The best `num_beams` finished outputs of one example, best first.

    Each is scored sum(log p) / length ** length_penalty, length = generated tokens, EOS included.
    """

    def __init__(self, num_beams, length_penalty):
        self.num_beams = num_beams
        self.length_penalty = length_penalty
        self.items = []                                    # [(score, tokens)], best first

    def add(self, sum_log_probs, tokens, length):
        score = sum_log_probs / length ** self.length_penalty
        self.items.append((score, tokens))
        # A stable sort keeps earlier arrivals first among equal scores.
        self.items.sort(key=lambda item: -item[0])
        del self.items[self.num_beams:]

    @property
    def is_full(self):
        return len(self.items) == self.num_beams

    @property
    def worst_score(self):
        return self.items[-1][0]

    @property
    def best_tokens(self):
        return self.items[0][1]


def beam_search(decoder, batch_size, num_beams, max_new_tokens, length_penalty, early_stopping,
                eos_token_id, pad_token_id, decoder_start_token_id):
    """Beam search with transformers' rules. Returns int64 (B, 1 + longest best output).

    Each example keeps `num_beams` running beams (rows b * k .. b * k + k - 1 of the decoder
    batch) and a list of up to `num_beams` finished hypotheses. At step t (t tokens generated
    once it is done):
      1. every beam proposes every token: score = beam score + log p(token)   (k * V candidates);
      2. the 2k best candidates are taken, best first; 2k, because at most k of them end in EOS,
         so at least k remain to continue;
      3. a candidate that ends (EOS, or t = max_new_tokens) becomes a finished hypothesis, but
         only if it ranks among the best k and the example still takes hypotheses; the best k
         candidates that do not end are next step's running beams;
      4. an example is done when it has k finished hypotheses and (early_stopping=True) that is
         enough, or (False / "never") its best running beam, scored at length t (False) or at
         max_new_tokens when length_penalty > 0 ("never"), cannot beat the worst of them.
    The search stops when every example is done, or at max_new_tokens.
    """
    k = num_beams
    n_candidates = 2 * k
    sequences = np.full((batch_size * k, 1), decoder_start_token_id, dtype=np.int64)  # (B*k, 1)
    beam_scores = None                     # (B, k) sums of log-probabilities, set at step 1
    finished = [FinishedHypotheses(k, length_penalty) for _ in range(batch_size)]
    done = np.zeros(batch_size, dtype=bool)

    for t in range(1, max_new_tokens + 1):
        logits = decoder.next_token_logits(sequences)                     # (B*k, V)
        log_probs = F.log_softmax(logits, axis=-1).data                   # (B*k, V), on device
        xp = get_array_module(log_probs)
        vocab_size = log_probs.shape[-1]
        if beam_scores is None:
            beam_scores = np.zeros((batch_size, k), dtype=log_probs.dtype)
            beam_scores[:, 1:] = IMPOSSIBLE
        scores = log_probs.reshape(batch_size, k, vocab_size) + xp.asarray(beam_scores)[:, :, None]
        scores = scores.reshape(batch_size, k * vocab_size)              # (B, k*V)
        # Only the 2k best candidates of each example come to the host: (B, 2k), best first.
        candidates, candidate_scores = top_candidates(scores, n_candidates)
        last_step = t == max_new_tokens

        rows, tokens, new_scores = [], [], []                             # next running beams
        for b in range(batch_size):
            takes_hypotheses = not (done[b] or (early_stopping is True and finished[b].is_full))
            running = []
            for rank, (flat, score) in enumerate(zip(candidates[b], candidate_scores[b])):
                beam, token = divmod(int(flat), vocab_size)
                row = b * k + beam
                if token == eos_token_id or last_step:
                    if rank < k and takes_hypotheses:
                        output = np.append(sequences[row], token)
                        finished[b].add(score, output, length=t)
                elif len(running) < k:
                    running.append((row, token, score))
            for row, token, score in running:
                rows.append(row)
                tokens.append(token)
                new_scores.append(score)
        if last_step:
            break

        # Continue the chosen beams: gather their rows (and cache rows), append their tokens.
        rows = np.asarray(rows)                                           # (B*k,)
        sequences = np.concatenate([sequences[rows], np.asarray(tokens)[:, None]], axis=1)
        decoder.keep_rows(rows)
        beam_scores = np.asarray(new_scores, dtype=beam_scores.dtype).reshape(batch_size, k)

        for b in range(batch_size):
            if done[b] or not finished[b].is_full:
                continue
            if early_stopping == "never" and length_penalty > 0:
                best_length = max_new_tokens      # a longer output can still gain from the penalty
            else:
                best_length = t
            best_possible = beam_scores[b, 0] / best_length ** length_penalty
            done[b] = best_possible <= finished[b].worst_score
        if done.all() or (early_stopping is True and all(f.is_full for f in finished)):
            break

    best = [f.best_tokens for f in finished]
    # transformers 5 fills with `pad_token_id or eos_token_id`: EOS when pad is 0, as in T5.
    # (Without an EOS every hypothesis has max_new_tokens tokens and nothing is filled.)
    fill = pad_token_id if (pad_token_id != 0 or eos_token_id is None) else eos_token_id
    out = np.full((batch_size, max(len(seq) for seq in best)), fill, dtype=np.int64)
    for b, seq in enumerate(best):
        out[b, :len(seq)] = seq
    return out


def top_candidates(scores, n):
    """The n largest entries of each row of scores (B, N), found on the scores' device.

    Returns host arrays (indices int64 (B, n), values (B, n)), largest first, ties broken by
    the lower index: only these B * n numbers are copied to the host, not the (B, N) scores.
    """
    xp = get_array_module(scores)
    rows, width = scores.shape
    nth = xp.partition(scores, width - n, axis=-1)[:, width - n:width - n + 1]   # (B, 1)
    hits = xp.flatnonzero(scores >= nth)            # row by row, each row's in index order
    counts = to_numpy(xp.bincount(hits // width, minlength=rows))               # (B,)
    part = np.zeros((rows, n), dtype=np.int64)
    values = np.zeros((rows, n), dtype=np.dtype(scores.dtype))
    if (counts == n).all():                         # no run of equals cut at the n-th best
        part[:] = to_numpy(hits % width).reshape(rows, n)
        values[:] = to_numpy(xp.take_along_axis(scores, xp.asarray(part), axis=-1))
    else:
        # A run of scores equal to the n-th best crosses the cut (or a NaN): take the equals by
        # lowest index, row by row on the host.
        for row in range(rows):
            scores_row = to_numpy(scores[row])
            part[row] = np.argsort(-scores_row, kind="stable")[:n]
            values[row] = scores_row[part[row]]
    order = np.lexsort((part, -values), axis=-1)                         # (B, n), best first
    return np.take_along_axis(part, order, axis=-1), np.take_along_axis(values, order, axis=-1)


# ---- helpers ------------------------------------------------------------------------------------
def _check_int(name, value, low):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    if value < low:
        raise ValueError(f"{name} must be at least {low}, got {value}")
    return int(value)


def _check_id(name, value, vocab_size):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a token id (int), got {value!r}")
    if not 0 <= value < vocab_size:
        raise ValueError(f"{name}={value} is outside the model's vocabulary [0, {vocab_size}); "
                         "T5 uses pad 0, eos 1, decoder start 0")
    return int(value)


def _check_length_penalty(value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) \
            or not np.isfinite(value):
        raise ValueError(f"length_penalty must be a finite number (1.0: average log-probability "
                         f"per token; 0.0: no penalty), got {value!r}")
    return float(value)


def _check_early_stopping(value):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if value == "never":
        return value
    raise ValueError(f"early_stopping must be True, False or 'never', got {value!r}")
