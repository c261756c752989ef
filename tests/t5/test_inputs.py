"""Every input a user can get wrong raises an error that names the argument and the fix."""
import numpy as np
import pytest

from minit5 import T5Config, T5ForConditionalGeneration

CFG = T5Config(vocab_size=50, d_model=16, d_kv=4, d_ff=32, num_heads=2, num_layers=1,
               dropout_rate=0.0)


@pytest.fixture(scope="module")
def model():
    return T5ForConditionalGeneration(CFG, seed=0).eval()


IDS = np.array([[5, 6, 7, 1]])
LABELS = np.array([[8, 9, 1]])


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(input_ids=np.array([[5, 50, 1]])), ValueError, ["input_ids", "50", "vocab_size=50"]),
    (dict(input_ids=np.array([[5, -3, 1]])), ValueError, ["input_ids", "-3"]),
    (dict(input_ids=np.array([[5.0, 6.0]])), TypeError, ["input_ids", "integer", "astype"]),
    (dict(input_ids=np.array([5, 6, 1])), ValueError, ["input_ids", "2-D", "[None, :]"]),
    (dict(input_ids=np.zeros((1, 0), dtype=np.int64)), ValueError, ["input_ids", "empty"]),
    (dict(input_ids=[[1, 2], [3]]), ValueError, ["ragged"]),
    (dict(attention_mask=np.ones((1, 3))), ValueError, ["attention_mask", "(1, 4)"]),
    (dict(attention_mask=np.array([[1, 2, 1, 1]])), ValueError, ["attention_mask", "0 and 1"]),
    (dict(attention_mask=np.zeros((1, 4))), ValueError, ["attention_mask", "all zeros"]),
    (dict(labels=np.array([[8, 99, 1]])), ValueError, ["labels", "99", "-100"]),
    (dict(labels=None), ValueError, ["labels", "decoder_input_ids"]),
    (dict(labels=None, decoder_input_ids=np.array([[0, 77]])), ValueError,
     ["decoder_input_ids", "77"]),
])
def test_bad_input_is_named(model, kwargs, error, words):
    args = dict(input_ids=IDS, labels=LABELS)
    args.update(kwargs)
    with pytest.raises(error) as info:
        model(**args)
    for word in words:
        assert word in str(info.value), f"{word!r} missing from: {info.value}"


def test_minus_100_labels_are_allowed_and_ignored(model):
    labels = np.array([[8, 9, -100]])
    out = model(input_ids=IDS, labels=labels)
    assert np.isfinite(out.loss.item())


@pytest.mark.parametrize("field, value, words", [
    ("d_model", 0, ["d_model", "positive"]),
    ("num_heads", 2.5, ["num_heads"]),
    ("feed_forward_proj", "gated-foo", ["feed_forward_proj", "gated-gelu"]),
    ("feed_forward_proj", "a-b-c", ["feed_forward_proj"]),
    ("dropout_rate", 1.0, ["dropout_rate"]),
    ("eos_token_id", 50, ["eos_token_id", "vocab_size"]),
    ("relative_attention_max_distance", 16, ["max_distance", "// 2 = 16"]),
])
def test_bad_config_is_named(field, value, words):
    with pytest.raises(ValueError) as info:
        T5Config(**{**dict(vocab_size=50), field: value})
    for word in words:
        assert word in str(info.value)


def test_unknown_preset():
    with pytest.raises(KeyError, match="t5-small"):
        T5Config.preset("t5-tiny")


def test_missing_checkpoint_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        T5ForConditionalGeneration.from_pretrained(tmp_path / "nope")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "config.json").write_text('{"model_type": "t5"}')
    (tmp_path / "bin" / "pytorch_model.bin").write_bytes(b"\x80")
    with pytest.raises(FileNotFoundError, match="safetensors") as info:
        T5ForConditionalGeneration.from_pretrained(tmp_path / "bin")
    assert "save_pretrained" in str(info.value)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "config.json").write_text('{"model_type": "t5"')
    with pytest.raises(ValueError, match="not valid JSON"):
        T5ForConditionalGeneration.from_pretrained(tmp_path / "bad")


def test_truncated_safetensors_is_reported(tmp_path, model):
    model.save_pretrained(tmp_path / "m")
    path = tmp_path / "m" / "model.safetensors"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError, match="truncated"):
        T5ForConditionalGeneration.from_pretrained(tmp_path / "m")


def test_shape_mismatch_is_named(tmp_path, model):
    model.save_pretrained(tmp_path / "m")
    import json
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    cfg["d_ff"] = 64
    (tmp_path / "m" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="DenseReluDense.wi.weight"):
        T5ForConditionalGeneration.from_pretrained(tmp_path / "m")


def test_minit5_device_decides_where_models_live(monkeypatch):
    from minit5 import backend
    monkeypatch.setattr(backend, "gpu_available", lambda: False)

    def environment(device):              # the switches of a process started with it
        monkeypatch.setattr(backend, "SWITCHES", backend.read_switches({"MINIT5_DEVICE": device}))

    environment("gpu")
    with pytest.raises(RuntimeError, match="no GPU can be used"):
        T5ForConditionalGeneration(CFG)
    environment("auto")                   # falls back to NumPy
    assert T5ForConditionalGeneration(CFG).device == "cpu"
    environment("gpu")
    assert T5ForConditionalGeneration(CFG, device="cpu").device == "cpu"   # explicit wins


def test_packed_inputs_need_both_segment_ids_and_no_positions(model):
    seg = np.array([[1, 1, 2, 2]])
    with pytest.raises(ValueError, match="encoder_segment_ids and decoder_segment_ids"):
        model(input_ids=IDS, decoder_input_ids=np.array([[0, 8, 0]]),
              decoder_segment_ids=np.array([[1, 1, 2]]))
    with pytest.raises(ValueError, match="decoder_input_ids"):
        model(input_ids=IDS, labels=LABELS, encoder_segment_ids=seg,
              decoder_segment_ids=np.array([[1, 1, 2]]))
    with pytest.raises(TypeError, match="encoder_positions"):   # packing is a segment mask only
        model(input_ids=IDS, labels=LABELS, encoder_positions=np.array([[0, 1, 0, 1]]))
