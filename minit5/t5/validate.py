"""The model's boundary: what a user passes -> checked arrays on the model's device, once.

Every check a user can fail lives here, with an error that names the argument and the fix
(without them a bad id surfaces as an IndexError deep inside an embedding lookup). The checks
run once per call, where the arrays are: host arrays (a batch from minit5.data) on the host,
before their one copy to the model's device; arrays already on a GPU on the GPU, with no copy
to the host (each check reads back one bool). Below this boundary the stacks, attention and ops
trust their inputs and never copy anything back to the host to check it.

    inputs = check_model_inputs(config, xp, input_ids=..., labels=...)   # a ModelInputs
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minit5.autograd.tensor import Tensor
from minit5.backend import get_array_module, to_numpy
from minit5.labels import IGNORE_INDEX, shift_right


@dataclass
class ModelInputs:
    """Checked int64 arrays on the model's device; the mask and segment fields may be None."""
    input_ids: object | None               # (B, L_enc); None when the encoder output is given
    attention_mask: object | None          # (B, L_enc), 1 on real tokens
    encoder_segment_ids: object | None     # (B, L_enc), packed rows only
    decoder_input_ids: object              # (B, L_dec)
    decoder_attention_mask: object | None  # (B, L_dec)
    decoder_segment_ids: object | None     # (B, L_dec), packed rows only
    labels: object | None                  # (B, L_dec), ids or IGNORE_INDEX


def check_encoder_inputs(config, xp, input_ids, attention_mask=None, segment_ids=None):
    """input_ids (B, L) and its mask / segment ids -> checked (ids, mask, segment_ids)."""
    ids = as_id_array("input_ids", input_ids, config.vocab_size, xp=xp)
    return (ids, as_mask("attention_mask", attention_mask, ids.shape, xp),
            as_segment_array("encoder_segment_ids", segment_ids, ids.shape, xp))


def check_model_inputs(config, xp, input_ids=None, attention_mask=None, decoder_input_ids=None,
                       decoder_attention_mask=None, labels=None, encoder_segment_ids=None,
                       decoder_segment_ids=None, encoder_shape=None):
    """Check a forward pass's arguments (HF's names) and fill in the decoder inputs.

    encoder_shape: (B, L_enc) of an encoder output the caller already has; then input_ids is
    not needed. Without decoder_input_ids the decoder reads shift_right(labels) (teacher
    forcing); a packed batch must bring its own, shifted within each segment.
    """
    if encoder_shape is None:
        if input_ids is None:
            raise ValueError("pass input_ids (B, L) (or encoder_outputs from model.encode)")
        ids, mask, enc_seg = check_encoder_inputs(config, xp, input_ids, attention_mask,
                                                  encoder_segment_ids)
    else:
        ids = None
        mask = as_mask("attention_mask", attention_mask, encoder_shape, xp)
        enc_seg = as_segment_array("encoder_segment_ids", encoder_segment_ids, encoder_shape,
                                   xp)
    if labels is not None:
        labels = as_id_array("labels", labels, config.vocab_size, allow_ignore=True, xp=xp)
    if decoder_input_ids is None:
        if labels is None:
            raise ValueError("pass labels (teacher forcing from shift_right(labels)) or "
                             "decoder_input_ids")
        if decoder_segment_ids is not None:
            raise ValueError("packed batches must pass decoder_input_ids (shifted within "
                             "each segment, as minit5.data.batching makes them)")
        decoder_input_ids = shift_right(labels, config.decoder_start_token_id,
                                        config.pad_token_id)
    else:
        decoder_input_ids = as_id_array("decoder_input_ids", decoder_input_ids,
                                        config.vocab_size, xp=xp)
        if labels is not None and labels.shape != decoder_input_ids.shape:
            raise ValueError(f"labels shape {labels.shape} must equal decoder_input_ids "
                             f"shape {decoder_input_ids.shape}")
    dec_shape = decoder_input_ids.shape
    dec_seg = as_segment_array("decoder_segment_ids", decoder_segment_ids, dec_shape, xp)
    if (dec_seg is None) != (enc_seg is None):
        raise ValueError("a packed batch needs both encoder_segment_ids and "
                         "decoder_segment_ids (minit5.data.pack makes both); pass both or "
                         "neither")
    return ModelInputs(
        input_ids=ids, attention_mask=mask, encoder_segment_ids=enc_seg,
        decoder_input_ids=decoder_input_ids,
        decoder_attention_mask=as_mask("decoder_attention_mask", decoder_attention_mask,
                                       dec_shape, xp),
        decoder_segment_ids=dec_seg, labels=labels)


