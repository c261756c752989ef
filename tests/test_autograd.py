"""The autograd engine itself: graph walking, accumulation, no_grad, dtypes, and errors."""
import numpy as np
import pytest
from hypothesis import given

from minit5.autograd import Function, Tensor, is_grad_enabled, no_grad
from minit5.testing import assert_close, grad_check
from tests.strategies import arrays, broadcastable_shapes, shapes


def leaf(values, dtype=np.float64):
    return Tensor(np.asarray(values, dtype=dtype), requires_grad=True)


# ---- the graph ---------------------------------------------------------------------------
def test_reused_node_collects_every_use_before_passing_on():
    # b = 2a is used twice by c = b * b = 4a^2, so dc/da = 8a: b must hold the gradient from
    # both uses before it passes its own on (reverse topological order).
    a = leaf([1.0, -2.0, 3.0])
    b = a + a
    c = b * b
    c.backward(np.ones(3))
    assert_close(a.grad, 8 * a.data, name="dc/da")


def test_diamond_graph():
    a = leaf([0.5, 2.0])
    b = a * 3.0
    c = b.exp() + b.tanh() * b          # b reaches c along three paths
    c.sum().backward()
    b_ = 3 * a.data
    expected = 3 * (np.exp(b_) + (1 - np.tanh(b_) ** 2) * b_ + np.tanh(b_))
    assert_close(a.grad, expected, rtol=1e-12, name="da")


def test_deep_chain_backward_has_no_recursion_limit():
    a = leaf([1.0])
    x = a
    for _ in range(10_000):
        x = x * 1.0001
    x.sum().backward()
    assert_close(a.grad, [1.0001 ** 10_000], rtol=1e-9, name="d(chain)/da")
    del x   # dropping a deep graph must not recurse either


def test_gradients_accumulate_across_backward_calls():
    a = leaf([1.0, 2.0])
    (a * 3.0).sum().backward()
    (a * a).sum().backward()            # a fresh graph: grads add to the first
    assert_close(a.grad, 3.0 + 2 * a.data, name="accumulated grad")
    a.zero_grad()
    assert a.grad is None


def test_leaf_grad_is_its_own_array():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    g = np.array([1.0, -1.0])
    (a + b).backward(g)
    assert a.grad is not b.grad and a.grad is not g
    g[:] = 0
    a.grad += 1                         # an in-place update (an optimizer's) stays local
    assert_close(b.grad, [1.0, -1.0], name="b.grad")


def test_gradients_added_in_place_reach_every_input_unaliased():
    """The engine adds a second gradient for one input into the first in place when that
    first one is its own (minit5.autograd.tensor._pass_on): check the sums, and that no
    leaf's .grad shares memory with another's, with the caller's gradient or with a saved
    array, so that an optimizer's in-place update stays local."""
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    g = np.array([1.0, -1.0])
    out = a * 2.0 + a * b + a + b.reshape(2) + (a + b)      # a used 4x, b 3x
    out.backward(g)
    assert_close(a.grad, g * (2.0 + b.data + 1 + 1), name="a.grad")
    assert_close(b.grad, g * (a.data + 1 + 1), name="b.grad")
    assert not np.shares_memory(a.grad, b.grad) and not np.shares_memory(a.grad, g)
    np.testing.assert_array_equal(g, [1.0, -1.0])           # the caller's array is untouched


def test_a_backward_returning_a_saved_array_keeps_it_intact():
    class Scale(Function):              # d(x * s)/dx = s: backward hands back a saved array
        def forward(self, x, s):
            self.save_for_backward(s)
            return x * s

        def backward(self, g):
            (s,) = self.saved
            return s, None

    s = np.array([2.0, 3.0])
    x = leaf([1.0, 1.0])
    y = Scale.apply(x, s).sum() + Scale.apply(x, s).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert_close(x.grad, 4 * s, name="x.grad after two backward passes")
    np.testing.assert_array_equal(s, [2.0, 3.0])


def test_only_needed_gradients_are_computed():
    a, c = leaf([1.0, 2.0]), Tensor(np.array([3.0, 4.0]))
    (a * c).sum().backward()
    assert c.grad is None and not c.requires_grad
    assert_close(a.grad, c.data, name="da")


def test_non_leaf_holds_no_grad_and_leaf_flags():
    a = leaf([1.0])
    b = a * 2.0
    assert a.is_leaf and not b.is_leaf and b.requires_grad
    b.sum().backward()
    assert b.grad is None


