"""Reading a .safetensors file with NumPy alone, checked to the format's rules.

The format (huggingface/safetensors, `safetensors/src/tensor.rs`):

    [8 bytes: N, little-endian u64] [N bytes: JSON header] [data section]

The header is a JSON object: each tensor name maps to `{"dtype", "shape", "data_offsets"}`,
offsets `[start, end)` counted from the start of the data section; one optional entry,
`"__metadata__"`, maps strings to strings. The rules the safetensors library enforces, and this
reader with it: the header is at most 100,000,000 bytes of UTF-8 JSON; every entry has all
three fields; `end - start` is the element count times the dtype's item size; taken in offset
order the tensors tile the data section exactly (the first starts at 0, each starts where the
previous ended, the last ends at the end of the file), so no two overlap and no byte is loose.

One thing the library's NumPy reader cannot do is done here: bfloat16 has no NumPy dtype, so
BF16 tensors are widened to float32 (exactly: a bfloat16 is the top half of a float32).

Every malformed file is a `ValueError` naming the file, the tensor and the fix.
"""
from __future__ import annotations

import json
import os
import pathlib
import struct

import numpy as np

MAX_HEADER_BYTES = 100_000_000
METADATA = "__metadata__"

# dtype -> item size in bytes, as in the format; the NumPy dtype where NumPy has one.
ITEM_SIZE = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2,
             "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8}
NUMPY_DTYPE = {"BOOL": "?", "U8": "u1", "I8": "i1", "I16": "<i2", "U16": "<u2", "F16": "<f2",
               "I32": "<i4", "U32": "<u4", "F32": "<f4", "I64": "<i8", "U64": "<u8",
               "F64": "<f8"}

_FIX = "the file is damaged or was not written by a safetensors writer: download or save it again"


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _reject_duplicates(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"tensor {key!r} appears twice in the header")
        seen[key] = value
    return seen


def read_header(path, f, file_size: int) -> tuple[dict, int]:
    """(header dict, offset of the data section), with the header's framing checked."""
    prefix = f.read(8)
    if len(prefix) < 8:
        raise ValueError(f"{path} is not a safetensors file: {file_size} bytes, fewer than the "
                         f"8-byte header length (truncated download?); {_FIX}")
    (header_len,) = struct.unpack("<Q", prefix)
    if header_len > MAX_HEADER_BYTES:
        raise ValueError(f"{path}: the header claims {header_len:,} bytes, more than the "
                         f"format's limit of {MAX_HEADER_BYTES:,}; {_FIX}")
    if 8 + header_len > file_size:
        raise ValueError(f"{path}: the header claims {header_len:,} bytes but the file has only "
                         f"{file_size - 8:,} after the length (truncated?); {_FIX}")
    raw = f.read(header_len)
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_reject_duplicates)
    except UnicodeDecodeError:
        raise ValueError(f"{path}: the header is not UTF-8 text; {_FIX}") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: the header is not valid JSON ({e}); {_FIX}") from None
    except ValueError as e:
        raise ValueError(f"{path}: {e}; {_FIX}") from None
    if not isinstance(header, dict):
        raise ValueError(f"{path}: the header is a JSON {type(header).__name__}, not an object "
                         f"mapping tensor names to their entries; {_FIX}")
    return header, 8 + header_len


def check_entries(path, header: dict, data_size: int) -> dict:
    """name -> (dtype, shape, start, end) for every tensor, each entry checked."""
    metadata = header.get(METADATA, {})
    if not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                 for k, v in metadata.items()):
        raise ValueError(f"{path}: {METADATA} must map strings to strings; {_FIX}")
    entries = {}
    for name, info in header.items():
        if name == METADATA:
            continue
        where = f"{path}: tensor {name!r}"
        if not isinstance(info, dict):
            raise ValueError(f"{where}: its entry is not an object with dtype, shape and "
                             f"data_offsets; {_FIX}")
        missing = [k for k in ("dtype", "shape", "data_offsets") if k not in info]
        if missing:
            raise ValueError(f"{where}: its entry lacks {', '.join(missing)}; {_FIX}")
        dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if dtype not in ITEM_SIZE:
            raise ValueError(f"{where}: unknown dtype {dtype!r} (the format's dtypes are "
                             f"{', '.join(ITEM_SIZE)}); {_FIX}")
        if not isinstance(shape, list) or not all(_is_count(s) for s in shape):
            raise ValueError(f"{where}: shape {shape!r} is not a list of non-negative "
                             f"integers; {_FIX}")
        if not (isinstance(offsets, list) and len(offsets) == 2
                and all(_is_count(o) for o in offsets) and offsets[0] <= offsets[1]):
            raise ValueError(f"{where}: data_offsets {offsets!r} must be [start, end] with "
                             f"0 <= start <= end; {_FIX}")
        start, end = offsets
        count = 1
        for s in shape:
            count *= s
        if end - start != count * ITEM_SIZE[dtype]:
            raise ValueError(f"{where}: shape {shape} of {dtype} needs "
                             f"{count * ITEM_SIZE[dtype]:,} bytes but data_offsets {offsets} "
                             f"hold {end - start:,}; {_FIX}")
        entries[name] = (dtype, tuple(shape), start, end)
    position = 0
    for name, (_, _, start, end) in sorted(entries.items(), key=lambda item: item[1][2:]):
        if start != position:
            problem = "overlaps the tensor before it" if start < position else \
                f"leaves bytes {position}..{start} unused before it"
            raise ValueError(f"{path}: tensor {name!r} at data_offsets [{start}, {end}] "
                             f"{problem}: tensors must tile the data section in order; {_FIX}")
        position = end
    if position != data_size:
        problem = "truncated" if position > data_size else "loose bytes at the end"
        raise ValueError(f"{path}: the tensors end at byte {position:,} of the data section but "
                         f"it holds {data_size:,} bytes ({problem}); {_FIX}")
    return entries


def read_safetensors(path) -> dict:
    """name -> NumPy array from a .safetensors file (BF16 widened to float32)."""
    path = pathlib.Path(path)
    with open(path, "rb") as f:
        file_size = os.fstat(f.fileno()).st_size
        header, data_start = read_header(path, f, file_size)
        entries = check_entries(path, header, file_size - data_start)
        body = f.read()
    tensors = {}
    for name, (dtype, shape, start, end) in entries.items():
        chunk = body[start:end]
        if dtype == "BF16":
            bits = np.frombuffer(chunk, dtype="<u2").astype(np.uint32) << 16
            array = bits.view(np.float32)
        elif dtype in NUMPY_DTYPE:
            array = np.frombuffer(chunk, dtype=NUMPY_DTYPE[dtype])
        else:
            raise ValueError(f"{path}: tensor {name!r} has dtype {dtype}, which NumPy cannot "
                             "hold; convert the checkpoint to float32, float16 or bfloat16")
        tensors[name] = array.reshape(shape)
    return tensors
