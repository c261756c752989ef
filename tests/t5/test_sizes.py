"""Parameter counts of every preset, beside the paper's nominal sizes."""
import pytest

from minit5 import T5Config, T5ForConditionalGeneration
from minit5.t5.config import NOMINAL_SIZES, PRESETS

# Exact counts (T5_FACTS "Sizes"); transformers agrees for every preset in `make golden`.
EXACT = {"t5-small": 60_506_624, "t5-base": 222_903_552, "t5-large": 737_668_096,
         "t5-v1_1-small": 76_961_152}


def test_size_table(capsys):
    rows = []
    for name in PRESETS:
        n = T5Config.preset(name).num_parameters()
        rows.append(f"{name:<16} {n:>15,}  {NOMINAL_SIZES.get(name, '')}")
    print("\npreset           parameters       paper\n" + "\n".join(rows))
    for name, n in EXACT.items():
        assert T5Config.preset(name).num_parameters() == n, name


def test_count_equals_allocated_model():
    cfg = T5Config(vocab_size=100, d_model=24, d_kv=5, d_ff=40, num_heads=3, num_layers=2,
                   num_decoder_layers=3, feed_forward_proj="gated-gelu",
                   tie_word_embeddings=False)
    model = T5ForConditionalGeneration(cfg)
    assert sum(p.size for p in model.parameters()) == cfg.num_parameters()
    shapes = cfg.parameter_shapes()
    assert {n: p.shape for n, p in model.named_parameters()} == shapes


@pytest.mark.golden_live
@pytest.mark.parametrize("name", list(PRESETS))
def test_live_presets_equal_transformers_count(name):
    """Built on torch's meta device: no weights are allocated."""
    import torch
    from transformers import T5Config as HFConfig
    from transformers import T5ForConditionalGeneration as HFModel
    cfg = T5Config.preset(name)
    with torch.device("meta"):
        hf = HFModel(HFConfig(**{k: v for k, v in cfg.to_dict().items()
                                 if k not in ("architectures",)}))
    count = sum(p.numel() for p in hf.parameters())
    if not cfg.tie_word_embeddings and hf.lm_head.weight is hf.shared.weight:
        # transformers 5 ties the head at construction even for untied configs; a real v1.1
        # checkpoint carries its own lm_head.weight, which loading unties. Count it.
        count += hf.lm_head.weight.numel()
    assert cfg.num_parameters() == count
