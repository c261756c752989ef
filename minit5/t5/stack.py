"""T5 blocks and stacks (paper §2.1): pre-norm residual sub-layers around attention and FFN.

    h = h + dropout(sublayer(layer_norm(h)))             # every sub-layer
    encoder block: [SelfAttention, FFN]
    decoder block: [causal SelfAttention, EncDecAttention, FFN]
    stack: dropout(embed(ids)) -> blocks -> final_layer_norm -> dropout

The stack computes the relative position bias once, with block 0's table, folds the mask in,
and passes the same bias to every block.
"""
from __future__ import annotations

import numpy as np

from minit5.backend import get_array_module
from minit5.nn import Dropout, Module, ModuleList, T5LayerNorm
from minit5.t5.attention import T5Attention, additive_mask
from minit5.t5.ffn import T5DenseActDense, T5DenseGatedActDense


class T5LayerSelfAttention(Module):
    def __init__(self, config, has_relative_attention_bias, is_decoder, rng, dtype):
        super().__init__()
        self.SelfAttention = T5Attention(config, has_relative_attention_bias, is_decoder, rng,
                                         dtype)
        self.layer_norm = T5LayerNorm(config.d_model, config.layer_norm_epsilon, dtype)
        self.dropout = Dropout(config.dropout_rate)

    def forward(self, h, position_bias, cache=None):
        return h + self.dropout(self.SelfAttention(self.layer_norm(h), position_bias,
                                                   cache=cache))


class T5LayerCrossAttention(Module):
    def __init__(self, config, rng, dtype):
        super().__init__()
        self.EncDecAttention = T5Attention(config, False, True, rng, dtype)
        self.layer_norm = T5LayerNorm(config.d_model, config.layer_norm_epsilon, dtype)
        self.dropout = Dropout(config.dropout_rate)

    def forward(self, h, encoder_hidden_states, position_bias, cache=None):
        out = self.EncDecAttention(self.layer_norm(h), position_bias,
                                   key_value_states=encoder_hidden_states, cache=cache)
        return h + self.dropout(out)


class T5LayerFF(Module):
    def __init__(self, config, rng, dtype):
        super().__init__()
        ffn = T5DenseGatedActDense if config.is_gated_act else T5DenseActDense
        self.DenseReluDense = ffn(config, rng, dtype)
        self.layer_norm = T5LayerNorm(config.d_model, config.layer_norm_epsilon, dtype)
        self.dropout = Dropout(config.dropout_rate)

    def forward(self, h):
        return h + self.dropout(self.DenseReluDense(self.layer_norm(h)))


class T5Block(Module):
    def __init__(self, config, has_relative_attention_bias, is_decoder, rng, dtype):
        super().__init__()
        self.is_decoder = is_decoder
        layers = [T5LayerSelfAttention(config, has_relative_attention_bias, is_decoder, rng,
                                       dtype)]
        if is_decoder:
            layers.append(T5LayerCrossAttention(config, rng, dtype))
        layers.append(T5LayerFF(config, rng, dtype))
        self.layer = ModuleList(layers)

    def forward(self, h, position_bias, encoder_hidden_states=None, cross_bias=None,
                cache=None):
        h = self.layer[0](h, position_bias, cache=None if cache is None else cache["self"])
        if self.is_decoder:
            h = self.layer[1](h, encoder_hidden_states, cross_bias,
                              cache=None if cache is None else cache["cross"])
        return self.layer[-1](h)


class T5Stack(Module):
    """The encoder (is_decoder=False) or the decoder. `embed_tokens` is the model's shared
    embedding; it is registered on the model first, so its weight is named `shared.weight`."""

    def __init__(self, config, embed_tokens, is_decoder, rng, dtype):
        super().__init__()
        self.is_decoder = is_decoder
        self.n_heads = config.num_heads
        self.embed_tokens = embed_tokens
        n = config.num_decoder_layers if is_decoder else config.num_layers
        self.block = ModuleList([T5Block(config, i == 0, is_decoder, rng, dtype)
                                 for i in range(n)])
        self.final_layer_norm = T5LayerNorm(config.d_model, config.layer_norm_epsilon, dtype)
        self.dropout = Dropout(config.dropout_rate)

    def forward(self, input_ids, attention_mask=None, encoder_hidden_states=None,
                encoder_attention_mask=None, segment_ids=None, positions=None,
                encoder_segment_ids=None, cache=None):
        """input_ids (B, L) -> hidden states (B, L, d).

        attention_mask (B, L_keys): 1 for tokens to attend to. segment_ids/positions (B, L):
        packed sequences (tokens attend only within their segment; relative positions use the
        per-segment positions). cache: a list with one dict per block, for generation.
        """
        h = self.dropout(self.embed_tokens(input_ids))                  # (B, L, d)
        dtype = h.dtype
        xp = get_array_module(h.data)
        b, lq = input_ids.shape
        past = 0 if cache is None or "k" not in cache[0]["self"] else \
            cache[0]["self"]["k"].shape[2]
        lk = past + lq

        keep = xp.ones((1, 1, 1, lk), dtype=bool)                       # (B|1, 1, Lq|1, Lk)
        if attention_mask is not None:
            keep = keep & (xp.asarray(attention_mask) != 0)[:, None, None, :]
        if self.is_decoder:
            query_pos = xp.arange(lq)[:, None] + past
            keep = keep & (xp.arange(lk)[None, :] <= query_pos)[None, None]  # causal
        if segment_ids is not None:
            seg = xp.asarray(segment_ids)
            keep = keep & (seg[:, None, :, None] == seg[:, None, None, :]) \
                & (seg[:, None, None, :] != 0)

        attention = self.block[0].layer[0].SelfAttention
        if positions is not None:
            pos = xp.asarray(positions)
            bias = attention.compute_bias(lq, lk, query_positions=pos, key_positions=pos)
        else:
            bias = attention.compute_bias(lq, lk, query_offset=past)    # (1, H, Lq, Lk)
        position_bias = bias + additive_mask(keep, dtype)               # (B|1, H, Lq, Lk)

        cross_bias = None
        if self.is_decoder:
            cross_bias = self._cross_bias(encoder_hidden_states, encoder_attention_mask,
                                          segment_ids, encoder_segment_ids, lq, dtype, xp)
        for i, block in enumerate(self.block):
            h = block(h, position_bias, encoder_hidden_states, cross_bias,
                      cache=None if cache is None else cache[i])
        return self.dropout(self.final_layer_norm(h))

    def _cross_bias(self, encoder_hidden_states, encoder_attention_mask, segment_ids,
                    encoder_segment_ids, lq, dtype, xp):
        """Cross-attention has no relative bias: zeros plus the encoder mask, (B|1, 1, Lq|1, Lk)."""
        if encoder_hidden_states is None:
            raise ValueError("the decoder needs encoder_hidden_states (the encoder's output)")
        lk = encoder_hidden_states.shape[1]
        keep = xp.ones((1, 1, 1, lk), dtype=bool)
        if encoder_attention_mask is not None:
            keep = keep & (xp.asarray(encoder_attention_mask) != 0)[:, None, None, :]
        if segment_ids is not None and encoder_segment_ids is not None:
            dec = xp.asarray(segment_ids)
            enc = xp.asarray(encoder_segment_ids)
            keep = keep & (dec[:, None, :, None] == enc[:, None, None, :])
        return additive_mask(keep, np.dtype(dtype))
