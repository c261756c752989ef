"""minit5 against transformers on the committed golden checkpoints (NumPy only), and live.

Error measure: max |minit5 - reference| / max |reference| over each array (so a tensor of
gradients is compared at the scale of its largest entry). Bounds: float64 1e-9, float32 1e-4.
"""
import pathlib

import numpy as np
import pytest

from minit5 import T5ForConditionalGeneration
from minit5.backend import to_numpy
from minit5.t5.position import relative_position_bucket

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "model"
TOLERANCE = {"float64": 1e-9, "float32": 1e-4}


def relative_error(actual, expected):
    expected = np.asarray(expected, dtype=np.float64)
    scale = max(float(np.abs(expected).max()), 1e-30)
    return float(np.abs(np.asarray(actual, dtype=np.float64) - expected).max()) / scale


def check_against(root: pathlib.Path, name: str, dtype: str, device: str = "cpu"):
    ref = np.load(root / name / f"reference_{dtype}.npz")
    model = T5ForConditionalGeneration.from_pretrained(root / name, dtype=dtype, device=device)
    out = model(input_ids=ref["input_ids"], attention_mask=ref["attention_mask"],
                labels=ref["labels"])
    out.loss.backward()
    errors = {"encoder_last_hidden_state": relative_error(
                  out.encoder_last_hidden_state.numpy(), ref["encoder_last_hidden_state"]),
              "logits": relative_error(out.logits.numpy(), ref["logits"]),
              "loss": relative_error(out.loss.numpy(), ref["loss"])}
    params = dict(model.named_parameters())
    grad_keys = [k[len("grad/"):] for k in ref.files if k.startswith("grad/")]
    assert sorted(grad_keys) == sorted(params), "parameter names differ from transformers'"
    for key in grad_keys:
        errors[f"grad {key}"] = relative_error(to_numpy(params[key].grad), ref[f"grad/{key}"])
    worst = max(errors, key=errors.get)
    assert errors[worst] <= TOLERANCE[dtype], (
        f"{name} {dtype}: {worst} differs from transformers by relative error "
        f"{errors[worst]:.3e} > {TOLERANCE[dtype]:g}")
    return errors


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", ["v1_0", "v1_1"])
def test_matches_transformers_fixture(name, dtype):
    errors = check_against(FIXTURES, name, dtype)
    print(f"{name} {dtype}: worst relative error {max(errors.values()):.2e}")


def test_fixture_covers_the_hard_cases():
    ref = np.load(FIXTURES / "v1_1" / "reference_float64.npz")
    assert (ref["labels"] == -100).any() and (ref["attention_mask"] == 0).any()
    import json
    config = json.loads((FIXTURES / "v1_1" / "config.json").read_text())
    assert ref["input_ids"].shape[1] > config["relative_attention_max_distance"]
    assert config["num_heads"] * config["d_kv"] != config["d_model"]
    assert config["num_decoder_layers"] != config["num_layers"]
    assert config["tie_word_embeddings"] is False


def test_buckets_match_transformers_fixture():
    table = np.load(FIXTURES / "buckets.npz")
    for key in table.files:
        if key == "relative_position":
            continue
        direction, buckets, distance = key.split("_")
        ours = relative_position_bucket(table["relative_position"], direction == "bi",
                                        int(buckets), int(distance))
        np.testing.assert_array_equal(ours, table[key], err_msg=key)


# ---- live: regenerate with transformers and compare again ------------------------------
@pytest.mark.golden_live
def test_live_matches_transformers(tmp_path):
    from tests.golden import gen_model
    gen_model.make(tmp_path)
    for name in gen_model.CONFIGS:
        for dtype in ("float64", "float32"):
            check_against(tmp_path / "model", name, dtype)


@pytest.mark.golden_live
@pytest.mark.parametrize("name", ["v1_0", "v1_1"])
def test_live_transformers_loads_minit5_checkpoint(tmp_path, name):
    """A checkpoint written by minit5's save_pretrained loads into transformers and gives the
    same logits."""
    import torch
    from transformers import T5ForConditionalGeneration as HFModel

    from tests.golden import gen_model
    values = {**gen_model.CONFIGS[name], **gen_model.COMMON}
    from minit5 import T5Config
    model = T5ForConditionalGeneration(T5Config(**values), seed=7, dtype="float32").eval()
    model.save_pretrained(tmp_path / "ckpt")
    hf = HFModel.from_pretrained(tmp_path / "ckpt").eval()
    hf_names = {n for n, _ in hf.named_parameters()}
    assert hf_names == set(dict(model.named_parameters())), "parameter names differ"
    input_ids, attention_mask, labels = gen_model.batch()
    ours = model(input_ids=input_ids, attention_mask=attention_mask, labels=labels)
    with torch.no_grad():
        theirs = hf(input_ids=torch.tensor(input_ids), attention_mask=torch.tensor(attention_mask),
                    labels=torch.tensor(labels))
    assert relative_error(ours.logits.numpy(), theirs.logits.numpy()) <= 1e-4
