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
from minit5.nn import Embedding, Linear, Module
from minit5.t5.config import T5Config
from minit5.t5.stack import T5Stack
from minit5.t5.validate import as_id_array, as_mask, as_segment_array


@dataclass
class Seq2SeqLMOutput:
    logits: Tensor                      # (B, L_dec, vocab)
    loss: Tensor | None = None          # scalar, mean over labels != -100
    encoder_last_hidden_state: Tensor | None = None   # (B, L_enc, d_model)


@dataclass
class EncoderOutput:
    last_hidden_state: Tensor           # (B, L, d_model)


def shift_right(labels, decoder_start_token_id=0, pad_token_id=0):
    """Decoder inputs for teacher forcing: prepend the start token, drop the last label, and
    replace -100 (ignored labels) with pad. (B, L) -> (B, L)."""
    xp = backend.get_array_module(labels)
    shifted = xp.empty_like(labels)
    shifted[:, 1:] = labels[:, :-1]
    shifted[:, 0] = decoder_start_token_id
    shifted[shifted == -100] = pad_token_id
    return shifted


def lm_head_logits(hidden, shared_weight, lm_head_weight=None, rescale=None):
    """Logits (B, L, V) from the decoder output (B, L, d).

    Tied (v1.0, lm_head_weight None): (hidden * d_model**-0.5) @ shared^T. The rescaling is in
    the original code, not the paper; the tied checkpoints need it. Untied (v1.1, Flan):
    hidden @ lm_head^T, no rescaling. `rescale` overrides the default (a config.json may say).
    """
    if rescale is None:
        rescale = lm_head_weight is None
    if rescale:
        hidden = hidden * (shared_weight.shape[1] ** -0.5)
    return F.linear(hidden, shared_weight if lm_head_weight is None else lm_head_weight)


class _T5Base(Module):
    def _setup(self, config, seed, dtype):
        if not isinstance(config, T5Config):
            raise TypeError(f"expected a T5Config, got {type(config).__name__}; build one with "
                            "T5Config(...) or T5Config.preset('t5-small')")
        self.config = config
        dtype = backend.resolve_dtype(dtype)
        rng = np.random.default_rng(seed)
        self.shared = Embedding(config.vocab_size, config.d_model, rng,
                                std=config.initializer_factor * 1.0, dtype=dtype)
        return rng, dtype

    def _place(self, device):
        """Weights are drawn on the host (one Generator, same numbers on any device), then
        moved: device None means MINIT5_DEVICE, or the CPU when it is unset."""
        if backend.resolve_device(device) != "cpu":
            self.to(device)

    def _prepare(self, name, ids, allow_ignore=False):
        return as_id_array(name, ids, self.config.vocab_size, allow_ignore,
                           xp=backend.get_array_module(self.shared.weight.data))

    @classmethod
    def from_pretrained(cls, path, dtype="float32", device=None, seed=0):
        """Load config.json + model.safetensors (or a sharded index) written by transformers or
        by `save_pretrained`. No torch needed. device None: MINIT5_DEVICE, else the CPU."""
        from minit5.t5.checkpoint import load_pretrained
        return load_pretrained(cls, path, dtype=dtype, device=device, seed=seed)

    def save_pretrained(self, path):
        """Write config.json + model.safetensors atomically (transformers can load the result)."""
        from minit5.t5.checkpoint import save_pretrained
        save_pretrained(self, path)


