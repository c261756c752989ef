"""`Tensor`, `Function` and reverse-mode differentiation.

A `Tensor` wraps an array (`.data`, NumPy or CuPy) and, when it takes part in a computation that
needs gradients, remembers the `Function` that made it. `backward()` walks that graph once in
reverse topological order, so a node used twice (`b = a + a; c = b * b`) has collected the
gradient from every use before it passes its own gradient on.

The walk is iterative (an explicit stack instead of recursion), so a chain of 10,000 ops works.
The graph is public: `tensor.creator` is the Function that made a tensor (None for a leaf), its
`.parents` the input Tensors, and `topological_order(root)` lists the nodes backward visits.
The arithmetic operators are bound onto Tensor once, by `minit5.autograd.ops`.
"""
from __future__ import annotations

import contextlib
import threading

import numpy as np

from minit5 import backend
from minit5.autograd.row_gradient import RowGradient

_state = threading.local()


def is_grad_enabled() -> bool:
    return getattr(_state, "grad_enabled", True)


@contextlib.contextmanager
def no_grad():
    """Within this block no graph is recorded: results have requires_grad=False."""
    previous = is_grad_enabled()
    _state.grad_enabled = False
    try:
        yield
    finally:
        _state.grad_enabled = previous


def _as_array(value, dtype=None):
    """Array from a Tensor, array or Python value. Python lists and scalars become float32."""
    if isinstance(value, Tensor):
        return value.data
    xp = backend.get_array_module(value)
    if isinstance(value, xp.ndarray):
        return value if dtype is None else value.astype(dtype, copy=False)
    if isinstance(value, np.generic):   # a NumPy scalar, as from a full reduction: keep dtype
        return np.asarray(value) if dtype is None else np.asarray(value, dtype=dtype)
    array = np.asarray(value)
    if dtype is not None:
        return array.astype(dtype)
    if array.dtype == np.float64 or array.dtype.kind == "f":
        return array.astype(np.float32)
    return array


class Tensor:
    """An array with an optional gradient.

    Tensor(data, requires_grad=False, dtype=None). NumPy/CuPy arrays keep their dtype (float64
    stays float64); Python lists and scalars become float32, minit5's default.
    """

    __array_priority__ = 1000  # so `ndarray * Tensor` defers to Tensor.__rmul__

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        self.data = _as_array(data, dtype)
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require gradients, got dtype "
                            f"{self.data.dtype}; convert first, e.g. Tensor(x.astype('float32'))")
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self.creator = None       # the Function that produced this tensor (None for leaves)
        self._graph_freed = False

    # ---- basic properties -------------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def size(self):
        return self.data.size

    @property
    def device(self) -> str:
        return backend.device_of(self.data)

    @property
    def is_leaf(self) -> bool:
        return self.creator is None

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({backend.to_numpy(self.data)!r}{grad})"

    def numpy(self) -> np.ndarray:
        """A NumPy copy of the data (from the GPU too)."""
        return np.array(backend.to_numpy(self.data), copy=True)

    def item(self):
        return self.data.item()

    def detach(self) -> "Tensor":
        """The same data, cut from the graph."""
        return Tensor(self.data, requires_grad=False)

    def zero_grad(self):
        self.grad = None

    # Operators and array methods (+ - * / @ **, [], sum, mean, max, exp, reshape, T, ...) are
    # the ops of minit5/autograd/ops.py, bound onto this class there by `setup_tensor`.

    # ---- backward ---------------------------------------------------------------------
    def backward(self, grad=None, retain_graph: bool = False):
        """Accumulate d(self)/d(leaf) into every leaf's `.grad` that requires grad.

        `grad` is the gradient flowing in from above; it may be left out only for a
        one-element tensor (the usual loss), where it is 1. The graph's saved arrays are
        freed on the way unless retain_graph=True.
        """
        self._check_can_backward()
        grads = {id(self): self._seed_grad(grad)}       # node -> gradient collected so far
        owned = set()          # ids of gradients in `grads` that no one else can see (below)
        for node in reversed(topological_order(self)):
            g = grads.pop(id(node), None)
            if g is None:
                continue
            g_owned = id(g) in owned
            owned.discard(id(g))
            if isinstance(g, RowGradient):              # a lookup table's: made dense here
                g, g_owned = g.dense(), True
            if node.creator is None:                    # a leaf: keep its gradient
                node._check_can_backward()
                # Copied unless it is owned: a g that is the caller's array, a view, or shared
                # with another input (a + b hands the same g to both) must not become .grad.
                if node.grad is not None:
                    node.grad = node.grad + g
                else:
                    node.grad = g if g_owned else g.copy()
                continue
            fn = node.creator
            _pass_on(fn, fn.backward(g), g, grads, owned)
            if not retain_graph:
                node.creator, node._graph_freed = None, True

    def _check_can_backward(self):
        if self._graph_freed:
            raise RuntimeError("backward() reached a tensor whose graph was freed by an earlier "
                               "backward(); pass retain_graph=True to the first call to go "
                               "through the graph (or a shared part of it) twice")
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad: none of its "
                               "inputs had requires_grad=True (or it was made under no_grad())")

    def _seed_grad(self, grad):
        """The gradient backward starts from: ones for a one-element tensor, else `grad`."""
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(f"backward() on a non-scalar tensor of shape {self.shape} needs "
                                   "a gradient argument of the same shape; call .sum() or "
                                   ".mean() first to make a scalar loss")
            return backend.get_array_module(self.data).ones_like(self.data)
        grad = _as_array(grad, self.data.dtype)
        if grad.shape != self.shape:
            raise ValueError(f"backward(grad): grad has shape {grad.shape} but the tensor "
                             f"has shape {self.shape}")
        return grad


