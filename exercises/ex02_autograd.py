"""Chapter 2 exercises: reverse-mode automatic differentiation.

The paper does not discuss autograd; it is the machinery under all of §3's training. Each
function here is one piece of `minit5/autograd/` or `minit5/functional.py` for you to write.
Work on NumPy arrays (float64 in the graders). Grade with `make grade EX=2.1` (one exercise) or
`minit5 grade 2` (the chapter).
"""
import numpy as np


def unbroadcast(grad, shape):
    """Exercise 2.1: sum a gradient back to the shape of an input that was broadcast.

    When `a` of shape `shape` takes part in a broadcasting op (`a + b`), every element of `a` is
    used once for each position it was stretched over, so its gradient is the sum of the
    output gradient over those positions. NumPy broadcasting does two things you must undo:
    it adds leading axes, and it stretches axes of size 1.

    Args:
        grad: array, the gradient of the broadcast result; its shape is what `shape`
            broadcasts to.
        shape: tuple of ints, the input's shape.

    Returns:
        An array of exactly `shape` (a 0-d array for `shape == ()`).

    Example: grad of shape (4, 2, 3) and shape (2, 1) -> sum over axis 0 (added), then over
    axis 2 keeping it (stretched from 1): result shape (2, 1).
    """
    # TODO: Exercise 2.1
    raise NotImplementedError("Exercise 2.1")


def mul_backward(grad, a, b):
    """Exercise 2.2: the backward of elementwise multiplication `out = a * b`.

    d(out)/d(a) is b and d(out)/d(b) is a, elementwise. `a` and `b` may have different shapes
    that broadcast together, so each input's gradient must be summed back to its own shape
    (your `unbroadcast` from Exercise 2.1 does that).

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
    axes it was broadcast along (Exercise 2.1 again). Transpose only the last two axes.

    Args:
        grad: array (batch..., M, N), the gradient flowing into `out`.
        a: array (..., M, K).
        b: array (..., K, N).

    Returns:
        A pair `(grad_a, grad_b)` shaped like `a` and like `b`.
    """
    # TODO: Exercise 2.3
    raise NotImplementedError("Exercise 2.3")


def topological_order(root):
    """Exercise 2.4: every node `root` depends on, each listed after all of its inputs.

    `root` is a `minit5.Tensor`. A tensor made by an op remembers it in `tensor._ctx` (a
    `Function`; None for a leaf such as a weight), and the op's inputs are
    `tensor._ctx.parents`, a list of Tensors. Only tensors with `requires_grad` True take part:
    skip a parent whose `requires_grad` is False.

    Return a list holding `root` and every tensor it was computed from through such ops, each
    exactly once (a tensor used twice, as in `b = a * a`, appears once), ordered so that every
    tensor comes after all of its parents. `backward()` walks this list in reverse, so a node
    has collected the gradient from every use before it passes its own gradient on.

    Several orders are valid; any of them passes. Graphs can be thousands of ops deep: a
    recursive walk hits Python's recursion limit, so use an explicit stack.

    Args:
        root: a Tensor with `requires_grad` True.

    Returns:
        A list of Tensors, `root` last.
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