def as_id_array(name, ids, vocab_size, allow_ignore=False, xp=None):
    """An integer (B, L) array of ids in [0, vocab_size) (labels may also be IGNORE_INDEX)."""
    if isinstance(ids, Tensor):
        ids = ids.data
    if isinstance(ids, (list, tuple)):
        try:
            ids = np.asarray(ids)
        except ValueError:
            raise ValueError(f"{name} is a ragged list (rows of different lengths): pad the rows "
                             "to one length and pass an attention mask") from None
    if not hasattr(ids, "dtype"):
        raise TypeError(f"{name} must be an integer array of shape (batch, length), got "
                        f"{type(ids).__name__}")
    host = _where_it_is(ids)                  # the array itself: NumPy or CuPy, never copied
    here = get_array_module(host)
    if host.dtype.kind not in "iu":
        if host.dtype.kind == "f" and host.size and bool(here.all(host == here.round(host))):
            hint = f"; convert with {name}.astype(np.int64)"
        else:
            hint = ""
        raise TypeError(f"{name} must hold integer token ids, got dtype {host.dtype}{hint}")
    if host.ndim == 1:
        raise ValueError(f"{name} must be 2-D (batch, length), got shape {host.shape}; for one "
                         f"sequence pass {name}[None, :]")
    if host.ndim != 2:
        raise ValueError(f"{name} must be 2-D (batch, length), got shape {host.shape}")
    if host.shape[0] == 0 or host.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {host.shape}): every batch needs at least one "
                         "sequence of at least one token (an empty text still encodes to [EOS])")
    low = IGNORE_INDEX if allow_ignore else 0
    bad = ((host < 0) & (host != low)) | (host >= vocab_size)
    if bool(bad.any()):
        where = tuple(int(i) for i in here.argwhere(bad)[0])
        extra = f" or {IGNORE_INDEX} (ignored)" if allow_ignore else ""
        raise ValueError(f"{name} has id {int(host[where])} at position {where}, outside "
                         f"[0, vocab_size={vocab_size}){extra}; check the tokenizer matches "
                         "the model's vocabulary")
    xp = xp or here
    return _to(xp, host.astype(np.int64, copy=False))


def _where_it_is(value):
    """A NumPy or CuPy array of `value` (a list becomes NumPy), without moving it."""
    if isinstance(value, Tensor):
        value = value.data
    if isinstance(value, (list, tuple)):
        value = np.asarray(value)
    return value if get_array_module(value) is not np else np.asarray(value)


def _to(xp, array):
    """`array` on xp's device (no copy when it is there already)."""
    return to_numpy(array) if xp is np else xp.asarray(array)


def as_mask(name, mask, shape, xp):
    """A 0/1 mask of exactly `shape`, or None."""
    if mask is None:
        return None
    host = _where_it_is(mask)
    here = get_array_module(host)
    if host.shape != tuple(shape):
        raise ValueError(f"{name} has shape {host.shape} but must match the ids' shape "
                         f"{tuple(shape)} (1 = attend to the token, 0 = padding)")
    if host.dtype != bool and not bool(((host == 0) | (host == 1)).all()):
        raise ValueError(f"{name} must contain only 0 and 1 (1 = attend, 0 = padding)")
    if not bool((host != 0).any(axis=-1).all()):
        row = int(here.argwhere(~(host != 0).any(axis=-1))[0][0])
        raise ValueError(f"{name} row {row} is all zeros: a sequence must have at least one "
                         "token to attend to (remove the empty example)")
    return _to(xp, host.astype(np.int64))


def as_segment_array(name, value, shape, xp):
    """Packed-row segment ids (1, 2, ...; 0 = padding) of exactly `shape`, or None."""
    if value is None:
        return None
    host = _where_it_is(value)
    if host.shape != tuple(shape):
        raise ValueError(f"{name} has shape {host.shape}, expected {tuple(shape)}")
    if host.dtype.kind not in "iu" or bool((host < 0).any()):
        raise ValueError(f"{name} must be non-negative integers")
    return _to(xp, host.astype(np.int64))
