"""Chapter 2 exercises: reverse-mode automatic differentiation.

The paper does not discuss autograd; it is the machinery under all of §3's training. Each
function here is one piece of `minit5/autograd/` or `minit5/functional.py` for you to write.
Work on NumPy arrays (float64 in the graders). Grade with `make grade EX=2.1` (one exercise) or
`minit5 grade 2` (the chapter).
"""
import numpy as np


def sum_backward(grad, shape, axis=None, keepdims=False):
    """Exercise 2.1: the backward of `out = x.sum(axis=axis, keepdims=keepdims)`.

    The chapter's `unbroadcast` sums a gradient back over the axes a broadcast stretched. A sum
    is the opposite move: every element of `x` adds once into the output element it is summed
    into, so the gradient of `x` is the output's gradient copied back over the summed axes.

    `axis` is None (sum over everything), an int, or a tuple of ints; any of them may be
    negative (counting from the end). With `keepdims=False` the summed axes are gone from
    `grad`; with `keepdims=True` they are there with size 1.

    Graded: values and shape, for every kind of `axis`, both `keepdims`, and 0-d grads.

    Args:
        grad: array, the gradient of `out` (shaped like `out`).
        shape: tuple of ints, the shape of `x`.
        axis: None, an int or a tuple of ints.
        keepdims: whether the sum kept the summed axes.

    Returns:
        A new array of exactly `shape`, of grad's dtype.

    Example: x of shape (2, 3), axis=1 -> grad (2,) [a, b] -> [[a, a, a], [b, b, b]].
    """
    # TODO: Exercise 2.1
    raise NotImplementedError("Exercise 2.1")


def mul_backward(grad, a, b):
    """Exercise 2.2: the backward of elementwise multiplication `out = a * b`.

    d(out)/d(a) is b and d(out)/d(b) is a, elementwise. `a` and `b` may have different shapes
    that broadcast together, so each input's gradient must be summed back to its own shape
    (the chapter's `unbroadcast` does that: `minit5.autograd.ops.unbroadcast`).

    Args:
        grad: array of the broadcast shape of `a * b`, the gradient flowing into `out`.
        a, b: the two input arrays.

    Returns:
        A pair `(grad_a, grad_b)` shaped like `a` and like `b`.
    """
    # TODO: Exercise 2.2
    raise NotImplementedError("Exercise 2.2")


def matmul_backward(grad, a, b):
    """Exercise 2.3: the backward of a batched matrix product `out = a @ b`.

    For matrices, grad_a = grad @ b^T and grad_b = a^T @ grad. Here `a` is (..., M, K) and `b` is
    (..., K, N), each with at least two axes; their leading (batch) axes broadcast as in NumPy,
    so `out` is (batch..., M, N) and each input's gradient must be summed back over the batch
    axes it was broadcast along (`unbroadcast` again). Transpose only the last two axes.

    Args:
        grad: array (batch..., M, N), the gradient flowing into `out`.
        a: array (..., M, K).
        b: array (..., K, N).

    Returns:
        A pair `(grad_a, grad_b)` shaped like `a` and like `b`.
    """
    # TODO: Exercise 2.3
    raise NotImplementedError("Exercise 2.3")


def gradients(root, leaves, grad=None):
    """Exercise 2.4: reverse mode over minit5's own graph, without touching `.grad`.

    The chapter's `backward` walks a graph of `Value`s. Here the graph is made of
    `minit5.Tensor`s: a tensor made by an op remembers it in `tensor.creator` (a `Function`;
    None for a leaf), the op's inputs are `tensor.creator.parents`, and
    `tensor.creator.backward(g)` returns the gradient of each parent, given the gradient `g` of
    the tensor (one array, or a tuple of them with one entry per parent; an entry may be
    None). Only tensors with `requires_grad` True take part: skip a parent whose
    `requires_grad` is False.

    Return the gradient of `root` with respect to each tensor of `leaves` (leaf tensors with
    `requires_grad` True), like `torch.autograd.grad`. The graph must stay as it is: do not set
    or change any tensor's `.grad` or `.creator` (so it can be walked again), and do not change
    the arrays you are handed. A tensor used twice gets the sum of both gradients, and graphs
    may be thousands of ops deep, deeper than Python's recursion limit.

    Graded: the gradients for random graphs with shared nodes and inputs that need no
    gradient, leaves the root does not depend on, a 3000-op chain, and that no `.grad` changed.

    Args:
        root: a Tensor with `requires_grad` True.
        leaves: a list of leaf Tensors.
        grad: the gradient flowing into `root` (an array shaped like it); None means ones,
            for a one-element root.

    Returns:
        A list, one entry per leaf: an array shaped like the leaf, or None for a leaf that
        `root` does not depend on.
    """
    # TODO: Exercise 2.4
    raise NotImplementedError("Exercise 2.4")


def softmax_backward(grad, x, axis=-1):
    """Exercise 2.5: the backward of `y = softmax(x, axis)`.

    softmax(x)_i = exp(x_i) / sum_j exp(x_j) along `axis`. Its Jacobian is
    dy_i/dx_j = y_i (delta_ij - y_j), so the vector-Jacobian product needs only y:
    grad_x = y * (grad - sum(grad * y, along axis)). Compute y stably (subtract the max along
    `axis` before exp), or large inputs overflow.

    Args:
        grad: array shaped like `x`, the gradient flowing into `y`.
        x: array of any shape (at least 1-D).
        axis: the axis softmax normalises over (negative counts from the end).

    Returns:
        grad_x, shaped like `x`.
    """
    # TODO: Exercise 2.5
    raise NotImplementedError("Exercise 2.5")


def cross_entropy_with_grad(logits, labels, ignore_index=-100):
    """Exercise 2.6: T5's loss and its gradient (paper §3.1.2: teacher forcing, cross entropy).

    loss = mean over counted positions n of  -log softmax(logits[n])[labels[n]],
    where a position counts unless `labels[n] == ignore_index` (padding in the targets is
    -100, so it adds nothing to the loss and gets no gradient). The gradient of the loss with
    respect to the logits of a counted position is (softmax(logits[n]) - onehot(labels[n])) /
    count; an ignored position's gradient is zero. Use the log-sum-exp trick (subtract the row
    max) so large logits do not overflow.

    If no position counts, the loss is nan (0 / 0, as in PyTorch) and the gradient is all zeros.

    Args:
        logits: float array (..., V).
        labels: int array (...), each in [0, V) or equal to `ignore_index`.
        ignore_index: the label value to skip.

    Returns:
        A pair `(loss, grad_logits)`: the loss as a float (or 0-d array) and an array shaped
        like `logits`.
    """
    # TODO: Exercise 2.6
    raise NotImplementedError("Exercise 2.6")


def max_backward(grad, x, axis=-1, keepdims=False):
    """Exercise 2.7: the backward of `out = x.max(axis=axis, keepdims=keepdims)`.

    Only the elements that are the maximum of their slice along `axis` got into `out`, so only
    they get gradient. When several elements tie for the maximum, minit5 shares the gradient
    equally among them (each gets grad / count), so that the gradients still sum to what
    arrived. `axis` is an int (it may be negative) or None (the maximum of everything).

    Graded: values and shape, with ties (the graders make many), both `keepdims`, and every
    axis.

    Args:
        grad: array shaped like `out`.
        x: float array (at least 1-D).
        axis: an int or None.
        keepdims: whether the max kept the reduced axis.

    Returns:
        grad_x, shaped like `x`.
    """
    # TODO: Exercise 2.7
    raise NotImplementedError("Exercise 2.7")
