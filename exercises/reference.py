"""The reference solutions: every exercise answered by the library itself.

`EXERCISES` maps an exercise id ("4.2") to where the student's function lives (stub file and
name), its title and points, and `reference`: a function with the stub's signature that gets its
answer from minit5. Most are the library's own functions. Where the library's natural form is
different (a `Function` with a backward, a `Module` with weights), a thin adapter below feeds the
exercise's inputs to the library and reads the answer out; the maths stays in the library.
An adapter also pins the exercise's signature where the library's function has more options.

The graders (`graders/`) compare a student's function with `reference`; with
`pytest exercises/graders --impl=reference` they grade the library against itself, which must
pass.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from minit5 import functional as F
from minit5.autograd.tensor import Tensor
from minit5.data import batching, cleaning, metrics, objectives, packing_lm, tasks
from minit5.data.mixing import temperature_for_rate as mixing_temperature_for_rate
from minit5.data.tokenizer import EOS_ID
from minit5.experiments import statistics, verdicts
from minit5.nn import Parameter, trainable_parameters
from minit5.optim import Adafactor, schedules
from minit5.reference import corpus_measures, ngram_ban
from minit5.reference.byte_tokenizer import byt5_decode
from minit5.reference.gnmt_penalty import gnmt_ranking
from minit5.reference.language_sampling import alpha_for_max_epochs
from minit5.reference.parameter_groups import parameter_groups
from minit5.reference.state_bytes import optimizer_state_bytes
from minit5.reference.untie import tie_word_embeddings
from minit5.t5 import attention as t5_attention
from minit5.t5 import counting, generation
from minit5.t5 import model as t5_model
from minit5.t5.adapters import add_adapters
from minit5.t5.attention import additive_mask
from minit5.t5.config import T5Config
from minit5.t5.ensemble import average_log_probs
from minit5.t5.ffn import T5DenseGatedActDense
from minit5.t5.position import relative_position_bucket
from minit5.train import choice, distributed
from minit5.train.unfreezing import apply_unfreezing

# ---- chapter 2: autograd ---------------------------------------------------------------------
# The backward exercises go through the public Tensor API: build the op, call backward, read
# the leaves' .grad. That is exactly the library's Function.backward at work.

def sum_backward(grad, shape, axis=None, keepdims=False):
    tx = Tensor(np.zeros(shape, dtype=np.asarray(grad).dtype), requires_grad=True)
    tx.sum(axis=axis, keepdims=keepdims).backward(grad)
    return tx.grad


def mul_backward(grad, a, b):
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    (ta * tb).backward(grad)
    return ta.grad, tb.grad


def matmul_backward(grad, a, b):
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    (ta @ tb).backward(grad)
    return ta.grad, tb.grad


def gradients(root, leaves, grad=None):
    # The library's backward, run so that it leaves no trace: the graph is kept and every
    # leaf's .grad is put back as it was.
    saved = [leaf.grad for leaf in leaves]
    for leaf in leaves:
        leaf.grad = None
    try:
        root.backward(grad, retain_graph=True)
        return [leaf.grad for leaf in leaves]
    finally:
        for leaf, before in zip(leaves, saved):
            leaf.grad = before


def softmax_backward(grad, x, axis=-1):
    tx = Tensor(x, requires_grad=True)
    F.softmax(tx, axis=axis).backward(grad)
    return tx.grad


def cross_entropy_with_grad(logits, labels, ignore_index=-100):
    tz = Tensor(logits, requires_grad=True)
    loss = F.cross_entropy(tz, labels, ignore_index=ignore_index)
    loss.backward()
    return loss.data, tz.grad


def max_backward(grad, x, axis=-1, keepdims=False):
    tx = Tensor(x, requires_grad=True)
    tx.max(axis=axis, keepdims=keepdims).backward(grad)
    return tx.grad


# ---- chapter 3: NumPy and CuPy ---------------------------------------------------------------

def log_softmax(x, axis=-1):
    return F.log_softmax(Tensor(x), axis=axis).data


# ---- chapter 4: the model --------------------------------------------------------------------

def rms_norm_backward(grad, x, weight, eps=1e-6):
    tx, tw = Tensor(x, requires_grad=True), Tensor(weight, requires_grad=True)
    F.rms_norm(tx, tw, eps).backward(grad)
    return tx.grad, tw.grad


def causal_position_bucket(relative_position, num_buckets=32, max_distance=128):
    return relative_position_bucket(relative_position, bidirectional=False,
                                    num_buckets=num_buckets, max_distance=max_distance)


def attention_weights(q, k, position_bias, mask):
    bias = position_bias + additive_mask(mask[:, None, None, :], q.dtype)   # (B, H, Lq, Lk)
    return t5_attention.attention_weights(Tensor(q), Tensor(k), Tensor(bias)).data


def packed_shift_right(labels, segment_ids):
    # Each row again as the examples it holds, packed by the library into one row of its own.
    rows = []
    for row_labels, row_segments in zip(labels, segment_ids):
        examples = [(row_labels[row_segments == k], row_labels[row_segments == k])
                    for k in range(1, int(row_segments.max(initial=0)) + 1)]
        if not examples:                      # a row of padding only
            rows.append(np.zeros(len(row_labels), dtype=np.int64))
            continue
        length = len(row_labels)
        rows.append(batching.pack(examples, length, length).decoder_input_ids[0])
    return np.stack(rows).reshape(np.shape(labels))          # (B, L)


def tied_head_backward(grad, hidden, shared_weight):
    th, te = Tensor(hidden, requires_grad=True), Tensor(shared_weight, requires_grad=True)
    t5_model.lm_head_logits(th, te).backward(grad)
    return th.grad, te.grad


def gated_gelu_ffn_backward(grad, x, wi_0, wi_1, wo):
    d_ff, d_model = wi_0.shape
    config = T5Config(vocab_size=2, d_model=d_model, d_ff=d_ff, d_kv=1, num_heads=1,
                      num_layers=1, dropout_rate=0.0, feed_forward_proj="gated-gelu")
    ffn = T5DenseGatedActDense(config, np.random.default_rng(0), dtype=x.dtype)
    ffn.wi_0.weight.data, ffn.wi_1.weight.data, ffn.wo.weight.data = wi_0, wi_1, wo
    tx = Tensor(x, requires_grad=True)
    ffn(tx).backward(grad)
    return tx.grad, ffn.wi_0.weight.grad, ffn.wi_1.weight.grad, ffn.wo.weight.grad


# ---- chapter 5: C4 ---------------------------------------------------------------------------

def keep_line(line):
    return not any(breaks_rule(line) for _, breaks_rule in cleaning.LINE_RULES)


def keep_page(lines, bad_words=()):
    # The page rules in clean_corpus's order (the language and dedup rules are not asked for).
    text = "\n".join(lines)
    pattern = cleaning.bad_words_pattern(cleaning.load_bad_words(bad_words))
    return not (cleaning.has_lorem_ipsum(text) or cleaning.has_curly_bracket(text)
                or cleaning.has_bad_words(text, pattern) or cleaning.too_few_sentences(lines))


# ---- chapter 7: pre-training ----------------------------------------------------------------

def random_spans_noise_mask(length, noise_density=0.15, mean_noise_span_length=3.0, rng=None):
    return objectives.random_spans_noise_mask(length, noise_density, mean_noise_span_length,
                                              rng=rng)


def replace_with_sentinels(tokens, noise_mask, vocab_size, eos_id=EOS_ID):
    inputs = objectives.noise_span_to_unique_sentinel(tokens, noise_mask, vocab_size)
    targets = objectives.nonnoise_span_to_unique_sentinel(tokens, noise_mask, vocab_size)
    eos = np.array([eos_id], dtype=np.int64)
    return np.concatenate([inputs, eos]), np.concatenate([targets, eos])


def iid_replace_spans(tokens, vocab_size, rng, noise_density=0.15, eos_id=EOS_ID):
    return objectives.iid_replace_spans(tokens, vocab_size, rng, noise_density=noise_density,
                                        eos_id=eos_id)


def random_spans_helper(inputs_length, noise_density=0.15, mean_noise_span_length=3.0):
    return objectives.random_spans_helper(inputs_length, noise_density, mean_noise_span_length)


def _adafactor_once(param, grad, row, col, step, **options):
    """One step of the library's Adafactor on a copy of `param`, from the given state."""
    p = Parameter(param.copy())
    opt = Adafactor([p], min_dim_size_to_factor=0, **options)     # factor any 2-D weight
    opt.state[0] = {"step": step - 1, "exp_avg_sq_row": row.copy(),
                    "exp_avg_sq_col": col.copy()}
    p.grad = grad
    opt.step()
    return p.data, opt.state[0]["exp_avg_sq_row"], opt.state[0]["exp_avg_sq_col"]