def _pass_on(fn, in_grads, g, grads, owned):
    """Add the gradients fn.backward returned (for fn.parents) into `grads`.

    A returned array is *owned* when it is new: not the incoming g, not a view of another
    array, not returned twice, not one of fn's saved arrays. An owned gradient needs no
    defensive copy when it becomes a leaf's .grad, and a second gradient for the same input is
    added into it in place: on a CPU, allocating and filling a fresh array costs as much as
    the addition itself. (So a backward must not return an array it keeps elsewhere, other
    than through save_for_backward.) A RowGradient (an embedding's rows) is added into the
    input's dense gradient, or into a dense copy of its own when there is none to own yet.
    """
    in_grads = in_grads if isinstance(in_grads, tuple) else (in_grads,)
    for parent, pg in zip(fn.parents, in_grads):
        if pg is None or not parent.requires_grad:
            continue
        if pg.shape != parent.shape:
            raise RuntimeError(f"internal: {type(fn).__name__}.backward returned a gradient of "
                               f"shape {pg.shape} for an input of shape {parent.shape}")
        key = id(parent)
        held = grads.get(key)
        if held is None:
            grads[key] = pg
            if _is_new(pg, g, in_grads, fn):
                owned.add(id(pg))
            continue
        if isinstance(held, RowGradient) and not isinstance(pg, RowGradient):
            held, pg = pg, held                # dense + rows, in either order, is the same sum
            if _is_new(held, g, in_grads, fn):
                owned.add(id(held))
        if isinstance(pg, RowGradient) and pg.dtype != held.dtype:
            pg = pg.dense()                              # let NumPy promote, as for arrays
        if isinstance(pg, RowGradient):
            if id(held) not in owned:                    # rows go into an array of our own
                owned.discard(id(held))
                held = held.dense() if isinstance(held, RowGradient) else held.copy()
                owned.add(id(held))
            grads[key] = pg.add_into(held)
        elif id(held) in owned and held.dtype == pg.dtype:
            held += pg                                   # in place: no one else sees it
        else:
            owned.discard(id(held))
            grads[key] = total = held + pg
            owned.add(id(total))


def _is_new(pg, g, in_grads, fn) -> bool:
    """Whether a gradient fn.backward returned is a new array only the engine holds."""
    if isinstance(pg, RowGradient):
        return False                                     # not an array to add into
    if pg is g or pg.base is not None or isinstance(pg, np.generic):
        return False
    if sum(other is pg for other in in_grads) > 1:
        return False
    return not any(pg is saved for saved in getattr(fn, "saved", ()))


def topological_order(root: Tensor) -> list:
    """Every node that leads to `root` and needs a gradient, each after all of its inputs.

    Iterative depth-first search: a node is appended once all of its parents are done.
    """
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        if node.creator is not None:
            for parent in node.creator.parents:
                if parent.requires_grad and id(parent) not in visited:
                    stack.append((parent, False))
    return order


class Function:
    """One differentiable operation: `forward` on arrays, `backward` on the output's gradient.

    Subclasses implement `forward(self, *arrays, **options) -> array` and
    `backward(self, grad) -> gradient or tuple of gradients (None where not needed)`, one per
    Tensor input, each shaped like that input. Arrays that backward needs are kept with
    `self.save_for_backward(...)` and read back from `self.saved`; options and shapes are plain
    attributes; `self.needs_input_grad[i]` tells which inputs need a gradient. `apply` records
    the inputs as `self.parents` and the Function as the output's `creator`. A gradient that
    backward returns is either a new array, the incoming `grad` itself, a view, or a saved
    array: the engine may add into a new one in place, so an array kept anywhere else (an
    attribute, a cache) must be copied first.
    """

    def save_for_backward(self, *values):
        self.saved = values

    @classmethod
    def apply(cls, *inputs, **options):
        dtype = next((t.data.dtype for t in inputs
                      if isinstance(t, Tensor) and t.data.dtype.kind == "f"), None)
        # Numbers (and arrays) given beside CuPy tensors go to the GPU: CuPy refuses a NumPy
        # array, even a 0-d one, as an operand (`h * 0.5` would fail there).
        xp = backend.get_array_module(*inputs)
        tensors = [t if isinstance(t, Tensor)
                   else Tensor(xp.asarray(_as_array(t, _scalar_dtype(t, dtype))))
                   for t in inputs]
        ctx = cls()
        ctx.needs_input_grad = tuple(t.requires_grad for t in tensors)
        out = Tensor(ctx.forward(*[t.data for t in tensors], **options))
        if is_grad_enabled() and any(ctx.needs_input_grad):
            out.requires_grad = True
            out.creator = ctx
            ctx.parents = tensors
        return out

    def forward(self, *arrays, **options):  # pragma: no cover - every subclass defines it
        raise TypeError(f"{type(self).__name__} must define forward()")

    def backward(self, grad):  # pragma: no cover - every subclass defines it
        raise TypeError(f"{type(self).__name__} must define backward()")


def _scalar_dtype(value, tensor_dtype):
    """Python numbers mixed with a float tensor take the tensor's dtype (float32 stays float32)."""
    if isinstance(value, (bool, int, float)) and tensor_dtype is not None:
        return tensor_dtype
    return None
