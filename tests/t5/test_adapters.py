"""Adapter layers (§3.5.1): the identity when inserted, only adapters and layer norms train,
and they save and load with the model."""
import json

import numpy as np
import pytest

from minit5 import T5Config, T5ForConditionalGeneration
from minit5.nn import trainable_parameters
from minit5.optim import Adafactor
from minit5.t5.adapters import T5Adapter, add_adapters, insert_adapters
from minit5.t5.architectures import T5SharedEncoderDecoder, build_architecture

SMALL = dict(vocab_size=40, d_model=16, d_kv=4, d_ff=24, num_heads=2, num_layers=2,
             dropout_rate=0.0)


def _batch(seed=0):
    rng = np.random.default_rng(seed)
    return dict(input_ids=rng.integers(2, 40, (2, 6)), labels=rng.integers(2, 40, (2, 4)))


def _logits(model, seed=0):
    return model(**_batch(seed)).logits.numpy()


def _train(model, steps=3):
    model.train()
    opt = Adafactor(model.parameters(), lr=1e-2, relative_step=False, scale_parameter=True,
                    warmup_init=False)
    for step in range(steps):
        opt.zero_grad()
        model(**_batch(step)).loss.backward()
        opt.step()
    return model.eval()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_inserting_adapters_does_not_change_the_outputs(dtype):
    model = T5ForConditionalGeneration(T5Config(**SMALL), seed=1, dtype=dtype).eval()
    before = _logits(model)
    add_adapters(model, 8)
    np.testing.assert_array_equal(_logits(model), before)
    # ... because wo starts at zero: an adapter with any other wo changes them.
    model.encoder.block[0].layer[1].adapter.wo.weight.data += 0.1
    assert not np.allclose(_logits(model), before)


def test_adapter_is_a_residual_dense_relu_dense():
    adapter = T5Adapter(4, 3, np.random.default_rng(0), dtype=np.float64)
    adapter.wo.weight.data = np.random.default_rng(1).standard_normal((4, 3))
    x = np.random.default_rng(2).standard_normal((2, 5, 4))
    hidden = np.maximum(x @ adapter.wi.weight.data.T, 0.0)            # (2, 5, 3)
    np.testing.assert_allclose(adapter(x).numpy(), x + hidden @ adapter.wo.weight.data.T,
                               rtol=1e-12)
    std = T5Adapter(512, 2048, np.random.default_rng(0)).wi.weight.data.std()
    assert abs(std - 512 ** -0.5) < 0.002                            # like the FFN's wi


def test_names_shapes_and_the_config_count_them():
    model = add_adapters(T5ForConditionalGeneration(T5Config(**SMALL), seed=0), 8)
    shapes = {n: tuple(p.shape) for n, p in model.named_parameters()}
    assert shapes["encoder.block.0.layer.1.adapter.wi.weight"] == (8, 16)
    assert shapes["encoder.block.1.layer.1.adapter.wo.weight"] == (16, 8)
    assert shapes["decoder.block.1.layer.2.adapter.wi.weight"] == (8, 16)
    assert sum("adapter" in n for n in shapes) == 2 * 2 * 2           # 2 stacks x 2 blocks x 2
    assert model.config.adapter_dim == 8
    assert shapes == {n: tuple(s) for n, s in model.config.parameter_shapes().items()}
    plain = T5Config(**SMALL).num_parameters()
    assert model.config.num_parameters() == plain + 4 * 2 * 8 * 16


def test_only_adapters_and_layer_norms_train():
    model = add_adapters(T5ForConditionalGeneration(T5Config(**SMALL), seed=0), 8)
    names = [n for n, _ in model.named_parameters()]
    expected = [n for n in names if ".adapter." in n or "layer_norm" in n]
    assert trainable_parameters(model) == expected
    assert "encoder.final_layer_norm.weight" in expected and "shared.weight" not in expected
    before = model.state_dict()
    after = _train(model).state_dict()
    for n in names:
        changed = not np.array_equal(before[n], after[n])
        assert changed == (n in expected), n


def test_adapters_save_and_load_with_the_model(tmp_path):
    model = _train(add_adapters(T5ForConditionalGeneration(T5Config(**SMALL), seed=2), 8))
    model.save_pretrained(tmp_path / "m")
    assert json.loads((tmp_path / "m" / "config.json").read_text())["adapter_dim"] == 8
    loaded = T5ForConditionalGeneration.from_pretrained(tmp_path / "m")
    assert loaded.config.adapter_dim == 8
    np.testing.assert_array_equal(_logits(loaded), _logits(model))
    assert list(loaded.state_dict()) == list(model.state_dict())


