"""minit5's generate() against transformers' generate(), id for id (NumPy only), and live.

The fixtures (tests/golden/gen_generation.py) hold two tiny checkpoints, a padded batch of
three inputs, and the ids transformers produced for greedy search and several beam searches
(2, 3 and 4 beams; length penalties -1, 1, 2; early_stopping False, True and "never").
Ids are compared exactly, with and without the key/value cache, in float32 and float64.
"""
import json
import pathlib

import numpy as np
import pytest

from minit5 import T5ForConditionalGeneration

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "generation"
NAMES = ["v1_0", "v1_1"]


def load_reference(directory):
    ref = np.load(directory / "reference.npz")
    cases = json.loads(str(ref["cases_json"]))
    return ref, cases


def mismatches(directory, dtype):
    """Every (case, use_cache) whose ids differ from transformers', with both id arrays."""
    ref, cases = load_reference(directory)
    model = T5ForConditionalGeneration.from_pretrained(directory, dtype=dtype)
    found = []
    for case, settings in cases.items():
        expected = ref[f"ids_{case}"]
        for use_cache in (True, False):
            ids = model.generate(ref["input_ids"], attention_mask=ref["attention_mask"],
                                 max_new_tokens=int(ref["max_new_tokens"]),
                                 use_cache=use_cache, **settings)
            if ids.shape != expected.shape or (ids != expected).any():
                found.append(f"{case} (use_cache={use_cache}):\n  minit5       "
                             f"{ids.tolist()}\n  transformers {expected.tolist()}")
    return found


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", NAMES)
def test_generate_matches_transformers_fixture(name, dtype):
    found = mismatches(FIXTURES / name, dtype)
    assert not found, f"{name} {dtype}: ids differ from transformers' generate():\n" + \
        "\n".join(found)


@pytest.mark.parametrize("name", NAMES)
def test_fixture_covers_the_hard_cases(name):
    """The fixture would catch little if every row ran to the limit or every search agreed."""
    ref, cases = load_reference(FIXTURES / name)
    config = json.loads((FIXTURES / name / "config.json").read_text())
    max_new_tokens = int(ref["max_new_tokens"])
    assert (ref["attention_mask"] == 0).any(), "one input row should be padded"
    assert ref["input_ids"].shape[1] > config["relative_attention_max_distance"]
    # Causal buckets turn logarithmic at distance num_buckets // 2: the outputs reach past it.
    assert max_new_tokens > config["relative_attention_num_buckets"] // 2
    greedy = ref["ids_greedy"]
    assert (greedy[:, 0] == 0).all(), "rows start with the decoder start token"
    assert (greedy == 1).any(axis=1).any(), "some greedy row should end with EOS"
    assert greedy.shape[1] <= 1 + max_new_tokens
    assert any(ref[f"ids_{case}"].shape != greedy.shape or (ref[f"ids_{case}"] != greedy).any()
               for case in cases if case != "greedy"), "beam search should differ from greedy"
    assert {settings.get("early_stopping", False) for settings in cases.values()} == \
        {False, True, "never"}


def test_fixture_checkpoints_are_v1_0_and_v1_1():
    v10 = json.loads((FIXTURES / "v1_0" / "config.json").read_text())
    v11 = json.loads((FIXTURES / "v1_1" / "config.json").read_text())
    assert v10["feed_forward_proj"] == "relu" and v10["tie_word_embeddings"] is True
    assert v11["feed_forward_proj"] == "gated-gelu" and v11["tie_word_embeddings"] is False
    assert v11["num_heads"] * v11["d_kv"] != v11["d_model"]
    assert v11["num_decoder_layers"] != v11["num_layers"]
    model = T5ForConditionalGeneration.from_pretrained(FIXTURES / "v1_1")
    assert "lm_head.weight" in dict(model.named_parameters()), "v1_1 must load untied"


@pytest.mark.golden_live
def test_live_generate_matches_transformers(tmp_path):
    """Regenerate the references with transformers now and compare again."""
    from tests.golden import gen_generation
    gen_generation.make(tmp_path)
    for name in gen_generation.CHECKPOINTS:
        for dtype in ("float32", "float64"):
            found = mismatches(tmp_path / "generation" / name, dtype)
            assert not found, f"live {name} {dtype}:\n" + "\n".join(found)
