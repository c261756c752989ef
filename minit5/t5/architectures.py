"""The five architectures of paper §3.2.2 (Table 2), built from the same blocks.

    name                          layers     parameters  cost (FLOPs)  model
    "encoder-decoder"             L + L      2P          M             T5ForConditionalGeneration
    "shared encoder-decoder"      L + L      P           M             T5SharedEncoderDecoder
    "half-depth encoder-decoder"  L/2 + L/2  P           M/2           T5ForConditionalGeneration
    "language model"              L          P           M             T5DecoderOnlyModel
    "prefix LM"                   L          P           M             T5DecoderOnlyModel

P is the parameter count of an L-layer stack, M the cost of the L + L encoder-decoder on
inputs and targets of equal length (a decoder-only model reads both as one sequence twice as
long, so its L layers cost about what the encoder's and the decoder's do together). See
`minit5.t5.counting` for both columns computed.

    model = build_architecture("prefix LM", config, seed=0)
    batch = collate_examples(model, [(inputs_ids, targets_ids), ...])   # minit5.data.model_batches
    out = model(**batch.model_kwargs())          # out.loss, out.logits (B, L, V) like labels

The shared encoder-decoder shares every weight the encoder and the decoder both have (per
block the self-attention, its relative_attention_bias table, the FFN and their layer norms,
and the final layer norm); the decoder's cross-attention keeps its own. The stacks still
bucket positions their own way (encoder both ways, decoder causal) from the one table.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from minit5 import backend
from minit5.nn import ModuleList
from minit5.t5.config import T5Config
from minit5.t5.decoder_only import T5DecoderOnlyModel
from minit5.t5.model import T5ForConditionalGeneration

ARCHITECTURES = ("encoder-decoder", "shared encoder-decoder", "half-depth encoder-decoder",
                 "language model", "prefix LM")


class T5SharedEncoderDecoder(T5ForConditionalGeneration):
    """The encoder-decoder whose encoder and decoder share parameters (§3.2.2, Table 2 row 2).

    Built as T5ForConditionalGeneration(config, seed) and then tied: decoder block i reads
    encoder block i's self-attention layer and FFN layer (the same modules, so the same
    arrays), and the decoder's final layer norm is the encoder's. `parameters()` lists each
    shared array once (under its encoder name), so an optimizer updates it once, and its
    gradient is the sum of what both stacks send back.
    """

    def __init__(self, config: T5Config, seed: int = 0, dtype="float32", device=None, *,
                 shape_only: bool = False):
        if isinstance(config, T5Config) and config.num_decoder_layers != config.num_layers:
            raise ValueError(f"a shared encoder-decoder needs as many decoder layers as encoder "
                             f"layers, got num_layers={config.num_layers} and "
                             f"num_decoder_layers={config.num_decoder_layers}; set "
                             "num_decoder_layers=None (the same)")
        super().__init__(config, seed=seed, dtype=dtype, device=device, shape_only=shape_only)
        for encoder_block, decoder_block in zip(self.encoder.block, self.decoder.block):
            cross_attention = decoder_block.layer[1]
            decoder_block.layer = ModuleList([encoder_block.layer[0], cross_attention,
                                              encoder_block.layer[-1]])
        self.decoder.final_layer_norm = self.encoder.final_layer_norm

    def save_pretrained(self, path):
        """Written as an ordinary T5 checkpoint: every shared array under both its encoder
        and its decoder name, so transformers (and minit5) load it as a plain, no longer
        shared, T5ForConditionalGeneration that computes the same function. state_dict() keeps
        the sharing (each array once)."""
        plain = T5ForConditionalGeneration(self.config, dtype=self.dtype, device="cpu")
        every_name = dict(_named_parameters_with_repeats(self))
        plain.load_state_dict({name: every_name[name].numpy() for name in plain.state_dict()})
        plain.save_pretrained(path)

    @classmethod
    def from_pretrained(cls, path, dtype="float32", device=None, seed=0, allow_non_finite=False):
        """Load what save_pretrained wrote: an ordinary T5 checkpoint in which every decoder
        copy of a shared array equals the encoder's (else a ValueError: the checkpoint is not
        a shared model; load it with T5ForConditionalGeneration.from_pretrained)."""
        plain = T5ForConditionalGeneration.from_pretrained(
            path, dtype=dtype, device="cpu", seed=seed, allow_non_finite=allow_non_finite)
        model = cls(plain.config, seed=seed, dtype=dtype, device="cpu")
        first_name = {id(p): name for name, p in model.named_parameters()}
        state = plain.state_dict()
        for name, p in _named_parameters_with_repeats(model):
            if name in state and not np.array_equal(state[name], state[first_name[id(p)]]):
                raise ValueError(f"{path}: {name} differs from {first_name[id(p)]}, so this "
                                 "checkpoint is not a shared encoder-decoder; load it with "
                                 "T5ForConditionalGeneration.from_pretrained")
        model.load_state_dict({name: state[name] for name in first_name.values()})
        model.eval()
        return model if backend.resolve_device(device) == "cpu" else model.to(device)


def _named_parameters_with_repeats(module, prefix=""):
    """(name, parameter) under every name a parameter is reachable by (shared ones repeat)."""
    for name, p in module._parameters.items():
        yield f"{prefix}{name}", p
    for name, child in module._modules.items():
        yield from _named_parameters_with_repeats(child, f"{prefix}{name}.")


def half_depth_config(config: T5Config) -> T5Config:
    """Table 2's "6 layers" row: half the layers in each stack (at least one)."""
    half = max(1, config.num_layers // 2)
    return dataclasses.replace(config, num_layers=half, num_decoder_layers=half)


def build_architecture(name, config: T5Config, seed=0, dtype="float32", device=None, *,
                       shape_only=False):
    """One of ARCHITECTURES, with `config`'s sizes (see the module docstring's table).
    shape_only=True: placeholder weights, for names and shapes (minit5.nn.layers.SHAPE_ONLY)."""
    if not isinstance(config, T5Config):
        raise TypeError(f"expected a T5Config, got {type(config).__name__}; build one with "
                        "T5Config(...) or T5Config.preset('t5-small')")
    kwargs = dict(seed=seed, dtype=dtype, device=device, shape_only=shape_only)
    if name == "encoder-decoder":
        return T5ForConditionalGeneration(config, **kwargs)
    if name == "shared encoder-decoder":
        return T5SharedEncoderDecoder(config, **kwargs)
    if name == "half-depth encoder-decoder":
        return T5ForConditionalGeneration(half_depth_config(config), **kwargs)
    if name == "language model":
        return T5DecoderOnlyModel(config, prefix_lm=False, **kwargs)
    if name == "prefix LM":
        return T5DecoderOnlyModel(config, prefix_lm=True, **kwargs)
    raise ValueError(f"unknown architecture {name!r}; choose one of "
                     f"{', '.join(repr(a) for a in ARCHITECTURES)}")


def is_decoder_only(model) -> bool:
    """True for the language model and the prefix LM (one stack reading inputs + targets)."""
    return getattr(model, "decoder_only", None) is True

