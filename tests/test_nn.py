"""Modules: registration, checkpoint names, state dicts, modes, dtypes and dropout's generator."""
import numpy as np
import pytest

from minit5.autograd import Tensor
from minit5.nn import Dropout, Embedding, Linear, Module, ModuleList, Parameter, T5LayerNorm
from minit5.testing import assert_close


class Stack(Module):
    """A T5-like toy: a shared embedding reached from two stacks, blocks in a ModuleList."""

    def __init__(self, embed_tokens, n_blocks=2):
        super().__init__()
        self.embed_tokens = embed_tokens
        self.block = ModuleList([Linear(3, 3, rng=np.random.default_rng(i))
                                 for i in range(n_blocks)])
        self.final_layer_norm = T5LayerNorm(3)
        self.dropout = Dropout(0.5)


class Toy(Module):
    def __init__(self):
        super().__init__()
        self.shared = Embedding(5, 3, rng=10)
        self.encoder = Stack(self.shared)
        self.decoder = Stack(self.shared, n_blocks=1)
        self.lm_head = Linear(3, 5, rng=11)

    def forward(self, ids):
        h = self.encoder.dropout(self.shared(ids))
        for block in self.decoder.block:
            h = block(h)
        return self.lm_head(self.decoder.dropout(h))


TOY_NAMES = [
    "shared.weight",
    "encoder.block.0.weight", "encoder.block.1.weight", "encoder.final_layer_norm.weight",
    "decoder.block.0.weight", "decoder.final_layer_norm.weight",
    "lm_head.weight",
]


# ---- registration and names ----------------------------------------------------------------
def test_named_parameters_order_and_shared_module_named_where_first_met():
    model = Toy()
    assert [name for name, _ in model.named_parameters()] == TOY_NAMES
    assert model.encoder.embed_tokens is model.shared
    assert len(model.parameters()) == len(TOY_NAMES)


def test_tied_parameter_is_listed_once():
    model = Toy()
    model.lm_head.weight = model.shared.weight          # tie the output layer to the input one
    names = [name for name, _ in model.named_parameters()]
    assert names == TOY_NAMES[:-1]
    assert "lm_head.weight" not in model.state_dict()


def test_named_modules_lists_each_module_once():
    model = Toy()
    names = [name for name, _ in model.named_modules()]
    assert names[:3] == ["", "shared", "encoder"]
    assert "encoder.embed_tokens" not in names and "decoder.block.0" in names
    assert len(names) == len(set(names)) == len(model.modules())


def test_registration_follows_assignment():
    class M(Module):
        def __init__(self):
            super().__init__()
            self.b = Parameter(np.zeros(2))
            self.a = Parameter(np.zeros(1))
            self.scratch = Tensor(np.zeros(3))    # a plain Tensor is not a parameter
            self.child = Linear(2, 2, rng=0)

    m = M()
    assert [n for n, _ in m.named_parameters()] == ["b", "a", "child.weight"]
    m.a = None                                    # replacing a parameter unregisters it
    m.child = "not a module"
    assert [n for n, _ in m.named_parameters()] == ["b"]


def test_forgetting_super_init_is_a_clear_error():
    class Bad(Module):
        def __init__(self):
            self.w = Parameter(np.zeros(1))

    with pytest.raises(RuntimeError, match=r"super\(\).__init__\(\)"):
        Bad()


def test_parameters_require_grad_and_zero_grad_clears_them():
    model = Toy().eval()
    assert all(p.requires_grad for p in model.parameters())
    model(np.array([[0, 1, 1]])).sum().backward()
    used = [model.shared.weight, model.decoder.block[0].weight, model.lm_head.weight]
    assert all(p.grad is not None and p.grad.shape == p.shape for p in used)
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


# ---- state dicts ---------------------------------------------------------------------------
def test_state_dict_is_a_copy_keyed_by_name():
    model = Toy()
    state = model.state_dict()
    assert list(state) == TOY_NAMES
    assert all(isinstance(v, np.ndarray) for v in state.values())
    state["shared.weight"][:] = 123.0
    assert not np.any(model.shared.weight.data == 123.0)


def test_load_state_dict_round_trip_keeps_dtype_and_copies():
    source, target = Toy(), Toy()
    state = {k: (v * 2).astype(np.float64) for k, v in source.state_dict().items()}
    target.load_state_dict(state)
    for name, p in target.named_parameters():
        assert p.dtype == np.float32
        assert_close(p.data, state[name], name=name)
    state["lm_head.weight"][:] = 0.0                 # the model holds its own copy
    assert np.any(target.lm_head.weight.data != 0.0)


