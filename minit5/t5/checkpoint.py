"""Hugging Face checkpoints: config.json + model.safetensors, read and written without torch.

Reading: a single `model.safetensors`, or shards listed in `model.safetensors.index.json`
(`{"weight_map": {tensor name: shard file}}`, as transformers writes it), each file checked to
the safetensors rules (`minit5.t5.safetensors_file`). Tied checkpoints store only
`shared.weight`; copies of it under `encoder.embed_tokens`, `decoder.embed_tokens` or `lm_head`
(older files) are dropped, and so is the unused
`decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight` of old checkpoints.
Weights that are NaN or infinite are refused (they make every loss NaN and every generation
padding) unless the caller asks for them with `allow_non_finite=True`.

Writing goes through `minit5.io.atomic_directory`: a kill at any moment leaves the old checkpoint or
the new one, files minit5 did not write stay where they are, and a failing disk raises.
"""
from __future__ import annotations

import json
import pathlib

import numpy as np

from minit5 import backend
from minit5.io.atomic_directory import atomic_directory, checkpoint_file, read_whole
from minit5.t5.config import T5Config
from minit5.t5.safetensors_file import read_safetensors

SAFETENSORS = "model.safetensors"
INDEX = "model.safetensors.index.json"
CONFIG = "config.json"
TIED_COPIES = ("encoder.embed_tokens.weight", "decoder.embed_tokens.weight")
IGNORED = ("decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight",)

__all__ = ["read_safetensors", "read_weights", "load_pretrained", "save_pretrained",
           "write_model_files", "check_finite"]


# ---- reading ----------------------------------------------------------------------------
def read_index(path: pathlib.Path) -> dict:
    """tensor name -> shard file name, from a shard index, checked."""
    fix = "download the checkpoint again, or delete the index if model.safetensors is complete"
    try:
        index = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path} is not a JSON shard index ({e}); {fix}") from None
    weight_map = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(weight_map, dict) or not weight_map:
        raise ValueError(f"{path} has no \"weight_map\" object (tensor name -> shard file), "
                         f"which a shard index must have; {fix}")
    for name, shard in weight_map.items():
        if not isinstance(shard, str) or shard in ("", ".", "..") \
                or pathlib.PurePath(shard).name != shard:
            raise ValueError(f"{path}: tensor {name!r} maps to {shard!r}, which is not a file "
                             f"name in the checkpoint folder; {fix}")
    return weight_map


def read_weights(directory) -> dict:
    """name -> NumPy array of every tensor in a checkpoint folder (single file or shards)."""
    directory = pathlib.Path(directory)
    single = checkpoint_file(directory, SAFETENSORS)
    if single.is_file():
        return read_safetensors(single)
    index_path = checkpoint_file(directory, INDEX)
    if index_path.is_file():
        weight_map = read_index(index_path)
        tensors = {}
        for shard in sorted(set(weight_map.values())):
            shard_path = checkpoint_file(directory, shard)
            if not shard_path.is_file():
                raise FileNotFoundError(f"{index_path} lists shard {shard}, which is missing: "
                                        "the download is incomplete; download it again")
            tensors.update(read_safetensors(shard_path))
        absent = [name for name in weight_map if name not in tensors]
        if absent:
            raise ValueError(f"{index_path} lists tensor {absent[0]!r} in "
                             f"{weight_map[absent[0]]}, which does not hold it"
                             f"{f' (and {len(absent) - 1} more)' if len(absent) > 1 else ''}; "
                             "the shards and the index are from different saves: download "
                             "the checkpoint again")
        return tensors
    if (directory / "pytorch_model.bin").exists():
        raise FileNotFoundError(
            f"{directory} holds only pytorch_model.bin, a PyTorch pickle, which minit5 does not "
            "read (it would need torch, and pickles can run code). Convert it once to "
            "safetensors where transformers is installed:\n"
            "    python -c \"from transformers import T5ForConditionalGeneration as M; "
            f"M.from_pretrained('{directory}').save_pretrained('{directory}')\"")
    raise FileNotFoundError(f"no {SAFETENSORS} or {INDEX} in {directory}: a checkpoint folder "
                            "holds config.json beside the weights")


def check_finite(tensors: dict, where) -> None:
    """Refuse NaN or infinite weights, naming the first tensor that holds any."""
    for name, array in tensors.items():
        if not np.issubdtype(array.dtype, np.floating):
            continue
        bad = int(array.size - np.count_nonzero(np.isfinite(array)))
        if bad:
            raise ValueError(
                f"{where}: tensor {name!r} holds {bad} NaN or infinite value(s) of {array.size}; "
                "a model with them computes NaN losses and generates only padding. Load an "
                "earlier checkpoint of the run, or pass allow_non_finite=True to load it anyway "
                "(to inspect it)")


def check_checkpoint_path(directory: pathlib.Path):
    """A checkpoint path must be a folder; a file or a missing path gets the fix."""
    if directory.is_file():
        hint = f"pass its folder, {directory.parent}" if directory.name in (
            SAFETENSORS, INDEX, CONFIG) else "pass the folder that holds config.json and " \
            f"{SAFETENSORS}"
        raise NotADirectoryError(f"{directory} is a file, not a checkpoint folder: {hint}")
    if not directory.is_dir():
        raise FileNotFoundError(f"checkpoint folder {directory} does not exist (minit5 reads "
                                "local folders only; download a model first)")


def load_pretrained(cls, path, dtype="float32", device=None, seed=0, allow_non_finite=False):
    directory = pathlib.Path(path)
    check_checkpoint_path(directory)
    config, tensors = read_whole(directory, lambda: (   # one checkpoint, even during a save
        T5Config.from_json_file(checkpoint_file(directory, CONFIG)), read_weights(directory)))
    if not allow_non_finite:
        check_finite(tensors, directory)
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
    except ValueError as e:
        raise ValueError(f"{directory}: {e}") from None
    model.eval()
    return model if backend.resolve_device(device) == "cpu" else model.to(device)


# ---- writing ----------------------------------------------------------------------------
def write_model_files(model, directory: pathlib.Path):
    """config.json + model.safetensors into an existing directory (not atomic by itself)."""
    from safetensors import SafetensorError
    from safetensors.numpy import save_file

    state = {name: np.ascontiguousarray(array) for name, array in model.state_dict().items()}
    try:
        save_file(state, str(directory / SAFETENSORS), metadata={"format": "pt"})
    except SafetensorError as e:     # the library reports a full or failing disk this way
        raise OSError(f"could not write {directory / SAFETENSORS}: {e}") from None
    with open(directory / CONFIG, "w", encoding="utf-8") as f:
        f.write(model.config.to_json_string())


def save_pretrained(model, path):
    with atomic_directory(path) as staging:
        write_model_files(model, staging)
