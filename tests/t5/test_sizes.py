"""Parameter counts of every preset, beside the paper's nominal sizes."""
import time
import tracemalloc

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


def test_t5_11b_counts_at_once_and_allocates_no_weights():
    """The count is read off the module tree built with zero-stride placeholders: 11 billion
    weights cost neither time nor memory. The expected number is the layout summed by hand:
    per encoder block 4 d I (attention) + 2 d d_ff (FFN) + 2 d (norms), per decoder block the
    same plus 4 d I + d (cross-attention and its norm), a 32 x 128 bias table per stack, two
    final norms and the tied 32128 x d embedding (d 1024, I = 128 * 128, d_ff 65536)."""
    d, inner, ff = 1024, 128 * 128, 65536
    encoder_block = 4 * d * inner + 2 * d * ff + 2 * d
    decoder_block = encoder_block + 4 * d * inner + d
    by_hand = 32128 * d + 24 * encoder_block + 24 * decoder_block + 2 * 32 * 128 + 2 * d
    config = T5Config.preset("t5-11b")
    tracemalloc.start()
    began = time.perf_counter()
    count = config.num_parameters()
    seconds = time.perf_counter() - began
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == by_hand == 11_307_321_344
    assert seconds < 5 and peak < 50e6, (seconds, peak)


def test_a_shape_only_model_has_the_real_names_and_shapes_and_no_weights():
    cfg = T5Config(vocab_size=100, d_model=24, d_kv=5, d_ff=40, num_heads=3, num_layers=2,
                   num_decoder_layers=3, feed_forward_proj="gated-gelu",
                   tie_word_embeddings=False, adapter_dim=7)
    real = T5ForConditionalGeneration(cfg)
    placeholder = T5ForConditionalGeneration(cfg, shape_only=True)
    shapes = {n: p.shape for n, p in real.named_parameters()}
    assert {n: p.shape for n, p in placeholder.named_parameters()} == shapes
    assert cfg.parameter_shapes() == shapes
    assert list(cfg.parameter_shapes()) == list(shapes)               # checkpoint order too
    matrices = [p for p in placeholder.parameters() if p.ndim == 2]      # all but the norms
    assert len(matrices) > 20
    for p in matrices:
        assert not any(p.data.strides) and not p.data.flags.writeable


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
