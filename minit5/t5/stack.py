"""T5 blocks and stacks (paper §2.1): pre-norm residual sub-layers around attention and FFN.

    h = h + dropout(sublayer(layer_norm(h)))             # every sub-layer
    encoder block: [SelfAttention, FFN]
    decoder block: [causal SelfAttention, EncDecAttention, FFN]
    decoder-only block (§3.2.1): [causal or prefix-LM SelfAttention, FFN]
    stack: dropout(embed(ids)) -> blocks -> final_layer_norm -> dropout

The stack computes the relative position bias once, with block 0's table, folds the mask in,
and passes the same bias to every block. The mask is composed from the named masks of
`minit5.t5.attention` (padding, causal, segment, prefix LM). The stack trusts its inputs: the
model checks what a user passes, once, before it gets here (`minit5.t5.validate`).
"""
from __future__ import annotations

from minit5.backend import get_array_module
from minit5.nn import Dropout, Module, ModuleList, T5LayerNorm
from minit5.t5.attention import (
    T5Attention,
    additive_mask,
    causal_mask,
    padding_mask,
    prefix_lm_mask,
    segment_mask,
)
from minit5.t5.ffn import T5DenseActDense, T5DenseGatedActDense


class T5LayerSelfAttention(Module):
    def __init__(self, config, has_relative_attention_bias, is_decoder, rng, dtype):
        super().__init__()
        self.SelfAttention = T5Attention(config, has_relative_attention_bias, is_decoder,
                                         rng=rng, dtype=dtype)
        self.layer_norm = T5LayerNorm(config.d_model, config.layer_norm_epsilon, dtype)
        self.dropout = Dropout(config.dropout_rate)

    def forward(self, h, position_bias, cache=None, block=None):
        return h + self.dropout(self.SelfAttention(self.layer_norm(h), position_bias,
                                                   cache=cache, block=block))


class T5LayerCrossAttention(Module):
    def __init__(self, config, rng, dtype):
        super().__init__()
        self.EncDecAttention = T5Attention(config, False, True, rng=rng, dtype=dtype)
        self.layer_norm = T5LayerNorm(config.d_model, config.layer_norm_epsilon, dtype)
        self.dropout = Dropout(config.dropout_rate)

    def forward(self, h, encoder_hidden_states, position_bias, cache=None, block=None):
        out = self.EncDecAttention(self.layer_norm(h), position_bias,
                                   key_value_states=encoder_hidden_states, cache=cache,
                                   block=block)
        return h + self.dropout(out)


class T5LayerFF(Module):
    """The FFN sub-layer; `adapter` (None unless minit5.t5.adapters puts a T5Adapter there,
    §3.5.1) is applied to the FFN's output, inside the residual branch."""

    def __init__(self, config, rng, dtype):
        super().__init__()
        ffn = T5DenseGatedActDense if config.is_gated_act else T5DenseActDense
        self.DenseReluDense = ffn(config, rng, dtype)
        self.layer_norm = T5LayerNorm(config.d_model, config.layer_norm_epsilon, dtype)
        self.dropout = Dropout(config.dropout_rate)
        self.adapter = None

    def forward(self, h):
        y = self.DenseReluDense(self.layer_norm(h))                    # (B, L, d)
        if self.adapter is not None:
            y = self.adapter(y)
        return h + self.dropout(y)


class T5Block(Module):
    """[SelfAttention, (EncDecAttention,) FFN]. cross_attention None: the decoder has it, the
    encoder not; a decoder-only model (§3.2.1) has a causal block without it."""

    def __init__(self, config, has_relative_attention_bias, is_decoder, rng, dtype,
                 cross_attention=None):
        super().__init__()
        self.is_decoder = is_decoder
        self.has_cross_attention = is_decoder if cross_attention is None else cross_attention
        layers = [T5LayerSelfAttention(config, has_relative_attention_bias, is_decoder, rng,
                                       dtype)]
        if self.has_cross_attention:
            layers.append(T5LayerCrossAttention(config, rng, dtype))
        layers.append(T5LayerFF(config, rng, dtype))
        self.layer = ModuleList(layers)

    def forward(self, h, position_bias, encoder_hidden_states=None, cross_bias=None,
                cache=None, index=None):
        """cache: a KVCache during generation, `index` this block's place in it."""
        h = self.layer[0](h, position_bias, cache=cache, block=index)
        if self.has_cross_attention:
            h = self.layer[1](h, encoder_hidden_states, cross_bias, cache=cache, block=index)
        return self.layer[-1](h)