def factored_second_moment(grad, row, col, step, decay_rate=-0.8, eps1=1e-30):
    _, new_row, new_col = _adafactor_once(np.zeros_like(grad), grad, row, col, step,
                                          decay_rate=decay_rate, eps=(eps1, 1e-3))
    return new_row, new_col


def adafactor_step(param, grad, row, col, step):
    return _adafactor_once(param, grad, row, col, step)


def inverse_sqrt(step, warmup=10_000):
    return schedules.inverse_sqrt(step, warmup)


def pack_sequences(sequences, length):
    # Only the encoder side: each sequence goes with a one-token target, and the decoder side
    # is made long enough never to start a row of its own.
    examples = [(np.asarray(seq, dtype=np.int64), np.array([EOS_ID])) for seq in sequences]
    batch = batching.pack(examples, length, max(len(examples), 1))
    return batch.input_ids, batch.encoder_segment_ids


# ---- chapter 8: fine-tuning and the baseline -----------------------------------------------

def length_normalized_choice(log_likelihoods, lengths, counts):
    return choice.best_options(log_likelihoods, counts, lengths)


def matthews_correlation(predictions, targets):
    return metrics.matthews_corrcoef(predictions, targets)


# ---- chapter 9: architectures ------------------------------------------------------------------

def decoder_only_example(inputs, targets, length):
    batch = packing_lm.pack_decoder_only([(inputs, targets)], length)      # one row
    return batch.input_ids[0], batch.labels[0], batch.prefix_mask[0]


