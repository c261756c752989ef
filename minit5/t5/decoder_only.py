"""A decoder-only T5: the language model and the prefix LM of paper §3.2.1-§3.2.2 (Table 2).

One stack of `num_layers` blocks, each [SelfAttention, FFN] (no cross-attention), reads an
(inputs, targets) example as ONE sequence, the inputs followed by the targets, shifted right
(`minit5.data.packing_lm`), and predicts every next token:

    logits = lm_head(decoder(input_ids, mask))         # (B, L, V); loss on the targets only

    "language model"  causal mask (Figure 3, middle): position t sees positions <= t.
    "prefix LM"       causal with prefix (Figure 3, right): every position also sees the whole
                      prefix (the inputs), so the inputs are encoded both ways, as an encoder
                      would, and the targets are predicted as a decoder would.

Relative position buckets. The language model uses the decoder's causal buckets (no query
ever sees a later key). The prefix LM uses the encoder's bidirectional buckets for every
query: a prefix query does see later keys, so it needs the buckets for keys after it, and
one table serves the whole sequence (the targets' queries, which never see later keys, use
its keys-before half only).

transformers has no decoder-only T5, so there is no checkpoint format and no generate(); the
names follow the encoder-decoder's (`shared`, `decoder.block.N.layer.0.SelfAttention.q`,
`decoder.block.N.layer.1.DenseReluDense.wi`, `decoder.final_layer_norm`, `lm_head`).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from minit5 import functional as F
from minit5.autograd.tensor import Tensor
from minit5.backend import to_numpy
from minit5.nn import Linear
from minit5.t5.config import T5Config
from minit5.t5.model import _T5Base, lm_head_logits
from minit5.t5.stack import T5Stack
from minit5.t5.validate import as_id_array, as_segment_array


@dataclass
class DecoderOnlyOutput:
    logits: Tensor                      # (B, L, vocab), position t predicts labels[:, t]
    loss: Tensor | None = None          # scalar, mean over labels != IGNORE_INDEX


@dataclass
class DecoderOnlyInputs:
    """Checked int64 arrays on the model's device; all but input_ids may be None."""
    input_ids: object                   # (B, L)
    labels: object | None               # (B, L), ids or IGNORE_INDEX
    prefix_mask: object | None          # (B, L), 1 on the prefix
    segment_ids: object | None          # (B, L), 1, 2, ... per example, 0 = padding


def decoder_only_config(config: T5Config) -> T5Config:
    """The config of a decoder-only model: one stack of config.num_layers blocks."""
    if not isinstance(config, T5Config):
        raise TypeError(f"expected a T5Config, got {type(config).__name__}; build one with "
                        "T5Config(...) or T5Config.preset('t5-small')")
    return dataclasses.replace(config, num_decoder_layers=config.num_layers,
                               is_encoder_decoder=False)


class T5DecoderOnlyModel(_T5Base):
    """T5DecoderOnlyModel(config, prefix_lm=False, seed=0, dtype="float32", device=None).

    prefix_lm=False: the language model; True: the prefix LM, which needs `prefix_mask`.
    Initialised like the encoder-decoder (HF's scheme, from numpy.random.default_rng(seed));
    dropout draws from its own Generator (`set_dropout_rng`). Starts in training mode.
    shape_only=True: placeholder weights, for names and shapes (see T5ForConditionalGeneration).
    """

    decoder_only = True      # inputs and targets read as one sequence (data.model_batches)

    def __init__(self, config: T5Config, prefix_lm: bool = False, seed: int = 0,
                 dtype="float32", device=None, *, shape_only: bool = False):
        super().__init__()
        rng, dtype = self._setup(decoder_only_config(config), seed, dtype, shape_only)
        self.prefix_lm = bool(prefix_lm)
        self.decoder = T5Stack(self.config, self.shared, True, rng, dtype, cross_attention=False)
        if not self.config.tie_word_embeddings:
            self.lm_head = Linear(self.config.d_model, self.config.vocab_size, rng,
                                  std=self.config.initializer_factor * 1.0, dtype=dtype)
        self.set_dropout_rng(np.random.default_rng([seed, 1]))
        self._finish(seed, device, shape_only)

    def forward(self, input_ids, labels=None, prefix_mask=None, segment_ids=None):
        """input_ids (B, L): the sequence shifted right (start id 0 first). labels (B, L): the
        next tokens where the loss counts, -100 elsewhere. prefix_mask (B, L): 1 on the prefix
        (the prefix LM needs it; the language model ignores it). segment_ids (B, L): 1, 2, ...
        per packed example, 0 on padding (without them every position is a real token).
        A DecoderOnlyBatch passes all four: `model(**batch.model_kwargs())`.
        """
        x = check_decoder_only_inputs(self.config, self.array_module, input_ids, labels,
                                      prefix_mask, segment_ids, needs_prefix=self.prefix_lm)
        h = self.decoder(x.input_ids, segment_ids=x.segment_ids,
                         prefix_mask=x.prefix_mask if self.prefix_lm else None)  # (B, L, d)
        untied = None if self.config.tie_word_embeddings else self.lm_head.weight
        logits = lm_head_logits(h, self.shared.weight, untied,
                                rescale=self.config.scales_decoder_output)        # (B, L, V)
        loss = (None if x.labels is None
                else F.cross_entropy(logits, x.labels, validated=True))  # checked above
        return DecoderOnlyOutput(logits=logits, loss=loss)


def check_decoder_only_inputs(config, xp, input_ids, labels=None, prefix_mask=None,
                              segment_ids=None, needs_prefix=False) -> DecoderOnlyInputs:
    """The decoder-only model's boundary: every argument checked once, on the host."""
    ids = as_id_array("input_ids", input_ids, config.vocab_size, xp=xp)
    if labels is not None:
        labels = as_id_array("labels", labels, config.vocab_size, allow_ignore=True, xp=xp)
        if labels.shape != ids.shape:
            raise ValueError(f"labels shape {labels.shape} must equal input_ids shape "
                             f"{ids.shape} (labels[:, t] is the token after input_ids[:, t])")
    if prefix_mask is None and needs_prefix:
        raise ValueError("a prefix LM needs prefix_mask (B, L) with 1 on the inputs part; "
                         "minit5.data.packing_lm's batches carry it "
                         "(model(**batch.model_kwargs()))")
    return DecoderOnlyInputs(input_ids=ids, labels=labels,
                             prefix_mask=as_prefix_mask(prefix_mask, ids.shape, xp),
                             segment_ids=as_segment_array("segment_ids", segment_ids,
                                                          ids.shape, xp))


def as_prefix_mask(prefix_mask, shape, xp):
    """A 0/1 prefix mask of exactly `shape` (a row of zeros is allowed: no prefix), or None."""
    if prefix_mask is None:
        return None
    if isinstance(prefix_mask, Tensor):
        prefix_mask = prefix_mask.data
    host = to_numpy(np.asarray(prefix_mask) if isinstance(prefix_mask, (list, tuple))
                    else prefix_mask)
    if host.shape != tuple(shape):
        raise ValueError(f"prefix_mask has shape {host.shape} but must match input_ids' shape "
                         f"{tuple(shape)} (1 on the inputs part, 0 on the targets)")
    if host.dtype != bool and not np.isin(host, (0, 1)).all():
        raise ValueError("prefix_mask must contain only 0 and 1 (1 = prefix, seen both ways)")
    return xp.asarray(host.astype(np.int64))
