"""A tied T5 (v1.0) rewritten as an untied one (the v1.1 and Flan-T5 layout), same logits.

Tied (v1.0, `tie_word_embeddings=True`): logits = (d_model ** -0.5 * h) @ shared.weight^T, the
decoder output h scaled, then projected with the input embedding. Untied (v1.1): logits =
h @ lm_head.weight^T with no scaling (HF `modeling_t5.py`, T5ForConditionalGeneration.forward).
So `lm_head.weight = d_model ** -0.5 * shared.weight` gives the same logits from a model that
now has a separate head, which fine-tuning can move away from the embedding.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from minit5.t5.config import T5Config


def untie_word_embeddings(state_dict: dict, config: T5Config) -> tuple[dict, T5Config]:
    """(new state dict, new config) of the untied model with the same logits.

    state_dict: {name: array} of a tied model (only "shared.weight" for the embeddings, as HF
    stores it); config: its T5Config (tie_word_embeddings=True). The new config has
    tie_word_embeddings=False and scale_decoder_outputs=None (untied: no scaling); the new
    state dict holds the same arrays (copies) plus "lm_head.weight". The inputs are unchanged.
    """
    if not isinstance(config, T5Config):
        raise TypeError(f"untie_word_embeddings: config must be a T5Config, got "
                        f"{type(config).__name__}")
    if not config.tie_word_embeddings:
        raise ValueError("untie_word_embeddings: the config is already untied "
                         "(tie_word_embeddings=False); its state dict has its own lm_head.weight")
    if not config.scales_decoder_output:
        raise ValueError("untie_word_embeddings: this tied config does not scale the decoder "
                         "output (scale_decoder_outputs=False), so its head is the embedding "
                         "itself; copy shared.weight to lm_head.weight without scaling instead")
    if "shared.weight" not in state_dict:
        raise KeyError("untie_word_embeddings: the state dict has no 'shared.weight'; pass a "
                       "T5 state dict such as dict(model.state_dict())")
    if "lm_head.weight" in state_dict:
        raise ValueError("untie_word_embeddings: the state dict already has 'lm_head.weight' "
                         "although the config says the head is tied; which one is right?")
    shared = np.asarray(state_dict["shared.weight"])                    # (V, d_model)
    state = {name: np.array(value, copy=True) for name, value in state_dict.items()}
    state["lm_head.weight"] = (shared * config.d_model ** -0.5).astype(shared.dtype)
    untied = dataclasses.replace(config, tie_word_embeddings=False, scale_decoder_outputs=None,
                                 extra=dict(config.extra))
    return state, untied