def test_a_checkpoint_without_adapters_has_no_adapter_key(tmp_path):
    T5ForConditionalGeneration(T5Config(**SMALL), seed=0).save_pretrained(tmp_path / "m")
    assert "adapter_dim" not in json.loads((tmp_path / "m" / "config.json").read_text())
    loaded = T5ForConditionalGeneration.from_pretrained(tmp_path / "m")
    assert loaded.config.adapter_dim is None
    assert not any("adapter" in n for n, _ in loaded.named_parameters())


def test_the_adapters_draw_from_their_own_seeded_stream():
    def weights(seed):
        model = insert_adapters(T5ForConditionalGeneration(T5Config(**SMALL), seed=0), 8, seed)
        return model.encoder.block[0].layer[1].adapter.wi.weight.numpy()

    np.testing.assert_array_equal(weights(1), weights(1))
    assert not np.array_equal(weights(1), weights(2))
    base = T5ForConditionalGeneration(T5Config(**SMALL), seed=0).state_dict()
    with_adapters = T5ForConditionalGeneration(T5Config(**SMALL, adapter_dim=8), seed=0)
    for n, a in base.items():                   # the pre-trained weights are drawn as before
        np.testing.assert_array_equal(with_adapters.state_dict()[n], a)


def test_shared_encoder_decoder_gets_one_adapter_per_shared_ffn(tmp_path):
    model = add_adapters(T5SharedEncoderDecoder(T5Config(**SMALL), seed=0), 8)
    assert model.decoder.block[1].layer[2].adapter is model.encoder.block[1].layer[1].adapter
    assert sum("adapter" in n for n, _ in model.named_parameters()) == 2 * 2
    model = _train(model)
    model.save_pretrained(tmp_path / "m")
    loaded = T5SharedEncoderDecoder.from_pretrained(tmp_path / "m")
    np.testing.assert_array_equal(_logits(loaded), _logits(model))


def test_decoder_only_models_take_adapters_too():
    model = build_architecture("language model", T5Config(**SMALL), seed=0)
    add_adapters(model, 4)
    assert any(".adapter." in n for n in trainable_parameters(model))


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, None])
def test_a_bad_adapter_size_is_refused(bad):
    with pytest.raises(ValueError, match="adapter_dim must be a positive integer"):
        add_adapters(T5ForConditionalGeneration(T5Config(**SMALL), seed=0), bad)


def test_bad_config_adapter_dim_and_adding_twice_are_refused():
    with pytest.raises(ValueError, match="adapter_dim"):
        T5Config(**SMALL, adapter_dim=0)
    model = add_adapters(T5ForConditionalGeneration(T5Config(**SMALL), seed=0), 8)
    with pytest.raises(ValueError, match="already has adapters"):
        add_adapters(model, 8)
    with pytest.raises(TypeError, match="no T5 feed-forward"):
        add_adapters(T5Adapter(4, 2, np.random.default_rng(0)), 8)


def test_adafactor_moves_a_zero_started_wo_by_at_most_lr_times_its_floor_per_step():
    """The bound Table 10's outcome rests on: with T5's parameter-scale rule the step of a
    weight is lr x max(1e-3, RMS(weight)) (RMS-clipped to 1 before), so `wo`, starting at
    zero, has RMS <= steps x lr x 1e-3 while that stays under 1e-3; the layer norms, which
    start at 1, move a thousand times faster."""
    model = add_adapters(T5ForConditionalGeneration(T5Config(**SMALL), seed=0), 64)
    model.train()
    opt = Adafactor(model.parameters(), lr=3e-3, relative_step=False, scale_parameter=True,
                    warmup_init=False)
    wo = model.decoder.block[1].layer[2].adapter.wo.weight
    norm = model.decoder.block[1].layer[2].layer_norm.weight
    start = norm.numpy()
    for step in range(1, 21):
        opt.zero_grad()
        model(**_batch(step)).loss.backward()
        opt.step()
        rms = float(np.sqrt(np.mean(wo.numpy() ** 2)))
        assert 0 < rms <= step * 3e-3 * 1e-3 * (1 + 1e-6)
    moved = float(np.sqrt(np.mean((norm.numpy() - start) ** 2)))
    assert moved > 100 * rms
