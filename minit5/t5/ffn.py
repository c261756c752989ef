"""The position-wise feed-forward network (paper §2.1; v1.1 gated variant).

    relu (v1.0):        wo(dropout(relu(wi(x))))
    gated-gelu (v1.1):  wo(dropout(gelu_new(wi_0(x)) * wi_1(x)))
"""
from __future__ import annotations

import numpy as np

from minit5 import functional as F
from minit5.nn import Dropout, Linear, Module


class T5DenseActDense(Module):
    def __init__(self, config, rng, dtype=np.float32):
        super().__init__()
        f = config.initializer_factor
        self.wi = Linear(config.d_model, config.d_ff, rng, std=f * config.d_model ** -0.5,
                         dtype=dtype)
        self.wo = Linear(config.d_ff, config.d_model, rng, std=f * config.d_ff ** -0.5,
                         dtype=dtype)
        self.dropout = Dropout(config.dropout_rate)
        self.act = F.ACTIVATIONS[config.dense_act_fn]

    def forward(self, x):                                    # (B, L, d) -> (B, L, d)
        return self.wo(self.dropout(self.act(self.wi(x))))  # hidden (B, L, d_ff)


class T5DenseGatedActDense(Module):
    def __init__(self, config, rng, dtype=np.float32):
        super().__init__()
        f = config.initializer_factor
        std_in = f * config.d_model ** -0.5
        self.wi_0 = Linear(config.d_model, config.d_ff, rng, std=std_in, dtype=dtype)
        self.wi_1 = Linear(config.d_model, config.d_ff, rng, std=std_in, dtype=dtype)
        self.wo = Linear(config.d_ff, config.d_model, rng, std=f * config.d_ff ** -0.5,
                         dtype=dtype)
        self.dropout = Dropout(config.dropout_rate)
        self.act = F.ACTIVATIONS[config.dense_act_fn]

    def forward(self, x):                                    # (B, L, d) -> (B, L, d)
        if self.act is F.gelu_new:                           # one fused kernel on a GPU
            hidden = F.gated_gelu(self.wi_0(x), self.wi_1(x))  # (B, L, d_ff)
        else:
            hidden = self.act(self.wi_0(x)) * self.wi_1(x)
        return self.wo(self.dropout(hidden))