def packed_prefix_lm_mask(prefix_mask, segment_ids):
    # The decoder-only stack's keep mask for packed prefix-LM rows (no separate padding mask:
    # segment 0 is never a key).
    return (t5_attention.prefix_lm_mask(prefix_mask)
            & t5_attention.segment_mask(segment_ids, segment_ids))            # (B, 1, L, L)


# ---- chapter 10: unsupervised objectives ----------------------------------------------------

def bert_original(tokens, vocab_size, rng, noise_density=0.15, eos_id=EOS_ID):
    # BERT's 80/10/10 rule: the library's bert_style with 10% of the corrupted tokens kept.
    return objectives.bert_style(tokens, vocab_size, rng, noise_density=noise_density,
                                 random_token_prob=0.1, eos_id=eos_id, keep_token_prob=0.1)


def restore_tokens(inputs, targets, vocab_size, eos_id=EOS_ID):
    return objectives.restore_noise_spans(inputs, targets, vocab_size, eos_id=eos_id)


# ---- chapter 12: training strategies ---------------------------------------------------------

def temperature_for_rate(sizes, K, rate):
    return mixing_temperature_for_rate(sizes, rate, K=K)


def adapter_state_bytes(config, adapter_dim):
    # §3.5.1's set-up on a model of `config`, then the Adafactor state (T5's factoring rule,
    # float32) of exactly the parameters it leaves trainable.
    model = add_adapters(t5_model.T5ForConditionalGeneration(config, seed=0), adapter_dim)
    return optimizer_state_bytes({name: p.shape for name, p in model.named_parameters()
                                  if p.requires_grad}, "adafactor")


def unfrozen_parameters(config, step, total_steps):
    model = t5_model.T5ForConditionalGeneration(config, seed=0)
    apply_unfreezing(model, step, total_steps)
    return trainable_parameters(model)


# ---- chapter 13: scaling ---------------------------------------------------------------------

