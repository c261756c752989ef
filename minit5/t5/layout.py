"""Where the encoder-decoder's weights sit: its module tree, described once.

    shared      Embedding (vocab_size, d_model)   the token embedding both stacks read
    encoder     T5Stack of num_layers blocks      [SelfAttention, FFN]
    decoder     T5Stack of num_decoder_layers     [SelfAttention, EncDecAttention, FFN]
    lm_head     Linear (vocab_size, d_model)      untied configs only (v1.1, Flan)
    adapter     in every FFN sub-layer when config.adapter_dim is set (§3.5.1)

`T5ForConditionalGeneration` builds its weights with these functions. `T5Config`'s
`parameter_shapes()` and `num_parameters()` build the same tree with `SHAPE_ONLY` placeholders
(minit5.nn.layers: every weight matrix a zero-stride array, nothing drawn; only the layer norms'
d_model-sized vectors are real) and read the names and shapes off it, so the sizes can never
disagree with the model and a t5-11b config counts at once.
"""
from __future__ import annotations

import numpy as np

from minit5.nn import Embedding, Linear, Module
from minit5.nn.layers import SHAPE_ONLY
from minit5.t5.adapters import insert_adapters
from minit5.t5.stack import T5Stack


def shared_embedding(config, rng, dtype):
    """The token embedding `shared` (vocab_size, d_model), HF's N(0, factor^2) init."""
    return Embedding(config.vocab_size, config.d_model, rng,
                     std=config.initializer_factor * 1.0, dtype=dtype)


def add_encoder_decoder(owner, config, rng, dtype):
    """Give `owner`, whose `shared` embedding is set, the encoder, the decoder and (untied) the
    lm_head, in checkpoint order."""
    owner.encoder = T5Stack(config, owner.shared, False, rng, dtype)
    owner.decoder = T5Stack(config, owner.shared, True, rng, dtype)
    if not config.tie_word_embeddings:
        owner.lm_head = Linear(config.d_model, config.vocab_size, rng,
                               std=config.initializer_factor * 1.0, dtype=dtype)


def shape_only_tree(config) -> Module:
    """The encoder-decoder's module tree for `config`, adapters included, holding placeholder
    weights: named_parameters() gives every checkpoint name with its shape."""
    tree = Module()
    tree.config = config
    tree.shared = shared_embedding(config, SHAPE_ONLY, np.float32)
    add_encoder_decoder(tree, config, SHAPE_ONLY, np.float32)
    if config.adapter_dim is not None:
        insert_adapters(tree, config.adapter_dim, shape_only=True)
    return tree
