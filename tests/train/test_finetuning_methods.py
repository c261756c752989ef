"""The fine-tuning methods as one setting (§3.5.1): checked, and applied to a loaded model."""
import numpy as np
import pytest

from minit5 import T5Config, T5ForConditionalGeneration
from minit5.nn import trainable_parameters
from minit5.train.finetuning_methods import check_method, finetuning_method, prepare


def _model():
    return T5ForConditionalGeneration(T5Config(vocab_size=40, d_model=16, d_kv=4, d_ff=24,
                                               num_heads=2, num_layers=2), seed=0)


def test_all_parameters_trains_everything_and_needs_no_hook():
    model = _model()
    model.encoder.requires_grad_(False)                 # whatever was frozen before
    assert prepare(model, finetuning_method(), 10) is None
    assert trainable_parameters(model) == [n for n, _ in model.named_parameters()]


def test_adapters_add_adapters_from_the_seed_and_freeze_the_rest():
    a, b = _model(), _model()
    assert prepare(a, finetuning_method("adapters", 8), 10, seed=1) is None
    prepare(b, finetuning_method("adapters", 8), 10, seed=2)
    names = trainable_parameters(a)
    assert names and all(".adapter." in n or "layer_norm" in n for n in names)
    wi = "encoder.block.0.layer.1.adapter.wi.weight"
    assert not np.array_equal(a.state_dict()[wi], b.state_dict()[wi])


def test_gradual_unfreezing_returns_the_hook_for_the_run():
    model = _model()
    hook = prepare(model, finetuning_method("gradual unfreezing"), 10)
    hook(1)
    assert not any(".block.0." in n for n in trainable_parameters(model))
    hook(6)
    assert trainable_parameters(model) == [n for n, _ in model.named_parameters()]


@pytest.mark.parametrize("bad, message", [
    ({"method": "lora"}, "choose one of"),
    ("adapters", "choose one of"),
    ({"method": "adapters"}, "adapter_dim=32"),
    ({"method": "adapters", "adapter_dim": 0}, "positive integer"),
    ({"method": "gradual unfreezing", "adapter_dim": 8}, "takes the settings"),
])
def test_bad_settings_are_refused_with_the_fix(bad, message):
    with pytest.raises(ValueError, match=message):
        check_method(bad)