class _SimulatedRank(distributed.Communicator):
    """Rank `rank` of `size` in one process: its all-reduce hands the flat buffer to `reduce`."""

    def __init__(self, size, rank, reduce):
        self.size, self.rank, self._reduce = size, rank, reduce

    def allreduce_sum(self, flat):
        self._reduce(flat)
        return flat


def data_parallel_gradients(rank_grads, labels):
    # Each rank's gradient scaled by its token share (the trainer scales the loss by
    # Communicator.share's weight before backward), then the library's reduce_gradients: every
    # rank's flat buffer is collected, and rank 0's replaced by their sum.
    labels = np.asarray(labels)
    size = len(rank_grads)
    weights = distributed.token_shares(labels, size)                     # (N,)
    count = len(rank_grads[0]) if size else 0
    if any(len(grads) != count for grads in rank_grads):
        raise ValueError("data_parallel_gradients: every rank must list the same parameters; "
                         f"got {[len(grads) for grads in rank_grads]} entries")
    shapes, dtype = [None] * count, None
    for grads in rank_grads:
        for i, g in enumerate(grads):
            if g is None:
                continue
            if shapes[i] is not None and np.shape(g) != shapes[i]:
                raise ValueError(f"data_parallel_gradients: parameter {i} has shape "
                                 f"{np.shape(g)} on one rank and {shapes[i]} on another")
            shapes[i], dtype = np.shape(g), dtype or np.asarray(g).dtype
    if count == 0:
        return []
    dtype = np.dtype(dtype or np.float64)

    def parameters(r):
        out = []
        for shape, g in zip(shapes, rank_grads[r]):
            p = Parameter(np.zeros(shape if shape is not None else (0,), dtype=dtype))
            p.grad = None if g is None else np.asarray(g, dtype=dtype) * dtype.type(weights[r])
            out.append(p)
        return out

    flats = []
    for r in range(size):
        _SimulatedRank(size, r, lambda flat: flats.append(flat.copy())).reduce_gradients(
            parameters(r), np.zeros((), dtype=dtype))
    mine = parameters(0)
    if size > 1:
        total = np.sum(flats, axis=0)
        _SimulatedRank(size, 0, lambda flat: flat.__setitem__(slice(None), total)) \
            .reduce_gradients(mine, np.zeros((), dtype=dtype))
    return [None if p.grad is None else np.array(p.grad) for p in mine]


def ensemble_log_likelihoods(member_logits, labels):
    # The members' Tensors through the library's ensemble rule, then the library's scoring.
    members = [Tensor(np.asarray(z, dtype=np.float64)) for z in member_logits]
    return choice.sequence_log_likelihoods(average_log_probs(members).numpy(), labels)


# ---- chapter 14: decoding --------------------------------------------------------------------

def reorder_kv_cache(cache, beam_rows):
    # The library's KVCache.reorder: a new cache, the self-attention rows gathered.
    return cache.reorder(np.asarray(beam_rows))


def top_beam_candidates(log_probs, beam_scores, num_candidates):
    # beam_search's first two steps: every beam's score plus every token's log-probability,
    # one row of k * V candidates per example, and the library's top_candidates on it.
    batch, k = beam_scores.shape
    vocab_size = log_probs.shape[-1]
    scores = log_probs.reshape(batch, k, vocab_size) + beam_scores[:, :, None]
    flat, values = generation.top_candidates(scores.reshape(batch, k * vocab_size),
                                             num_candidates)
    return flat // vocab_size, flat % vocab_size, values


def add_finished_hypothesis(finished, sum_log_probs, tokens, length, num_beams,
                            length_penalty):
    hypotheses = generation.FinishedHypotheses(num_beams, length_penalty)
    hypotheses.items = list(finished)
    hypotheses.add(sum_log_probs, tokens, length)
    return hypotheses.items


# ---- the table -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Exercise:
    id: str                 # "4.2"
    module: str             # the stub file, without .py
    name: str               # the function the student writes
    title: str
    points: int
    reference: Callable

    @property
    def marker(self) -> str:
        """The pytest marker of its graders: "ex4_2"."""
        return "ex" + self.id.replace(".", "_")

    @property
    def chapter(self) -> str:
        return self.id.split(".")[0]


