"""Table 2's two columns, parameters and cost, for the five architectures of paper §3.2.2.

The paper counts in units: P, the parameters of an L-layer stack, and M, the FLOPs of the
L + L encoder-decoder on an example whose inputs and targets have the same length. It calls
the encoder-decoder 2P and the rest P (the half-depth one: M/2) "approximately"; here both
are counted exactly, so the approximation can be seen:

    count_parameters(model)                       distinct arrays' elements (shared once)
    architecture_parameters(name, config)         the same, from the config, allocating nothing
                                                  (the model built with placeholder weights)
    forward_flops(name, config, inputs_length, targets_length)

FLOPs are the matrix products of one forward pass of one example, 2 per multiply-add: the
projections (q, k, v, o; the FFN; the output projection) and the attention products
(q k^T and weights @ v) over every (query, key) pair the model computes, masked or not.
Norms, softmax, the bias and the embedding lookup are not matrix products and are left out.
A decoder-only model reads inputs and targets as one sequence of inputs_length +
targets_length tokens, and projects every position to the vocabulary.

Training compute (§3.6, Table 13's "4x compute" budget): the paper's baseline budget of 2^35
tokens; the 6ND rule of thumb (`training_flops`) beside the exact matmul count of training
(`exact_training_flops`, 3 x the forward pass); what a pre-training run costs
(`pretraining_cost`); and how many layers make a model 2x or 4x as big
(`layers_for_parameters`).
"""
from __future__ import annotations

import dataclasses

from minit5.t5.architectures import ARCHITECTURES, build_architecture, half_depth_config
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
    """count_parameters(build_architecture(name, config)), allocating nothing: the count is
    read off the architecture's own module tree, built with zero-stride placeholder weights
    (build_architecture(..., shape_only=True)), so it cannot disagree with the model."""
    _check(name, config)
    return count_parameters(build_architecture(name, config, shape_only=True))


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


# ---- training compute (§3.6, Table 13) ----------------------------------------------------------
# The paper's baseline budget (§3.1.2): 2^19 steps of 128 sequences of 512 tokens, 2^35 tokens.
PAPER_BASELINE = {"steps": 2 ** 19, "batch_size": 128, "inputs_length": 512}


def paper_baseline_tokens() -> int:
    """2^19 steps x 128 sequences x 512 tokens = 2^35 (about 34B) pre-training tokens."""
    return PAPER_BASELINE["steps"] * PAPER_BASELINE["batch_size"] * \
        PAPER_BASELINE["inputs_length"]


def paper_scaled_config(num_layers: int) -> T5Config:
    """§3.6's bigger models: BERT-large's shape (d_model 1024, d_ff 4096, 16 heads of
    d_kv 64) with `num_layers` blocks in each stack; the paper's 2x and 4x models have 16 and
    32 (about 2.3x and 4.4x t5-base's parameters: count them with architecture_parameters)."""
    return T5Config(d_model=1024, d_ff=4096, num_heads=16, d_kv=64, num_layers=num_layers)


def non_embedding_parameters(config: T5Config) -> int:
    """The encoder-decoder's parameters without the token embedding (and the untied head):
    the N of the 6ND rule."""
    embeddings = config.vocab_size * config.d_model * (1 if config.tie_word_embeddings else 2)
    return architecture_parameters("encoder-decoder", config) - embeddings


def training_flops(config: T5Config, tokens: int) -> int:
    """The rule of thumb C = 6 N D (Kaplan et al. 2020, §2.1): a forward pass costs 2
    multiply-add FLOPs per parameter per token, the backward pass twice that; N =
    `non_embedding_parameters`, D = `tokens`. It counts every parameter for every token; in
    an encoder-decoder an input token passes through the encoder only and a target token
    through the decoder only, so with D = inputs + targets tokens it overcounts (roughly twice,
    for stacks of equal size); attention over the sequence and the output projection are left
    out. `exact_training_flops` counts the matrix products instead."""
    _check_count("tokens", tokens)
    return 6 * non_embedding_parameters(config) * tokens


