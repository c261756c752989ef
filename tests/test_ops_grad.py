"""Every differentiable op, checked against finite differences, from one registry.

`OPS` lists each op once: a name, the function under test (Tensors in, a Tensor out), a
hypothesis strategy for its inputs (arrays in a random memory layout, broadcast shapes, values
inside the op's domain, plus any constant options) and which inputs get gradients. The tests
below run every entry:
  - test_op_gradient: `grad_check` in float64 on 50 examples, relative error <= 1e-6, on NumPy
    and (marked `gpu`) on CuPy, once with inputs in whatever layout was drawn and once with
    every input moved to a non-contiguous layout;
  - test_op_keeps_float32: float32 in gives float32 out and float32 gradients.
A new op needs one new entry here, and is then tested the same way as every other.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minit5 import backend
from minit5 import functional as F
from minit5.autograd import Tensor, ops
from minit5.testing import grad_check
from tests.strategies import arrays, broadcastable_shapes, index_arrays, noncontiguous_like, shapes

GRAD_EXAMPLES = 50
BACKENDS = ["numpy", pytest.param("cupy", marks=pytest.mark.gpu)]


@dataclass(frozen=True)
class Op:
    name: str
    fn: Callable                   # fn(*tensors, **options) -> Tensor
    inputs: st.SearchStrategy      # draws (list of float arrays, dict of constant options)
    grads: Optional[tuple] = None  # positions of the inputs that get gradients (None: all)

    def __repr__(self):
        return self.name


# ---- input strategies ----------------------------------------------------------------------
def _no_options(strategy):
    """(arrays, {}) from a strategy of a list of arrays."""
    return strategy.map(lambda xs: (xs, {}))


def unary(domain="real"):
    return _no_options(arrays(shapes(), domain).map(lambda x: [x]))


@st.composite
def binary(draw, domain_a="real", domain_b="real"):
    """Two arrays whose shapes broadcast together."""
    shape_a, shape_b = draw(broadcastable_shapes(2)).input_shapes
    return [draw(arrays(shape_a, domain_a)), draw(arrays(shape_b, domain_b))], {}


@st.composite
def pow_inputs(draw):
    exponent = draw(st.sampled_from([2, 3, -1, 0.5, 1.5, -0.5, 2.5]))
    return [draw(arrays(shapes(), "positive"))], {"exponent": exponent}


@st.composite
def matmul_inputs(draw):
    """1-D and batched operands; batch axes broadcast against each other."""
    m, k, n = (draw(st.integers(1, 4)) for _ in range(3))
    a_vector, b_vector = draw(st.booleans()), draw(st.booleans())
    batch_a, batch_b = draw(broadcastable_shapes(2, max_dims=2, max_side=3)).input_shapes
    shape_a = (k,) if a_vector else batch_a + (m, k)
    shape_b = (k,) if b_vector else batch_b + (k, n)
    return [draw(arrays(shape_a)), draw(arrays(shape_b))], {}


def _axes(ndim):
    """An axis option for a reduction: None, one axis (maybe negative) or a tuple of axes."""
    if ndim == 0:
        return st.none()
    return st.one_of(st.none(), st.integers(-ndim, ndim - 1),
                     hnp.valid_tuple_axes(ndim, min_size=1))


@st.composite
def reduction_inputs(draw, domain="real"):
    x = draw(arrays(shapes(), domain))
    return [x], {"axis": draw(_axes(x.ndim)), "keepdims": draw(st.booleans())}


@st.composite
def reshape_inputs(draw):
    x = draw(arrays(shapes()))
    size = x.size
    divisors = [d for d in range(1, size + 1) if size % d == 0]
    d = draw(st.sampled_from(divisors))
    target = draw(st.sampled_from([(size,), (d, size // d), (d, -1), (1, size, 1), (-1,)]))
    return [x], {"shape": target}


@st.composite
def transpose_inputs(draw):
    x = draw(arrays(shapes()))
    return [x], {"axes": tuple(draw(st.permutations(range(x.ndim))))}


@st.composite
def slice_inputs(draw):
    """Basic indexing: integers, slices with steps (negative too), None, Ellipsis."""
    x = draw(arrays(shapes()))
    index = draw(hnp.basic_indices(x.shape, allow_newaxis=True, allow_ellipsis=True))
    return [x], {"index": index}


@st.composite
def gather_inputs(draw):
    """Integer-array indexing with repeats: along the first axis, the last, or two axes."""
    x = draw(arrays(shapes(min_dims=1)))
    where = draw(st.sampled_from(["first", "last", "pair"] if x.ndim > 1 else ["first"]))

    if where == "first":
        index = draw(index_arrays(x.shape[0]))
    elif where == "last":
        index = (Ellipsis, draw(index_arrays(x.shape[-1])))
    else:   # two index arrays of the same shape: x[rows[i], cols[i]]
        rows = draw(index_arrays(x.shape[0]))
        cols = draw(hnp.arrays(np.int64, rows.shape, elements=st.integers(0, x.shape[1] - 1)))
        index = (rows, cols)
    return [x], {"index": index}


@st.composite
def mask_index_inputs(draw):
    x = draw(arrays(shapes(min_dims=1)))
    return [x], {"index": draw(hnp.arrays(np.bool_, x.shape))}


@st.composite
def concatenate_inputs(draw):
    shape = draw(shapes(min_dims=1))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    count = draw(st.integers(1, 3))
    xs = []
    for _ in range(count):
        s = list(shape)
        s[axis] = draw(st.integers(1, 3))
        xs.append(draw(arrays(tuple(s))))
    return xs, {"axis": axis}


@st.composite
def stack_inputs(draw):
    shape = draw(shapes())
    axis = draw(st.integers(-len(shape) - 1, len(shape)))
    count = draw(st.integers(1, 3))
    return [draw(arrays(shape)) for _ in range(count)], {"axis": axis}


@st.composite
def where_inputs(draw):
    cond_shape, shape_a, shape_b = draw(broadcastable_shapes(3)).input_shapes
    condition = draw(hnp.arrays(np.bool_, cond_shape))
    return [draw(arrays(shape_a)), draw(arrays(shape_b))], {"condition": condition}


@st.composite
def shape_broadcasting_to(draw, shape):
    """A shape that broadcasts to `shape` without growing it: 1s put in, leading axes dropped."""
    drop = draw(st.integers(0, len(shape)))
    return tuple(n if draw(st.booleans()) else 1 for n in shape[drop:])


@st.composite
def masked_fill_inputs(draw):
    x = draw(arrays(shapes()))
    mask = draw(hnp.arrays(np.bool_, draw(shape_broadcasting_to(x.shape))))
    return [x], {"mask": mask, "value": draw(st.sampled_from([-1e9, 0.0, 2.5]))}


@st.composite
def maximum_inputs(draw):
    """a on the `distinct` grid and b on the `interleaved` one, so no pair ever ties."""
    shape_a, shape_b = draw(broadcastable_shapes(2)).input_shapes
    return [draw(arrays(shape_a, "distinct")), draw(arrays(shape_b, "interleaved"))], {}


@st.composite
def axis_inputs(draw):
    x = draw(arrays(shapes(min_dims=1)))
    return [x], {"axis": draw(st.integers(-x.ndim, x.ndim - 1))}


@st.composite
def attention_softmax_inputs(draw):
    """Scores and a position bias that broadcasts to them, as T5's (1, H, Lq, Lk) bias does."""
    scores = draw(arrays(shapes(min_dims=1)))
    return [scores, draw(arrays(draw(shape_broadcasting_to(scores.shape))))], {}


