"""The elementary differentiable ops, each written once against `xp` (NumPy or CuPy).

Each op is a `Function` with a forward on arrays and a backward on the output gradient. Binary
ops broadcast like NumPy, so their backward sums the gradient back to each input's shape
(`unbroadcast`). At the end, `setup_tensor` binds them onto `Tensor` as its operators
(`a + b`, `a @ b`, `a.sum()`, ...), once, when this module is imported.
"""
from __future__ import annotations

import numpy as np

from minit5.autograd.tensor import Function, Tensor
from minit5.backend import get_array_module


def unbroadcast(grad, shape):
    """Sum `grad` down to `shape`: undo NumPy broadcasting (added leading axes, stretched 1s)."""
    if grad.shape == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


def _normalize_axis(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(a % ndim for a in axes)


def _expand_reduced(grad, in_shape, axis, keepdims):
    """Broadcast a reduction's gradient back over the reduced axes."""
    axes = _normalize_axis(axis, len(in_shape))
    if not keepdims:
        shape = [1 if i in axes else n for i, n in enumerate(in_shape)]
        grad = grad.reshape(shape)
    xp = get_array_module(grad)
    return xp.broadcast_to(grad, in_shape)


# ---- arithmetic --------------------------------------------------------------------------
class Add(Function):
    def forward(self, a, b):
        self.shapes = (a.shape, b.shape)
        return a + b

    def backward(self, g):
        return unbroadcast(g, self.shapes[0]), unbroadcast(g, self.shapes[1])


class Sub(Function):
    def forward(self, a, b):
        self.shapes = (a.shape, b.shape)
        return a - b

    def backward(self, g):
        return unbroadcast(g, self.shapes[0]), unbroadcast(-g, self.shapes[1])


class Mul(Function):
    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a * b

    def backward(self, g):
        a, b = self.saved
        ga = unbroadcast(g * b, a.shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(g * a, b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a / b

    def backward(self, g):
        a, b = self.saved
        ga = unbroadcast(g / b, a.shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(-g * a / (b * b), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, g):
        return -g


class Pow(Function):
    """a ** p for a constant exponent p."""

    def forward(self, a, exponent):
        self.save_for_backward(a)
        self.exponent = exponent
        return a ** exponent

    def backward(self, g):
        (a,) = self.saved
        return g * self.exponent * a ** (self.exponent - 1)


class Exp(Function):
    def forward(self, a):
        out = get_array_module(a).exp(a)
        self.save_for_backward(out)
        return out

    def backward(self, g):
        (out,) = self.saved
        return g * out


class Log(Function):
    def forward(self, a):
        self.save_for_backward(a)
        return get_array_module(a).log(a)

    def backward(self, g):
        (a,) = self.saved
        return g / a


class Sqrt(Function):
    def forward(self, a):
        out = get_array_module(a).sqrt(a)
        self.save_for_backward(out)
        return out

    def backward(self, g):
        (out,) = self.saved
        return g * 0.5 / out


class Rsqrt(Function):
    def forward(self, a):
        out = 1.0 / get_array_module(a).sqrt(a)
        self.save_for_backward(a, out)
        return out

    def backward(self, g):
        a, out = self.saved
        return g * -0.5 * out / a


class Tanh(Function):
    def forward(self, a):
        out = get_array_module(a).tanh(a)
        self.save_for_backward(out)
        return out

    def backward(self, g):
        (out,) = self.saved
        return g * (1 - out * out)


class ReLU(Function):
    def forward(self, a):
        positive = a > 0
        self.save_for_backward(positive)
        return a * positive

    def backward(self, g):
        (positive,) = self.saved
        return g * positive


class Maximum(Function):
    """Elementwise max; at a tie each side gets half the gradient."""

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return get_array_module(a).maximum(a, b)

    def backward(self, g):
        a, b = self.saved
        share_a = ((a > b) + 0.5 * (a == b)).astype(g.dtype)   # 0.5 * bool is float64
        return (unbroadcast(g * share_a, a.shape),
                unbroadcast(g * (1 - share_a), b.shape))


class Cast(Function):
    def forward(self, a, dtype):
        self.in_dtype = a.dtype
        return a.astype(dtype)

    def backward(self, g):
        return g.astype(self.in_dtype)


# ---- matmul --------------------------------------------------------------------------------
class MatMul(Function):
    """a @ b with NumPy's rules: batched over leading axes, which broadcast; 1-D promoted."""

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul needs at least 1-D inputs, got shapes {a.shape} and "
                             f"{b.shape}; use * for scalars")
        k_a = a.shape[-1]
        k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if k_a != k_b:
            raise ValueError(f"matmul shape mismatch: {a.shape} @ {b.shape} — the last axis of "
                             f"the left ({k_a}) must equal the "
                             f"{'only' if b.ndim == 1 else 'second-to-last'} axis of the right "
                             f"({k_b})")
        self.save_for_backward(a, b)
        return a @ b

    def backward(self, g):
        a, b = self.saved
        xp = get_array_module(g)
        a2 = a[None, :] if a.ndim == 1 else a          # (..., M, K)
        b2 = b[:, None] if b.ndim == 1 else b          # (..., K, N)
        g2 = g
        if b.ndim == 1:                                # restore N first: 1-D @ 1-D gives 0-d g
            g2 = xp.expand_dims(g2, -1)
        if a.ndim == 1:
            g2 = xp.expand_dims(g2, -2)                # (..., M, N)
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = unbroadcast(g2 @ xp.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
        if self.needs_input_grad[1]:
            gb = unbroadcast(xp.swapaxes(a2, -1, -2) @ g2, b2.shape).reshape(b.shape)
        return ga, gb


# ---- reductions ----------------------------------------------------------------------------
class Sum(Function):
    def forward(self, a, axis=None, keepdims=False):
        self.in_shape, self.axis, self.keepdims = a.shape, axis, keepdims
        return a.sum(axis=axis, keepdims=keepdims)

    def backward(self, g):
        return _expand_reduced(g, self.in_shape, self.axis, self.keepdims).copy()


class Mean(Function):
    def forward(self, a, axis=None, keepdims=False):
        self.in_shape, self.axis, self.keepdims = a.shape, axis, keepdims
        axes = _normalize_axis(axis, a.ndim)
        self.count = int(np.prod([a.shape[i] for i in axes])) if axes else 1
        return a.mean(axis=axis, keepdims=keepdims)

    def backward(self, g):
        return _expand_reduced(g / self.count, self.in_shape, self.axis, self.keepdims).copy()


class Max(Function):
    """Max over axes; the gradient is shared equally among tied maxima."""

    def forward(self, a, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims
        out = a.max(axis=axis, keepdims=True)
        self.save_for_backward(a, out)
        return out if keepdims else out.reshape(a.max(axis=axis).shape)

    def backward(self, g):
        a, out = self.saved
        is_max = a == out
        count = is_max.sum(axis=self.axis, keepdims=True).astype(g.dtype)  # int would upcast
        g = _expand_reduced(g, a.shape, self.axis, self.keepdims)
        return g * is_max / count


# ---- shape ops -----------------------------------------------------------------------------
class Reshape(Function):
    def forward(self, a, shape):
        self.in_shape = a.shape
        try:
            return a.reshape(shape)
        except ValueError:
            raise ValueError(f"cannot reshape a tensor of shape {a.shape} ({a.size} elements) "
                             f"to {tuple(shape)}") from None

    def backward(self, g):
        return g.reshape(self.in_shape)


class Transpose(Function):
    def forward(self, a, axes=None):
        self.axes = (tuple(reversed(range(a.ndim))) if axes is None
                     else tuple(a_ % a.ndim for a_ in axes))
        if sorted(self.axes) != list(range(a.ndim)):
            raise ValueError(f"transpose axes {axes} are not a permutation of the "
                             f"{a.ndim} axes of a tensor of shape {a.shape}")
        return a.transpose(self.axes)

    def backward(self, g):
        return g.transpose(np.argsort(self.axes))


def _index_arrays(index):
    """Replace Tensors inside an index by their arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


class GetItem(Function):
    """a[index] for slices, integers, None, Ellipsis, boolean and integer arrays (gather).

    Backward scatters the gradient back; repeated integer indices add up.
    """

    def forward(self, a, index):
        self.in_shape, self.dtype, self.index = a.shape, a.dtype, index
        return a[index]

    def backward(self, g):
        xp = get_array_module(g)
        grad = xp.zeros(self.in_shape, dtype=g.dtype)
        if xp is np:
            np.add.at(grad, self.index, g)
        else:
            import cupyx
            cupyx.scatter_add(grad, self.index, g)
        return grad


class Concatenate(Function):
    def forward(self, *arrays, axis=0):
        self.axis = axis
        self.sizes = [x.shape[axis] for x in arrays]
        return get_array_module(*arrays).concatenate(arrays, axis=axis)

    def backward(self, g):
        xp = get_array_module(g)
        splits = np.cumsum(self.sizes)[:-1]
        return tuple(xp.split(g, splits, axis=self.axis))


class Stack(Function):
    def forward(self, *arrays, axis=0):
        self.axis = axis
        return get_array_module(*arrays).stack(arrays, axis=axis)

    def backward(self, g):
        xp = get_array_module(g)
        n = g.shape[self.axis]
        return tuple(xp.take(g, i, axis=self.axis) for i in range(n))


class Where(Function):
    """where(condition, a, b): a where condition holds, b elsewhere (condition gets no grad)."""

    def forward(self, a, b, condition):
        self.save_for_backward(condition)
        self.shapes = (a.shape, b.shape)
        return get_array_module(a, b).where(condition, a, b)

    def backward(self, g):
        (condition,) = self.saved
        zero = g.dtype.type(0)
        xp = get_array_module(g)
        return (unbroadcast(xp.where(condition, g, zero), self.shapes[0]),
                unbroadcast(xp.where(condition, zero, g), self.shapes[1]))


# ---- the functional API ------------------------------------------------------------------
def add(a, b): return Add.apply(a, b)
def sub(a, b): return Sub.apply(a, b)
def mul(a, b): return Mul.apply(a, b)
def div(a, b): return Div.apply(a, b)
def neg(a): return Neg.apply(a)
def exp(a): return Exp.apply(a)
def log(a): return Log.apply(a)
def sqrt(a): return Sqrt.apply(a)
def rsqrt(a): return Rsqrt.apply(a)
def tanh(a): return Tanh.apply(a)
def relu(a): return ReLU.apply(a)
def maximum(a, b): return Maximum.apply(a, b)
def matmul(a, b): return MatMul.apply(a, b)


def pow(a, exponent):
    if isinstance(exponent, Tensor):
        raise TypeError("pow supports a constant exponent only (a Python number); "
                        "write exp(b * log(a)) for a tensor exponent")
    return Pow.apply(a, exponent=exponent)


def sum(a, axis=None, keepdims=False): return Sum.apply(a, axis=axis, keepdims=keepdims)
def mean(a, axis=None, keepdims=False): return Mean.apply(a, axis=axis, keepdims=keepdims)
def max(a, axis=None, keepdims=False): return Max.apply(a, axis=axis, keepdims=keepdims)
def reshape(a, shape): return Reshape.apply(a, shape=tuple(shape))
def transpose(a, axes=None): return Transpose.apply(a, axes=axes)
def getitem(a, index): return GetItem.apply(a, index=_index_arrays(index))
def concatenate(tensors, axis=0): return Concatenate.apply(*tensors, axis=axis)
def stack(tensors, axis=0): return Stack.apply(*tensors, axis=axis)


def where(condition, a, b):
    condition = condition.data if isinstance(condition, Tensor) else condition
    return Where.apply(a, b, condition=condition)


def masked_fill(a, mask, value):
    """a with `value` wherever mask is True (no gradient flows to the filled places)."""
    mask = mask.data if isinstance(mask, Tensor) else mask
    return Where.apply(value, a, condition=mask)


# ---- Tensor's operators, bound once (as DeZero's setup_variable) ---------------------------
def _swapped(op):
    """The reflected operator: `2 - t` calls t.__rsub__(2), which is sub(2, t)."""
    def reflected(self, other):
        return op(other, self)
    return reflected


def _reshape(self, *shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return reshape(self, shape)


def _transpose(self, *axes):
    """NumPy semantics: a permutation of all axes (none given: reverse them)."""
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    return transpose(self, axes or None)


def _swapaxes(self, axis1, axis2):
    axes = list(range(self.ndim))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(self, tuple(axes))


def _astype(self, dtype):
    return Cast.apply(self, dtype=np.dtype(dtype))


def setup_tensor():
    """Give Tensor its operators and methods, each the op of the same name above."""
    binary = {"add": add, "sub": sub, "mul": mul, "truediv": div, "matmul": matmul}
    for name, op in binary.items():
        setattr(Tensor, f"__{name}__", op)
        setattr(Tensor, f"__r{name}__", _swapped(op))
    Tensor.__pow__ = pow
    Tensor.__neg__ = neg
    Tensor.__getitem__ = getitem
    for op in (sum, mean, max):
        setattr(Tensor, op.__name__, op)
    for op in (exp, log, sqrt, rsqrt, tanh, relu):
        setattr(Tensor, op.__name__, op)
    Tensor.reshape, Tensor.transpose, Tensor.permute = _reshape, _transpose, _transpose
    Tensor.swapaxes, Tensor.astype, Tensor.masked_fill = _swapaxes, _astype, masked_fill
    Tensor.T = property(lambda self: transpose(self, None))


setup_tensor()
