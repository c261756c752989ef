"""`StepDecoder`: an encoder-decoder model as a next-token function, what decoding drives.

Greedy and beam search (`minit5.t5.generation`) need two things of a model: the logits of the
next token given every row's tokens so far, and a way to say that beam search re-ranked its
beams. A model hands them over as `model.step_decoder(input_ids, attention_mask, num_beams,
use_cache)`; an ensemble (`minit5.t5.ensemble`) hands over one that averages its members', so
decoding never asks which kind of model it has.

    decoder = model.step_decoder(ids, mask, num_beams=1, use_cache=True)
    logits = decoder.next_token_logits(sequences)      # (N, t) ids so far -> (N, V)
    decoder.keep_rows(rows)                            # new row i continues old row rows[i]

With `use_cache` the decoder keeps a `KVCache` and feeds only the newest token; without it,
every step runs the decoder over the whole output so far (the reference).
"""
from __future__ import annotations

import numpy as np

from minit5.autograd.tensor import Tensor
from minit5.backend import get_array_module
from minit5.t5.kv_cache import KVCache


def start_step_decoder(model, input_ids, attention_mask, num_beams, use_cache):
    """Encode checked device arrays input_ids, attention_mask (B, L) with `model` and return
    its StepDecoder over num_beams rows per example."""
    xp = model.array_module
    encoder_hidden = model.encoder(input_ids, attention_mask)          # (B, L, d)
    if num_beams > 1:
        # Every beam of an example reads the same encoder output: repeat each row num_beams
        # times, so row b * num_beams + j is beam j of example b.
        encoder_hidden = Tensor(xp.repeat(encoder_hidden.data, num_beams, axis=0))
        if attention_mask is not None:
            attention_mask = xp.repeat(attention_mask, num_beams, axis=0)   # (B*k, L)
    return StepDecoder(model, encoder_hidden, attention_mask, use_cache)


class StepDecoder:
    """The decoder as a next-token function: sequences so far -> logits of the next token.

    Holds the encoder output (N, L, d), its mask and, with `use_cache`, the key/value cache.
    """

    def __init__(self, model, encoder_hidden, encoder_mask, use_cache):
        self.model = model
        self.encoder_hidden = encoder_hidden
        self.encoder_mask = encoder_mask
        self.xp = get_array_module(encoder_hidden.data)
        self.cache = KVCache(len(model.decoder.block)) if use_cache else None
        # On a CPU, every step multiplies a few rows by the (V, d) output weight, and BLAS
        # copies the whole weight into its own layout for each such product; a transposed
        # copy made once here is read as it is (one extra weight-sized array while decoding).
        self.output_weight_t = None
        if self.xp is np:
            self.output_weight_t = np.ascontiguousarray(model.output_weight.data.T)  # (d, V)

    def next_token_logits(self, sequences):
        """sequences: int64 (N, t) host array, every row's tokens so far -> logits (N, V).

        Without a cache the decoder reads all t tokens (the reference); with one it reads only
        the newest, and the cache supplies the keys and values of the first t - 1.
        """
        new = sequences if self.cache is None else sequences[:, -1:]   # (N, t) or (N, 1)
        logits = self.model.decode(self.xp.asarray(new), self.encoder_hidden,
                                   attention_mask=self.encoder_mask, cache=self.cache,
                                   output_weight_t=self.output_weight_t)
        return logits[:, -1, :]                                        # (N, V), a Tensor

    def keep_rows(self, rows):
        """Beam search re-ranked its beams: new row i continues old row rows[i]."""
        if self.cache is not None:
            self.cache = self.cache.reorder(self.xp.asarray(rows))