@given(pair=broadcastable_shapes(2))
def test_broadcast_gradients_are_summed_back_to_each_input_shape(pair):
    shape_a, shape_b = pair.input_shapes
    a = leaf(np.ones(shape_a))
    b = leaf(np.full(shape_b, 2.0))
    (a * b).backward(np.ones(pair.result_shape))
    assert a.grad.shape == shape_a and b.grad.shape == shape_b
    # each element of a meets (result size / a size) elements of b, each equal to 2
    assert_close(a.grad, np.full(shape_a, 2.0 * np.prod(pair.result_shape) / max(a.size, 1)),
                 name="a.grad")
    assert_close(b.grad, np.full(shape_b, np.prod(pair.result_shape) / max(b.size, 1)),
                 name="b.grad")


@given(x=arrays(shapes(min_dims=1), layout="noncontiguous"))
def test_grad_check_accepts_noncontiguous_input_and_leaves_it_unchanged(x):
    before = x.copy()
    grad_check(lambda t: (t * t).tanh(), x)
    assert np.array_equal(x, before) and not (x.size > 1 and x.flags.c_contiguous)


def test_grad_check_reports_the_input_index_and_values():
    class WrongSquare(Function):
        def forward(self, a):
            self.a = a
            return a * a

        def backward(self, g):
            return g * 2.1 * self.a             # should be 2 a

    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    y = np.array([0.5, 0.5])
    with pytest.raises(AssertionError, match=r"input 1 \(shape \(2, 2\)\) at index \(\d, \d\): "
                                             r"analytic .* vs numeric .*relative error"):
        grad_check(lambda b, a: b + WrongSquare.apply(a), y, x)


def test_grad_check_floor_for_tiny_gradients():
    # 1e-9 analytic vs 0 numeric is far off relatively, but within atol = 1e-8.
    class Tiny(Function):
        def forward(self, a):
            return a * 0.0

        def backward(self, g):
            return g * 1e-9

    assert grad_check(Tiny.apply, np.array([1.0, 2.0])) <= 1e-6


# ---- no_grad -------------------------------------------------------------------------------
def test_no_grad_records_no_graph():
    a = leaf([1.0, 2.0])
    with no_grad():
        assert not is_grad_enabled()
        b = a * 2.0 + 1.0
    assert is_grad_enabled()
    assert not b.requires_grad and b.is_leaf
    with pytest.raises(RuntimeError, match="does not require grad"):
        b.sum().backward()


def test_no_grad_restores_the_state_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with no_grad():
            1 / 0
    assert is_grad_enabled()
    with no_grad():
        with no_grad():
            pass
        assert not is_grad_enabled()    # nested blocks restore what was there, not True
    assert is_grad_enabled()


# ---- dtypes --------------------------------------------------------------------------------
def test_float32_stays_float32_through_forward_and_backward():
    a = leaf([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    w = leaf([[0.5], [0.25]], dtype=np.float32)
    loss = ((a @ w).tanh() * 2.0 + 1).exp().mean() / 3 - 0.5
    assert loss.dtype == np.float32
    loss.backward()
    assert a.grad.dtype == np.float32 and w.grad.dtype == np.float32


def test_float64_stays_float64_including_full_reductions():
    # A full reduction gives a NumPy scalar, not an array; it must keep float64.
    a = leaf([1.0, 2.0, 3.0])
    for out in (a.sum(), a.mean(), a.max(), a @ a, (a.sum() * 2.0).exp()):
        assert out.dtype == np.float64, out
    (a @ a).backward()
    assert a.grad.dtype == np.float64
    assert_close(a.grad, 2 * a.data, name="d(a.a)/da")


def test_python_scalars_take_the_tensor_dtype():
    a = Tensor(np.ones(2, dtype=np.float32))
    for out in (a + 1, 1 + a, a * 2.5, 2.5 * a, a - 1e-3, 1e-3 - a, a / 3, 3 / a, a ** 2,
                a * np.float64(2.0)):
        assert out.dtype == np.float32, out


def test_python_lists_become_float32_and_integer_tensors_refuse_grad():
    assert Tensor([1.0, 2.0]).dtype == np.float32
    assert Tensor(np.array([1.0])).dtype == np.float64
    with pytest.raises(TypeError, match="floating-point"):
        Tensor(np.array([1, 2]), requires_grad=True)


def test_backward_grad_argument_is_cast_to_the_tensor_dtype():
    a = leaf([1.0, 2.0], dtype=np.float32)
    (a * 2.0).backward(np.array([1.0, 1.0]))           # a float64 gradient flowing in
    assert a.grad.dtype == np.float32


# ---- misuse gives clear errors -------------------------------------------------------------
def test_matmul_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\) @ \(4, 5\)"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"\(2, 3\) @ \(4,\)"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones(4))


def test_backward_on_non_scalar_needs_a_gradient():
    a = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"non-scalar tensor of shape \(2,\).*gradient"):
        (a * 2.0).backward()
    with pytest.raises(ValueError, match=r"grad has shape \(3,\) but the tensor has shape \(2,\)"):
        (a * 2.0).backward(np.ones(3))