def test_load_state_dict_strict_names_missing_and_unexpected_keys():
    model = Toy()
    state = model.state_dict()
    del state["decoder.final_layer_norm.weight"]
    with pytest.raises(KeyError, match=r"missing \['decoder.final_layer_norm.weight'\]"):
        model.load_state_dict(state)
    state = model.state_dict()
    state["encoder.embed_tokens.weight"] = state["shared.weight"]
    with pytest.raises(KeyError, match=r"unexpected \['encoder.embed_tokens.weight'\]"):
        model.load_state_dict(state)


def test_load_state_dict_shape_error_names_the_key_and_both_shapes():
    model = Toy()
    state = model.state_dict()
    state["lm_head.weight"] = np.zeros((6, 3), dtype=np.float32)
    with pytest.raises(ValueError, match=r"lm_head.weight: checkpoint has \(6, 3\), "
                                         r"the model expects \(5, 3\)"):
        model.load_state_dict(state)


def test_load_state_dict_non_strict_loads_what_it_can():
    model = Toy()
    state = {"lm_head.weight": np.ones((5, 3)), "extra.weight": np.ones(2)}
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert unexpected == ["extra.weight"]
    assert set(missing) == set(TOY_NAMES) - {"lm_head.weight"}
    assert_close(model.lm_head.weight.data, np.ones((5, 3)), name="lm_head.weight")


# ---- modes, dtypes ------------------------------------------------------------------------
def test_train_and_eval_reach_every_module():
    model = Toy()
    assert model.eval() is model
    assert all(not m.training for m in model.modules())
    assert not model.encoder.block[1].training and not model.decoder.dropout.training
    assert model.train() is model
    assert all(m.training for m in model.modules())
    model.train(False)
    assert not model.shared.training


def test_to_dtype_casts_every_parameter_and_clears_grads():
    model = Toy()
    model.lm_head.weight.grad = np.ones((5, 3), dtype=np.float32)
    assert model.to(dtype="float64") is model
    assert all(p.dtype == np.float64 for p in model.parameters()) and model.dtype == np.float64
    assert model.lm_head.weight.grad is None
    model.to(dtype=np.float32)
    assert all(p.dtype == np.float32 for p in model.parameters())
    with pytest.raises(ValueError, match="unsupported dtype"):
        model.to(dtype="float16")
    model.to(device="cpu")
    assert model.device == "cpu"


# ---- dropout and its generator -------------------------------------------------------------
def test_dropout_in_training_without_a_generator_is_a_clear_error():
    layer = Dropout(0.1)
    with pytest.raises(RuntimeError, match="set_dropout_rng"):
        layer(Tensor(np.ones(4)))


def test_dropout_is_the_identity_in_eval_or_at_p_zero():
    x = Tensor(np.ones(4))
    assert Dropout(0.5).eval()(x) is x
    assert Dropout(0.0)(x) is x


def test_set_dropout_rng_reaches_every_dropout_layer():
    model = Toy()
    rng = np.random.default_rng(0)
    assert model.set_dropout_rng(rng) is model
    layers = [m for m in model.modules() if isinstance(m, Dropout)]
    assert len(layers) == 2 and all(m.rng is rng for m in layers)


def test_dropout_with_a_seeded_generator_replays_exactly():
    model = Toy()
    ids = np.array([[0, 1, 2, 3, 4, 0]])
    first = model.set_dropout_rng(np.random.default_rng(7))(ids).numpy()
    second = model(ids).numpy()                       # the generator has moved on
    replay = model.set_dropout_rng(np.random.default_rng(7))(ids).numpy()
    np.testing.assert_array_equal(first, replay)
    assert not np.array_equal(first, second)


def test_dropout_keeps_the_expected_scale():
    layer = Dropout(0.25)
    layer.rng = np.random.default_rng(0)
    y = layer(Tensor(np.ones(100_000))).numpy()
    assert set(np.unique(y)) <= {0.0, 1 / 0.75}
    assert abs(y.mean() - 1.0) < 0.01


def test_weights_need_an_explicit_random_source():
    """No silent default seed: two layers get the same weights only when asked to."""
    with pytest.raises(TypeError, match="rng"):
        Linear(4, 4)
    with pytest.raises(TypeError, match=r"explicit random source.*NoneType"):
        Embedding(4, 4, rng=None)
    generator = np.random.default_rng(0)
    first, second = Linear(4, 4, rng=generator), Linear(4, 4, rng=generator)
    assert not np.array_equal(first.weight.data, second.weight.data)
    assert np.array_equal(Linear(4, 4, rng=3).weight.data,
                          Linear(4, 4, rng=np.random.default_rng(3)).weight.data)
