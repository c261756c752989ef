"""Relative position buckets (paper §2.1; HF modeling_t5.py, `_relative_position_bucket`).

T5 has no position embeddings. Each attention score gets a learned scalar per head that depends
only on the bucket of `key_pos - query_pos`: exact buckets for small distances, logarithmically
wider ones up to `max_distance`, one shared bucket beyond. The encoder looks both ways (half the
buckets for keys after the query); decoder self-attention only looks back.
"""
from __future__ import annotations

import functools
import math

import numpy as np


def relative_position_bucket(relative_position, bidirectional: bool = True,
                             num_buckets: int = 32, max_distance: int = 128):
    """Bucket ids (same shape, int64) for integer `relative_position = key_pos - query_pos`.

    The logarithmic part is computed in float32, as the reference implementation does, so the
    bucket edges agree with it exactly (in float64 a few edges could round the other way).
    """
    rp = np.asarray(relative_position, dtype=np.int64)
    bucket = np.zeros(rp.shape, dtype=np.int64)
    if bidirectional:
        num_buckets //= 2
        bucket += (rp > 0).astype(np.int64) * num_buckets   # keys after the query: upper half
        n = np.abs(rp)
    else:
        n = np.maximum(-rp, 0)                               # only the past counts
    max_exact = num_buckets // 2
    is_small = n < max_exact
    # log(n / max_exact) is only used where n >= max_exact; clamp to avoid log(0) elsewhere.
    ratio = np.maximum(n, max_exact).astype(np.float32) / np.float32(max_exact)
    scale = np.float32(math.log(max_distance / max_exact))
    log_part = (np.log(ratio) / scale * np.float32(num_buckets - max_exact)).astype(np.int64)
    if_large = np.minimum(max_exact + log_part, num_buckets - 1)
    return bucket + np.where(is_small, n, if_large)


def relative_positions(query_length: int, key_length: int, query_offset: int = 0):
    """key_pos - query_pos, shape (query_length, key_length). `query_offset` is the position of
    the first query (past tokens when decoding with a cache)."""
    query = np.arange(query_length, dtype=np.int64)[:, None] + query_offset
    key = np.arange(key_length, dtype=np.int64)[None, :]
    return key - query


@functools.lru_cache(maxsize=64)
def _host_buckets(query_length, key_length, query_offset, bidirectional, num_buckets,
                  max_distance):
    bucket = relative_position_bucket(relative_positions(query_length, key_length, query_offset),
                                      bidirectional=bidirectional, num_buckets=num_buckets,
                                      max_distance=max_distance)                  # (Lq, Lk)
    bucket.setflags(write=False)
    return bucket


_device_buckets = {}          # (the arguments, device id) -> the buckets on that GPU


def position_buckets(query_length: int, key_length: int, query_offset: int = 0,
                     bidirectional: bool = True, num_buckets: int = 32, max_distance: int = 128,
                     xp=np):
    """relative_position_bucket(relative_positions(...)), int64 (Lq, Lk), on xp's device.

    Computed once per set of arguments and kept (the last 64 on the host, and their copies on
    each GPU), so a training step at a fixed (Lq, Lk) neither recomputes the buckets on the
    host nor copies them to the device. The arrays are shared: read them, never write them.
    """
    key = (int(query_length), int(key_length), int(query_offset), bool(bidirectional),
           int(num_buckets), int(max_distance))
    host = _host_buckets(*key)
    if xp is np:
        return host
    device_key = (key, xp.cuda.Device().id)
    found = _device_buckets.get(device_key)
    if found is None:
        if len(_device_buckets) >= 64:
            _device_buckets.pop(next(iter(_device_buckets)))           # the oldest
        found = _device_buckets[device_key] = xp.asarray(host)
    return found
