"""Table 2's two columns, parameters and cost, for the five architectures of paper §3.2.2.

The paper counts in units: P, the parameters of an L-layer stack, and M, the FLOPs of the
L + L encoder-decoder on an example whose inputs and targets have the same length. It calls
the encoder-decoder 2P and the rest P (the half-depth one: M/2) "approximately"; here both
are counted exactly, so the approximation can be seen:

    count_parameters(model)                       distinct arrays' elements (shared once)
    architecture_parameters(name, config)         the same, from the config, allocating nothing
    forward_flops(name, config, inputs_length, targets_length)

FLOPs are the matrix products of one forward pass of one example, 2 per multiply-add: the
projections (q, k, v, o; the FFN; the output projection) and the attention products
(q k^T and weights @ v) over every (query, key) pair the model computes, masked or not.
Norms, softmax, the bias and the embedding lookup are not matrix products and are left out.
A decoder-only model reads inputs and targets as one sequence of inputs_length +
targets_length tokens, and projects every position to the vocabulary.
"""
from __future__ import annotations

from minit5.t5.architectures import ARCHITECTURES, half_depth_config
from minit5.t5.config import T5Config


def count_parameters(model) -> int:
    """Elements of the model's distinct arrays: a shared or tied array counts once."""
    return sum(int(p.data.size) for p in model.parameters())


def _check(name, config):
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {name!r}; choose one of "
                         f"{', '.join(repr(a) for a in ARCHITECTURES)}")
    if not isinstance(config, T5Config):
        raise TypeError(f"expected a T5Config, got {type(config).__name__}")
    return half_depth_config(config) if name == "half-depth encoder-decoder" else config


def _attention_parameters(c):
    return 4 * c.d_model * c.inner_dim                                 # q, k, v, o


def _ffn_parameters(c):
    return (3 if c.is_gated_act else 2) * c.d_model * c.d_ff          # wi (wi_0, wi_1), wo


def architecture_parameters(name, config: T5Config) -> int:
    """count_parameters(build_architecture(name, config)), from the config alone."""
    c = _check(name, config)
    d = c.d_model
    self_block = _attention_parameters(c) + d + _ffn_parameters(c) + d   # 2 layer norms
    cross_layer = _attention_parameters(c) + d
    table = c.relative_attention_num_buckets * c.num_heads             # block 0 of a stack
    stack = c.num_layers * self_block + table + d                       # + final layer norm
    embeddings = c.vocab_size * d * (1 if c.tie_word_embeddings else 2)
    if name in ("language model", "prefix LM"):
        return embeddings + stack
    if name == "shared encoder-decoder":
        return embeddings + stack + c.num_layers * cross_layer
    decoder = c.num_decoder_layers * (self_block + cross_layer) + table + d
    return embeddings + stack + decoder


def _self_attention_flops(c, length):
    projections = 2 * length * _attention_parameters(c)                 # q, k, v, o
    products = 2 * 2 * length * length * c.inner_dim                   # q k^T, weights @ v
    return projections + products


def _cross_attention_flops(c, queries, keys):
    projections = 2 * 2 * (queries + keys) * c.d_model * c.inner_dim    # q, o; k, v
    products = 2 * 2 * queries * keys * c.inner_dim
    return projections + products


def forward_flops(name, config: T5Config, inputs_length: int, targets_length: int) -> int:
    """Matmul FLOPs (2 per multiply-add) of one forward pass over one example."""
    c = _check(name, config)
    for arg, value in (("inputs_length", inputs_length), ("targets_length", targets_length)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{arg} must be a non-negative int, got {value!r}")
    if targets_length == 0:
        raise ValueError("targets_length must be at least 1 (the model predicts the targets)")
    ffn = 2 * _ffn_parameters(c)                                        # per token
    head = 2 * c.d_model * c.vocab_size                                 # per token
    if name in ("language model", "prefix LM"):
        length = inputs_length + targets_length
        block = _self_attention_flops(c, length) + length * ffn
        return c.num_layers * block + length * head
    if inputs_length == 0:
        raise ValueError("an encoder-decoder needs inputs_length >= 1 (its encoder reads them)")
    s, t = inputs_length, targets_length
    encoder = c.num_layers * (_self_attention_flops(c, s) + s * ffn)
    decoder = c.num_decoder_layers * (_self_attention_flops(c, t)
                                      + _cross_attention_flops(c, t, s) + t * ffn)
    return encoder + decoder + t * head
