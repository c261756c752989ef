"""Optimizer-state sizes from shapes alone: Adam's 2N against Adafactor's rows + columns."""
import math

import numpy as np
import pytest

from minit5.nn import Parameter
from minit5.optim import Adafactor, AdamW
from minit5.reference.state_bytes import (
    format_state_table,
    optimizer_state_bytes,
    optimizer_state_table,
)


def t5_v1_0_shapes(d_model, d_ff, num_heads, d_kv, num_layers, vocab=32128, num_buckets=32):
    """Parameter shapes of a tied, relu T5 v1.0, named as the HF state dict (T5_FACTS.md)."""
    inner = num_heads * d_kv
    shapes = {"shared.weight": (vocab, d_model)}

    def attention(prefix, first):
        for name in ("q", "k", "v"):
            shapes[f"{prefix}.{name}.weight"] = (inner, d_model)
        shapes[f"{prefix}.o.weight"] = (d_model, inner)
        if first:
            shapes[f"{prefix}.relative_attention_bias.weight"] = (num_buckets, num_heads)

    for stack in ("encoder", "decoder"):
        for i in range(num_layers):
            layer = f"{stack}.block.{i}.layer"
            attention(f"{layer}.0.SelfAttention", i == 0)
            shapes[f"{layer}.0.layer_norm.weight"] = (d_model,)
            ffn = 1
            if stack == "decoder":
                attention(f"{layer}.1.EncDecAttention", False)
                shapes[f"{layer}.1.layer_norm.weight"] = (d_model,)
                ffn = 2
            shapes[f"{layer}.{ffn}.DenseReluDense.wi.weight"] = (d_ff, d_model)
            shapes[f"{layer}.{ffn}.DenseReluDense.wo.weight"] = (d_model, d_ff)
            shapes[f"{layer}.{ffn}.layer_norm.weight"] = (d_model,)
        shapes[f"{stack}.final_layer_norm.weight"] = (d_model,)
    return shapes


T5_SMALL = t5_v1_0_shapes(512, 2048, 8, 64, 6)
T5_BASE = t5_v1_0_shapes(768, 3072, 12, 64, 12)


def test_hand_built_shapes_have_the_published_sizes():
    assert sum(math.prod(s) for s in T5_SMALL.values()) == 60_506_624
    assert sum(math.prod(s) for s in T5_BASE.values()) == 222_903_552


def test_t5_small_state_by_hand():
    # Adafactor, T5's rule: every matrix but the 32 x 8 relative bias is factored.
    #   shared 32128 + 512; attention 4 x (512 + 512); FFN 2 x (2048 + 512); norms 512 each;
    #   relative bias 32 * 8 = 256, unfactored.
    #   encoder block 4096 + 5120 + 2 * 512 = 10240, decoder block 8192 + 5120 + 3 * 512 = 14848
    numbers = 32640 + 6 * 10240 + 6 * 14848 + 2 * (256 + 512)
    assert numbers == 184_704
    assert optimizer_state_bytes(T5_SMALL) == 4 * numbers
    assert optimizer_state_bytes(T5_SMALL, "adam") == 2 * 4 * 60_506_624
    # transformers' rule factors the relative bias too: 32 + 8 instead of 256, twice
    assert optimizer_state_bytes(T5_SMALL, min_dim_size_to_factor=0) == 4 * (numbers - 2 * 216)
    # with beta1, a full momentum is added
    assert optimizer_state_bytes(T5_SMALL, beta1=0.9, dtype_bytes=8) == \
        8 * (numbers + 60_506_624)


def test_table_rows():
    rows = optimizer_state_table({"t5-small": T5_SMALL, "t5-base": T5_BASE})
    small, base = rows
    assert small == ("t5-small", 60_506_624, 484_052_992, 738_816, 484_052_992 / 738_816)
    assert base.n_params == 222_903_552
    assert base.adam_bytes == 8 * 222_903_552
    assert base.adafactor_bytes == 4 * 486_784
    assert base.ratio > small.ratio > 600            # the saving grows with the model
    text = format_state_table(rows)
    assert "t5-small" in text and "60,506,624" in text


def test_counts_match_the_allocated_state():
    shapes = {"a": (256, 512), "b": (512, 64), "c": (7,), "d": (130, 3, 200)}
    params = [Parameter(np.zeros(s, dtype=np.float32)) for s in shapes.values()]
    for opt, kind in [(Adafactor(params, beta1=0.9), "adafactor"), (AdamW(params), "adam")]:
        for p in params:
            p.grad = np.ones(p.data.shape, dtype=np.float32)
        opt.step()
        allocated = sum(v.nbytes for s in opt.state for k, v in s.items() if k != "step")
        beta1 = 0.9 if kind == "adafactor" else None
        assert optimizer_state_bytes(shapes, kind, beta1=beta1) == allocated


def test_a_config_with_parameter_shapes_is_accepted():
    config = pytest.importorskip("minit5.t5.config")
    cfg = config.T5Config.preset("t5-small")
    assert optimizer_state_bytes(cfg) == optimizer_state_bytes(T5_SMALL)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="optimizer"):
        optimizer_state_bytes(T5_SMALL, "sgd")
    with pytest.raises(TypeError, match="parameter_shapes"):
        optimizer_state_bytes([(3, 4)])