def test_backward_twice_without_retain_graph_says_so():
    a = leaf([1.0, 2.0])
    loss = (a * a).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        loss.backward()


def test_backward_through_a_freed_shared_node_says_so():
    # b's graph is freed by the first backward; a second graph through b must not treat b as
    # a leaf (that would leave a.grad silently wrong).
    a = leaf([1.0, 2.0])
    b = a * 2.0
    b.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        (b * 3.0).sum().backward()


def test_retain_graph_allows_a_second_backward():
    a = leaf([1.0, 2.0])
    loss = (a * a).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    assert_close(a.grad, 4 * a.data, name="twice 2a")


def test_pow_with_a_tensor_exponent_is_refused():
    with pytest.raises(TypeError, match="constant exponent"):
        leaf([1.0]) ** leaf([2.0])


# ---- numpy() and detach() ------------------------------------------------------------------
def test_numpy_returns_a_copy():
    a = Tensor(np.array([1.0, 2.0]))
    n = a.numpy()
    n[0] = 100.0
    assert a.data[0] == 1.0
    assert isinstance(n, np.ndarray) and n.dtype == np.float64


def test_detach_cuts_the_graph_and_keeps_values_and_dtype():
    a = leaf([1.0, 2.0], dtype=np.float32)
    b = a * 2.0
    d = b.detach()
    assert not d.requires_grad and d.is_leaf and d.dtype == np.float32
    np.testing.assert_array_equal(d.data, b.data)
    (d * a).sum().backward()            # only the path through a counts
    assert_close(a.grad, d.data, name="grad without the detached path")


def test_a_lookup_tables_gradient_arrives_as_rows_and_adds_like_a_dense_one():
    """F.embedding's CPU gradient is a RowGradient (the touched rows only); the engine adds it
    into the table's other gradients or makes it dense, and every .grad is a plain array equal
    to the dense computation: a table looked up twice and used as an output projection (T5's
    tied embedding), a table only looked up, and a table computed from a leaf."""
    from minit5 import functional as F
    from minit5.autograd.row_gradient import RowGradient
    from minit5.kernels import embedding_backward
    rng = np.random.default_rng(0)
    w = leaf(rng.standard_normal((7, 3)))
    ids_a, ids_b = np.array([[1, 4, 1]]), np.array([2, 2, 6, 1])
    x = Tensor(rng.standard_normal((2, 3)))
    g_a, g_b = rng.standard_normal((1, 3, 3)), rng.standard_normal((4, 3))
    out = ((F.embedding(w, ids_a) * Tensor(g_a)).sum() + (F.embedding(w, ids_b) * Tensor(g_b)).sum()
           + F.linear(x, w).sum())
    out.backward()
    dense = (embedding_backward.reference_backward((7, 3), ids_a.reshape(-1), g_a.reshape(-1, 3))
             + embedding_backward.reference_backward((7, 3), ids_b, g_b) + x.data.sum(0))
    assert type(w.grad) is np.ndarray
    assert_close(w.grad, dense, rtol=1e-15, atol=1e-15, name="tied table")

    only = leaf(rng.standard_normal((7, 3)))
    (F.embedding(only, ids_b) * Tensor(g_b)).sum().backward()
    np.testing.assert_array_equal(only.grad,
                                  embedding_backward.reference_backward((7, 3), ids_b, g_b))

    base = leaf(rng.standard_normal((7, 3)))
    (F.embedding(base * 2.0, ids_b) * Tensor(g_b)).sum().backward()   # through a non-leaf
    np.testing.assert_array_equal(base.grad,
                                  2 * embedding_backward.reference_backward((7, 3), ids_b, g_b))
    grad = F.Embedding()
    grad.shape = (7, 3)
    grad.save_for_backward(ids_b)
    assert isinstance(grad.backward(g_b), RowGradient)
