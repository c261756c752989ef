"""Adapter layers (paper §3.5.1, Table 10): fine-tune a few new weights, freeze the rest.

§3.5.1 adds an adapter after the feed-forward network of every block of the encoder and the
decoder: a dense-ReLU-dense block with its own residual connection, whose output size is its
input size (d_model), so it drops into the existing stack; its inner size d is the one knob
(Table 10: d = 32, 128, 512, 2048). During fine-tuning only the adapters and the layer
normalisation weights are updated; everything else keeps its pre-trained value.

    adapter(x) = x + wo(relu(wi(x)))          wi: d_model -> d, wo: d -> d_model (no bias)
    FFN sub-layer with an adapter:  h + dropout(adapter(DenseReluDense(layer_norm(h))))

The adapter reads the FFN's output inside the sub-layer's residual branch, before dropout and
the residual add: where Houlsby et al. (2019), the adapters §3.5.1 builds on, apply theirs.
`wi` is drawn like the FFN's `wi` (N(0, initializer_factor^2 / d_model)); `wo` starts at
zero, so a freshly inserted adapter is the identity and the model computes exactly what the
pre-trained one did until fine-tuning moves it.

    model = add_adapters(T5ForConditionalGeneration.from_pretrained("dir"), 32)
    trainable_parameters(model)   # ['encoder.block.0.layer.0.layer_norm.weight',
                                  #  'encoder.block.0.layer.1.layer_norm.weight',
                                  #  'encoder.block.0.layer.1.adapter.wi.weight', ...]

Names: `encoder.block.{i}.layer.1.adapter.{wi,wo}.weight` and
`decoder.block.{i}.layer.2.adapter.{wi,wo}.weight`. `save_pretrained` writes them with the
other weights and records `"adapter_dim": d` in config.json; `from_pretrained` (and any
constructor given a config with `adapter_dim`) builds the adapters back, so the checkpoint
round-trips. A checkpoint without adapters loads as before. transformers does not know these
keys: it loads such a checkpoint with a warning about unused weights and computes without
the adapters (so differently, once they have trained).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from minit5 import functional as F
from minit5.nn import Linear, Module, T5LayerNorm
from minit5.nn.layers import SHAPE_ONLY
from minit5.t5.stack import T5LayerFF

ADAPTERS = 3      # the adapters' random stream: np.random.default_rng([seed, ADAPTERS])


def check_adapter_dim(adapter_dim) -> int:
    """`adapter_dim` as an int if it is a positive whole number (an adapter's inner size d,
    paper §3.5.1), else a ValueError saying so."""
    if isinstance(adapter_dim, bool) or not isinstance(adapter_dim, (int, np.integer)) \
            or adapter_dim <= 0:
        raise ValueError(f"adapter_dim must be a positive integer (the adapters' inner size d; "
                         f"Table 10 uses 32, 128, 512, 2048), got {adapter_dim!r}")
    return int(adapter_dim)


class T5Adapter(Module):
    """x + wo(relu(wi(x))) for x (B, L, d_model): the identity at initialisation (wo = 0)."""

    def __init__(self, d_model, adapter_dim, rng, initializer_factor=1.0, dtype=np.float32):
        super().__init__()
        self.wi = Linear(d_model, adapter_dim, rng, std=initializer_factor * d_model ** -0.5,
                         dtype=dtype)
        self.wo = Linear(adapter_dim, d_model, rng, dtype=dtype)
        if rng is not SHAPE_ONLY:                            # a placeholder is zeros already
            self.wo.weight.data = np.zeros_like(self.wo.weight.data)

    def forward(self, x):                                    # (B, L, d) -> (B, L, d)
        return x + self.wo(F.relu(self.wi(x)))              # hidden (B, L, adapter_dim)


def feed_forward_layers(model) -> list:
    """Every FFN sub-layer of `model`, each once (a shared encoder-decoder's shared layers
    once), encoder blocks first."""
    return [m for m in model.modules() if isinstance(m, T5LayerFF)]


def insert_adapters(model, adapter_dim, seed=0, *, shape_only=False):
    """Put a fresh T5Adapter of inner size `adapter_dim` after every FFN of `model` and record
    `adapter_dim` in `model.config`; freezes nothing (see `add_adapters`). Returns the model.

    The adapters' weights come from np.random.default_rng([seed, ADAPTERS]), on the model's
    device, in its dtype (shape_only: placeholders, minit5.nn.layers.SHAPE_ONLY). A shared
    encoder-decoder (§3.2.2) gets one adapter per shared FFN.
    """
    adapter_dim = check_adapter_dim(adapter_dim)
    layers = feed_forward_layers(model)
    if not layers:
        raise TypeError(f"insert_adapters: {type(model).__name__} has no T5 feed-forward "
                        "sub-layers to put adapters after; pass a T5 model (e.g. "
                        "T5ForConditionalGeneration)")
    present = next((layer.adapter for layer in layers if layer.adapter is not None), None)
    if present is not None:
        raise ValueError(f"the model already has adapters (inner size "
                         f"{present.wi.out_features}); a block takes one adapter: start from "
                         "the model without them")
    config = model.config
    rng = SHAPE_ONLY if shape_only else np.random.default_rng([seed, ADAPTERS])
    dtype, device = model.dtype, model.device
    for layer in layers:
        adapter = T5Adapter(config.d_model, adapter_dim, rng, config.initializer_factor,
                            dtype=dtype)
        if device != "cpu":
            adapter.to(device)
        layer.adapter = adapter
    if config.adapter_dim != adapter_dim:
        model.config = dataclasses.replace(config, adapter_dim=adapter_dim,
                                           extra=dict(config.extra))
    return model


def freeze_all_but_adapters(model):
    """Only the adapters and the layer norms train (§3.5.1); everything else is frozen.
    Returns the model."""
    model.requires_grad_(False)
    for m in model.modules():
        if isinstance(m, (T5Adapter, T5LayerNorm)):
            m.requires_grad_(True)
    return model


def add_adapters(model, adapter_dim, seed=0):
    """§3.5.1's set-up in one call: `insert_adapters` then `freeze_all_but_adapters`.

    Works for any model built of T5 blocks (T5ForConditionalGeneration, the shared
    encoder-decoder, the decoder-only models); returns the model, changed in place.
    """
    return freeze_all_but_adapters(insert_adapters(model, adapter_dim, seed))