@st.composite
def same_shape_inputs(draw):
    """Two arrays of one shape (the fused gated GELU's case: wi_0 x and wi_1 x)."""
    shape = draw(shapes())
    return [draw(arrays(shape)), draw(arrays(shape))], {}


@st.composite
def rms_norm_inputs(draw):
    # x away from 0 so that mean(x^2) >> eps: near x = 0 the norm is 1/sqrt(eps) = 1000 times
    # steeper and the finite difference itself loses the digits we test for.
    x = draw(arrays(shapes(min_dims=1), "nonzero"))
    weight = draw(arrays((x.shape[-1],)))
    return [x, weight], {}


@st.composite
def dropout_inputs(draw):
    x = draw(arrays(shapes()))
    return [x], {"p": draw(st.sampled_from([0.1, 0.5])), "seed": draw(st.integers(0, 2 ** 16))}


def _dropout(x, p, seed):
    # grad_check calls fn many times: a fresh Generator from the same seed each time gives
    # the same mask each time.
    return F.dropout(x, p, rng=np.random.default_rng(seed))


@st.composite
def embedding_inputs(draw):
    vocab, dim = draw(st.integers(1, 5)), draw(st.integers(1, 4))
    ids = draw(index_arrays(vocab, negative=False))   # repeats are likely
    return [draw(arrays((vocab, dim)))], {"ids": ids}


