"""A tied T5 (v1.0) rewritten as an untied one (the v1.1 and Flan-T5 layout), same logits.

Tied (v1.0, `tie_word_embeddings=True`): logits = (d_model ** -0.5 * h) @ shared.weight^T, the
decoder output h scaled, then projected with the input embedding. Untied (v1.1): logits =
h @ lm_head.weight^T with no scaling (HF `modeling_t5.py`, T5ForConditionalGeneration.forward).
So `lm_head.weight = d_model ** -0.5 * shared.weight` gives the same logits from a model that
now has a separate head, which fine-tuning can move away from the embedding.
`tie_word_embeddings` goes back where the head still is the embedding, scaled or not
(Exercise 15.3).
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


def tie_word_embeddings(state_dict: dict, config: T5Config,
                        rtol: float = 1e-6) -> tuple[dict, T5Config]:
    """(new state dict, new config) of the tied model with the same logits, when one exists.

    An untied model computes logits = c_u h @ lm_head.weight^T, a tied one c_t h @
    shared.weight^T, with c = d_model ** -0.5 where the config scales the decoder output and 1
    where it does not. So the head can be tied back exactly when c_u lm_head.weight equals
    d_model ** -0.5 shared.weight (tied with scaling, the v1.0 layout: scale_decoder_outputs
    None) or shared.weight itself (tied without scaling: scale_decoder_outputs=False), to
    within `rtol` (the float rounding of a head that `untie_word_embeddings` made); a head
    that fine-tuning moved is neither, a ValueError naming the largest difference. The new
    state dict holds copies of every array but "lm_head.weight"; the inputs are unchanged.
    """
    if not isinstance(config, T5Config):
        raise TypeError(f"tie_word_embeddings: config must be a T5Config, got "
                        f"{type(config).__name__}")
    if config.tie_word_embeddings:
        raise ValueError("tie_word_embeddings: the config is already tied "
                         "(tie_word_embeddings=True); there is no separate head to tie")
    for name in ("shared.weight", "lm_head.weight"):
        if name not in state_dict:
            raise KeyError(f"tie_word_embeddings: the state dict has no {name!r}; an untied T5 "
                           f"state dict holds both shared.weight and lm_head.weight")
    shared = np.asarray(state_dict["shared.weight"], dtype=np.float64)       # (V, d_model)
    head = np.asarray(state_dict["lm_head.weight"], dtype=np.float64)        # (V, d_model)
    if head.shape != shared.shape:
        raise ValueError(f"tie_word_embeddings: lm_head.weight has shape {head.shape} but "
                         f"shared.weight {shared.shape}; a tied head must be the embedding")
    scale = config.d_model ** -0.5
    output = head * (scale if config.scales_decoder_output else 1.0)         # what h meets
    worst = {}
    for scaled in (True, False):
        embedding = shared * (scale if scaled else 1.0)
        if np.allclose(output, embedding, rtol=rtol, atol=0.0):
            state = {name: np.array(value, copy=True) for name, value in state_dict.items()
                     if name != "lm_head.weight"}
            tied = dataclasses.replace(config, tie_word_embeddings=True,
                                       scale_decoder_outputs=None if scaled else False,
                                       extra=dict(config.extra))
            return state, tied
        worst[scaled] = float(np.max(np.abs(output - embedding), initial=0.0))
    raise ValueError(f"tie_word_embeddings: the head is neither d_model ** -0.5 times the "
                     f"embedding (largest difference {worst[True]:.3g}) nor the embedding "
                     f"itself ({worst[False]:.3g}), so no tied model gives the same logits; "
                     f"fine-tuning has moved it away")
