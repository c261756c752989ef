"""Reading checkpoints: every malformed file is a ValueError naming the file, the tensor and
the fix; the safetensors rules are the safetensors library's (it refuses the same files)."""
import json
import struct

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from minit5 import T5Config, T5ForConditionalGeneration
from minit5.t5.safetensors_file import read_safetensors

SMALL = dict(vocab_size=40, d_model=16, d_kv=4, d_ff=24, num_heads=2, num_layers=1,
             dropout_rate=0.0)


def raw_file(path, header, body=b""):
    """A .safetensors file from a header (object, or raw bytes) and a data section."""
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + body)
    return path


def entry(dtype, shape, start, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [start, end]}


TWO_FLOATS = bytes(range(16))
MALFORMED = {   # case -> (header, body, words the message must hold)
    "array header": ([1, 2], b"", ["is a JSON list, not an object"]),
    "not json": (b"{not json", b"", ["not valid JSON"]),
    "not utf-8": (b"{\xff\xfe}", b"", ["not UTF-8"]),
    "entry without data_offsets": ({"w": {"dtype": "F32", "shape": [2]}}, TWO_FLOATS[:8],
                                   ["'w'", "lacks data_offsets"]),
    "entry without dtype": ({"w": {"shape": [2], "data_offsets": [0, 8]}}, TWO_FLOATS[:8],
                            ["'w'", "lacks dtype"]),
    "entry not an object": ({"w": [0, 8]}, TWO_FLOATS[:8], ["'w'", "not an object"]),
    "unknown dtype": ({"w": entry("F12", [2], 0, 8)}, TWO_FLOATS[:8], ["'w'", "F12"]),
    "negative shape": ({"w": entry("F32", [-2], 0, 8)}, TWO_FLOATS[:8], ["'w'", "shape"]),
    "bytes disagree with shape": ({"w": entry("F32", [3], 0, 8)}, TWO_FLOATS[:8],
                                  ["'w'", "needs 12 bytes", "hold 8"]),
    "reversed offsets": ({"w": entry("F32", [0], 8, 0)}, TWO_FLOATS[:8], ["'w'", "start <= end"]),
    "overlapping tensors": ({"a": entry("F32", [2], 0, 8), "b": entry("F32", [2], 4, 12)},
                            TWO_FLOATS[:12], ["'b'", "overlaps"]),
    "same bytes twice": ({"a": entry("F32", [2], 0, 8), "b": entry("F32", [2], 0, 8)},
                         TWO_FLOATS[:8], ["overlaps"]),
    "a gap": ({"a": entry("F32", [1], 0, 4), "b": entry("F32", [1], 8, 12)}, TWO_FLOATS[:12],
              ["'b'", "unused"]),
    "truncated data": ({"a": entry("F32", [4], 0, 16)}, TWO_FLOATS[:10], ["truncated"]),
    "trailing bytes": ({"a": entry("F32", [2], 0, 8)}, TWO_FLOATS, ["loose bytes"]),
    "metadata not strings": ({"__metadata__": {"format": 1}, "a": entry("F32", [2], 0, 8)},
                             TWO_FLOATS[:8], ["__metadata__"]),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_safetensors_is_a_value_error_naming_file_and_tensor(tmp_path, case):
    header, body, words = MALFORMED[case]
    path = raw_file(tmp_path / "model.safetensors", header, body)
    with pytest.raises(ValueError) as info:
        read_safetensors(path)
    message = str(info.value)
    assert str(path) in message and "save it again" in message
    for word in words:
        assert word in message, f"{case}: {word!r} not in {message!r}"
    with pytest.raises(Exception):       # the safetensors library refuses it as well
        load_file(str(path))


def test_framing_errors(tmp_path):
    short = tmp_path / "short.safetensors"
    short.write_bytes(b"\x01\x02")
    with pytest.raises(ValueError, match="fewer than the 8-byte header length"):
        read_safetensors(short)
    huge = tmp_path / "huge.safetensors"
    huge.write_bytes(struct.pack("<Q", 200_000_000) + b"{}")
    with pytest.raises(ValueError, match="limit of 100,000,000"):
        read_safetensors(huge)
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(struct.pack("<Q", 50) + b"{}")
    with pytest.raises(ValueError, match="claims 50 bytes"):
        read_safetensors(cut)


def test_duplicate_names_are_refused(tmp_path):
    header = b'{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, ' \
             b'"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}'
    path = raw_file(tmp_path / "dup.safetensors", header, TWO_FLOATS[:8])
    with pytest.raises(ValueError, match="'a' appears twice"):
        read_safetensors(path)


def test_valid_files_read_as_the_library_reads_them(tmp_path):
    rng = np.random.default_rng(0)
    tensors = {"f32": rng.normal(size=(3, 4)).astype(np.float32),
               "f16": rng.normal(size=(5,)).astype(np.float16),
               "f64": rng.normal(size=(2, 2)).astype(np.float64),
               "i64": rng.integers(-9, 9, (4,)), "u8": rng.integers(0, 255, (3,), np.uint8),
               "empty": np.zeros((0, 3), np.float32), "flag": np.array([True, False])}
    path = tmp_path / "ok.safetensors"
    save_file(tensors, str(path), metadata={"format": "pt"})
    ours, theirs = read_safetensors(path), load_file(str(path))
    assert sorted(ours) == sorted(theirs)
    for name in theirs:
        assert ours[name].dtype == theirs[name].dtype
        np.testing.assert_array_equal(ours[name], theirs[name], err_msg=name)


def test_bfloat16_is_widened_exactly(tmp_path):
    values = np.array([1.0, -2.5, 3.140625, 0.0], np.float32)   # exact in bfloat16
    top_halves = (values.view(np.uint32) >> 16).astype("<u2").tobytes()
    path = raw_file(tmp_path / "bf16.safetensors", {"w": entry("BF16", [2, 2], 0, 8)},
                    top_halves)
    np.testing.assert_array_equal(read_safetensors(path)["w"], values.reshape(2, 2))


def test_float8_is_named_as_unreadable(tmp_path):
    path = raw_file(tmp_path / "f8.safetensors", {"w": entry("F8_E4M3", [4], 0, 4)}, b"\0" * 4)
    with pytest.raises(ValueError, match="'w' has dtype F8_E4M3, which NumPy cannot hold"):
        read_safetensors(path)


# ---- config.json, the shard index, the path itself ----------------------------------------
@pytest.fixture
def saved(tmp_path):
    model = T5ForConditionalGeneration(T5Config(**SMALL), seed=0)
    model.save_pretrained(tmp_path / "m")
    return tmp_path / "m"


@pytest.mark.parametrize("content, words", [
    (b"[1, 2]", "holds a JSON list"),
    (b'{"d_model": ', "not valid JSON"),
    (b'{"d_model": "\xff"}', "not UTF-8"),
    (b'{"d_model": "512"}', "d_model must be a positive integer"),
    (b'{"dropout_rate": null}', "dropout_rate must be a finite number"),
    (b'{"tie_word_embeddings": "yes"}', "tie_word_embeddings must be true or false"),
])
def test_bad_config_json_names_the_file(saved, content, words):
    (saved / "config.json").write_bytes(content)
    with pytest.raises(ValueError) as info:
        T5ForConditionalGeneration.from_pretrained(saved)
    assert str(saved / "config.json") in str(info.value) and words in str(info.value)


def shard(saved):
    """Turn the single file into a one-shard checkpoint; returns the index path."""
    (saved / "model.safetensors").rename(saved / "model-00001-of-00001.safetensors")
    return saved / "model.safetensors.index.json"


@pytest.mark.parametrize("index, words", [
    (b"{oops", "is not a JSON shard index"),
    (b"[]", 'no "weight_map"'),
    (b'{"metadata": {}}', 'no "weight_map"'),
    (b'{"weight_map": {"shared.weight": "../../etc/passwd"}}', "not a file name"),
    (b'{"weight_map": {"shared.weight": "model-00002-of-00002.safetensors"}}', "is missing"),
    (b'{"weight_map": {"nothing.weight": "model-00001-of-00001.safetensors"}}',
     "'nothing.weight'"),
])
def test_bad_shard_index_names_the_file(saved, index, words):
    path = shard(saved)
    path.write_bytes(index)
    with pytest.raises((ValueError, FileNotFoundError)) as info:
        T5ForConditionalGeneration.from_pretrained(saved)
    assert str(path) in str(info.value) and words in str(info.value)


def test_a_file_as_checkpoint_path_says_so(saved):
    with pytest.raises(NotADirectoryError, match=f"is a file, not a checkpoint folder: pass "
                                                 f"its folder, {saved}"):
        T5ForConditionalGeneration.from_pretrained(saved / "model.safetensors")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        T5ForConditionalGeneration.from_pretrained(saved / "nowhere")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_are_refused_unless_asked_for(tmp_path, bad):
    model = T5ForConditionalGeneration(T5Config(**SMALL), seed=0)
    model.encoder.final_layer_norm.weight.data[3] = bad
    model.save_pretrained(tmp_path / "m")
    with pytest.raises(ValueError, match="'encoder.final_layer_norm.weight' holds 1 NaN or "
                                         "infinite value.*allow_non_finite=True"):
        T5ForConditionalGeneration.from_pretrained(tmp_path / "m")
    loaded = T5ForConditionalGeneration.from_pretrained(tmp_path / "m", allow_non_finite=True)
    assert not np.isfinite(loaded.encoder.final_layer_norm.weight.data).all()
