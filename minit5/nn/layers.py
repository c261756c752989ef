"""The four layers T5 is made of: Linear (no bias), Embedding, T5LayerNorm (RMS norm), Dropout."""
from __future__ import annotations

import numpy as np

from minit5 import functional as F
from minit5.nn.module import Module, Parameter


class ShapeOnly:
    """Stands in for `rng` where a module tree is wanted for its names and shapes only: a
    Linear or Embedding built with SHAPE_ONLY holds a read-only zero-stride array of its
    weight's shape (np.broadcast_to of a single zero), so a tree of any size (t5-11b's 11
    billion weights) is built at once and allocates no weights. Nothing is drawn."""

    def __repr__(self):
        return "SHAPE_ONLY"


SHAPE_ONLY = ShapeOnly()


def _normal(rng, shape, std, dtype):
    """N(0, std^2) weights drawn from `rng`: a numpy Generator, or an int seed for a new one
    (SHAPE_ONLY: a zero-stride placeholder of the shape, nothing drawn or allocated)."""
    if isinstance(rng, ShapeOnly):
        return np.broadcast_to(np.zeros((), dtype=dtype), shape)
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        rng = np.random.default_rng(rng)
    if not isinstance(rng, np.random.Generator):
        raise TypeError("initial weights need an explicit random source: pass rng=a numpy "
                        "Generator (np.random.default_rng(seed)) or an int seed, got "
                        f"{type(rng).__name__}")
    return (rng.standard_normal(shape) * std).astype(dtype)


class Linear(Module):
    """y = x W^T with W of shape [out_features, in_features], as in PyTorch checkpoints.
    `rng` (a numpy Generator or an int seed) draws W from N(0, std^2)."""

    def __init__(self, in_features, out_features, rng, std=1.0, dtype=np.float32):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(_normal(rng, (out_features, in_features), std, dtype))

    def forward(self, x):
        return F.linear(x, self.weight)

    def __repr__(self):
        return f"Linear(in={self.in_features}, out={self.out_features})"


class Embedding(Module):
    """A table of num_embeddings rows of size embedding_dim, drawn from N(0, std^2) by `rng`
    (a numpy Generator or an int seed); ids pick rows. validated=True skips the range check for
    ids already checked (the model checks its inputs once, at its boundary)."""

    def __init__(self, num_embeddings, embedding_dim, rng, std=1.0, dtype=np.float32):
        super().__init__()
        self.weight = Parameter(_normal(rng, (num_embeddings, embedding_dim), std, dtype))

    def forward(self, ids, validated=False):
        return F.embedding(self.weight, ids, validated=validated)


class T5LayerNorm(Module):
    """RMS norm with a learned scale and no bias or mean subtraction: y = w * x / sqrt(mean(x^2)
    + eps), eps 1e-6, weight initialised to 1 (HF modeling_t5.py, T5LayerNorm)."""

    def __init__(self, hidden_size, eps=1e-6, dtype=np.float32):
        super().__init__()
        self.weight = Parameter(np.ones(hidden_size, dtype=dtype))
        self.variance_epsilon = eps

    def forward(self, x):
        return F.rms_norm(x, self.weight, self.variance_epsilon)


class Dropout(Module):
    """Dropout whose randomness is explicit and shared by the whole model
    (`Module.set_dropout_rng`): a numpy Generator or a `functional.DropoutMasks` (the trainer
    gives one per step). Same randomness, same masks, so a run can be replayed and resumed bit
    for bit; on a GPU the masks are drawn on the device (DropoutMasks says what is equal
    there)."""

    uses_dropout_rng = True

    def __init__(self, p=0.1):
        super().__init__()
        self.p = float(p)
        self.rng = None
        self._masks = None          # DropoutMasks over self.rng when that is a Generator

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        if self.rng is None:
            raise RuntimeError("dropout is active (training mode, p > 0) but has no random "
                               "generator: call model.set_dropout_rng(np.random.default_rng(seed)) "
                               "or model.eval()")
        masks = self.rng
        if isinstance(masks, np.random.Generator):
            # One DropoutMasks per Generator, kept: on a GPU it holds the device generator
            # (seeded once from the Generator), on a CPU it draws straight from the Generator.
            if self._masks is None or self._masks.generator is not masks:
                self._masks = F.DropoutMasks(masks)
            masks = self._masks
        return F.dropout(x, self.p, masks, training=True)
