"""The reference solutions: every exercise answered by the library itself.

`EXERCISES` maps an exercise id ("4.2") to where the student's function lives (stub file and
name), its title and points, and `reference`: a function with the stub's signature that gets its
answer from minit5. Most are the library's own functions. Where the library's natural form is
different (a `Function` with a backward, a `Module` with weights), a thin adapter below feeds the
exercise's inputs to the library and reads the answer out; the maths stays in the library.

The graders (`graders/`) compare a student's function with `reference`; with
`pytest exercises/graders --impl=reference` they grade the library against itself, which must
pass.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from minit5 import functional as F
from minit5.autograd import ops
from minit5.autograd.tensor import Tensor, _topological_order
from minit5.data import cleaning, tasks
from minit5.t5 import attention as t5_attention
from minit5.t5 import generation
from minit5.t5 import model as t5_model
from minit5.t5.attention import additive_mask
from minit5.t5.config import T5Config
from minit5.t5.ffn import T5DenseGatedActDense
from minit5.labels import shift_right
from minit5.t5.position import relative_position_bucket


# ---- chapter 2: autograd ---------------------------------------------------------------------
# The backward exercises go through the public Tensor API: build the op, call backward, read
# the leaves' .grad. That is exactly the library's Function.backward at work.

def mul_backward(grad, a, b):
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    (ta * tb).backward(grad)
    return ta.grad, tb.grad


def matmul_backward(grad, a, b):
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    (ta @ tb).backward(grad)
    return ta.grad, tb.grad


def topological_order(root):
    return _topological_order(root)


def softmax_backward(grad, x, axis=-1):
    tx = Tensor(x, requires_grad=True)
    F.softmax(tx, axis=axis).backward(grad)
    return tx.grad


def cross_entropy_with_grad(logits, labels, ignore_index=-100):
    tz = Tensor(logits, requires_grad=True)
    loss = F.cross_entropy(tz, labels, ignore_index=ignore_index)
    loss.backward()
    return loss.data, tz.grad


# ---- chapter 4: the model --------------------------------------------------------------------

def rms_norm(x, weight, eps=1e-6):
    return F.rms_norm(Tensor(x), Tensor(weight), eps).data


def attention_weights(q, k, position_bias, mask):
    bias = position_bias + additive_mask(mask[:, None, None, :], q.dtype)   # (B, H, Lq, Lk)
    return t5_attention.attention_weights(Tensor(q), Tensor(k), Tensor(bias)).data


def lm_head_logits(hidden, shared_weight, lm_head_weight=None):
    head = None if lm_head_weight is None else Tensor(lm_head_weight)
    return t5_model.lm_head_logits(Tensor(hidden), Tensor(shared_weight), head).data


def gated_gelu_ffn(x, wi_0, wi_1, wo):
    d_ff, d_model = wi_0.shape
    config = T5Config(vocab_size=2, d_model=d_model, d_ff=d_ff, d_kv=1, num_heads=1,
                      num_layers=1, dropout_rate=0.0, feed_forward_proj="gated-gelu")
    ffn = T5DenseGatedActDense(config, np.random.default_rng(0), dtype=x.dtype)
    ffn.wi_0.weight.data, ffn.wi_1.weight.data, ffn.wo.weight.data = wi_0, wi_1, wo
    return ffn(Tensor(x)).data


# ---- chapter 5: C4 ---------------------------------------------------------------------------

def keep_line(line):
    return not any(breaks_rule(line) for _, breaks_rule in cleaning.LINE_RULES)


def keep_page(lines, bad_words=()):
    # The page rules in clean_corpus's order (the language and dedup rules are not asked for).
    text = "\n".join(lines)
    pattern = cleaning.bad_words_pattern(cleaning.load_bad_words(bad_words))
    return not (cleaning.has_lorem_ipsum(text) or cleaning.has_curly_bracket(text)
                or cleaning.has_bad_words(text, pattern) or cleaning.too_few_sentences(lines))


# ---- chapter 14: decoding --------------------------------------------------------------------

def reorder_kv_cache(cache, beam_rows):
    # The library reorders a cache of Tensors in place: hand it a copy, and read the copy out.
    tensors = [{kind: {name: Tensor(np.array(array)) for name, array in layer.items()}
                for kind, layer in block.items()} for block in cache]
    generation.reorder_cache(tensors, np.asarray(beam_rows))
    return [{kind: {name: tensor.data for name, tensor in layer.items()}
             for kind, layer in block.items()} for block in tensors]


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
    ("2.1", "ex02_autograd", "unbroadcast", "Sum a gradient back to a broadcast input", 2,
     ops.unbroadcast),
    ("2.2", "ex02_autograd", "mul_backward", "Backward of a * b, with broadcasting", 1,
     mul_backward),
    ("2.3", "ex02_autograd", "matmul_backward", "Backward of a batched a @ b", 2,
     matmul_backward),
    ("2.4", "ex02_autograd", "topological_order", "Topological order of the graph", 2,
     topological_order),
    ("2.5", "ex02_autograd", "softmax_backward", "Backward of softmax", 2, softmax_backward),
    ("2.6", "ex02_autograd", "cross_entropy_with_grad",
     "Cross entropy and its gradient, with ignore_index", 3, cross_entropy_with_grad),
    ("3.1", "ex03_gpu", "additive_mask", "An xp-generic additive mask", 1, additive_mask),
    ("4.1", "ex04_model", "rms_norm", "RMS norm, T5's LayerNorm", 1, rms_norm),
    ("4.2", "ex04_model", "relative_position_bucket", "Relative position buckets", 3,
     relative_position_bucket),
    ("4.3", "ex04_model", "attention_weights", "Attention weights: bias, mask, no scaling", 2,
     attention_weights),
    ("4.4", "ex04_model", "shift_right", "shift_right for teacher forcing", 1, shift_right),
    ("4.5", "ex04_model", "lm_head_logits", "Logits from the tied or untied head", 1,
     lm_head_logits),
    ("4.6", "ex04_model", "gated_gelu_ffn", "The gated-GELU feed-forward (v1.1)", 1,
     gated_gelu_ffn),
    ("5.1", "ex05_c4", "keep_line", "C4 line rules", 2, keep_line),
    ("5.2", "ex05_c4", "keep_page", "C4 page rules", 2, keep_page),
    ("6.1", "ex06_tasks", "stsb_to_string", "STS-B score to text", 1, tasks.stsb_to_string),
    ("6.2", "ex06_tasks", "string_to_stsb", "Text back to an STS-B score", 1,
     tasks.string_to_stsb),
    ("6.3", "ex06_tasks", "glue_format", "GLUE inputs as text, keys sorted", 1,
     tasks.glue_format),
    ("14.1", "ex14_decoding", "reorder_kv_cache", "Reordering the cache by beam", 1,
     reorder_kv_cache),
    ("14.2", "ex14_decoding", "top_beam_candidates", "Each example's best candidates", 2,
     top_beam_candidates),
    ("14.3", "ex14_decoding", "add_finished_hypothesis",
     "Finished hypotheses and the length penalty", 2, add_finished_hypothesis),
    ("14.4", "ex14_decoding", "no_repeat_ngram_logits", "No repeated n-grams", 3,
     generation.ban_repeated_ngrams),
]

EXERCISES: Mapping[str, Exercise] = {row[0]: Exercise(*row) for row in _TABLE}
