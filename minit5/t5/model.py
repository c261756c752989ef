"""`T5ForConditionalGeneration` and `T5EncoderModel` (paper §2.1, §3.1.1).

    logits = lm_head(decoder(shift_right(labels), encoder(input_ids)))

v1.0 ties the output projection to the shared input embedding and multiplies the decoder
output by d_model**-0.5 first; v1.1/Flan have their own `lm_head.weight` and no scaling.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minit5 import backend
from minit5 import functional as F
from minit5.autograd.tensor import Tensor
from minit5.nn import Module
from minit5.nn.layers import SHAPE_ONLY
from minit5.t5.adapters import insert_adapters
from minit5.t5.config import T5Config
from minit5.t5.generation import generate
from minit5.t5.layout import add_encoder_decoder, shared_embedding
from minit5.t5.stack import T5Stack
from minit5.t5.step_decoder import start_step_decoder
from minit5.t5.validate import check_encoder_inputs, check_model_inputs


@dataclass
class Seq2SeqLMOutput:
    logits: Tensor                      # (B, L_dec, vocab)
    loss: Tensor | None = None          # scalar, mean over labels != IGNORE_INDEX
    encoder_last_hidden_state: Tensor | None = None   # (B, L_enc, d_model)


@dataclass
class EncoderOutput:
    last_hidden_state: Tensor           # (B, L, d_model)


def lm_head_logits(hidden, shared_weight, lm_head_weight=None, rescale=None, weight_t=None):
    """Logits (B, L, V) from the decoder output (B, L, d).

    Tied (v1.0, lm_head_weight None): (hidden * d_model**-0.5) @ shared^T. The rescaling is in
    the original code, not the paper; the tied checkpoints need it. Untied (v1.1, Flan):
    hidden @ lm_head^T, no rescaling. `rescale` overrides the default (a config.json may say).
    weight_t: that output weight's transpose (d, V) as a contiguous array, which a decoding
    loop makes once: a few rows times a (d, V) array skip the copy of the whole (V, d) weight
    that BLAS makes for x @ W^T on every call. No gradient reaches the weight through it.
    """
    if rescale is None:
        rescale = lm_head_weight is None
    if rescale:
        hidden = hidden * (shared_weight.shape[1] ** -0.5)
    if weight_t is not None:                     # one (B*L, d) @ (d, V) product, not B
        rows = hidden.reshape(-1, hidden.shape[-1]) @ Tensor(weight_t)      # (B*L, V)
        return rows.reshape(*hidden.shape[:-1], weight_t.shape[1])          # (B, L, V)
    return F.linear(hidden, shared_weight if lm_head_weight is None else lm_head_weight)


class _T5Base(Module):
    def _setup(self, config, seed, dtype, shape_only=False):
        """Check the config, pick the random source (SHAPE_ONLY placeholders for a model
        built for its names and shapes only) and make the shared embedding."""
        if not isinstance(config, T5Config):
            raise TypeError(f"expected a T5Config, got {type(config).__name__}; build one with "
                            "T5Config(...) or T5Config.preset('t5-small')")
        self.config = config
        dtype = backend.resolve_dtype(dtype)
        rng = SHAPE_ONLY if shape_only else np.random.default_rng(seed)
        self.shared = shared_embedding(config, rng, dtype)
        return rng, dtype

    def _finish(self, seed, device, shape_only=False):
        """The adapters the config asks for (`adapter_dim`, §3.5.1: minit5.t5.adapters), then
        the device. Weights are drawn on the host (one Generator, same numbers on any device),
        then moved: device None means MINIT5_DEVICE, or the CPU when it is unset. A shape-only
        model stays on the host (moving its placeholders would allocate them)."""
        if self.config.adapter_dim is not None:
            insert_adapters(self, self.config.adapter_dim, seed, shape_only=shape_only)
        if not shape_only and backend.resolve_device(device) != "cpu":
            self.to(device)

    @property
    def array_module(self):
        """numpy or cupy: where the weights live, and so where checked inputs are put."""
        return backend.get_array_module(self.shared.weight.data)


class _T5Pretrained(_T5Base):
    """The models that have a Hugging Face checkpoint format."""

    @classmethod
    def from_pretrained(cls, path, dtype="float32", device=None, seed=0, allow_non_finite=False):
        """Load config.json + model.safetensors (or a sharded index) written by transformers or
        by `save_pretrained`. No torch needed. device None: MINIT5_DEVICE, else the CPU.
        NaN or infinite weights are refused unless allow_non_finite=True."""
        from minit5.t5.checkpoint import load_pretrained
        return load_pretrained(cls, path, dtype=dtype, device=device, seed=seed,
                               allow_non_finite=allow_non_finite)

    def save_pretrained(self, path):
        """Write config.json + model.safetensors atomically (transformers can load the result)."""
        from minit5.t5.checkpoint import save_pretrained
        save_pretrained(self, path)


class T5ForConditionalGeneration(_T5Pretrained):
    """T5ForConditionalGeneration(config, seed=0, dtype="float32", device=None): HF's
    initialisation scheme, drawn from numpy.random.default_rng(seed). Dropout draws from its own
    Generator, seeded from `seed` too (replace it with `model.set_dropout_rng(rng)`). Starts in
    training mode, as HF. shape_only=True builds the module tree with zero-stride placeholder
    weights (minit5.nn.layers.SHAPE_ONLY): names and shapes without allocating a weight
    matrix, for counting; it computes nothing useful and cannot be trained."""

    decoder_only = False     # inputs in the encoder, targets in the decoder (data.model_batches)

    def __init__(self, config: T5Config, seed: int = 0, dtype="float32", device=None, *,
                 shape_only: bool = False):
        super().__init__()
        rng, dtype = self._setup(config, seed, dtype, shape_only)
        add_encoder_decoder(self, config, rng, dtype)        # encoder, decoder, lm_head
        self.set_dropout_rng(np.random.default_rng([seed, 1]))
        self._finish(seed, device, shape_only)

    def encode(self, input_ids, attention_mask=None, segment_ids=None):
        """Encoder output (B, L, d) for input_ids (B, L), checking every argument."""
        ids, mask, segment_ids = check_encoder_inputs(self.config, self.array_module, input_ids,
                                                      attention_mask, segment_ids)
        return self.encoder(ids, mask, segment_ids)

    def decode(self, decoder_input_ids, encoder_hidden_states, attention_mask=None,
               decoder_attention_mask=None, decoder_segment_ids=None, encoder_segment_ids=None,
               cache=None, output_weight_t=None):
        """Decoder pass to logits (B, L_dec, V). Trusts its arrays (checked device arrays).
        cache: a `minit5.t5.kv_cache.KVCache` while decoding (then decoder_input_ids are only
        the new positions). output_weight_t: `output_weight`'s transpose, made once by a
        decoding loop (see lm_head_logits)."""
        h = self.decoder(decoder_input_ids, decoder_attention_mask, decoder_segment_ids,
                         encoder_hidden_states, attention_mask, encoder_segment_ids, cache)
        untied = None if self.config.tie_word_embeddings else self.lm_head.weight
        return lm_head_logits(h, self.shared.weight, untied,
                              rescale=self.config.scales_decoder_output,
                              weight_t=output_weight_t)

    @property
    def output_weight(self):
        """The (V, d) weight of the output projection: lm_head's, or the shared embedding when
        the two are tied (v1.0)."""
        return self.shared.weight if self.config.tie_word_embeddings else self.lm_head.weight

    def forward(self, input_ids=None, attention_mask=None, decoder_input_ids=None,
                decoder_attention_mask=None, labels=None, encoder_outputs=None,
                encoder_segment_ids=None, decoder_segment_ids=None):
        """Like HF's forward. With `labels` (B, L) and no decoder_input_ids, the decoder reads
        shift_right(labels) and the loss is the mean cross entropy over labels != -100.

        Packed batches (see minit5.data.batching) add encoder_/decoder_ segment ids (1, 2, ...,
        0 = padding): tokens attend only within their own example.
        """
        encoder_hidden = getattr(encoder_outputs, "last_hidden_state", encoder_outputs)
        x = check_model_inputs(                        # the boundary: checked once, here
            self.config, self.array_module, input_ids, attention_mask, decoder_input_ids,
            decoder_attention_mask, labels, encoder_segment_ids, decoder_segment_ids,
            encoder_shape=None if encoder_hidden is None else encoder_hidden.shape[:2])
        if encoder_hidden is None:
            encoder_hidden = self.encoder(x.input_ids, x.attention_mask, x.encoder_segment_ids)
        logits = self.decode(x.decoder_input_ids, encoder_hidden, x.attention_mask,
                             x.decoder_attention_mask, x.decoder_segment_ids,
                             x.encoder_segment_ids)                  # (B, L_dec, V)
        loss = (None if x.labels is None
                else F.cross_entropy(logits, x.labels, validated=True))  # checked above
        return Seq2SeqLMOutput(logits=logits, loss=loss, encoder_last_hidden_state=encoder_hidden)

    def generate(self, input_ids, attention_mask=None, **kwargs):
        """Greedy or beam-search decoding like HF's generate(); see minit5.t5.generation."""
        return generate(self, input_ids, attention_mask=attention_mask, **kwargs)

    def step_decoder(self, input_ids, attention_mask=None, num_beams=1, use_cache=True):
        """Encode input_ids (B, L) and return the decoder as a next-token function over
        num_beams rows per example (a `minit5.t5.step_decoder.StepDecoder`), what greedy and
        beam search drive. Trusts its arrays (checked device arrays, as `generate` makes)."""
        return start_step_decoder(self, input_ids, attention_mask, num_beams, use_cache)


class T5EncoderModel(_T5Pretrained):
    """The encoder alone (shared embedding + encoder stack), e.g. for embeddings."""

    def __init__(self, config: T5Config, seed: int = 0, dtype="float32", device=None):
        super().__init__()
        rng, dtype = self._setup(config, seed, dtype)
        self.encoder = T5Stack(config, self.shared, False, rng, dtype)
        self.set_dropout_rng(np.random.default_rng([seed, 1]))
        self._finish(seed, device)

    def forward(self, input_ids, attention_mask=None):
        ids, mask, _ = check_encoder_inputs(self.config, self.array_module, input_ids,
                                            attention_mask)
        return EncoderOutput(last_hidden_state=self.encoder(ids, mask))