_TABLE = [
    ("1.1", "ex01_text_to_text", "stsb_to_string", "STS-B score to text", 1,
     tasks.stsb_to_string),
    ("1.2", "ex01_text_to_text", "string_to_stsb", "Text back to an STS-B score", 1,
     tasks.string_to_stsb),
    ("1.3", "ex01_text_to_text", "string_to_label", "A label word back to its class", 1,
     tasks.string_to_label),
    ("2.1", "ex02_autograd", "sum_backward", "Backward of a sum over axes", 2, sum_backward),
    ("2.2", "ex02_autograd", "mul_backward", "Backward of a * b, with broadcasting", 1,
     mul_backward),
    ("2.3", "ex02_autograd", "matmul_backward", "Backward of a batched a @ b", 2,
     matmul_backward),
    ("2.4", "ex02_autograd", "gradients", "Reverse mode over minit5's graph", 3, gradients),
    ("2.5", "ex02_autograd", "softmax_backward", "Backward of softmax", 2, softmax_backward),
    ("2.6", "ex02_autograd", "cross_entropy_with_grad",
     "Cross entropy and its gradient, with ignore_index", 3, cross_entropy_with_grad),
    ("2.7", "ex02_autograd", "max_backward", "Backward of max, ties shared", 2, max_backward),
    ("3.1", "ex03_gpu", "additive_mask", "An xp-generic additive mask", 1, additive_mask),
    ("3.2", "ex03_gpu", "log_softmax", "An xp-generic, stable log-softmax", 2, log_softmax),
    ("4.1", "ex04_model", "rms_norm_backward", "Backward of RMS norm", 3, rms_norm_backward),
    ("4.2", "ex04_model", "causal_position_bucket", "Causal relative position buckets", 2,
     causal_position_bucket),
    ("4.3", "ex04_model", "attention_weights", "Attention weights: bias, mask, no scaling", 2,
     attention_weights),
    ("4.4", "ex04_model", "packed_shift_right", "shift_right inside packed segments", 2,
     packed_shift_right),
    ("4.5", "ex04_model", "tied_head_backward", "Backward of the tied, rescaled head", 2,
     tied_head_backward),
    ("4.6", "ex04_model", "gated_gelu_ffn_backward", "Backward of the gated-GELU FFN", 3,
     gated_gelu_ffn_backward),
    ("5.1", "ex05_c4", "keep_line", "C4 line rules", 2, keep_line),
    ("5.2", "ex05_c4", "keep_page", "C4 page rules", 2, keep_page),
    ("6.1", "ex06_tasks", "squad_format", "SQuAD as text", 1, tasks.squad_format),
    ("6.2", "ex06_tasks", "pig_latin", "The Pig Latin task's target words", 2, tasks.pig_latin),
    ("7.1", "ex07_training", "random_spans_noise_mask", "The span-corruption noise mask", 3,
     random_spans_noise_mask),
    ("7.2", "ex07_training", "replace_with_sentinels", "Sentinels in inputs and targets", 2,
     replace_with_sentinels),
    ("7.3", "ex07_training", "iid_replace_spans", "The i.i.d. baseline corruption (§3.1.4)", 1,
     iid_replace_spans),
    ("7.4", "ex07_training", "random_spans_helper", "How many tokens fill the inputs", 2,
     random_spans_helper),
    ("7.5", "ex07_training", "factored_second_moment", "Adafactor's factored second moment", 2,
     factored_second_moment),
    ("7.6", "ex07_training", "adafactor_step", "One Adafactor step: clipping, relative step", 3,
     adafactor_step),
    ("7.7", "ex07_training", "inverse_sqrt", "The inverse square root schedule", 1,
     inverse_sqrt),
    ("7.8", "ex07_training", "pack_sequences", "Packing rows with segment ids", 2,
     pack_sequences),
    ("8.1", "ex08_baseline", "length_normalized_choice",
     "Rank classification by the mean per token", 2, length_normalized_choice),
    ("8.2", "ex08_baseline", "paired_difference", "Comparing two rows seed by seed", 1,
     statistics.paired_difference),
    ("8.3", "ex08_baseline", "bootstrap_interval", "A bootstrap interval for an accuracy", 2,
     statistics.bootstrap_interval),
    ("8.4", "ex08_baseline", "matthews_correlation",
     "Matthews correlation, 0 when undefined", 2, matthews_correlation),
    ("9.1", "ex09_architectures", "decoder_only_example", "One example as a decoder-only row",
     2, decoder_only_example),
    ("9.2", "ex09_architectures", "packed_prefix_lm_mask", "The prefix-LM mask of a packed row",
     2, packed_prefix_lm_mask),
    ("9.3", "ex09_architectures", "architecture_parameters",
     "Parameters of every architecture, from the config", 2, counting.architecture_parameters),
    ("9.4", "ex09_architectures", "forward_flops", "FLOPs of every architecture", 3,
     counting.forward_flops),
    ("10.1", "ex10_objectives", "expected_iid_denoising_lengths",
     "The i.i.d. baseline's expected lengths", 2, objectives.expected_iid_denoising_lengths),
    ("10.2", "ex10_objectives", "restore_tokens", "A sentinel pair back to its text", 2,
     restore_tokens),
    ("10.3", "ex10_objectives", "bert_original", "BERT's 80/10/10 corruption rule", 2,
     bert_original),
    ("11.1", "ex11_datasets", "unigram_cross_entropy", "A corpus's unigram model of a text",
     2, corpus_measures.unigram_cross_entropy),
    ("11.2", "ex11_datasets", "repeat_profile", "How often each piece is drawn", 2,
     corpus_measures.repeat_profile),
    ("11.3", "ex11_datasets", "shared_spans", "The sentence spans two corpora share", 2,
     corpus_measures.shared_spans),
    ("12.1", "ex12_training_strategies", "temperature_for_rate",
     "The temperature for a task's share", 2, temperature_for_rate),
    ("12.2", "ex12_training_strategies", "adapter_state_bytes",
     "The optimizer state of fine-tuning with adapters", 2, adapter_state_bytes),
    ("12.3", "ex12_training_strategies", "unfrozen_parameters",
     "What trains at a step of gradual unfreezing", 2, unfrozen_parameters),
    ("13.1", "ex13_scaling", "data_parallel_gradients",
     "The batch's gradient from the ranks' gradients", 2, data_parallel_gradients),
    ("13.2", "ex13_scaling", "layers_for_parameters", "The depth of a 2x or 4x model", 2,
     counting.layers_for_parameters),
    ("13.3", "ex13_scaling", "ensemble_log_likelihoods",
     "An ensemble's likelihood of a target", 2, ensemble_log_likelihoods),
    ("14.1", "ex14_decoding", "reorder_kv_cache", "Reordering the cache by beam", 1,
     reorder_kv_cache),
    ("14.2", "ex14_decoding", "top_beam_candidates", "Each example's best candidates", 2,
     top_beam_candidates),
    ("14.3", "ex14_decoding", "add_finished_hypothesis",
     "Finished hypotheses and the length penalty", 2, add_finished_hypothesis),
    ("14.4", "ex14_decoding", "no_repeat_ngram_logits", "No repeated n-grams", 3,
     ngram_ban.ban_repeated_ngrams),
    ("15.1", "ex15_putting_together", "parameter_groups", "Where a config's parameters are", 2,
     parameter_groups),
    ("15.2", "ex15_putting_together", "gnmt_ranking", "The paper's length penalty (GNMT)", 1,
     gnmt_ranking),
    ("15.3", "ex15_putting_together", "tie_word_embeddings",
     "An untied T5 tied back, same logits", 2, tie_word_embeddings),
    ("16.1", "ex16_reflection", "pairwise_agreement", "Every pair of rows against the paper",
     2, verdicts.pairwise_agreement),
    ("16.2", "ex16_reflection", "byt5_decode", "ByT5's ids back to text", 1, byt5_decode),
    ("16.3", "ex16_reflection", "alpha_for_max_epochs",
     "mT5's sampling with bounded repeats", 2, alpha_for_max_epochs),
]

EXERCISES: Mapping[str, Exercise] = {row[0]: Exercise(*row) for row in _TABLE}
