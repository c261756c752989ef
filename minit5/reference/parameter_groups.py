"""Where a T5's parameters are: its count split by the part of the model that holds them.

The parts, from the names of `T5Config.parameter_shapes()` (the HF checkpoint keys):

  embedding            shared.weight, the token embedding both stacks read (vocab x d_model)
  lm_head              the untied output projection of v1.1 and Flan-T5 (0 when tied, v1.0)
  self-attention       q, k, v, o of every encoder and decoder block's SelfAttention
  cross-attention      q, k, v, o of every decoder block's EncDecAttention
  feed-forward         wi, wo (ReLU, v1.0) or wi_0, wi_1, wo (gated GELU, v1.1) of every block
  layer norms          every block's layer_norm weights and the two final_layer_norms
  relative position    the relative_attention_bias table of block 0 of each stack

The parts add up to `T5Config.num_parameters()`.
"""
from __future__ import annotations

from minit5.t5.config import T5Config

GROUPS = ("embedding", "lm_head", "self-attention", "cross-attention", "feed-forward",
          "layer norms", "relative position")


def _group(name: str) -> str:
    if name == "shared.weight":
        return "embedding"
    if name == "lm_head.weight":
        return "lm_head"
    if "relative_attention_bias" in name:
        return "relative position"
    if "layer_norm" in name:
        return "layer norms"
    if ".SelfAttention." in name:
        return "self-attention"
    if ".EncDecAttention." in name:
        return "cross-attention"
    if ".DenseReluDense." in name:
        return "feed-forward"
    raise AssertionError(f"parameter {name!r} belongs to no group")   # parameter_shapes' names


def parameter_groups(config: T5Config) -> dict:
    """{group: number of parameters} for every group of GROUPS, in that order (0 where the
    config has none), allocating nothing."""
    if not isinstance(config, T5Config):
        raise TypeError(f"parameter_groups takes a T5Config (e.g. T5Config.preset('t5-small')), "
                        f"got {type(config).__name__}")
    counts = dict.fromkeys(GROUPS, 0)
    for name, shape in config.parameter_shapes().items():
        size = 1
        for s in shape:
            size *= s
        counts[_group(name)] += size
    return counts
