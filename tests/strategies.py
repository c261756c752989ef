"""Hypothesis strategies shared by the tests, and the hypothesis profiles.

Shapes are small (every side <= 5) so a finite-difference check of every element stays fast.
Arrays come in random memory layouts: C-contiguous, transposed, strided slices of a bigger array,
so an op that quietly assumes contiguous input fails here. Values are drawn from a *domain* that
keeps each op differentiable with room to spare for a finite-difference step of 1e-6:
    real       [-3, 3]                 smooth ops (exp stays below e^3)
    positive   [0.25, 4]               log, sqrt, rsqrt, a denominator, non-integer powers
    nonzero    [-3, -0.1] U [0.1, 3]   relu and other ops with a kink at 0
    distinct   [-3.2, 3.2] on a grid of 0.04 plus a jitter in [0, 0.015], so no two values are
               closer than 0.025: max over axes (a kink wherever two values tie)
    interleaved  the same grid shifted by 0.02: never within 0.005 of a `distinct` value, for
               maximum(a, b) with a distinct and b interleaved

Profiles: `ci` (the default, loaded by tests/conftest.py) is derandomized, so a run is
reproducible, has no deadline (first calls are slow) and runs HYPOTHESIS_MAX_EXAMPLES examples
per test (default 50); `dev` is random with the same size, for hunting new failures locally:
`pytest --hypothesis-profile=dev`.
"""
from __future__ import annotations

import os

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

MAX_SIDE = 5
MAX_DIMS = 3

_SUPPRESS = [HealthCheck.too_slow, HealthCheck.data_too_large]
_EXAMPLES = int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "50"))
settings.register_profile("ci", deadline=None, max_examples=_EXAMPLES, derandomize=True,
                          suppress_health_check=_SUPPRESS, print_blob=True)
settings.register_profile("dev", deadline=None, max_examples=_EXAMPLES,
                          suppress_health_check=_SUPPRESS)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# ---- shapes --------------------------------------------------------------------------------
def shapes(min_dims=0, max_dims=MAX_DIMS, min_side=1, max_side=MAX_SIDE):
    """Array shapes with small sides; size-1 axes come up often."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=MAX_DIMS, max_side=MAX_SIDE):
    """`num_shapes` shapes that broadcast together (size-1 axes, missing leading axes).

    Yields hypothesis' BroadcastableShapes: `.input_shapes` and `.result_shape`.
    """
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=min_dims,
                                             max_dims=max_dims, max_side=max_side)


# ---- values --------------------------------------------------------------------------------
def _floats(low, high):
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False,
                     width=64)


DOMAINS = {
    "real": _floats(-3.0, 3.0),
    "positive": _floats(0.25, 4.0),
    "nonzero": st.one_of(_floats(-3.0, -0.1), _floats(0.1, 3.0)),
}
DISTINCT_SPACING = 0.04   # distinct values sit on a grid of this spacing, plus a jitter below it
_DISTINCT_JITTER = 0.015  # so any two values are at least 0.025 apart


def layouts(ndim, contiguous=True):
    """How an array sits in memory, one of
        ("c",)                          C-contiguous;
        ("transposed", perm)            `base.transpose(inverse of perm)` of a C-contiguous base;
        ("strided", steps, offsets)     `base[offset::step]` on every axis of a bigger base;
        ("padded",)                     `base[..., 0]` of a base with an extra trailing axis of 2.
    contiguous=False leaves out ("c",). Only "padded" is sure to be non-contiguous (for two
    elements or more); a transpose or slice that moves or steps over 1-sized axes alone leaves
    the array contiguous.
    """
    steps = st.lists(st.integers(1, 3), min_size=ndim, max_size=ndim).map(tuple)
    offsets = st.lists(st.integers(0, 2), min_size=ndim, max_size=ndim).map(tuple)
    strided = [
        st.permutations(range(ndim)).map(lambda p: ("transposed", tuple(p))),
        st.tuples(st.just("strided"), steps, offsets),
        st.just(("padded",)),
    ]
    return st.one_of(([st.just(("c",))] if contiguous else []) + strided)


def with_layout(values: np.ndarray, layout) -> np.ndarray:
    """The same values as `values`, placed in memory as `layout` says (a view of a new base)."""
    kind = layout[0]
    if kind == "c" or values.ndim == 0:
        return np.ascontiguousarray(values)
    if kind == "transposed":
        perm = layout[1]
        base = np.ascontiguousarray(values.transpose(perm))     # base.shape[k] = shape[perm[k]]
        return base.transpose(np.argsort(perm))                 # back to values.shape
    if kind == "padded":
        base = np.zeros(values.shape + (2,), dtype=values.dtype)   # (..., 2)
        view = base[..., 0]
    else:
        steps, offsets = layout[1], layout[2]
        base_shape = tuple(o + n * s for n, s, o in zip(values.shape, steps, offsets))
        base = np.zeros(base_shape, dtype=values.dtype)
        view = base[tuple(slice(o, o + n * s, s)
                          for n, s, o in zip(values.shape, steps, offsets))]
    view[...] = values
    return view


@st.composite
def arrays(draw, shape, domain="real", layout=True, dtype=np.float64):
    """A float array of `shape` with values from `domain`, in a random memory layout.

    `domain` is a key of DOMAINS, "distinct" or "interleaved"; `shape` may be a strategy.
    layout=False gives a C-contiguous array; layout="noncontiguous" one that is never
    C-contiguous (when it has at least two elements).
    """
    if not isinstance(shape, tuple):
        shape = draw(shape)
    if domain in ("distinct", "interleaved"):
        # unique grid points (5**3 = 125 elements at most fit in 161 points)
        grid = draw(hnp.arrays(np.int64, shape, elements=st.integers(-80, 80), unique=True))
        jitter = draw(hnp.arrays(np.float64, shape, elements=_floats(0.0, _DISTINCT_JITTER)))
        shift = 0.5 * DISTINCT_SPACING if domain == "interleaved" else 0.0
        values = grid * DISTINCT_SPACING + shift + jitter
    else:
        values = draw(hnp.arrays(np.float64, shape, elements=DOMAINS[domain]))
    values = values.astype(dtype)
    if layout is False:
        return np.ascontiguousarray(values)
    if layout == "noncontiguous":
        return draw(noncontiguous_like(values))
    return with_layout(values, draw(layouts(len(shape))))


@st.composite
def noncontiguous_like(draw, values):
    """`values` copied into a layout that is not C-contiguous (impossible below two elements)."""
    out = with_layout(values, draw(layouts(values.ndim, contiguous=False)))
    if values.size > 1 and out.flags.c_contiguous:   # a transpose or slice of 1-sized axes
        out = with_layout(values, ("padded",))
    return out


def index_arrays(size, negative=True):
    """Integer indices into an axis of `size`, in a 1-D or 2-D array; repeats are likely (so a
    gather's gradient must add them up) and, with negative=True, so are indices from the end."""
    low = -size if negative else 0
    return hnp.arrays(np.int64, hnp.array_shapes(min_dims=1, max_dims=2, max_side=4),
                      elements=st.integers(low, size - 1))
