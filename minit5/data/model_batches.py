"""The batch a model reads, from (inputs, targets) pairs: one function for every architecture.

An encoder-decoder reads the inputs in its encoder and the targets in its decoder (a `Batch`,
`minit5.data.batching.collate`); a decoder-only model (§3.2.1's language model and prefix LM)
reads one sequence, the inputs followed by the targets (a `DecoderOnlyBatch`,
`minit5.data.packing_lm.pad_decoder_only`). A model says which it is by its `decoder_only`
attribute (True or False), so this side needs no model class: the data layer sits beside the
model layer and imports nothing from it.

    batch = collate_examples(model, [(inputs_ids, targets_ids), ...])
    out = model(**batch.model_kwargs())          # out.loss, out.logits (B, L, V) like labels
"""
from __future__ import annotations

from minit5.data.batching import collate
from minit5.data.packing_lm import pad_decoder_only


def collate_examples(model, examples):
    """(inputs, targets) pairs of 1-D id arrays -> the batch `model` reads, one example per
    row, padded to the longest row: a `Batch` for an encoder-decoder (model.decoder_only
    False); for a decoder-only model (True) a `DecoderOnlyBatch` of the inputs followed by the
    targets, the loss on the targets only, prefix_mask set (the language model ignores it).
    Empty inputs (the `lm` objective) are fine for a decoder-only model: every position is
    then a target."""
    decoder_only = getattr(model, "decoder_only", None)
    if decoder_only is True:
        return pad_decoder_only(examples, loss_on_targets_only=True)
    if decoder_only is False:
        return collate(examples)
    raise TypeError(f"collate_examples: expected a model from "
                    f"minit5.t5.architectures.build_architecture (or an ensemble of them), got "
                    f"{type(model).__name__}, which does not say whether it is decoder-only "
                    "(its `decoder_only` attribute)")
