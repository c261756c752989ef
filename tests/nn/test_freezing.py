"""Freezing: a parameter with requires_grad False gets no gradient, no update and no optimizer
state, and an optimizer checkpoint taken while some parameters are frozen resumes exactly, also
when a frozen parameter becomes trainable after the resume."""
import numpy as np
import pytest

from minit5 import T5Config, T5ForConditionalGeneration
from minit5.nn import Linear, Module, trainable_parameters
from minit5.optim import Adafactor, AdamW

CONFIG = dict(vocab_size=40, d_model=16, d_kv=4, d_ff=32, num_heads=4, num_layers=2,
              dropout_rate=0.0)


def _model(seed=0):
    return T5ForConditionalGeneration(T5Config(**CONFIG), seed=seed, dtype="float64")


def _batch(step):
    rng = np.random.default_rng([7, step])
    return dict(input_ids=rng.integers(2, 40, (3, 6)), labels=rng.integers(2, 40, (3, 4)))


def _step(model, optimizer, step):
    optimizer.zero_grad()
    model(**_batch(step)).loss.backward()
    optimizer.step()


OPTIMIZERS = {"adafactor": lambda ps: Adafactor(ps, lr=1e-2, relative_step=False,
                                                scale_parameter=True, warmup_init=False),
              "adamw": lambda ps: AdamW(ps, lr=1e-2, weight_decay=0.1)}


def test_requires_grad_sets_every_parameter_and_returns_the_module():
    model = _model()
    assert model.encoder.requires_grad_(False) is model.encoder
    names = trainable_parameters(model)
    assert names and not any(n.startswith("encoder.") for n in names)
    assert "decoder.block.1.layer.2.DenseReluDense.wo.weight" in names
    # The shared embedding is also the encoder's embed_tokens: freezing the encoder froze it.
    assert "shared.weight" not in names
    model.requires_grad_(True)
    assert trainable_parameters(model) == [n for n, _ in model.named_parameters()]


def test_requires_grad_refuses_a_non_boolean():
    with pytest.raises(TypeError, match="True or False"):
        Linear(2, 2, rng=0).requires_grad_("no")


def test_frozen_parameter_gets_no_gradient_and_its_weight_gradient_is_not_computed():
    class Two(Module):
        def __init__(self):
            super().__init__()
            self.first, self.second = Linear(3, 4, rng=0), Linear(4, 2, rng=1)

        def forward(self, x):
            return self.second(self.first(x))

    net = Two()
    net.first.requires_grad_(False)
    out = net(np.ones((5, 3), np.float32))
    # The frozen first layer is a constant: nothing before `second` is in the graph.
    assert out.creator.parents[0].creator is None
    out.sum().backward()
    assert net.first.weight.grad is None and net.second.weight.grad is not None


def test_a_frozen_encoder_and_embedding_record_no_encoder_graph():
    model = _model()
    model.encoder.requires_grad_(False)           # freezes the shared embedding with it
    out = model(**_batch(1))
    assert not out.encoder_last_hidden_state.requires_grad
    out.loss.backward()
    grads = {n: p.grad for n, p in model.named_parameters()}
    assert all(g is None for n, g in grads.items()
               if n.startswith("encoder.") or n == "shared.weight")
    assert all(g is not None for n, g in grads.items() if n.startswith("decoder."))


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_frozen_weights_stay_bit_identical_and_get_no_optimizer_state(name):
    model = _model()
    model.encoder.requires_grad_(False)
    before = model.state_dict()
    params = model.parameters()
    optimizer = OPTIMIZERS[name](params)
    for step in (1, 2, 3):
        _step(model, optimizer, step)
    after = model.state_dict()
    trainable = set(trainable_parameters(model))
    for n in before:
        if n in trainable:
            assert not np.array_equal(before[n], after[n]), n
        else:
            assert np.array_equal(before[n], after[n]), n
    names = [n for n, _ in model.named_parameters()]
    with_state = {names[int(k.split(".")[1])] for k in optimizer.state_dict()}
    assert with_state == trainable


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_resume_with_frozen_parameters_and_a_later_unfreeze_is_exact(name):
    def unfreeze_after_two(model, step):
        model.encoder.requires_grad_(step > 2)

    straight = _model()
    opt = OPTIMIZERS[name](straight.parameters())
    for step in (1, 2, 3, 4):
        unfreeze_after_two(straight, step)
        _step(straight, opt, step)

    first = _model()
    opt = OPTIMIZERS[name](first.parameters())
    for step in (1, 2):
        unfreeze_after_two(first, step)
        _step(first, opt, step)
    saved_weights, saved_state = first.state_dict(), opt.state_dict()
    assert not any(k.startswith(f"state.{i}.") for k in saved_state
                   for i, (n, _) in enumerate(first.named_parameters()) if n.startswith("encoder."))

    resumed = _model(seed=5)                      # other initial weights: all must come from disk
    resumed.load_state_dict(saved_weights)
    opt = OPTIMIZERS[name](resumed.parameters())
    opt.load_state_dict({k: np.asarray(v) for k, v in saved_state.items()})
    for step in (3, 4):
        unfreeze_after_two(resumed, step)
        _step(resumed, opt, step)
    for (n, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert np.array_equal(a, b), n