@st.composite
def cross_entropy_inputs(draw):
    batch = draw(shapes(max_dims=2))
    vocab = draw(st.integers(1, 5))
    labels = draw(hnp.arrays(np.int64, batch,
                             elements=st.one_of(st.just(-100), st.integers(0, vocab - 1))))
    labels = labels.reshape(batch)
    if np.all(labels == -100):   # at least one counted position (none gives nan, by design)
        labels.reshape(-1)[0] = 0
    return [draw(arrays(batch + (vocab,)))], {"labels": labels}


@st.composite
def linear_inputs(draw):
    batch = draw(shapes(max_dims=2))
    n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    return [draw(arrays(batch + (n_in,))), draw(arrays((n_out, n_in)))], {}


# ---- the registry --------------------------------------------------------------------------
OPS = [
    Op("add", lambda a, b: a + b, binary()),
    Op("sub", lambda a, b: a - b, binary()),
    Op("mul", lambda a, b: a * b, binary()),
    Op("mul[a only]", lambda a, b: a * b, binary(), grads=(0,)),
    Op("div", lambda a, b: a / b, binary("real", "nonzero")),
    Op("neg", lambda x: -x, unary()),
    Op("pow", lambda x, exponent: x ** exponent, pow_inputs()),
    Op("exp", lambda x: x.exp(), unary()),
    Op("log", lambda x: x.log(), unary("positive")),
    Op("sqrt", lambda x: x.sqrt(), unary("positive")),
    Op("rsqrt", lambda x: x.rsqrt(), unary("positive")),
    Op("tanh", lambda x: x.tanh(), unary()),
    Op("matmul", lambda a, b: a @ b, matmul_inputs()),
    Op("matmul[b only]", lambda a, b: a @ b, matmul_inputs(), grads=(1,)),
    Op("sum", lambda x, axis, keepdims: x.sum(axis, keepdims), reduction_inputs()),
    Op("mean", lambda x, axis, keepdims: x.mean(axis, keepdims), reduction_inputs()),
    Op("max", lambda x, axis, keepdims: x.max(axis, keepdims), reduction_inputs("distinct")),
    Op("reshape", lambda x, shape: x.reshape(shape), reshape_inputs()),
    Op("transpose", lambda x, axes: x.transpose(axes), transpose_inputs()),
    Op("permute", lambda x, axes: x.permute(*axes), transpose_inputs()),
    Op("getitem[slices]", lambda x, index: x[index], slice_inputs()),
    Op("getitem[gather]", lambda x, index: x[index], gather_inputs()),
    Op("getitem[mask]", lambda x, index: x[index], mask_index_inputs()),
    Op("concatenate", lambda *xs, axis: ops.concatenate(xs, axis=axis), concatenate_inputs()),
    Op("stack", lambda *xs, axis: ops.stack(xs, axis=axis), stack_inputs()),
    Op("where", lambda a, b, condition: ops.where(condition, a, b), where_inputs()),
    Op("masked_fill", lambda x, mask, value: x.masked_fill(mask, value), masked_fill_inputs()),
    Op("maximum", ops.maximum, maximum_inputs()),
    Op("relu", lambda x: x.relu(), unary("nonzero")),
    Op("softmax", lambda x, axis: F.softmax(x, axis=axis), axis_inputs()),
    Op("log_softmax", lambda x, axis: F.log_softmax(x, axis=axis), axis_inputs()),
    Op("attention_softmax", F.attention_softmax, attention_softmax_inputs()),
    Op("gelu_new", F.gelu_new, unary()),
    Op("gated_gelu", F.gated_gelu, same_shape_inputs()),
    Op("gated_gelu[broadcast]", F.gated_gelu, binary()),
    Op("gelu", F.gelu, unary()),
    Op("sigmoid", F.sigmoid, unary()),
    Op("silu", F.silu, unary()),
    Op("rms_norm", F.rms_norm, rms_norm_inputs()),
    Op("rms_norm[weight only]", F.rms_norm, rms_norm_inputs(), grads=(1,)),
    Op("dropout", _dropout, dropout_inputs()),
    Op("embedding", lambda weight, ids: F.embedding(weight, ids), embedding_inputs()),
    Op("embedding[validated]", lambda weight, ids: F.embedding(weight, ids, validated=True),
       embedding_inputs()),
    Op("cross_entropy", lambda logits, labels: F.cross_entropy(logits, labels),
       cross_entropy_inputs()),
    Op("cross_entropy[validated]",
       lambda logits, labels: F.cross_entropy(logits, labels, validated=True),
       cross_entropy_inputs()),
    Op("linear", F.linear, linear_inputs()),
    Op("linear[weight only]", F.linear, linear_inputs(), grads=(1,)),
]