def exact_training_flops(config: T5Config, inputs_length: int, targets_length: int,
                         examples: int = 1) -> int:
    """Matmul FLOPs of training an encoder-decoder on `examples` examples of these lengths:
    3 x `forward_flops`, since the backward pass of a product Y = X W computes dX = dY W^T
    and dW = X^T dY, two products of the forward's size (every product's operands need their
    gradient: even the first one's input comes from the trained embedding)."""
    _check_count("examples", examples)
    return 3 * forward_flops("encoder-decoder", config, inputs_length, targets_length) * examples


def pretraining_cost(config: T5Config, steps: int, batch_size: int, inputs_length: int,
                     targets_length: int, models: int = 1) -> int:
    """`exact_training_flops` of `models` pre-training runs of steps x batch_size examples."""
    _check_count("steps", steps)
    _check_count("batch_size", batch_size)
    _check_count("models", models)
    return models * exact_training_flops(config, inputs_length, targets_length,
                                         steps * batch_size)


def layers_for_parameters(config: T5Config, multiple: float) -> int:
    """The number of blocks per stack (encoder and decoder alike) whose encoder-decoder's
    parameter count is nearest `multiple` x `config`'s (the smaller count on a tie): how
    Table 13's 2x and 4x models are grown from a base shape by depth alone."""
    if not multiple > 0:
        raise ValueError(f"multiple must be positive, got {multiple!r}")
    target = multiple * architecture_parameters("encoder-decoder", config)

    def grown(layers):
        return architecture_parameters("encoder-decoder", dataclasses.replace(
            config, num_layers=layers, num_decoder_layers=layers))
    # Every block after block 0 costs the same, so the count grows by one step per layer.
    one = grown(1)
    per_layer = grown(2) - one

    def distance(layers):
        return abs(one + (layers - 1) * per_layer - target)

    layers = 1
    while distance(layers + 1) < distance(layers):     # the count grows with the depth
        layers += 1
    return layers


def _check_count(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")


def relative_costs(runs: dict, baseline: str, inputs_length: int, targets_length: int) -> dict:
    """{name: pre-training cost / the baseline's} for runs {name: {"config", "steps",
    "batch_size", "models"}} (models: how many are pre-trained; 1 if absent)."""
    if baseline not in runs:
        raise ValueError(f"baseline {baseline!r} is not one of the runs {sorted(runs)}")
    cost = {name: pretraining_cost(r["config"], r["steps"], r["batch_size"], inputs_length,
                                   targets_length, r.get("models", 1))
            for name, r in runs.items()}
    return {name: c / cost[baseline] for name, c in cost.items()}


def paper_table13_runs() -> dict:
    """Table 13's pre-training runs as the paper describes them (§3.6): t5-base's shape for
    2^19 steps of 128 sequences; 4x the steps; 4x the batch; the 16-layer model for 2x the
    steps; the 32-layer model for 1x; four separately pre-trained baselines; one pre-trained
    baseline fine-tuned four times (its fine-tuning is not pre-training compute)."""
    base = T5Config.preset("t5-base")
    steps, batch = PAPER_BASELINE["steps"], PAPER_BASELINE["batch_size"]

    def run(config, s, b, models=1):
        return {"config": config, "steps": s, "batch_size": b, "models": models}
    return {"baseline": run(base, steps, batch),
            "1x size, 4x training steps": run(base, 4 * steps, batch),
            "1x size, 4x batch size": run(base, steps, 4 * batch),
            "2x size, 2x training steps": run(paper_scaled_config(16), 2 * steps, batch),
            "4x size, 1x training steps": run(paper_scaled_config(32), steps, batch),
            "4x ensembled": run(base, steps, batch, models=4),
            "4x ensembled, fine-tune only": run(base, steps, batch)}
