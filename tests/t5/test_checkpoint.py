"""Checkpoints round-trip, shard, tie, and survive being killed mid-save."""
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from safetensors.numpy import save_file

from minit5 import T5Config, T5EncoderModel, T5ForConditionalGeneration

ROOT = pathlib.Path(__file__).resolve().parents[2]
SMALL = dict(vocab_size=40, d_model=16, d_kv=4, d_ff=24, num_heads=2, num_layers=2,
             dropout_rate=0.0)


def logits(model, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(2, 40, (2, 6))
    return model(input_ids=ids, labels=rng.integers(2, 40, (2, 4))).logits.numpy()


@pytest.mark.parametrize("tied", [True, False])
def test_round_trip(tmp_path, tied):
    model = T5ForConditionalGeneration(T5Config(**SMALL, tie_word_embeddings=tied,
                                                feed_forward_proj="relu" if tied else "gated-gelu"),
                                       seed=3).eval()
    model.save_pretrained(tmp_path / "m")
    loaded = T5ForConditionalGeneration.from_pretrained(tmp_path / "m")
    np.testing.assert_array_equal(logits(model), logits(loaded))
    assert list(dict(loaded.named_parameters())) == list(dict(model.named_parameters()))
    assert ("lm_head.weight" in dict(model.named_parameters())) == (not tied)


def test_float64_load_and_names_follow_hf(tmp_path):
    model = T5ForConditionalGeneration(T5Config(**SMALL), seed=1)
    names = list(dict(model.named_parameters()))
    assert names[0] == "shared.weight" and "encoder.embed_tokens.weight" not in names
    assert "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight" in names
    assert "encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight" not in names
    model.save_pretrained(tmp_path / "m")
    loaded = T5ForConditionalGeneration.from_pretrained(tmp_path / "m", dtype="float64")
    assert loaded.dtype == np.float64


def test_sharded_old_keys_and_tied_copies(tmp_path):
    model = T5ForConditionalGeneration(T5Config(**SMALL), seed=2).eval()
    state = model.state_dict()
    # An old-style tied file: copies of the embedding, and the unused cross-attention bias.
    state["encoder.embed_tokens.weight"] = state["shared.weight"]
    state["lm_head.weight"] = state["shared.weight"]
    state["decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight"] = \
        np.zeros((32, 2), np.float32)
    names = sorted(state)
    half = len(names) // 2
    out = tmp_path / "sharded"
    out.mkdir()
    weight_map = {}
    for i, part in enumerate((names[:half], names[half:])):
        shard = f"model-0000{i + 1}-of-00002.safetensors"
        save_file({n: state[n] for n in part}, str(out / shard))
        weight_map.update({n: shard for n in part})
    (out / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    (out / "config.json").write_text(model.config.to_json_string())
    loaded = T5ForConditionalGeneration.from_pretrained(out)
    np.testing.assert_array_equal(logits(model), logits(loaded))
    encoder = T5EncoderModel.from_pretrained(out)
    ids = np.array([[3, 4, 5, 1]])
    np.testing.assert_allclose(encoder(ids).last_hidden_state.numpy(),
                               loaded.encode(ids).numpy(), rtol=1e-6)


def test_unknown_key_is_refused(tmp_path):
    model = T5ForConditionalGeneration(T5Config(**SMALL), seed=2)
    model.save_pretrained(tmp_path / "m")
    from minit5.t5.checkpoint import read_safetensors
    state = read_safetensors(tmp_path / "m" / "model.safetensors")
    state["encoder.block.9.layer.0.SelfAttention.q.weight"] = np.zeros((8, 16), np.float32)
    save_file(dict(state), str(tmp_path / "m" / "model.safetensors"))
    with pytest.raises(KeyError, match="unexpected"):
        T5ForConditionalGeneration.from_pretrained(tmp_path / "m")


SAVER = """
import sys, numpy as np
from minit5 import T5Config, T5ForConditionalGeneration
model = T5ForConditionalGeneration(T5Config(vocab_size=2000, d_model=64, d_kv=16, d_ff=256,
                                            num_heads=4, num_layers=2), seed=0)
i = 0
print("ready", flush=True)
while True:
    i += 1
    model.shared.weight.data[0, 0] = i   # each save differs: a marker in the first weight
    model.save_pretrained(sys.argv[1])
"""


def test_kill_during_save_never_breaks_the_checkpoint(tmp_path):
    target = tmp_path / "ckpt"
    rng = np.random.default_rng(0)
    seen = set()
    for trial in range(12):
        proc = subprocess.Popen([sys.executable, "-c", SAVER, str(target)],
                                stdout=subprocess.PIPE, cwd=ROOT)
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(0.05 + 0.3 * rng.random())
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        if not target.exists():       # killed before its first save finished
            continue
        model = T5ForConditionalGeneration.from_pretrained(target)   # must always load
        seen.add(float(model.shared.weight.data[0, 0]))
    assert len(seen) >= 3, f"too few completed saves to be a test: {seen}"
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"], "a save wrote outside its target"
    hidden = [p.name for p in target.iterdir() if p.name.startswith(".")]
    assert hidden == [], f"loading left an interrupted save's folders behind: {hidden}"
