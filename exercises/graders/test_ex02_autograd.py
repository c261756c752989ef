"""Graders for chapter 2 (autograd): each compares the student's function with the library's."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from exercises.graders.implementations import exercise, reference
from exercises.graders.report import check, check_array, check_pair, describe, fail
from minit5 import Tensor
from tests.strategies import arrays, broadcastable_shapes, shapes

unbroadcast = exercise("2.1")
mul_backward = exercise("2.2")
matmul_backward = exercise("2.3")
topological_order = exercise("2.4")
softmax_backward = exercise("2.5")
cross_entropy_with_grad = exercise("2.6")



# ---- 2.1 unbroadcast ------------------------------------------------------------------------

@st.composite
def leading_axes_case(draw):
    shape = draw(shapes(max_dims=2))
    lead = draw(shapes(min_dims=1, max_dims=2))
    return draw(arrays(lead + shape)), shape


@st.composite
def stretched_axes_case(draw):
    grad_shape = draw(shapes(min_dims=1, max_dims=3, min_side=2))
    ones = draw(st.lists(st.booleans(), min_size=len(grad_shape), max_size=len(grad_shape)))
    shape = tuple(1 if one else n for one, n in zip(ones, grad_shape))
    return draw(arrays(grad_shape)), shape


@st.composite
def broadcast_case(draw):
    shape, other = draw(broadcastable_shapes()).input_shapes
    result = np.broadcast_shapes(shape, other)
    return draw(arrays(result)), shape


@pytest.mark.ex2_1
@given(leading_axes_case())
def test_unbroadcast_sums_added_leading_axes(case):
    grad, shape = case
    check_array("unbroadcast", unbroadcast(grad, shape), reference("2.1")(grad, shape),
                "broadcasting added the leading axes grad has beyond len(shape): sum grad over "
                "them (axis=0 repeatedly, or axis=tuple(range(extra)))",
                inputs={"grad": grad, "shape": shape})


@pytest.mark.ex2_1
@given(stretched_axes_case())
def test_unbroadcast_sums_stretched_axes(case):
    grad, shape = case
    check_array("unbroadcast", unbroadcast(grad, shape), reference("2.1")(grad, shape),
                "where shape has a 1 but grad does not, the input was stretched: sum grad over "
                "that axis with keepdims=True so the 1 stays",
                inputs={"grad": grad, "shape": shape})


@pytest.mark.ex2_1
@given(broadcast_case())
def test_unbroadcast_undoes_any_broadcast(case):
    grad, shape = case
    check_array("unbroadcast", unbroadcast(grad, shape), reference("2.1")(grad, shape),
                "first sum away the added leading axes, then sum the stretched size-1 axes "
                "with keepdims=True; when the shapes already match, return grad as it is",
                inputs={"grad": grad, "shape": shape})


# ---- 2.2 mul backward -----------------------------------------------------------------------

@st.composite
def binary_case(draw):
    shape_a, shape_b = draw(broadcastable_shapes()).input_shapes
    result = np.broadcast_shapes(shape_a, shape_b)
    return draw(arrays(result)), draw(arrays(shape_a)), draw(arrays(shape_b))


@pytest.mark.ex2_2
@given(binary_case())
def test_mul_backward_matches_library(case):
    grad, a, b = case
    check_pair("mul_backward", mul_backward(grad, a, b), reference("2.2")(grad, a, b),
               ("grad_a", "grad_b"),
               "grad_a = unbroadcast(grad * b, a.shape) and grad_b = unbroadcast(grad * a, "
               "b.shape): each input's gradient is the other input times grad, summed back to "
               "its own shape", inputs={"grad": grad, "a": a, "b": b})


# ---- 2.3 matmul backward --------------------------------------------------------------------

@st.composite
def matmul_case(draw):
    batch_a, batch_b = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2,
                                                             max_side=3)).input_shapes
    m, k, n = (draw(st.integers(1, 4)) for _ in range(3))
    a = draw(arrays(batch_a + (m, k)))
    b = draw(arrays(batch_b + (k, n)))
    grad = draw(arrays(np.broadcast_shapes(batch_a, batch_b) + (m, n)))
    return grad, a, b


@pytest.mark.ex2_3
@given(matmul_case())
def test_matmul_backward_matches_library(case):
    grad, a, b = case
    check_pair("matmul_backward", matmul_backward(grad, a, b), reference("2.3")(grad, a, b),
               ("grad_a", "grad_b"),
               "grad_a = grad @ swapaxes(b, -1, -2) and grad_b = swapaxes(a, -1, -2) @ grad "
               "(np.matmul broadcasts the batch axes), then unbroadcast each to its input's "
               "shape; .T would reverse the batch axes too",
               inputs={"grad": grad, "a": a, "b": b}, rtol=1e-9, atol=1e-12)


# ---- 2.4 topological order ------------------------------------------------------------------

def _name(node):
    return "a leaf" if node._ctx is None else f"the output of {type(node._ctx).__name__}"


def check_order(order, root, hint):
    expected = reference("2.4")(root)
    if not isinstance(order, (list, tuple)):
        fail(f"topological_order returned {describe(order)}, expected a list of Tensors",
             "collect the nodes in a list and return it")
    ids = [id(node) for node in order]
    check(len(ids) == len(set(ids)),
          f"topological_order lists a node more than once ({len(ids)} entries for "
          f"{len(set(ids))} different nodes)",
          "keep a set of the ids of nodes already visited and skip those; a node used twice "
          "(b = a * a) must appear once")
    want = {id(node): node for node in expected}
    missing = [node for node in expected if id(node) not in set(ids)]
    check(not missing,
          f"topological_order misses {len(missing)} of the {len(want)} nodes the root depends "
          f"on, e.g. {_name(missing[0]) if missing else ''}",
          hint)
    extra = [node for node in order if id(node) not in want]
    check(not extra,
          f"topological_order lists {len(extra)} tensor(s) that should not be there "
          f"(e.g. {_name(extra[0]) if extra else ''}, requires_grad="
          f"{extra[0].requires_grad if extra else ''})",
          "list only tensors with requires_grad True that the root was computed from")
    position = {id(node): i for i, node in enumerate(order)}
    for node in order:
        for parent in (node._ctx.parents if node._ctx is not None else []):
            if parent.requires_grad and position[id(parent)] > position[id(node)]:
                fail(f"topological_order puts {_name(node)} (position {position[id(node)]}) "
                     f"before one of its inputs, {_name(parent)} (position "
                     f"{position[id(parent)]})",
                     "append a node only after all of its parents are in the list: in a "
                     "depth-first search, append on the way back out, not on the way in")


OPS = {
    "add": lambda x, y: x + y,
    "mul": lambda x, y: x * y,
    "sub": lambda x, y: x - y,
    "tanh": lambda x, y: x.tanh(),
    "sum": lambda x, y: (x * y).sum(),
}


@st.composite
def graphs(draw):
    """A random graph of Tensor ops over a few leaves, some of which need no gradient;
    picking earlier results again and again makes shared nodes (diamonds)."""
    n_leaves = draw(st.integers(1, 4))
    nodes = [Tensor(np.full((2,), 0.5 + i), requires_grad=(i == 0) or draw(st.booleans()))
             for i in range(n_leaves)]
    for _ in range(draw(st.integers(1, 12))):
        op = draw(st.sampled_from(sorted(OPS)))
        x = nodes[draw(st.integers(0, len(nodes) - 1))]
        y = nodes[draw(st.integers(0, len(nodes) - 1))]
        nodes.append(OPS[op](x, y))
    return nodes[-1] + nodes[0]                     # the root; it depends on leaf 0


@pytest.mark.ex2_4
@given(graphs())
def test_topological_order_is_valid_for_random_graphs(root):
    check_order(topological_order(root), root,
                "walk from the root through node._ctx.parents (where node._ctx is not None), "
                "following only parents with requires_grad True")


@pytest.mark.ex2_4
def test_topological_order_lists_a_shared_node_once():
    a = Tensor(np.array([2.0, 3.0]), requires_grad=True)
    b = a * a                   # a is used twice
    c = b + b                   # and so is b
    check_order(topological_order(c), c,
                "a node reached along two paths is still one node: mark it visited")


@pytest.mark.ex2_4
def test_topological_order_handles_deep_graphs():
    x = Tensor(np.array([1.0]), requires_grad=True)
    y = x
    for _ in range(3000):       # deeper than Python's default recursion limit (1000)
        y = y * 1.0
    try:
        order = topological_order(y)
    except RecursionError:
        fail("topological_order hit Python's recursion limit on a chain of 3000 ops",
             "replace the recursion by a loop over an explicit stack of (node, expanded) "
             "pairs: push (node, True) before its parents, append it when popped again")
    check_order(order, y, "every op of the chain, and the leaf, must be listed")


# ---- 2.5 softmax backward -------------------------------------------------------------------

@st.composite
def softmax_case(draw, scale=1.0):
    x = draw(arrays(shapes(min_dims=1))) * scale
    axis = draw(st.integers(-x.ndim, x.ndim - 1))
    return draw(arrays(x.shape)), x, axis


@pytest.mark.ex2_5
@given(softmax_case())
def test_softmax_backward_matches_library(case):
    grad, x, axis = case
    check_array("softmax_backward", softmax_backward(grad, x, axis=axis),
                reference("2.5")(grad, x, axis=axis),
                "with y = softmax(x), grad_x = y * (grad - (grad * y).sum(axis=axis, "
                "keepdims=True)); normalise along `axis`, not always the last one",
                inputs={"grad": grad, "x": x, "axis": axis})


@pytest.mark.ex2_5
@given(softmax_case(scale=300.0))
def test_softmax_backward_is_stable_for_large_inputs(case):
    grad, x, axis = case
    check_array("softmax_backward", softmax_backward(grad, x, axis=axis),
                reference("2.5")(grad, x, axis=axis),
                "exp(900) overflows: compute softmax of x - x.max(axis=axis, keepdims=True), "
                "which is the same softmax", inputs={"grad": grad, "x": x, "axis": axis},
                atol=1e-9)


# ---- 2.6 cross entropy ----------------------------------------------------------------------

@st.composite
def cross_entropy_case(draw, scale=1.0, ignore_all=False):
    lead = draw(shapes(min_dims=1, max_dims=2))
    vocab = draw(st.integers(2, 6))
    logits = draw(arrays(lead + (vocab,))) * scale
    ignore_index = draw(st.sampled_from([-100, -1]))
    label = st.just(ignore_index) if ignore_all else st.one_of(
        st.integers(0, vocab - 1), st.integers(0, vocab - 1), st.just(ignore_index))
    labels = draw(hnp.arrays(np.int64, lead, elements=label))
    return logits, labels, ignore_index


def check_cross_entropy(case, hint, **tolerance):
    logits, labels, ignore_index = case
    check_pair("cross_entropy_with_grad",
               cross_entropy_with_grad(logits, labels, ignore_index=ignore_index),
               reference("2.6")(logits, labels, ignore_index=ignore_index),
               ("loss", "grad_logits"), hint,
               inputs={"logits": logits, "labels": labels, "ignore_index": ignore_index},
               **tolerance)


@pytest.mark.ex2_6
@given(cross_entropy_case())
def test_cross_entropy_matches_library(case):
    check_cross_entropy(case, "loss = sum over counted n of (logsumexp(z_n) - z_n[label_n]) / "
                              "count; grad = (softmax(z_n) - onehot(label_n)) / count on counted "
                              "rows and 0 on ignored ones (count = number of counted positions)")


@pytest.mark.ex2_6
@given(cross_entropy_case(scale=300.0))
def test_cross_entropy_is_stable_for_large_logits(case):
    check_cross_entropy(case, "use log-sum-exp with the row max m: logsumexp(z) = m + "
                              "log(sum(exp(z - m))), so nothing overflows",
                        atol=1e-9)


@pytest.mark.ex2_6
@given(cross_entropy_case(ignore_all=True))
def test_cross_entropy_with_every_label_ignored(case):
    check_cross_entropy(case, "when no position counts, the loss is nan (0 / 0, as in "
                              "PyTorch) and the gradient is all zeros")
