"""Hugging Face checkpoints: config.json + model.safetensors, read and written without torch.

Reading: a single `model.safetensors`, or shards listed in `model.safetensors.index.json`.
Tied checkpoints store only `shared.weight`; copies of it under `encoder.embed_tokens`,
`decoder.embed_tokens` or `lm_head` (older files) are dropped, and so is the unused
`decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight` of old checkpoints.

Writing is atomic: everything goes into a fresh sibling directory first, then that directory
takes the target's place in one rename (an atomic exchange on Linux), so a kill at any moment
leaves either the old checkpoint or the new one, never a mixture or a half-written file.
"""
from __future__ import annotations

import contextlib
import ctypes
import json
import os
import pathlib
import shutil
import struct
import tempfile

import numpy as np

from minit5 import backend
from minit5.t5.config import T5Config

SAFETENSORS = "model.safetensors"
INDEX = "model.safetensors.index.json"
TIED_COPIES = ("encoder.embed_tokens.weight", "decoder.embed_tokens.weight")
IGNORED = ("decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight",)

_DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64,
           "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}


# ---- reading ----------------------------------------------------------------------------
def read_safetensors(path) -> dict:
    """name -> NumPy array from a .safetensors file. bfloat16 is widened to float32 (NumPy has
    no bfloat16): the format is an 8-byte header length, a JSON header, then raw bytes."""
    path = pathlib.Path(path)
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path} is not a safetensors file (too short: truncated download?)")
    (header_len,) = struct.unpack("<Q", raw[:8])
    try:
        header = json.loads(raw[8:8 + header_len])
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValueError(f"{path} has a corrupt safetensors header (truncated or not a "
                         "safetensors file)") from None
    body = memoryview(raw)[8 + header_len:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        if end > len(body):
            raise ValueError(f"{path}: tensor {name} runs past the end of the file (truncated)")
        chunk = body[start:end]
        if info["dtype"] == "BF16":
            bits = np.frombuffer(chunk, dtype="<u2").astype(np.uint32) << 16
            array = bits.view(np.float32)
        elif info["dtype"] in _DTYPES:
            array = np.frombuffer(chunk, dtype=np.dtype(_DTYPES[info["dtype"]]).newbyteorder("<"))
        else:
            raise ValueError(f"{path}: tensor {name} has dtype {info['dtype']}, which minit5 "
                             "cannot read")
        tensors[name] = array.reshape(info["shape"])
    return tensors


def read_weights(directory) -> dict:
    directory = pathlib.Path(directory)
    if (directory / SAFETENSORS).exists():
        return read_safetensors(directory / SAFETENSORS)
    if (directory / INDEX).exists():
        with open(directory / INDEX, encoding="utf-8") as f:
            weight_map = json.load(f)["weight_map"]
        tensors = {}
        for shard in sorted(set(weight_map.values())):
            if not (directory / shard).exists():
                raise FileNotFoundError(f"{directory / INDEX} lists shard {shard}, which is "
                                        "missing: the download is incomplete")
            tensors.update(read_safetensors(directory / shard))
        return tensors
    if (directory / "pytorch_model.bin").exists():
        raise FileNotFoundError(
            f"{directory} holds only pytorch_model.bin, a PyTorch pickle, which minit5 does not "
            "read (it would need torch, and pickles can run code). Convert it once to "
            "safetensors where transformers is installed:\n"
            "    python -c \"from transformers import T5ForConditionalGeneration as M; "
            f"M.from_pretrained('{directory}').save_pretrained('{directory}')\"")
    raise FileNotFoundError(f"no {SAFETENSORS} or {INDEX} in {directory}")


def load_pretrained(cls, path, dtype="float32", device=None, seed=0):
    directory = pathlib.Path(path)
    aside = directory.with_name(directory.name + ".old")
    if not directory.is_dir() and aside.is_dir():
        raise FileNotFoundError(f"{directory} is missing but {aside} exists: a save was "
                                f"interrupted; the previous checkpoint is intact there — rename "
                                f"it back to {directory.name}")
    if not directory.is_dir():
        raise FileNotFoundError(f"checkpoint directory {directory} does not exist (minit5 reads "
                                "local directories only; download a model first)")
    config = T5Config.from_json_file(directory / "config.json")
    tensors = read_weights(directory)
    for name in IGNORED:
        tensors.pop(name, None)
    if "lm_head.weight" in tensors and config.tie_word_embeddings:
        head = tensors["lm_head.weight"]
        if "shared.weight" in tensors and not np.array_equal(head, tensors["shared.weight"]):
            # A separate head in the file wins, as transformers >= 5 does; the output
            # scaling still follows the config.
            config.scale_decoder_outputs = config.scales_decoder_output
            config.tie_word_embeddings = False
        else:
            tensors.pop("lm_head.weight")
    for name in TIED_COPIES:
        tensors.pop(name, None)
    if cls.__name__ == "T5EncoderModel":
        tensors = {k: v for k, v in tensors.items()
                   if k == "shared.weight" or k.startswith("encoder.")}
    model = cls(config, seed=seed, dtype=dtype, device="cpu")
    try:
        model.load_state_dict(tensors, strict=True)
    except KeyError as e:
        raise KeyError(f"{directory}: the weights do not fit a T5 built from its config.json: "
                       f"{e.args[0]}") from None
    model.eval()
    return model if backend.resolve_device(device) == "cpu" else model.to(device)


# ---- writing ----------------------------------------------------------------------------
def write_model_files(model, directory: pathlib.Path):
    """config.json + model.safetensors into an existing directory (not atomic by itself)."""
    from safetensors.numpy import save_file

    state = {name: np.ascontiguousarray(array) for name, array in model.state_dict().items()}
    save_file(state, str(directory / SAFETENSORS), metadata={"format": "pt"})
    with open(directory / "config.json", "w", encoding="utf-8") as f:
        f.write(model.config.to_json_string())


def save_pretrained(model, path):
    with atomic_directory(path) as staging:
        write_model_files(model, staging)


@contextlib.contextmanager
def atomic_directory(path):
    """Yield an empty staging directory; on success it replaces `path` in one step.

    On an exception (or a kill) `path` is untouched and the staging directory is removed
    (a kill may leave a hidden `.<name>.tmp-*` folder beside it, never a broken `path`).
    """
    target = pathlib.Path(path).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield staging
        for item in staging.iterdir():
            _fsync(item)
        _fsync(staging)
        replace_directory(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def replace_directory(new: pathlib.Path, target: pathlib.Path):
    """Make `new` appear at `target` in one atomic step; the old `target` is removed after."""
    if not target.exists():
        os.rename(new, target)
    elif _exchange(new, target):
        shutil.rmtree(new)          # `new` now holds the old checkpoint
    else:
        # No atomic exchange on this platform: move the old one aside, then the new one in.
        # A kill between the two renames leaves the old checkpoint at `<target>.old`.
        old = target.with_name(target.name + ".old")
        if old.exists():
            shutil.rmtree(old)
        os.rename(target, old)
        os.rename(new, target)
        shutil.rmtree(old)
    _fsync(target.parent)


def _exchange(a: pathlib.Path, b: pathlib.Path) -> bool:
    """renameat2(RENAME_EXCHANGE): swap two paths atomically (Linux >= 3.15). False if absent."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return result == 0


def _fsync(path: pathlib.Path):
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() and hasattr(os, "O_DIRECTORY") else 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