class T5ForConditionalGeneration(_T5Base):
    """T5ForConditionalGeneration(config, seed=0, dtype="float32", device=None): HF's
    initialisation scheme, drawn from numpy.random.default_rng(seed). Dropout draws from its own Generator, seeded from
    `seed` too (replace it with `model.set_dropout_rng(rng)`). Starts in training mode, as HF."""

    def __init__(self, config: T5Config, seed: int = 0, dtype="float32", device=None):
        super().__init__()
        rng, dtype = self._setup(config, seed, dtype)
        self.encoder = T5Stack(config, self.shared, False, rng, dtype)
        self.decoder = T5Stack(config, self.shared, True, rng, dtype)
        if not config.tie_word_embeddings:
            self.lm_head = Linear(config.d_model, config.vocab_size, rng,
                                  std=config.initializer_factor * 1.0, dtype=dtype)
        self.set_dropout_rng(np.random.default_rng([seed, 1]))
        self._place(device)

    def encode(self, input_ids, attention_mask=None, segment_ids=None, positions=None):
        """Encoder output (B, L, d) for input_ids (B, L), checking every argument."""
        return self._encode_checked(*self._check_encoder_inputs(
            input_ids, attention_mask, segment_ids, positions))

    def _check_encoder_inputs(self, input_ids, attention_mask, segment_ids, positions):
        ids = self._prepare("input_ids", input_ids)
        xp = backend.get_array_module(ids)
        return (ids, as_mask("attention_mask", attention_mask, ids.shape, xp),
                as_segment_array("encoder_segment_ids", segment_ids, ids.shape, xp),
                as_segment_array("encoder_positions", positions, ids.shape, xp))

    def _encode_checked(self, ids, mask, segment_ids, positions):
        return self.encoder(ids, mask, segment_ids=segment_ids, positions=positions)

    def decode(self, decoder_input_ids, encoder_hidden_states, attention_mask=None,
               decoder_attention_mask=None, cache=None, decoder_segment_ids=None,
               decoder_positions=None, encoder_segment_ids=None):
        """Decoder pass to logits (B, L_dec, V). `decoder_input_ids` are assumed checked."""
        h = self.decoder(decoder_input_ids, decoder_attention_mask,
                         encoder_hidden_states=encoder_hidden_states,
                         encoder_attention_mask=attention_mask,
                         segment_ids=decoder_segment_ids, positions=decoder_positions,
                         encoder_segment_ids=encoder_segment_ids, cache=cache)
        untied = None if self.config.tie_word_embeddings else self.lm_head.weight
        return lm_head_logits(h, self.shared.weight, untied,
                              rescale=self.config.scales_decoder_output)

    def forward(self, input_ids=None, attention_mask=None, decoder_input_ids=None,
                decoder_attention_mask=None, labels=None, encoder_outputs=None,
                encoder_segment_ids=None, encoder_positions=None, decoder_segment_ids=None,
                decoder_positions=None):
        """Like HF's forward. With `labels` (B, L) and no decoder_input_ids, the decoder reads
        shift_right(labels) and the loss is the mean cross entropy over labels != -100.

        Packed batches (see minit5.data.batching) add encoder_/decoder_ segment ids (1, 2, ...,
        0 = padding) and per-segment positions: tokens attend only within their own example.
        """
        if encoder_outputs is None:
            if input_ids is None:
                raise ValueError("pass input_ids (B, L) (or encoder_outputs from model.encode)")
            checked = self._check_encoder_inputs(input_ids, attention_mask, encoder_segment_ids,
                                                 encoder_positions)
            _, mask, enc_seg, _ = checked                  # checked once, used by both stacks
            encoder_hidden = self._encode_checked(*checked)
            xp = backend.get_array_module(encoder_hidden.data)
        else:
            encoder_hidden = getattr(encoder_outputs, "last_hidden_state", encoder_outputs)
            xp = backend.get_array_module(encoder_hidden.data)
            enc_shape = encoder_hidden.shape[:2]
            mask = as_mask("attention_mask", attention_mask, enc_shape, xp)
            enc_seg = as_segment_array("encoder_segment_ids", encoder_segment_ids, enc_shape, xp)

        if labels is not None:
            labels = self._prepare("labels", labels, allow_ignore=True)
        if decoder_input_ids is None:
            if labels is None:
                raise ValueError("pass labels (teacher forcing from shift_right(labels)) or "
                                 "decoder_input_ids")
            if decoder_segment_ids is not None:
                raise ValueError("packed batches must pass decoder_input_ids (shifted within "
                                 "each segment, as minit5.data.batching makes them)")
            decoder_input_ids = shift_right(labels, self.config.decoder_start_token_id,
                                            self.config.pad_token_id)
        else:
            decoder_input_ids = self._prepare("decoder_input_ids", decoder_input_ids)
            if labels is not None and labels.shape != decoder_input_ids.shape:
                raise ValueError(f"labels shape {labels.shape} must equal decoder_input_ids "
                                 f"shape {decoder_input_ids.shape}")
        dec_shape = decoder_input_ids.shape
        dec_mask = as_mask("decoder_attention_mask", decoder_attention_mask, dec_shape, xp)
        dec_seg = as_segment_array("decoder_segment_ids", decoder_segment_ids, dec_shape, xp)
        dec_pos = as_segment_array("decoder_positions", decoder_positions, dec_shape, xp)

        logits = self.decode(decoder_input_ids, encoder_hidden, mask, dec_mask,
                             decoder_segment_ids=dec_seg, decoder_positions=dec_pos,
                             encoder_segment_ids=enc_seg)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return Seq2SeqLMOutput(logits=logits, loss=loss, encoder_last_hidden_state=encoder_hidden)

    def generate(self, input_ids, attention_mask=None, **kwargs):
        """Greedy or beam-search decoding like HF's generate(); see minit5.t5.generation."""
        from minit5.t5.generation import generate
        return generate(self, input_ids, attention_mask=attention_mask, **kwargs)


class T5EncoderModel(_T5Base):
    """The encoder alone (shared embedding + encoder stack), e.g. for embeddings."""

    def __init__(self, config: T5Config, seed: int = 0, dtype="float32", device=None):
        super().__init__()
        rng, dtype = self._setup(config, seed, dtype)
        self.encoder = T5Stack(config, self.shared, False, rng, dtype)
        self.set_dropout_rng(np.random.default_rng([seed, 1]))
        self._place(device)

    def forward(self, input_ids, attention_mask=None):
        ids = self._prepare("input_ids", input_ids)
        mask = as_mask("attention_mask", attention_mask, ids.shape,
                       backend.get_array_module(ids))
        return EncoderOutput(last_hidden_state=self.encoder(ids, mask))
