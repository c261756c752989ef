"""Checks on what a user passes to the model, with errors that name the argument and the fix.

Without these, a bad id surfaces as an IndexError deep inside an embedding lookup.
"""
from __future__ import annotations

import numpy as np

from minit5.autograd.tensor import Tensor
from minit5.backend import get_array_module, to_numpy


def as_id_array(name, ids, vocab_size, allow_ignore=False, xp=None):
    """An integer (B, L) array of ids in [0, vocab_size) (labels may also be -100)."""
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
    host = to_numpy(ids)
    if host.dtype.kind not in "iu":
        if host.dtype.kind == "f" and host.size and np.all(host == np.round(host)):
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
    low = -100 if allow_ignore else 0
    bad = ((host < 0) & (host != low)) | (host >= vocab_size)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        extra = " or -100 (ignored)" if allow_ignore else ""
        raise ValueError(f"{name} has id {int(host[where])} at position {where}, outside "
                         f"[0, vocab_size={vocab_size}){extra}; check the tokenizer matches "
                         "the model's vocabulary")
    xp = xp or get_array_module(ids)
    return xp.asarray(host.astype(np.int64, copy=False))


def as_mask(name, mask, shape, xp):
    """A 0/1 mask of exactly `shape`, or None."""
    if mask is None:
        return None
    if isinstance(mask, Tensor):
        mask = mask.data
    host = to_numpy(np.asarray(mask) if isinstance(mask, (list, tuple)) else mask)
    if host.shape != tuple(shape):
        raise ValueError(f"{name} has shape {host.shape} but must match the ids' shape "
                         f"{tuple(shape)} (1 = attend to the token, 0 = padding)")
    if host.dtype != bool and not np.isin(host, (0, 1)).all():
        raise ValueError(f"{name} must contain only 0 and 1 (1 = attend, 0 = padding)")
    if not (host != 0).any(axis=-1).all():
        row = int(np.argwhere(~(host != 0).any(axis=-1))[0][0])
        raise ValueError(f"{name} row {row} is all zeros: a sequence must have at least one "
                         "token to attend to (remove the empty example)")
    return xp.asarray(host.astype(np.int64))


def as_segment_array(name, value, shape, xp):
    if value is None:
        return None
    host = to_numpy(value.data if isinstance(value, Tensor) else np.asarray(value))
    if host.shape != tuple(shape):
        raise ValueError(f"{name} has shape {host.shape}, expected {tuple(shape)}")
    if host.dtype.kind not in "iu" or (host < 0).any():
        raise ValueError(f"{name} must be non-negative integers")
    return xp.asarray(host.astype(np.int64))
