"""Graders for chapter 2 (autograd): each compares the student's function with the library's."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from exercises.graders.implementations import exercise, reference
from exercises.graders.report import check, check_array, check_dtype, check_pair, describe, fail
from minit5 import Tensor
from minit5.autograd.ops import unbroadcast
from tests.strategies import arrays, broadcastable_shapes, shapes

sum_backward = exercise("2.1")
mul_backward = exercise("2.2")
matmul_backward = exercise("2.3")
gradients = exercise("2.4")
softmax_backward = exercise("2.5")
cross_entropy_with_grad = exercise("2.6")
max_backward = exercise("2.7")


def any_arrays(shape):
    """`arrays` of a shape, 0-d included (a 0-d array as NumPy makes it)."""
    if shape:
        return arrays(shape)
    return st.floats(-3, 3).map(np.array)


# ---- 2.1 sum backward -----------------------------------------------------------------------

@st.composite
def sum_case(draw):
    shape = draw(shapes(min_dims=0, max_dims=4))
    ndim = len(shape)
    kind = draw(st.sampled_from(["none", "int", "tuple"])) if ndim else "none"
    if kind == "none":
        axis = None
    elif kind == "int":
        axis = draw(st.integers(-ndim, ndim - 1))
    else:
        picked = draw(st.lists(st.integers(0, ndim - 1), unique=True, min_size=1,
                               max_size=ndim))
        axis = tuple(a - ndim if draw(st.booleans()) else a for a in picked)  # mixed signs
    keepdims = draw(st.booleans())
    out_shape = np.zeros(shape).sum(axis=axis, keepdims=keepdims).shape
    grad = np.asarray(draw(any_arrays(out_shape)))
    return grad.astype(draw(st.sampled_from([np.float64, np.float32]))), shape, axis, keepdims


def sum_mistakes(grad, shape, axis, keepdims):
    return [("broadcasting grad straight to the shape without putting the summed axes back",
             lambda: np.broadcast_to(grad, shape)),
            ("putting the summed axes back at the end instead of where they were",
             lambda: np.broadcast_to(np.reshape(grad, np.shape(grad) + (1,) * (
                 len(shape) - np.ndim(grad))), shape)),
            ("dividing by the number of summed elements (that is mean's backward)",
             lambda: reference("2.1")(grad, shape, axis, keepdims) * np.size(grad) / max(
                 int(np.prod(shape)), 1))]


@pytest.mark.ex2_1
@given(sum_case())
def test_sum_backward_matches_library(case):
    grad, shape, axis, keepdims = case
    expected = reference("2.1")(grad, shape, axis=axis, keepdims=keepdims)
    check_array("sum_backward",
                sum_backward.with_defaults(grad, shape, axis=axis, keepdims=keepdims),
                expected,
                "every element of x gets the gradient of the output element it was summed "
                "into: restore each summed axis (as size 1, where keepdims left none) at its "
                "own position, negative axes counted from the end, then spread it over x",
                inputs={"grad": grad, "shape": shape, "axis": axis, "keepdims": keepdims},
                mistakes=sum_mistakes(grad, shape, axis, keepdims))


@pytest.mark.ex2_1
@pytest.mark.parametrize("grad, shape, axis, keepdims", [
    (np.array(2.0), (2, 3), None, False),            # a 0-d grad: every element gets it
    (np.array(1.5), (), None, False),                # the sum of a 0-d x
    (np.array([[4.0]]), (2, 3), None, True),
    (np.ones(3, dtype=np.float32), (2, 3), 0, False),
    (np.arange(2.0), (2, 1, 3), (-1, 1), False)])    # negative and positive axes mixed
def test_sum_backward_pinned_cases(grad, shape, axis, keepdims):
    expected = reference("2.1")(grad, shape, axis=axis, keepdims=keepdims)
    got = sum_backward.with_defaults(grad, shape, axis=axis, keepdims=keepdims)
    check_array("sum_backward", got, expected, "every element of x gets the gradient of the "
                "output element it was summed into, 0-d grads and tuples of axes included",
                inputs={"grad": grad, "shape": shape, "axis": axis, "keepdims": keepdims},
                mistakes=sum_mistakes(grad, shape, axis, keepdims))
    check_dtype("sum_backward", got, grad.dtype, "the gradient keeps grad's dtype")


@pytest.mark.ex2_1
@given(sum_case())
def test_sum_backward_returns_its_own_array(case):
    grad, shape, axis, keepdims = case
    got = sum_backward.with_defaults(grad, shape, axis=axis, keepdims=keepdims)
    check_array("sum_backward", got, reference("2.1")(grad, shape, axis=axis,
                                                      keepdims=keepdims),
                "the result must have exactly `shape`", inputs={"grad": grad, "shape": shape,
                                                                "axis": axis,
                                                                "keepdims": keepdims})
    check_dtype("sum_backward", got, grad.dtype, "the gradient keeps grad's dtype (a float32 "
                "grad gives a float32 result), as the docstring says")
    writable = isinstance(got, np.ndarray) and got.flags.writeable and not np.shares_memory(
        got, grad)
    check(writable,
          "sum_backward returned a read-only view or an array sharing memory with grad",
          "np.broadcast_to gives a read-only view of grad; backward adds gradients together "
          "in place later, so return an array of your own (copy it)")


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
    expected = reference("2.2")(grad, a, b)
    check_pair("mul_backward", mul_backward(grad, a, b), expected, ("grad_a", "grad_b"),
               "each input's gradient involves the *other* input and grad, and must end up "
               "with its own input's shape, summed over what broadcasting stretched",
               inputs={"grad": grad, "a": a, "b": b},
               mistakes=[("swapping the inputs (grad * a for a)",
                          lambda: (unbroadcast(grad * a, a.shape),
                                   unbroadcast(grad * b, b.shape))),
                         ("leaving out the incoming grad", lambda: (
                             unbroadcast(np.broadcast_to(b, grad.shape), a.shape),
                             unbroadcast(np.broadcast_to(a, grad.shape), b.shape)))])


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
               "transpose only the last two axes (.T reverses the batch axes too), and sum "
               "each gradient back over the batch axes its input was broadcast along",
               inputs={"grad": grad, "a": a, "b": b}, rtol=1e-9, atol=1e-12)


# ---- 2.4 reverse mode over minit5's graph --------------------------------------------------

OPS = {
    "add": lambda x, y: x + y,
    "mul": lambda x, y: x * y,
    "sub": lambda x, y: x - y,
    "tanh": lambda x, y: x.tanh(),
    "sum": lambda x, y: (x * y).sum(keepdims=True),
    "broadcast": lambda x, y: x[None, :] * y,
}


@st.composite
def graph_recipes(draw):
    """A random graph of Tensor ops over a few leaves, some of which need no gradient;
    picking earlier results again and again makes shared nodes (diamonds)."""
    n_leaves = draw(st.integers(1, 4))
    needs_grad = [True] + [draw(st.booleans()) for _ in range(n_leaves - 1)]
    steps = [(draw(st.sampled_from(sorted(OPS))), draw(st.integers(0, 10 ** 6)),
              draw(st.integers(0, 10 ** 6))) for _ in range(draw(st.integers(1, 12)))]
    return needs_grad, steps


def build(recipe):
    """(root, the leaves asked about) of a graph built from `recipe`; a fresh graph each call.

    Also asked about: a leaf that the root does not depend on."""
    needs_grad, steps = recipe
    leaves = [Tensor(np.full((2,), 0.5 + i), requires_grad=r) for i, r in enumerate(needs_grad)]
    nodes = list(leaves)
    for op, i, j in steps:
        nodes.append(OPS[op](nodes[i % len(nodes)], nodes[j % len(nodes)]))
    root = (nodes[-1] + nodes[0]).sum()             # a scalar that depends on leaf 0
    unused = Tensor(np.ones(3), requires_grad=True)
    return root, [leaf for leaf in leaves if leaf.requires_grad] + [unused]


GRAPH_HINT = ("walk the nodes so that a node pushes its gradient only after every use of it "
              "has pushed into it, add up what several uses push, and skip parents that do "
              "not need a gradient")


def check_gradients(root, leaves, hint, grad=None):
    expected = reference("2.4")(root, leaves, grad)
    got = gradients(root, leaves, grad)
    if not isinstance(got, (list, tuple)) or len(got) != len(leaves):
        fail(f"gradients returned {describe(got)}, expected a list of {len(leaves)} entries, "
             "one per leaf", "return a list in the order of `leaves`")
    for i, (g, e) in enumerate(zip(got, expected)):
        if e is None:
            check(g is None, f"gradients: leaf {i} is not used by the root, but its entry is "
                  f"{describe(g)}", "a leaf the root does not depend on gets None")
            continue
        check_array("gradients", g, e, hint, what=f"the gradient of leaf {i}",
                    inputs={"leaf": leaves[i].data})
    for i, leaf in enumerate(leaves):
        check(leaf.grad is None, f"gradients changed leaf {i}'s .grad (now {describe(leaf.grad)})",
              "keep the gradients in a dictionary of your own (keyed by id(node)) and return "
              "them; .grad belongs to Tensor.backward")
    check(root.creator is not None,
          "gradients cut the root off its graph (root.creator is None now)",
          "leave every node's creator as it was: the graph must still be usable after your call")


@pytest.mark.ex2_4
@given(graph_recipes())
def test_gradients_of_random_graphs(recipe):
    root, leaves = build(recipe)
    check_gradients(root, leaves, GRAPH_HINT)


@pytest.mark.ex2_4
@given(graph_recipes(), st.floats(-3, 3))
def test_gradients_with_a_given_root_gradient(recipe, scale):
    root, leaves = build(recipe)
    check_gradients(root, leaves, "start the walk from `grad` when it is given (ones only when "
                    "it is None)", grad=np.array(scale))


@pytest.mark.ex2_4
def test_gradients_of_a_shared_node():
    a = Tensor(np.array([2.0, 3.0]), requires_grad=True)
    b = a * a                   # a is used twice
    c = (b + b).sum()           # and so is b
    check_gradients(c, [a], "a node used twice gets the sum of both gradients, and must have "
                            "both before it passes its own on")


@pytest.mark.ex2_4
def test_gradients_of_a_deep_chain():
    x = Tensor(np.array([1.0]), requires_grad=True)
    y = x
    for _ in range(3000):       # deeper than Python's default recursion limit (1000)
        y = y * 1.001
    y = y.sum()
    try:
        check_gradients(y, [x], "every op of the chain multiplies the gradient once")
    except RecursionError:
        fail("gradients hit Python's recursion limit on a chain of 3000 ops",
             "walk the graph with a loop over a list used as a stack, as the chapter's "
             "reverse_topological_order does, instead of recursion")


# ---- 2.5 softmax backward -------------------------------------------------------------------

def _softmax(x, axis):
    z = np.exp(x - x.max(axis=axis, keepdims=True))
    return z / z.sum(axis=axis, keepdims=True)


@st.composite
def softmax_case(draw, scale=1.0):
    x = draw(arrays(shapes(min_dims=1))) * scale
    axis = draw(st.integers(-x.ndim, x.ndim - 1))
    return draw(arrays(x.shape)), x, axis


@pytest.mark.ex2_5
@given(softmax_case())
def test_softmax_backward_matches_library(case):
    grad, x, axis = case
    check_array("softmax_backward", softmax_backward.with_defaults(grad, x, axis=axis),
                reference("2.5")(grad, x, axis=axis),
                "the Jacobian of softmax couples every entry of a slice along `axis` (and only "
                "along `axis`, not always the last one): each grad_x_i involves the sum over "
                "that slice", inputs={"grad": grad, "x": x, "axis": axis},
                mistakes=[("the diagonal of the Jacobian alone, y * (1 - y) * grad",
                           lambda: _softmax(x, axis) * (1 - _softmax(x, axis)) * grad),
                          ("normalising over the last axis whatever `axis` is",
                           lambda: reference("2.5")(grad, x, axis=-1))])


@pytest.mark.ex2_5
@given(softmax_case(scale=300.0))
def test_softmax_backward_is_stable_for_large_inputs(case):
    grad, x, axis = case
    check_array("softmax_backward", softmax_backward.with_defaults(grad, x, axis=axis),
                reference("2.5")(grad, x, axis=axis),
                "exp(900) overflows to inf, and inf / inf is nan; softmax does not change when "
                "the same number is subtracted from a whole slice",
                inputs={"grad": grad, "x": x, "axis": axis}, atol=1e-9)


# ---- 2.6 cross entropy ----------------------------------------------------------------------

@st.composite
def cross_entropy_case(draw, scale=1.0, ignore_all=False):
    lead = draw(shapes(min_dims=1, max_dims=2))
    vocab = draw(st.integers(2, 6))
    logits = draw(arrays(lead + (vocab,))) * scale
    ignore_index = draw(st.sampled_from([-100, -1, 0, vocab - 1]))   # >= 0: a real class
    label = st.just(ignore_index) if ignore_all else st.one_of(
        st.integers(0, vocab - 1), st.integers(0, vocab - 1), st.just(ignore_index))
    labels = draw(hnp.arrays(np.int64, lead, elements=label))
    return logits, labels, ignore_index


def check_cross_entropy(case, hint, **tolerance):
    logits, labels, ignore_index = case
    check_pair("cross_entropy_with_grad",
               cross_entropy_with_grad.with_defaults(logits, labels,
                                                     ignore_index=ignore_index),
               reference("2.6")(logits, labels, ignore_index=ignore_index),
               ("loss", "grad_logits"), hint,
               inputs={"logits": logits, "labels": labels, "ignore_index": ignore_index},
               **tolerance)


@pytest.mark.ex2_6
@given(cross_entropy_case())
def test_cross_entropy_matches_library(case):
    check_cross_entropy(case, "average over the counted positions only (not over all of them), "
                              "and give the ignored ones a zero gradient; ignore_index can be a "
                              "real class id such as 0, so compare labels with it, never with "
                              "a fixed -100")


@pytest.mark.ex2_6
@given(cross_entropy_case(scale=300.0))
def test_cross_entropy_is_stable_for_large_logits(case):
    check_cross_entropy(case, "exp of a logit of 900 overflows; log(sum(exp(z))) can be "
                              "computed without it (subtract something from every logit of the "
                              "row first, and add it back after the log)",
                        atol=1e-9)


@pytest.mark.ex2_6
@given(cross_entropy_case(ignore_all=True))
def test_cross_entropy_with_every_label_ignored(case):
    check_cross_entropy(case, "when no position counts the mean has nothing to average: "
                              "the docstring says what the loss and the gradient are then")


# ---- 2.7 max backward -----------------------------------------------------------------------

@st.composite
def max_case(draw):
    shape = draw(shapes(min_dims=1, max_dims=3))
    # Few distinct values, so ties are common.
    x = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 0.0, 0.5, 2.0])))
    axis = draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1)))
    keepdims = draw(st.booleans())
    grad = draw(any_arrays(x.max(axis=axis, keepdims=keepdims).shape))
    return grad, x, axis, keepdims


def max_mistakes(grad, x, axis, keepdims):
    out = x.max(axis=axis, keepdims=True)
    g = np.reshape(grad, out.shape)
    return [("giving every tied maximum the whole gradient", lambda: g * (x == out)),
            ("giving the gradient to the first maximum only (argmax)", lambda: _first_max(
                g, x, axis))]


def _first_max(g, x, axis):
    flat_axis = None if axis is None else axis % x.ndim
    if flat_axis is None:
        mask = np.zeros(x.size, dtype=bool)
        mask[np.argmax(x)] = True
        return g * mask.reshape(x.shape)
    idx = np.expand_dims(np.argmax(x, axis=flat_axis), flat_axis)
    mask = np.zeros_like(x, dtype=bool)
    np.put_along_axis(mask, idx, True, axis=flat_axis)
    return g * mask


@pytest.mark.ex2_7
@given(max_case())
def test_max_backward_matches_library(case):
    grad, x, axis, keepdims = case
    expected = reference("2.7")(grad, x, axis=axis, keepdims=keepdims)
    check_array("max_backward",
                max_backward.with_defaults(grad, x, axis=axis, keepdims=keepdims), expected,
                "only the maxima of each slice get gradient, tied maxima share it equally, "
                "and grad must be lined up with x along the reduced axis (put it back as "
                "size 1 when keepdims is False)",
                inputs={"grad": grad, "x": x, "axis": axis, "keepdims": keepdims},
                mistakes=max_mistakes(grad, x, axis, keepdims))