# ---- moving inputs to a backend --------------------------------------------------------------
def to_backend(value, name):
    """NumPy arrays (inside tuples, lists and dicts too) moved to the backend `name`.

    A non-contiguous float array stays non-contiguous on the GPU: its values are written into
    every other element of a new device buffer.
    """
    if name == "numpy":
        return value
    if isinstance(value, dict):
        return {k: to_backend(v, name) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(to_backend(v, name) for v in value)
    if not isinstance(value, np.ndarray):
        return value
    device_array = backend.to_device(value, "gpu")
    if value.flags.c_contiguous or value.size < 2:
        return device_array
    xp = backend.get_array_module(device_array)
    padded = xp.zeros(value.shape + (2,), dtype=value.dtype)   # (..., 2)
    view = padded[..., 0]
    view[...] = device_array
    return view


# ---- the tests -----------------------------------------------------------------------------
@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("layout", ["any-layout", "noncontiguous"])
@pytest.mark.parametrize("op", OPS, ids=repr)
@settings(max_examples=GRAD_EXAMPLES)
@given(data=st.data())
def test_op_gradient(op, layout, backend_name, data):
    """grad_check passes on inputs as drawn (any layout), and again with every input of two
    elements or more moved to a non-contiguous layout."""
    xs, options = data.draw(op.inputs, label="inputs and options")
    if layout == "noncontiguous":
        xs = [data.draw(noncontiguous_like(x), label=f"input {i}") for i, x in enumerate(xs)]
    xs, options = to_backend(xs, backend_name), to_backend(options, backend_name)
    grads = range(len(xs)) if op.grads is None else op.grads
    tensors = [Tensor(x, requires_grad=i in grads) for i, x in enumerate(xs)]
    error = grad_check(lambda *ts: op.fn(*ts, **options), *tensors)
    assert error <= 1e-6


@pytest.mark.parametrize("op", OPS, ids=repr)
@settings(max_examples=10)
@given(data=st.data())
def test_op_keeps_float32(op, data):
    xs, options = data.draw(op.inputs, label="inputs and options")
    grads = range(len(xs)) if op.grads is None else op.grads
    tensors = [Tensor(x.astype(np.float32), requires_grad=i in grads) for i, x in enumerate(xs)]
    out = op.fn(*tensors, **options)
    assert out.dtype == np.float32, f"{op.name}: float32 inputs gave a {out.dtype} output"
    out.backward(np.ones(out.shape, dtype=np.float32))
    for i in grads:
        grad = tensors[i].grad
        assert grad is not None and grad.dtype == np.float32, \
            f"{op.name}: input {i} is float32 but its gradient is {getattr(grad, 'dtype', None)}"


def test_registry_covers_the_functional_api():
    """Every public function of minit5.autograd.ops and minit5.functional has an entry in OPS
    (an entry's name is the function's name, with an optional "[variant]")."""
    tested = {op.name.split("[")[0] for op in OPS}
    helpers = {"unbroadcast",    # not an op: the sum that undoes broadcasting, used by backward
               "setup_tensor",   # binds the ops onto Tensor (they are tested through it here)
               "check_ids"}      # embedding's range check (tests/kernels/test_parity.py)
    public = set()
    for module in (ops, F):
        public |= {name for name, value in vars(module).items()
                   if callable(value) and not isinstance(value, type)
                   and not name.startswith("_")
                   and getattr(value, "__module__", None) == module.__name__}
    missing = public - tested - helpers
    assert not missing, f"ops without a gradient test in OPS: {sorted(missing)}"


# ---- the strategies do what they promise -------------------------------------------------------
@given(x=arrays(shapes(), layout=True), data=st.data())
def test_layouts_keep_values_and_noncontiguous_is_never_contiguous(x, data):
    y = data.draw(noncontiguous_like(x))
    np.testing.assert_array_equal(x, y)
    assert y.shape == x.shape and (y.size < 2 or not y.flags.c_contiguous)


@given(data=st.data())
def test_distinct_and_interleaved_values_never_tie(data):
    shape_a, shape_b = data.draw(broadcastable_shapes(2)).input_shapes
    a = data.draw(arrays(shape_a, "distinct"))
    b = data.draw(arrays(shape_b, "interleaved"))
    gaps = np.abs(a.reshape(-1, 1) - a.reshape(1, -1)) + np.eye(a.size)
    assert gaps.min(initial=1.0) >= 0.025 - 1e-12
    assert np.abs(np.subtract.outer(a, b)).min(initial=1.0) >= 0.005 - 1e-12