class T5Stack(Module):
    """The encoder (is_decoder=False) or the decoder. `embed_tokens` is the model's shared
    embedding; it is registered on the model first, so its weight is named `shared.weight`.
    cross_attention=False makes the decoder of a decoder-only model (§3.2.1): causal blocks
    without EncDecAttention (None: the decoder has it, the encoder not)."""

    def __init__(self, config, embed_tokens, is_decoder, rng, dtype, cross_attention=None):
        super().__init__()
        self.is_decoder = is_decoder
        self.n_heads = config.num_heads
        self.embed_tokens = embed_tokens
        n = config.num_decoder_layers if is_decoder else config.num_layers
        self.block = ModuleList([T5Block(config, i == 0, is_decoder, rng, dtype,
                                         cross_attention=cross_attention)
                                 for i in range(n)])
        self.final_layer_norm = T5LayerNorm(config.d_model, config.layer_norm_epsilon, dtype)
        self.dropout = Dropout(config.dropout_rate)

    def forward(self, input_ids, attention_mask=None, segment_ids=None,
                encoder_hidden_states=None, encoder_attention_mask=None,
                encoder_segment_ids=None, cache=None, prefix_mask=None):
        """input_ids (B, Lq) -> hidden states (B, Lq, d). Every array is a checked device array.

        attention_mask (B, Lk): 1 on tokens to attend to. segment_ids (B, Lq): packed rows
        (1, 2, ...; 0 = padding), tokens attend only within their segment. The decoder also
        takes the encoder's output, mask and segment ids for cross-attention. cache: a
        `minit5.t5.kv_cache.KVCache` for generation (then Lk = cached tokens + Lq).
        prefix_mask (B, Lq): a prefix LM's decoder (§3.2.1): causal with the prefix fully
        visible, and bidirectional buckets, since a prefix query sees keys after it.
        """
        h = self.dropout(self.embed_tokens(input_ids, validated=True))  # (B, Lq, d)
        xp = get_array_module(h.data)
        lq = input_ids.shape[1]
        past = 0 if cache is None else cache.length
        lk = past + lq

        keep = padding_mask(attention_mask, lk, xp)                     # (B|1, 1, 1, Lk)
        if prefix_mask is not None:
            keep = keep & prefix_lm_mask(prefix_mask)                   # (B, 1, Lq, Lk)
        elif self.is_decoder:
            keep = keep & causal_mask(lq, lk, xp)                       # (B|1, 1, Lq, Lk)
        if segment_ids is not None:
            keep = keep & segment_mask(segment_ids, segment_ids)        # (B, 1, Lq, Lk)
        # The stack, not the table's owner, picks the buckets: a table can be shared (§3.2.2).
        bidirectional = not self.is_decoder or prefix_mask is not None
        table_owner = self.block[0].layer[0].SelfAttention
        position_bias = (table_owner.compute_bias(lq, lk, query_offset=past,
                                                  bidirectional=bidirectional)
                         + additive_mask(keep, h.dtype))                # (B|1, H, Lq, Lk)

        cross_bias = None
        if self.block[0].has_cross_attention:
            lk_enc = encoder_hidden_states.shape[1]
            cross_keep = padding_mask(encoder_attention_mask, lk_enc, xp)  # (B|1, 1, 1, Lk)
            if segment_ids is not None:
                cross_keep = cross_keep & segment_mask(segment_ids, encoder_segment_ids)
            cross_bias = additive_mask(cross_keep, h.dtype)             # (B|1, 1, Lq|1, Lk)

        for i, block in enumerate(self.block):
            h = block(h, position_bias, encoder_hidden_states, cross_bias, cache=cache,
                      index=i)
        return self.dropout(self.final_layer_norm(h))

